"""/api/documents: a document with its items (§), a passage in context, and upload and delete."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, Field, model_validator

from rag.api.schemas.common import ClientPath, Span
from rag.display import display_text, markup_spans, ocr_damage, repaired_reading
from rag.types import StoredDocument
from rag.vocab import OUTCOMES


class SectionOut(BaseModel):
    heading: str
    start: int
    end: int


class PersonOut(BaseModel):
    name: str
    party: str | None
    role: str


# An item (§) as the document's structure summary holds it.
class ItemOut(BaseModel):
    paragraph: str | None
    number: int | None
    title: str | None
    display_title: str | None = None
    dnr: str | None
    body: str | None
    date: str | None
    outcome: str | None = Field(
        description=", ".join(o for o in OUTCOMES if o != "other") + ", or other (no decision text)"
    )
    outcomes: list[str] = Field(default_factory=list, description="The outcomes of further att-satser.")
    proposal_to: str | None = Field(None, description="The higher body this item only proposes to, if it does.")
    decision: Span | None = Field(None, description="The decisive sentence(s): offsets into the document text.")
    start: int
    end: int
    sections: list[SectionOut]
    persons: list[PersonOut]

    @model_validator(mode="after")
    def _shown(self) -> Self:
        self.display_title = display_text(self.title)
        return self


# A document, read from a ``rag.types.StoredDocument``: its text and metadata, its structure's items, and what the
# pages need to show it.
class DocumentOut(BaseModel):
    id: str
    path: ClientPath = Field(description="The file's path relative to its corpus folder (or upload folder).")
    title: str | None
    organisation: str | None
    body: str | None
    date: str | None
    doc_type: str
    format: str
    length: int
    text: str
    items: list[ItemOut]
    decided_by: str | None = Field(None, description="A guideline's decision reference, as written.")
    display_title: str | None = None
    ocr: bool = Field(False, description="OCR text with misread words (the normaliser repairs them for search).")
    repaired_title: str | None = None
    markup: list[Span] = Field(
        default_factory=list, description="Spans of markdown markup in the text, for a page to hide."
    )

    @model_validator(mode="before")
    @classmethod
    def _from_document(cls, value: Any) -> Any:
        if not isinstance(value, StoredDocument):
            return value
        ocr = is_ocr(value)
        return {
            "id": value.id,
            "path": value.path,
            "title": value.title,
            "organisation": value.organisation,
            "body": value.body,
            "date": value.date,
            "doc_type": value.doc_type,
            "format": value.format,
            "length": len(value.text),
            "text": value.text,
            "items": value.structure.get("items", []),
            "decided_by": value.structure.get("decided_by"),
            "display_title": display_text(value.title),
            "ocr": ocr,
            "repaired_title": display_text(repaired_reading(value.title)) if ocr else None,
            "markup": markup_spans(value.text),
        }


class PassageContextOut(BaseModel):
    doc: str
    start: int
    end: int
    text: str
    before: str
    after: str
    context_start: int
    context_end: int
    paragraph: str | None
    section: str | None
    title: str | None
    organisation: str | None
    date: str | None


class UploadOut(BaseModel):
    doc: str
    chunks: int
    embedded: int
    documents: int


class DeleteOut(BaseModel):
    doc: str
    removed: bool
    file_deleted: bool
    documents: int


OCR_DAMAGE = 0.06  # words read differently: OCR texts 0.13-0.23, clean protocols and guidelines 0.001-0.037
_damaged: dict[str, bool] = {}  # document sha256 -> OCR text with misread words


def is_ocr(document: StoredDocument) -> bool:
    """Whether a document is OCR text with misread words (``ocr`` in documents and hits), measured
    once per document content."""
    if document.sha256 not in _damaged:
        _damaged[document.sha256] = ocr_damage(document.text) > OCR_DAMAGE
    return _damaged[document.sha256]
