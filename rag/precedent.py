"""Precedent: how other organisations decided the same matter. One row per decision (an item with
a recorded outcome), with the decisive sentence as a citation; the same item quoted in several
documents (a protocol and its excerpt, two scans of one meeting) is one row listing all of them."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rag.answer import Citation
from rag.normalise import analyse
from rag.query import place_key
from rag.search import Searcher
from rag.sentences import join_lead_ins, quotable, sentence_spans
from rag.types import Filters, Hit

_DECIDES = re.compile(
    r"\b(?:beslutar|beslutade|beslutat|beslöt|föreslår|ger .{0,60}i uppdrag|anse[rs]? motionen)", re.I
)
_DECISION_SECTIONS = ("Beslut", "Förslag till beslut")


@dataclass(frozen=True)
class Decision:
    organisation: str | None
    body: str | None
    date: str | None
    paragraph: str | None
    dnr: str | None
    outcome: str | None
    title: str | None
    citation: Citation  # the decisive sentence
    score: float
    documents: tuple[str, ...] = field(default=())  # every document this decision was found in


def _item_of(structure: dict[str, Any], position: int) -> dict[str, Any] | None:
    for item in structure.get("items", ()):
        if item["start"] <= position < item["end"]:
            return item  # type: ignore[no-any-return]
    return None


def decisive_sentence(text: str, item: dict[str, Any]) -> tuple[int, int] | None:
    """The sentence of an item that states its decision: in its Beslut section (else Förslag till
    beslut), the first that decides ('beslutar', 'ger ... i uppdrag'), else that section's first."""
    for heading in _DECISION_SECTIONS:
        for section in item.get("sections", ()):
            if section["heading"] != heading:
                continue
            spans = sentence_spans(text, section["start"], section["end"])
            spans = [(s, e) for s, e in join_lead_ins(text, spans) if quotable(text[s:e])]
            if spans:
                return next(((s, e) for s, e in spans if _DECIDES.search(text[s:e])), spans[0])
    spans = [(s, e) for s, e in sentence_spans(text, item["start"], item["end"]) if _DECIDES.search(text[s:e])]
    return spans[0] if spans else None


def _same(a: Decision, b: Decision) -> bool:
    """The same decision: same organisation and §/date, or the same decisive words."""
    if place_key(a.organisation or "") != place_key(b.organisation or ""):
        return False
    if a.paragraph and a.paragraph == b.paragraph and (a.date == b.date or not a.date or not b.date):
        return True
    ka, kb = set(analyse(a.citation.quote)), set(analyse(b.citation.quote))
    return bool(ka and kb) and len(ka & kb) / len(ka | kb) >= 0.8


def decisions(searcher: Searcher, hits: Sequence[Hit], limit: int = 20) -> list[Decision]:
    """The decisions the hits fall in, best first, near-duplicates merged."""
    rows: list[Decision] = []
    seen: set[tuple[str, int]] = set()
    for hit in hits:
        doc = searcher.index.documents()[hit.chunk.doc]
        item = _item_of(doc.structure, hit.chunk.start)
        if item is None or not item.get("outcome") or (doc.id, item["start"]) in seen:
            continue
        seen.add((doc.id, item["start"]))
        span = decisive_sentence(doc.text, item)
        if span is None:
            continue
        s, e = span
        citation = Citation(
            n=0,
            doc=doc.id,
            path=doc.path,
            title=item.get("title") or doc.title,
            organisation=doc.organisation,
            body=item.get("body") or doc.body,
            date=item.get("date") or doc.date,
            paragraph=item.get("paragraph"),
            dnr=item.get("dnr"),
            section=next((x["heading"] for x in item.get("sections", ()) if x["start"] <= s < x["end"]), None),
            start=s,
            end=e,
            quote=doc.text[s:e],
        )
        row = Decision(
            organisation=citation.organisation,
            body=citation.body,
            date=citation.date,
            paragraph=citation.paragraph,
            dnr=citation.dnr,
            outcome=item.get("outcome"),
            title=citation.title,
            citation=citation,
            score=hit.score,
            documents=(doc.id,),
        )
        twin = next((i for i, r in enumerate(rows) if _same(r, row)), None)
        if twin is not None:
            kept = rows[twin]
            rows[twin] = Decision(**{**kept.__dict__, "documents": (*kept.documents, doc.id)})
            continue
        rows.append(row)
        if len(rows) >= limit:
            break
    return [
        Decision(**{**r.__dict__, "citation": Citation(**{**r.citation.__dict__, "n": n})})
        for n, r in enumerate(rows, start=1)
    ]


def precedent(searcher: Searcher, query: str, filters: Filters | None = None, limit: int = 20) -> list[Decision]:
    """Decisions on the matter ``query`` describes, from every organisation, best first."""
    return decisions(searcher, searcher.results(query, filters=filters, relative_floor=0.1), limit)


def similar(searcher: Searcher, doc_id: str, limit: int = 20) -> list[Decision]:
    """Decisions by other organisations on the matter of document ``doc_id``: its chunks' mean vector
    searched densely, the document's own organisation left out."""
    index = searcher.index
    document = index.documents()[doc_id]
    vectors = index.vectors(index.chunk_ids(doc_id))
    query = vectors.mean(axis=0)
    query /= np.linalg.norm(query) or 1.0
    elsewhere = Filters(exclude_organisations=(document.organisation,))
    found = index.dense(query, 2 * searcher.settings.candidates, elsewhere)
    return decisions(searcher, [searcher.hit(i, round(s, 6)) for i, s in found], limit)
