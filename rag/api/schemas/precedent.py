"""/api/precedent, /api/documents/{id}/similar and /api/matters/{dnr}: decisions and matter histories."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, model_validator

from rag.api.schemas.ask import CitationOut
from rag.display import display_text
from rag.matters import Matter


# One decision, read from ``rag.precedent.Decision``, its decisive sentence as the citation.
class DecisionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

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

    @model_validator(mode="after")
    def _shown(self) -> Self:
        self.display_title = display_text(self.title)
        return self


# A case number's matters, one per organisation: ``rag.matters.Matter`` and its ``Step``s as they are, the one
# definition of their fields.
class MattersOut(BaseModel):
    dnr: str
    matters: list[Matter]


class PrecedentOut(BaseModel):
    query: str
    decisions: list[DecisionOut]
