"""The weights of a sentence's signals (``rag.answer.SENTENCE_WEIGHTS``), learned rather than set by
hand: a logistic model of "this candidate sentence holds the gold answer" over the candidates of
labelled questions, cross-validated with whole documents held out, so a figure says how the
weights do on documents they were not fitted on.

``candidate_rows`` asks the assistant for the scored candidates of each answerable question and
labels them; ``fit`` and ``held_out_first`` are pure numpy. The figures in the comment above
``SENTENCE_WEIGHTS`` came from these functions on realdocs, devset A-C and the dev questions;
``rag weights`` runs them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rag.evaluate import Question, gold_spans

if TYPE_CHECKING:
    from rag.answer import Assistant


@dataclass(frozen=True)
class Row:
    """One candidate sentence of one question: its signals and whether it holds the gold answer."""

    question: str  # the question's id
    doc: str  # the gold document (folds are made of whole documents)
    signals: dict[str, float]
    label: bool
    similarity: float = 0.0  # the sentence's cosine to the question, which breaks ties in answers


def signal_names(rows: Sequence[Row]) -> list[str]:
    """The signals the rows carry, in the order the assistant computes them."""
    return list(dict.fromkeys(name for r in rows for name in r.signals))


def candidate_rows(assistant: Assistant, questions: Iterable[Question], similarity: bool = False) -> list[Row]:
    """The scored candidates of every answerable question, labelled by overlap with a gold quote
    (for a precedent question, any of its ``support`` quotes too); with ``similarity`` each
    candidate is embedded for its cosine to the question (slow: every candidate sentence)."""
    from rag.answer import PASSAGES_FOR_SENTENCES
    from rag.query import answer_keys, asks_for_decision

    searcher = assistant.searcher
    documents = searcher.index.documents()

    def text_of(doc: str) -> str | None:
        return documents[doc].text if doc in documents else None

    rows = []
    for q in questions:
        if not q.doc or not q.answer_quote or q.doc not in documents:
            continue
        info = searcher.understand(q.question)
        hits = searcher.search(q.question, k=PASSAGES_FOR_SENTENCES, reorder=False)
        keys = answer_keys(info, lambda key: searcher.index.document_frequency(key) > 0)
        decision = asks_for_decision(q.question)
        named = [h for h in hits if h.chunk.organisation in info.organisations]
        spans = gold_spans(q, text_of)
        ranked = assistant.ranked(info, keys, named or hits, decision)
        closeness = np.zeros(len(ranked))
        if similarity and ranked:
            closeness = assistant.sentence_vectors([c.text for c in ranked]) @ searcher.query_vector(q.question)
        for c, near in zip(ranked, closeness, strict=True):
            label = any(c.start < e and s < c.end for s, e in spans.get(c.hit.chunk.doc, ()))
            rows.append(Row(q.id, q.doc, dict(c.scores), label, float(near)))
    return rows


def _matrix(rows: Sequence[Row], names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    x = np.array([[r.signals.get(n, 0.0) for n in names] + [1.0] for r in rows], dtype=float)
    return x, np.array([r.label for r in rows], dtype=float)


def fit(rows: Sequence[Row], names: Sequence[str], l2: float = 1.0, steps: int = 3000) -> dict[str, float]:
    """Class-balanced, L2-regularised logistic regression by gradient descent; weights by signal
    name, the intercept as "bias"."""
    x, y = _matrix(rows, names)
    w = np.zeros(x.shape[1])
    share = min(max(float(y.mean()), 1e-6), 1 - 1e-6)
    balance = np.where(y > 0, 0.5 / share, 0.5 / (1 - share))
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(x @ w)))
        w -= 0.5 * (x.T @ ((p - y) * balance) / len(y) + l2 * np.r_[w[:-1], 0.0] / len(y))
    return {**{n: float(v) for n, v in zip(names, w[:-1], strict=True)}, "bias": float(w[-1])}


def fold_of(doc: str, folds: int = 5) -> int:
    """The cross-validation fold of a document (a stable hash: its questions are held out together)."""
    return int(hashlib.sha256(doc.encode("utf-8")).hexdigest(), 16) % folds


def held_out_first(
    rows: Sequence[Row], names: Sequence[str], folds: int = 5, tie_break: bool = False
) -> dict[str, tuple[int, int]]:
    """For each question, whether the sentence the model ranks first, fitted on the other folds'
    documents only, holds the answer: {question id: (1 or 0, 1)}, to be summed by set. With
    ``tie_break``, of sentences that score the same the one closest to the question (``similarity``)
    is first, as ``SentenceChoice.break_ties`` does; without, the first of them, as they stood."""
    scores = np.zeros(len(rows))
    fold = np.array([fold_of(r.doc, folds) for r in rows])
    x, _ = _matrix(rows, names)
    for f in range(folds):
        train = [r for r, g in zip(rows, fold, strict=True) if g != f]
        if not train:
            continue
        w = fit(train, names)
        weights = np.array([w[n] for n in names] + [w["bias"]])
        scores[fold == f] = (x @ weights)[fold == f]
    best: dict[str, int] = {}
    for i, r in enumerate(rows):
        j = best.get(r.question)
        if j is None or (scores[i], tie_break * r.similarity) > (scores[j], tie_break * rows[j].similarity):
            best[r.question] = i
    return {q: (int(rows[i].label), 1) for q, i in best.items()}
