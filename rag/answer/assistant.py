"""The assistant: ``Assistant.ask`` searches, chooses the sentences to quote, measures the
confidence, abstains below the threshold, and cites every quote, checked against its document.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, replace
from typing import TYPE_CHECKING

import numpy as np

from rag.answer.asked import _FIGURE, _OFFICES
from rag.answer.candidates import (
    PASSAGES_FOR_SENTENCES,
    PRECEDENT_PASSAGES,
    SENTENCE_WEIGHTS,
    Candidate,
    SentenceChoice,
    asked_person_role,
)
from rag.answer.compose import _abstain_reason, compose, source_label
from rag.answer.constraints import Constraints
from rag.answer.steps import LaterStep, _step_note
from rag.config import Settings
from rag.conversation import Turn, resolve
from rag.errors import InputError
from rag.matters import Matter
from rag.query import (
    answer_keys,
    asks_across_organisations,
    asks_for_decision,
    content_keys,
    counted_terms,
    place_key,
)
from rag.search import Searcher
from rag.sentences import counts, proposes_to
from rag.types import Answer, Citation, Evidence, Filters, Hit, QueryInfo

if TYPE_CHECKING:
    from rag.embed import Embedder


logger = logging.getLogger(__name__)

MAX_K = 50  # most passages an answer returns as reading
# Sentences offered to an LLM endpoint to word the answer from: the best, and those close to it.
LLM_SOURCES = 6
LLM_MARGIN = 3.0
# Confidence looks at whether one of this many best sentences states the kind of thing asked for.
KIND_CANDIDATES = 5
# Kinds of answer whose absence from the best sentences means the documents do not say: asked for
# an amount, a date or a name, passages without one do not answer. ("Why" has no reliable marker.)
CHECKED_TYPES = frozenset({"person", "date", "money", "number", "frequency", "company"})


class Assistant(SentenceChoice, Constraints, LaterStep):
    """Answers questions over a ``Searcher``: retrieval, sentence choice, citation, abstention."""

    def __init__(
        self,
        searcher: Searcher,
        threshold: float = 0.0,
        *,
        max_chars: int = 1000,
        weights: dict[str, float] | None = None,
    ) -> None:
        self.searcher = searcher
        self.max_chars = max_chars
        self._sentence_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._order_cache: OrderedDict[tuple[str, tuple[tuple[int, float], ...]], tuple[int, ...]] = OrderedDict()
        self._cache_lock = threading.Lock()
        self.weights = weights or dict(SENTENCE_WEIGHTS)
        self.threshold = threshold
        self._place_keys = {place_key(o) for o in searcher.organisations}
        names = sorted((o for o in searcher.organisations if o), key=len, reverse=True)
        self._organisation_names = (
            re.compile(r"\b(?:" + "|".join(re.escape(o) for o in names) + r")s?\b") if names else None
        )
        documents = searcher.index.documents().values()
        self._mentioned = {p for d in documents for p in d.structure.get("places", ())}
        self._mentioned_as_organisation = {p for d in documents for p in d.structure.get("organisations", ())}
        self._items = {d.id: sorted(d.structure.get("items", ()), key=lambda it: it["start"]) for d in documents}
        self._item_starts = {doc: [it["start"] for it in items] for doc, items in self._items.items()}
        self._bodies: dict[str, str | None] = {}  # a document's body when its structure has none, read lazily
        self._matters: dict[str, list[Matter]] = {}  # a document's matters across documents, read lazily
        self._place_stems = {k.split()[0].rstrip("s") for k in self._place_keys if k}
        searcher.reorder = self.order_passages  # the search this answers from ranks by what passages answer

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None) -> Assistant:
        """Load the index and model (``Searcher.open``) with the configured or calibrated threshold."""
        from rag.calibrate import load

        threshold = settings.abstain_threshold
        if threshold is None:
            threshold = float(load()["threshold"])
        return cls(Searcher.open(settings, embedder), threshold, max_chars=settings.max_question_chars)

    def public(self) -> Assistant:
        """This assistant over the public documents only (``Searcher.public``), or itself when none is
        internal. Its caches are its own, so nothing asked by staff is remembered for citizens."""
        searcher = self.searcher.public()
        if searcher is self.searcher:
            return self
        return Assistant(searcher, self.threshold, max_chars=self.max_chars, weights=self.weights)

    @staticmethod
    def confidence(evidence: Evidence) -> float:
        """A number in [0, 1]: the best sentence's similarity to the question times the share of the
        question's terms its item (§) holds; 0 when the question names a place no document mentions,
        meets a constraint the sentence does not (``Evidence.unmet``), or asks for a kind of thing (an
        amount, a date, a name) none of the best sentences states."""
        if evidence.unknown_places or evidence.unmet or not evidence.answer_type_found:
            return 0.0
        return round(max(0.0, min(1.0, evidence.similarity * evidence.coverage)), 4)

    @staticmethod
    def office_unstated(info: QueryInfo, ranked: Sequence[Candidate]) -> bool:
        """Whether a question asks who held an office at a meeting ("Vem ledde sammanträdet?") and
        none of the best sentences names one in it: a yrkande's mover is not the chair."""
        office = asked_person_role(info)[0] in _OFFICES
        return office and not any(c.scores.get("role") for c in ranked[:KIND_CANDIDATES])

    def ask(
        self,
        question: str,
        *,
        history: Sequence[Turn] = (),
        filters: Filters | None = None,
        k: int = 5,
    ) -> Answer:
        """Answer ``question`` with cited quotes; a follow-up is first resolved against ``history``."""
        if not question.strip():
            raise InputError("question: the question is empty. Write a question.", field="question")
        if len(question) > self.max_chars:
            raise InputError(
                f"question: {len(question)} characters is too long. Shorten it to at most {self.max_chars}.",
                field="question",
            )
        if not 1 <= k <= MAX_K:
            raise InputError(f"k: {k} is out of range. Use a number from 1 to {MAX_K}.", field="k")
        searched = resolve(question, history, self.searcher.organisations)
        if not content_keys(searched):
            return self._abstain(question, searched, Evidence(0.0, 0.0, unmet=("words",)), (), "no-content")
        info = self.searcher.understand(searched)
        # precedent: what each organisation did, from more passages than one matter needs; a question
        # naming an organisation looks at as many, to see whether its matter stands elsewhere
        across = asks_across_organisations(searched) and not info.organisations
        wanted = PRECEDENT_PASSAGES if across or info.organisations else PASSAGES_FOR_SENTENCES
        # in fused order: a sentence's rank signal was learned on it (the reordered one follows from it)
        hits = self.searcher.search(searched, k=max(k, wanted), filters=filters, reorder=False)
        keys = answer_keys(info, lambda key: self.searcher.index.document_frequency(key) > 0)
        decision = asks_for_decision(searched) or across
        # a question about Västerås is answered from Västerås's documents when the search found any
        named = [h for h in hits[:PASSAGES_FOR_SENTENCES] if h.chunk.organisation in info.organisations]
        pool = hits[:PRECEDENT_PASSAGES] if across else named or hits[:PASSAGES_FOR_SENTENCES]
        ranked = self.ranked(info, keys, pool, decision)
        # a question naming a figure ("förslaget 13181", "600 medarbetare") is answered where it stands
        figures = _FIGURE.findall(searched)
        ranked = [c for c in ranked if self.states_figures(c, figures)] or ranked
        # "hur många elever ...": answered by a sentence that counts elever, if any does
        counted = counted_terms(searched)
        if counted:
            topical = self.distinctive(self.matter_keys(info, keys, counted))
            ranked = [c for c in ranked if counts(c.text, counted, topical)] or ranked
        if across:  # precedent: what organisations decided on the matter, not information they noted
            ranked = [c for c in ranked if not self.only_noted(c)] or ranked
        chosen = self.choose_across(ranked) if across else self.choose(self.break_ties(info.text, ranked))
        evidence = Evidence(
            similarity=self.similarity(info.text, chosen[0].text) if chosen else 0.0,
            coverage=round(self.item_coverage(keys, chosen[0]), 4) if chosen else 0.0,
            answer_type=info.answer_type,
            answer_type_found=info.answer_type not in CHECKED_TYPES
            or any(c.scores["kind"] for c in ranked[:KIND_CANDIDATES]),
            missing=self.missing_terms(keys),
            unknown_places=self.unknown_places(info, decision),
            unmet=self.unmet(searched, info, keys, chosen[0] if chosen else None, bool(named), decision and not across)
            + (("matter-elsewhere",) if not across and self.matter_elsewhere(info, keys, named, hits) else ())
            + (("office",) if self.office_unstated(info, ranked) else ()),
            decision=decision,
        )
        confidence = self.confidence(evidence)
        passages = tuple(hits[:k])
        if not chosen or confidence < self.threshold:
            return self._abstain(question, searched, evidence, passages, info.language, confidence, bool(hits))
        # a motion, a proposal or a tabled item whose matter went on in a later document: the
        # answer leads with the matter's latest step and says that it is one
        later = self.later_step(chosen[0], searched) if decision and not across and chosen else None
        step_citation = self.step_citation(later) if later else None
        quoted = self._citations(chosen)
        if step_citation:  # the step first, and not again among the quotes
            quoted = [step_citation] + [
                c
                for c in quoted
                if (c.doc, c.start, c.end) != (step_citation.doc, step_citation.start, step_citation.end)
            ]
        citations = self.verified(quoted)
        citations = tuple(replace(c, n=n) for n, c in enumerate(citations, start=1))
        text = compose(citations, info.language) if citations else None
        note = self.proposal_note(chosen[0], info.language) if decision and text and not step_citation else None
        if step_citation and later and text:
            note = _step_note(later, info.language)
        if note:
            text = f"{note}\n{text}"
        generated = False
        if citations and self.searcher.settings.llm_url:
            worded = self.worded(searched, info.language, ranked)
            if worded is not None:
                text, citations = worded
                generated = True
        return Answer(
            question=question,
            standalone=searched,
            language=info.language,
            answer=text,
            generated=generated,
            abstained=not citations,
            confidence=confidence,
            reason=None if citations else _abstain_reason(info.language, evidence, bool(hits)),
            citations=citations,
            passages=passages,
            evidence=evidence,
        )

    def _abstain(
        self,
        question: str,
        searched: str,
        evidence: Evidence,
        passages: tuple[Hit, ...],
        language: str,
        confidence: float = 0.0,
        any_hits: bool = False,
    ) -> Answer:
        if language == "no-content":  # nothing was searched: no language, no passages
            reason = (
                "Frågan innehåller inga ord att söka på (bara frågeord, tecken eller kod). Skriv vad frågan gäller, "
                "till exempel: Vad beslutade Tibro om en AI-strategi?"
            )
            return Answer(question, searched, "sv", None, True, 0.0, reason, (), (), evidence)
        return Answer(
            question=question,
            standalone=searched,
            language=language,
            answer=None,
            abstained=True,
            confidence=confidence,
            reason=_abstain_reason(language, evidence, any_hits),
            citations=(),
            passages=passages,
            evidence=evidence,
        )

    def proposal_note(self, best: Candidate, language: str) -> str | None:
        """'Detta är ett förslag från <organ> till <högre organ>, inte <högre organ>s beslut.' when
        the decisive sentence only proposes to a higher body."""
        if not best.decisive:
            return None
        item = self.item_at(best.hit.chunk.doc, best.start) or {}
        target = item.get("proposal_to") or proposes_to(best.text)
        if not target:
            return None
        body = item.get("body") or best.hit.chunk.body or ("the body" if language == "en" else "organet")
        if language == "en":
            return f"This is a proposal from {body} to {target}, not a decision of {target}."
        return f"Detta är ett förslag från {body.lower()} till {target.lower()}, inte {target.lower()}s beslut."

    def worded(
        self, question: str, language: str, ranked: Sequence[Candidate]
    ) -> tuple[str, tuple[Citation, ...]] | None:
        """The answer phrased by the configured LLM endpoint from the best sentences only (each a
        verified citation), keeping only its sentences that carry supported ``[n]`` markers; None
        when the endpoint fails or says nothing usable (the extractive answer then stands)."""
        from rag.llm import Source, phrase

        pool = self.verified(self._citations(self.choose(ranked, limit=LLM_SOURCES, margin=LLM_MARGIN)))
        sources = [Source(c.n, c.quote, source_label(c, language)) for c in pool]
        phrased = phrase(question, language, sources, self.searcher.settings)
        if not phrased:
            return None
        used = list(dict.fromkeys(n for p in phrased for n in p.citations))
        renumber = {old: new for new, old in enumerate(used, start=1)}
        by_n = {c.n: c for c in pool}

        def markers(m: re.Match[str]) -> str:
            return "[" + ", ".join(str(renumber[int(n)]) for n in re.findall(r"\d+", m.group(1))) + "]"

        text = " ".join(re.sub(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]", markers, p.text) for p in phrased)
        citations = tuple(Citation(**(asdict(by_n[old]) | {"n": renumber[old]})) for old in used)
        return text, citations

    def _citations(self, chosen: Sequence[Candidate]) -> list[Citation]:
        # the best sentence first (the answer leads with it), the others in reading order within a
        # passage, passages in the order they were chosen
        if not chosen:
            return []
        order = {c.hit.chunk_id: i for i, c in reversed(list(enumerate(chosen)))}
        ordered = [chosen[0], *sorted(chosen[1:], key=lambda c: (order[c.hit.chunk_id], c.start))]
        return [
            Citation(
                n=n,
                doc=c.hit.chunk.doc,
                path=c.hit.path,
                title=c.hit.chunk.title,
                organisation=c.hit.chunk.organisation,
                body=c.hit.chunk.body,
                date=c.hit.chunk.date,
                paragraph=c.hit.chunk.paragraph,
                dnr=c.hit.chunk.dnr,
                section=c.section or c.hit.chunk.section,
                start=c.start,
                end=c.end,
                quote=c.text,
            )
            for n, c in enumerate(ordered, start=1)
        ]

    def verified(self, citations: Sequence[Citation]) -> tuple[Citation, ...]:
        """The citations whose quote equals the document text at their span, renumbered; others are
        dropped and logged (they would mean an offset bug, never something to show a user)."""
        kept = []
        for c in citations:
            doc = self.searcher.index.document(c.doc)
            if doc is None or doc.text[c.start : c.end] != c.quote:
                logger.error("dropped a citation that does not match its document: %s [%d:%d]", c.doc, c.start, c.end)
                continue
            kept.append(c)
        return tuple(Citation(**(asdict(c) | {"n": n})) for n, c in enumerate(kept, start=1))
