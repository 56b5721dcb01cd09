"""POST /api/ask: the question with its filters and history, and the answer with citations,
passages and the evidence behind its confidence, read from ``rag.answer.Answer``."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Self

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

from rag.api.schemas.common import DATE, OUTCOME, ClientPath
from rag.display import display_text
from rag.types import Filters, Hit


# Restrictions on what is searched, as a body gives them (``rag.types.Filters``).
class FiltersIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    organisation: str | None = Field(None, max_length=200, examples=["Tibro"])
    body: str | None = Field(None, max_length=200, examples=["KF"])
    date_from: str | None = Field(None, alias="from", max_length=10, examples=["2024"], json_schema_extra=DATE)
    date_to: str | None = Field(None, alias="to", max_length=10, examples=["2024-12-31"], json_schema_extra=DATE)
    doc_type: str | None = Field(None, alias="type", max_length=50, examples=["protokoll"])
    outcome: str | None = Field(None, max_length=50, examples=["avslag"], json_schema_extra=OUTCOME)

    def filters(self) -> Filters:
        return Filters(self.organisation, self.body, self.date_from, self.date_to, self.doc_type, self.outcome)


class TurnIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    question: str = Field(max_length=2000)
    answer: str | None = Field(None, max_length=20_000)
    standalone_question: str | None = Field(None, max_length=4000)


class AskIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"question": "Vad beslutade Tibro om en AI-strategi?"},
                {
                    "question": "Och vad beslutade Västerås?",
                    "history": [{"question": "Vad beslutade Tibro om en AI-strategi?"}],
                },
                {"question": "How often must the AI assignment be reported in Gotland?", "k": 3},
            ]
        },
    )

    question: str = Field(description="The question, Swedish or English (limit: RAG_MAX_QUESTION_CHARS).")
    filters: FiltersIn | None = None
    k: int = Field(5, ge=1, le=50, description="Passages to return as reading.")
    history: list[TurnIn] = Field(default_factory=list, max_length=20, description="Earlier turns, oldest first.")


# A quoted span, read from ``rag.answer.Citation``, with the text as shown beside it.
class CitationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    n: int
    doc: str
    path: ClientPath = Field(description="The file's path relative to its corpus folder, never the server's path.")
    title: str | None
    organisation: str | None
    body: str | None
    date: str | None
    paragraph: str | None
    dnr: str | None
    section: str | None
    start: int
    end: int
    quote: str = Field(description="Equal to the document text at [start, end).")
    display: str | None = Field(None, description="The quote as shown: no markup, lines reflowed (not for offsets).")
    display_title: str | None = Field(None, description="The title without markup.")

    @model_validator(mode="after")
    def _shown(self) -> Self:
        self.display = display_text(self.quote)
        self.display_title = display_text(self.title)
        return self


def passage_fields(hit: Hit) -> dict[str, Any]:
    """A hit's own fields and its chunk's side by side, as a passage lists them."""
    chunk = {f.name: getattr(hit.chunk, f.name) for f in fields(hit.chunk)}
    return chunk | {f.name: getattr(hit, f.name) for f in fields(hit) if f.name != "chunk"}


# A retrieved passage, read from a ``rag.types.Hit``.
class PassageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    doc: str
    path: ClientPath = Field(description="The file's path relative to its corpus folder, never the server's path.")
    start: int
    end: int
    text: str
    score: float
    lexical_rank: int | None
    dense_rank: int | None
    section: str | None
    paragraph: str | None
    dnr: str | None
    date: str | None
    organisation: str | None
    body: str | None
    doc_type: str | None
    outcome: str | None
    title: str | None
    chunk_id: int
    display_title: str | None = Field(None, description="The title without markup.")

    @model_validator(mode="before")
    @classmethod
    def _from_hit(cls, value: Any) -> Any:
        return passage_fields(value) if isinstance(value, Hit) else value

    @model_validator(mode="after")
    def _shown(self) -> Self:
        self.display_title = display_text(self.title)
        return self


# The signals behind the confidence (``rag.answer.Evidence``); which constraint of the question was unmet is told by
# the answer's ``reason``.
class EvidenceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    similarity: float
    coverage: float
    answer_type: str | None
    answer_type_found: bool
    missing: list[str]
    unknown_places: list[str]


# An answer, read from ``rag.answer.Answer``.
class AskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    question: str
    standalone_question: str = Field(
        validation_alias=AliasChoices("standalone_question", "standalone"),
        description="What was searched: the question, or a follow-up resolved.",
    )
    language: str
    answer: str | None
    abstained: bool
    confidence: float
    reason: str | None
    generated: bool
    citations: list[CitationOut]
    passages: list[PassageOut]
    evidence: EvidenceOut
