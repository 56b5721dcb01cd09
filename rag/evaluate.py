"""Retrieval evaluation: recall@1, recall@5 and MRR@10 over labelled questions.

A hit counts when it is in the gold document and its span overlaps an occurrence of the gold
quote in that document's text. Unanswerable questions (no gold document) are left out of the
retrieval metrics and reported separately.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import InputError
from rag.types import Hit


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    doc: str | None
    answer_quote: str | None
    kind: str = "other"
    lang: str = "sv"
    # a precedent question's further right answers: (doc, answer_quote) in other organisations
    support: tuple[tuple[str, str], ...] = ()


@dataclass
class Metrics:
    """Recall@1, recall@5 and MRR@10 over ``n`` answerable questions."""

    n: int = 0
    hits1: int = 0
    hits5: int = 0
    rr_sum: float = 0.0
    misses: list[str] = field(default_factory=list)

    def add(self, question_id: str, rank: int | None) -> None:
        self.n += 1
        if rank == 1:
            self.hits1 += 1
        if rank is not None and rank <= 5:
            self.hits5 += 1
        if rank is not None and rank <= 10:
            self.rr_sum += 1.0 / rank
        if rank is None or rank > 5:
            self.misses.append(question_id)

    def as_dict(self) -> dict[str, Any]:
        if not self.n:
            return {"n": 0, "recall@1": 0.0, "recall@5": 0.0, "mrr@10": 0.0}
        return {
            "n": self.n,
            "recall@1": round(self.hits1 / self.n, 4),
            "recall@5": round(self.hits5 / self.n, 4),
            "mrr@10": round(self.rr_sum / self.n, 4),
        }


def load_questions(path: Path) -> list[Question]:
    """Read a JSON-lines question file; each bad line is an error naming the line and field."""
    questions = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror}). Check the path.") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            message = f"{path}:{number}: not valid JSON ({exc.msg}). Each line must be one JSON object."
            raise InputError(message) from exc
        if not isinstance(row, dict) or not isinstance(row.get("question"), str) or not row["question"].strip():
            raise InputError(f"{path}:{number}: field 'question' is missing or empty. Give each line a question.")
        questions.append(
            Question(
                id=str(row.get("id", number)),
                question=row["question"],
                doc=row.get("doc"),
                answer_quote=row.get("answer_quote"),
                kind=row.get("kind", "other"),
                lang=row.get("lang", "sv"),
                support=_support(path, number, row.get("support")),
            )
        )
    return questions


def _support(path: Path, number: int, value: Any) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(
        isinstance(x, dict) and isinstance(x.get("doc"), str) and isinstance(x.get("answer_quote"), str) for x in value
    ):
        raise InputError(f"{path}:{number}: field 'support' must be a list of {{doc, answer_quote}} objects.")
    return tuple((x["doc"], x["answer_quote"]) for x in value)


def quote_spans(text: str, quote: str) -> list[tuple[int, int]]:
    """Every occurrence of ``quote`` in ``text`` as a span."""
    spans, at = [], text.find(quote)
    while at >= 0:
        spans.append((at, at + len(quote)))
        at = text.find(quote, at + 1)
    return spans


def gold_spans(q: Question, document_text: Callable[[str], str | None]) -> dict[str, list[tuple[int, int]]]:
    """Where a question's right answers stand, by document: its answer quote, and for a precedent
    question, which asks what several organisations did, each of its ``support`` quotes too."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for doc, quote in dict.fromkeys(((q.doc, q.answer_quote), *q.support)):
        if doc and quote:
            spans.setdefault(doc, []).extend(quote_spans(document_text(doc) or "", quote))
    return spans


def first_relevant_rank(hits: Sequence[Hit], spans: dict[str, list[tuple[int, int]]]) -> int | None:
    """The rank of the first hit that overlaps a right answer (``gold_spans``)."""
    for rank, hit in enumerate(hits, start=1):
        c = hit.chunk
        if any(c.start < e and s < c.end for s, e in spans.get(c.doc, ())):
            return rank
    return None


def evaluate(
    questions: Iterable[Question],
    search: Callable[[str, str], list[Hit]],
    document_text: Callable[[str], str | None],
    modes: Sequence[str] = ("hybrid", "lexical", "dense"),
) -> dict[str, dict[str, dict[str, Any]]]:
    """Metrics per mode, overall and per question kind; ``search(question, mode)`` returns hits."""
    results: dict[str, dict[str, Metrics]] = {m: defaultdict(Metrics) for m in modes}
    for q in questions:
        if not q.doc or not q.answer_quote:
            continue
        text = document_text(q.doc)
        if text is None:
            raise InputError(f"question {q.id}: document '{q.doc}' is not in the index. Index it first.")
        if not quote_spans(text, q.answer_quote):
            raise InputError(f"question {q.id}: its answer_quote is not in '{q.doc}'. Fix the quote.")
        spans = gold_spans(q, document_text)
        for mode in modes:
            rank = first_relevant_rank(search(q.question, mode), spans)
            results[mode]["all"].add(q.id, rank)
            results[mode][q.kind].add(q.id, rank)
            results[mode][f"lang:{q.lang}"].add(q.id, rank)
    return {
        mode: {group: m.as_dict() | {"misses": m.misses} for group, m in sorted(groups.items())}
        for mode, groups in results.items()
    }


@dataclass
class AnswerMetrics:
    """How answers behave on labelled questions: abstention, citation validity and whether the
    quoted sentences contain the gold answer."""

    answerable: int = 0
    unanswerable: int = 0
    unanswerable_abstained: int = 0
    answerable_abstained: list[str] = field(default_factory=list)
    answered_unanswerable: list[str] = field(default_factory=list)
    citations: int = 0
    citations_verified: int = 0
    gold_in_answer: int = 0
    gold_first: int = 0
    confidence_answerable: list[float] = field(default_factory=list)
    confidence_unanswerable: list[float] = field(default_factory=list)
    # per question kind: [answered, gold first, gold in any citation]
    kinds: dict[str, list[int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        answered = self.answerable - len(self.answerable_abstained)
        return {
            "answerable": self.answerable,
            "unanswerable": self.unanswerable,
            "unanswerable_abstain_rate": round(self.unanswerable_abstained / self.unanswerable, 4)
            if self.unanswerable
            else 1.0,
            "answerable_abstained": len(self.answerable_abstained),
            "answerable_answer_rate": round(answered / self.answerable, 4) if self.answerable else 1.0,
            "citations": self.citations,
            "citations_verified_rate": round(self.citations_verified / self.citations, 4) if self.citations else 1.0,
            "gold_in_answer_rate": round(self.gold_in_answer / answered, 4) if answered else 0.0,
            "gold_first_rate": round(self.gold_first / answered, 4) if answered else 0.0,
            "abstained_answerable_ids": self.answerable_abstained,
            "answered_unanswerable_ids": self.answered_unanswerable,
        } | {
            f"gold_first_rate.{kind}": round(first / answered, 4) if answered else 0.0
            for kind, (answered, first, _) in sorted(self.kinds.items())
        }


def evaluate_answers(
    questions: Iterable[Question],
    ask: Callable[[str], Any],
    document_text: Callable[[str], str | None],
) -> AnswerMetrics:
    """Ask every question; ``ask`` returns an ``rag.answer.Answer``. Each citation is checked again
    against the document text here, independently of the answerer's own check."""
    m = AnswerMetrics()
    for q in questions:
        answer = ask(q.question)
        for c in answer.citations:
            m.citations += 1
            text = document_text(c.doc)
            m.citations_verified += text is not None and text[c.start : c.end] == c.quote
        if not q.doc or not q.answer_quote:
            m.unanswerable += 1
            m.confidence_unanswerable.append(answer.confidence)
            if answer.abstained:
                m.unanswerable_abstained += 1
            else:
                m.answered_unanswerable.append(q.id)
            continue
        m.answerable += 1
        m.confidence_answerable.append(answer.confidence)
        if answer.abstained:
            m.answerable_abstained.append(q.id)
            continue
        # a precedent question is answered by any of its organisations' decisions (``support``)
        spans = gold_spans(q, document_text)
        inside = [any(c.start < e and s < c.end for s, e in spans.get(c.doc, ())) for c in answer.citations]
        m.gold_in_answer += any(inside)
        m.gold_first += bool(inside and inside[0])
        counts = m.kinds.setdefault(q.kind, [0, 0, 0])
        counts[0] += 1
        counts[1] += bool(inside and inside[0])
        counts[2] += any(inside)
    return m
