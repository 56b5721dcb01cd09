"""GET /api/search: a page of hits with snippets, facet counts, and why a query finds nothing."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from rag.api.schemas.ask import PassageOut
from rag.api.schemas.common import Span


class DisplayOut(BaseModel):
    text: str = Field(description="The snippet as shown: no markup, hyphenation joined, lines reflowed.")
    highlights: list[Span] = Field(description="Matched words, as offsets into this text.")
    repaired: str | None = Field(None, description="For OCR text: the snippet as the normaliser reads it.")


class SnippetOut(BaseModel):
    text: str
    start: int
    end: int
    highlights: list[Span] = Field(description="Matched words, as document offsets within [start, end).")
    display: DisplayOut | None = None


# A hit's passage (``passage_fields``) with its snippet and the document's OCR state.
class SearchPassageOut(PassageOut):
    snippet: SnippetOut
    ocr: bool = Field(False, description="The document is OCR text with misread words.")
    repaired_title: str | None = Field(None, description="For OCR text: the title as the normaliser reads it.")


class SearchHitOut(SearchPassageOut):
    more: list[SearchPassageOut] = Field(
        default_factory=list, description="With group=item: the item's other passages in the results, best first."
    )


# Why a query finds nothing, read from ``rag.results.EmptyReason``.
class EmptyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str = Field(description="no_words | unknown_words | unknown_place | unknown_dnr")
    values: list[str] = Field(description="The words, places or Dnr that no document has.")


class SearchOut(BaseModel):
    query: str
    total: int = Field(
        description="Passages in the result set (those scoring at least a quarter of the best); with "
        "group=item, items (§) and documents without §."
    )
    page: int
    k: int
    pages: int
    hits: list[SearchHitOut]
    facets: dict[str, dict[str, int]] = Field(description="Passages per value; with group=item, items per value.")
    facet_documents: dict[str, dict[str, int]] = Field(description="Documents per facet value.")
    empty: EmptyOut | None = Field(description="Why the query finds nothing, when it cannot find anything real.")
    query_organisations: list[str] = Field(description="Indexed organisations the query names.")
