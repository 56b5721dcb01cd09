"""/api/precedent, /api/documents/{id}/similar and /api/matters/{dnr}: decisions and matter histories."""

from __future__ import annotations

from pydantic import BaseModel

from rag.api.schemas.ask import CitationOut


class DecisionOut(BaseModel):
    organisation: str | None
    body: str | None
    date: str | None
    paragraph: str | None
    dnr: str | None
    outcome: str | None
    title: str | None
    score: float
    documents: list[str]
    citation: CitationOut
    display_title: str | None = None


class StepOut(BaseModel):
    """One item of a matter: which document and §, who handled it and what they decided."""

    doc: str
    paragraph: str | None
    title: str | None
    dnr: str | None
    organisation: str | None
    body: str | None
    date: str | None
    doc_type: str
    outcome: str | None
    proposal_to: str | None
    decision: str | None
    decision_start: int | None
    decision_end: int | None
    link: str


class MatterOut(BaseModel):
    dnr: str
    organisation: str | None
    steps: list[StepOut]


class MattersOut(BaseModel):
    dnr: str
    matters: list[MatterOut]


class PrecedentOut(BaseModel):
    query: str
    decisions: list[DecisionOut]
