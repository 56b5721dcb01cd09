"""/api/documents: a document with its items (§) and spans, a passage in its context, and (staff
with the admin token) adding and removing documents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi import Path as PathParam

from rag.api import uploads
from rag.api.deps import AssistantDep, RootsDep, ServiceDep, SettingsDep, find_document, require_admin
from rag.api.schemas.common import error_responses
from rag.api.schemas.documents import DeleteOut, DocumentOut, PassageContextOut, UploadOut
from rag.errors import InputError

UPLOAD_PATH = "/api/documents"

router = APIRouter()
# Staff with the admin token only; included after the other routers, so the OpenAPI schema lists its
# operations last, as it always has.
admin = APIRouter(dependencies=[Depends(require_admin)])


@router.get(
    "/api/documents/{doc_id}", response_model=DocumentOut, tags=["documents"], responses=error_responses(404, 422)
)
def document(a: AssistantDep, roots: RootsDep, doc_id: Annotated[str, PathParam(max_length=300)]) -> DocumentOut:
    """A document's metadata, full text and items (§) with their spans."""
    return DocumentOut.model_validate(find_document(a, doc_id), context={"roots": roots})


@router.get(
    "/api/documents/{doc_id}/passage",
    response_model=PassageContextOut,
    tags=["documents"],
    responses=error_responses(404, 422),
)
def passage(
    a: AssistantDep,
    doc_id: Annotated[str, PathParam(max_length=300)],
    start: Annotated[int, Query(ge=0)],
    end: Annotated[int, Query(ge=1)],
    context: Annotated[int, Query(ge=0, le=5000, description="Characters of context on each side.")] = 300,
) -> PassageContextOut:
    """The span `[start, end)` of a document with surrounding context, and where it stands."""
    d = find_document(a, doc_id)
    if not start < end <= len(d.text):
        raise InputError(
            f"end: the span [{start}, {end}) is not inside the document (length {len(d.text)}). "
            "Give 0 <= start < end <= length.",
            field="end",
        )
    lo, hi = max(0, start - context), min(len(d.text), end + context)
    item = next((i for i in d.structure.get("items", []) if i["start"] <= start < i["end"]), None)
    section = None
    if item:
        section = next((s["heading"] for s in item.get("sections", []) if s["start"] <= start < s["end"]), None)
    return PassageContextOut(
        doc=d.id,
        start=start,
        end=end,
        text=d.text[start:end],
        before=d.text[lo:start],
        after=d.text[end:hi],
        context_start=lo,
        context_end=hi,
        paragraph=item.get("paragraph") if item else None,
        section=section,
        title=(item.get("title") if item else None) or d.title,
        organisation=d.organisation,
        date=(item.get("date") if item else None) or d.date,
    )


@admin.post(
    UPLOAD_PATH,
    response_model=UploadOut,
    status_code=201,
    tags=["documents"],
    responses=error_responses(403, 409, 413, 422),
)
def upload(
    service: ServiceDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="A .txt .md .pdf .docx or .html file.")],
    internal: Annotated[bool, Form(description="Staff only: seen only with a staff token.")] = False,
) -> UploadOut:
    """Add a document (staff only: `Authorization: Bearer <RAG_ADMIN_TOKEN>`); it is indexed at once,
    incrementally, and served without a restart. `internal=true` keeps it from citizens (it is
    stored in the upload folder's `internal/`)."""
    return uploads.add_upload(service, settings, file.filename or "", file.file, internal)


@admin.delete(
    "/api/documents/{doc_id}",
    response_model=DeleteOut,
    tags=["documents"],
    responses=error_responses(403, 404, 409, 422),
)
def delete(service: ServiceDep, settings: SettingsDep, doc_id: Annotated[str, PathParam(max_length=300)]) -> DeleteOut:
    """Remove a document from the index (staff only). An uploaded file is deleted too; a file in the
    corpus stays on disk and comes back if its folder is indexed again."""
    return uploads.remove_document(service, settings, doc_id)
