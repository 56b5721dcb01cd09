"""The answer's text: each quote with its source in the question's language, and the reason
given when the answer abstains.
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.types import Citation, Evidence
from rag.vocab import BODY_ENGLISH


def source_label(c: Citation, language: str) -> str:
    """Where a quote is from, in the question's language: 'Tibro kommun, kommunfullmäktige 2024-09-30, § 100'."""
    body = None
    if c.body:
        body = c.body[0].lower() + c.body[1:]
        if language == "en" and c.body in BODY_ENGLISH:
            body = f"{body} ({BODY_ENGLISH[c.body]})"
    if c.paragraph or body:
        who = ", ".join(p for p in (c.organisation, body) if p)
        when = ", ".join(p for p in (c.date, c.paragraph) if p)
        return f"{who} {when}" if c.date else ", ".join(p for p in (who, when) if p)
    title = c.title or c.doc
    meta = ", ".join(p for p in (c.organisation, c.date) if p)
    return f"{title} ({meta})" if meta else title


def compose(citations: Sequence[Citation], language: str) -> str:
    """The answer text: for each source, 'Enligt <source>: "<quote>" [n] ...', quotes as written."""
    lead = "According to" if language == "en" else "Enligt"
    open_q, close_q = ("“", "”") if language == "en" else ("”", "”")
    parts: list[str] = []
    previous: str | None = None
    for c in citations:
        label = source_label(c, language)
        quote = f"{open_q}{' '.join(c.quote.split())}{close_q} [{c.n}]"
        if label == previous:
            parts[-1] += " " + quote
        else:
            parts.append(f"{lead} {label}: {quote}")
        previous = label
    return "\n".join(parts)


# Why an answer abstains, per unmet constraint (``Assistant.unmet``): (English, Swedish).
_UNMET = {
    "words": (
        "None of the documents contains the words of the question.",
        "Inget av dokumenten innehåller frågans ord.",
    ),
    "organisation": (
        "None of the matching passages is from the organisation the question names.",
        "Inget av de träffade styckena kommer från den organisation frågan nämner.",
    ),
    "matter-elsewhere": (
        "The documents of the organisation the question names are about something else; the matter "
        "stands in another organisation's documents, listed as related reading.",
        "Dokumenten från den organisation frågan nämner handlar om annat; ärendet finns i en annan "
        "organisations dokument, som visas som relaterad läsning.",
    ),
    "office": (
        "None of the matching passages says who held that office at the meeting (chair, secretary, "
        "adjuster); the nearest passages are listed as related reading.",
        "Inget av de träffade styckena säger vem som hade det uppdraget vid sammanträdet (ordförande, "
        "sekreterare, justerare); de närmaste styckena visas som relaterad läsning.",
    ),
    "body": (
        "The documents hold no decision of the body the question asks about; the nearest passages "
        "(another body's decision or proposal) are listed as related reading.",
        "Dokumenten innehåller inget beslut av det organ frågan gäller; de närmaste styckena (ett annat "
        "organs beslut eller förslag) visas som relaterad läsning.",
    ),
    "stage": (
        "The documents hold no later decision: the matter was sent back, postponed or only noted.",
        "Dokumenten innehåller inget senare beslut: ärendet återremitterades, bordlades eller antecknades bara.",
    ),
    "undecided": (
        "The passage is a proposal that was sent back or postponed, not a decision.",
        "Stycket är ett förslag som återremitterades eller bordlades, inte ett beslut.",
    ),
    "no-decision": (
        "The passages hold a proposal or background, not a decision on the matter.",
        "Styckena innehåller ett förslag eller en bakgrund, inte ett beslut i ärendet.",
    ),
    "vote": (
        "The documents record no vote on the matter.",
        "Dokumenten redovisar ingen omröstning i ärendet.",
    ),
    "actor": (
        "The documents hold no decision of the authority the question names, only the organisation's own.",
        "Dokumenten innehåller inget beslut av den myndighet frågan nämner, bara organisationens eget.",
    ),
    "figure": (
        "No passage states the figure the question names.",
        "Inget stycke anger den siffra frågan nämner.",
    ),
}


def _abstain_reason(language: str, evidence: Evidence, any_hits: bool) -> str:
    en = language == "en"
    if evidence.unknown_places:
        places = ", ".join(evidence.unknown_places)
        return (
            f"The documents do not answer this: none of them is from or mentions {places}."
            if en
            else f"Dokumenten svarar inte på frågan: inget av dem kommer från eller nämner {places}."
        )
    if not any_hits:
        return "No document matches the question." if en else "Inget dokument matchar frågan."
    unmet = next((u for u in evidence.unmet if u in _UNMET), None)
    if unmet:
        return _UNMET[unmet][0 if en else 1]
    return (
        "The documents do not answer this clearly enough; the nearest passages are listed as related reading."
        if en
        else "Dokumenten svarar inte tillräckligt tydligt på frågan; de närmaste styckena visas som relaterad läsning."
    )
