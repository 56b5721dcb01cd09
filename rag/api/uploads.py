"""Adding and removing documents through the API: an uploaded file is kept in the upload folder
(``internal/`` under it for staff-only documents) and indexed at once, incrementally; the service
serves the new version before the request answers. One upload or delete at a time."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import BinaryIO

from fastapi import HTTPException

from rag.api.deps import find_document
from rag.api.schemas.documents import DeleteOut, UploadOut
from rag.api.service import Service
from rag.build import build_index
from rag.config import Settings
from rag.errors import InputError, RagError
from rag.parse import INTERNAL_DIR, SUPPORTED
from rag.store import publish

MAX_NAME_BYTES = 200  # an uploaded file's name, after cleaning (file systems allow 255)


def safe_name(name: str) -> str:
    """An uploaded file's name reduced to a plain file name: no directories (either slash), no leading
    dot, NUL and every other character but letters, digits and ``_ .()-`` replaced, Unicode in one
    (composed) form so two names that look alike are one name."""
    base = Path(unicodedata.normalize("NFC", name).replace("\\", "/")).name
    base = re.sub(r"[^\w .()-]+", "_", base).strip(" .")
    if not base:
        raise InputError(
            "file: the file name is empty or unusable. Give the file a name like 'protokoll.pdf'.", field="file"
        )
    if len(base.encode()) > MAX_NAME_BYTES:
        raise InputError(
            f"file: the file name is longer than {MAX_NAME_BYTES} bytes. Give the file a shorter name.", field="file"
        )
    return base


def add_upload(service: Service, settings: Settings, filename: str, file: BinaryIO, internal: bool) -> UploadOut:
    """Keep ``file`` under its cleaned name in the upload folder and index it. A file the index
    refuses (the parser's reason is the 422) or a failed build puts back what the folder held."""
    name = safe_name(filename)
    if Path(name).suffix.lower() not in SUPPORTED:
        raise InputError(
            f"file: '{name}' is not a supported type. Use one of: {', '.join(sorted(SUPPORTED))}.",
            field="file",
        )
    upload_dir = settings.upload_dir
    folder = upload_dir / INTERNAL_DIR if internal else upload_dir
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    with service.write_lock:
        indexed = service.assistant(staff=True).searcher.index.document(name)
        if indexed is not None and Path(indexed.path).resolve() != target.resolve():
            raise HTTPException(
                409,
                detail=f"A document named '{name}' is already indexed from elsewhere. Rename the file, "
                "or delete that document first.",
            )
        existed = target.exists()
        previous = target.read_bytes() if existed else None
        data = file.read(settings.max_upload_bytes + 1)
        if len(data) > settings.max_upload_bytes:
            raise HTTPException(413, detail=f"The file is larger than {settings.max_upload_bytes} bytes.")
        target.write_bytes(data)
        try:
            # the upload folder is the root, so a file under its internal/ is marked internal
            report = build_index([upload_dir], settings.index_dir, service.embedder, settings)
            publish(settings)
        except RagError:
            _restore(target, previous)
            raise
        service.refresh(wait=None)  # the new document is searchable when this answers
        failed = [message for path, message in report.failed if Path(path).name == name]
        if failed:
            _restore(target, previous)
            raise InputError(f"file: {failed[0]}", field="file")
    doc_id = target.name
    manifest = service.assistant(staff=True).searcher.index.manifest
    return UploadOut(
        doc=doc_id,
        chunks=manifest["documents"].get(doc_id, {}).get("chunks", 0),
        embedded=report.embedded,
        documents=report.documents,
    )


def remove_document(service: Service, settings: Settings, doc_id: str) -> DeleteOut:
    """Take ``doc_id`` out of the index; its file is deleted only when the upload folder holds it (a
    corpus file stays where it is, and comes back if its folder is indexed again)."""
    with service.write_lock:
        document = find_document(service.assistant(staff=True), doc_id)
        report = build_index([], settings.index_dir, service.embedder, settings, remove=[doc_id])
        publish(settings)
        service.refresh(wait=None)
        path = Path(document.path)
        uploaded = path.resolve().is_relative_to(settings.upload_dir.resolve())
        if uploaded and path.is_file():
            path.unlink()
    return DeleteOut(doc=doc_id, removed=doc_id in report.removed, file_deleted=uploaded, documents=report.documents)


def _restore(target: Path, previous: bytes | None) -> None:
    """Put an upload's target back as it was: the old file, or no file."""
    if previous is None:
        target.unlink(missing_ok=True)
    else:
        target.write_bytes(previous)
