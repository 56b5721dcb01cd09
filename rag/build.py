"""Building the index: read -> mask -> structure -> chunk -> embed -> write, incrementally.

Documents indexed before stay unless their file is gone; only chunks whose embedding text is new
are embedded (vectors of the others are reused by the hash of that text), so re-indexing unchanged
files embeds nothing. The store (``rag.store.base.WriteStore``) makes the new version current
atomically, so a crash at any moment leaves the previous index serving.

Personal data (personnummer, samordningsnummer, e-mail addresses, phone numbers) is masked in the
text of every document as it is indexed, unless ``mask_personal_data`` is off. Masking keeps the
length of the text, so every character offset stays valid.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from dataclasses import replace as replace_field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.chunk import chunk_configured, embed_text
from rag.config import Settings
from rag.errors import ParseError, RagError
from rag.parse import discover, read_document
from rag.pii import mask_pii
from rag.query import named_places
from rag.store.base import WriteStore
from rag.store.embedded import EmbeddedStore
from rag.store.embedded.dense import choose_kind
from rag.store.manifest import ANALYSIS_VERSION, PERSONAL_DATA, SCHEMA_VERSION, check_buildable, masked, settings_key
from rag.structure import parse_structure
from rag.types import BuildReport, Chunk, Document, DocumentEntry, Manifest, PersonalData, StoredDocument, Structure

if TYPE_CHECKING:
    from rag.embed import Embedder

logger = logging.getLogger(__name__)


def build_index(
    paths: Sequence[Path],
    index_dir: Path,
    embedder: Embedder,
    settings: Settings,
    *,
    rebuild: bool = False,
    replace: bool = False,
    remove: Sequence[str] = (),
    progress: Callable[[int, int], None] | None = None,
    on_file: Callable[[str], None] | None = None,
) -> BuildReport:
    """Index the files under ``paths`` into the index folder ``index_dir`` (``build`` into it)."""
    return build(
        paths,
        EmbeddedStore(index_dir),
        embedder,
        settings,
        rebuild=rebuild,
        replace=replace,
        remove=remove,
        progress=progress,
        on_file=on_file,
        where=index_dir,
    )


def build(
    paths: Sequence[Path],
    store: WriteStore,
    embedder: Embedder,
    settings: Settings,
    *,
    rebuild: bool = False,
    replace: bool = False,
    remove: Sequence[str] = (),
    progress: Callable[[int, int], None] | None = None,
    on_file: Callable[[str], None] | None = None,
    where: Path | None = None,
) -> BuildReport:
    """Index the files under ``paths`` into ``store``, incrementally.

    Documents already in the index stay unless their file is gone (or ``replace`` is set, which
    keeps only what ``paths`` holds); new and changed files are (re)chunked, and only chunks whose
    embedding text is new are embedded. A document indexed before whose file cannot be read now
    keeps its indexed text. ``rebuild`` ignores an incompatible previous index; ``remove`` names
    documents to drop even though their files are still there. ``where`` names the index in
    messages (``settings.index_dir`` when not given).
    """
    with store.lock():
        store.collect()
        return _build(paths, store, embedder, settings, rebuild, replace, remove, progress, on_file, where)


def _build(
    paths: Sequence[Path],
    store: WriteStore,
    embedder: Embedder,
    settings: Settings,
    rebuild: bool,
    replace: bool,
    remove: Sequence[str],
    progress: Callable[[int, int], None] | None,
    on_file: Callable[[str], None] | None,
    where: Path | None,
) -> BuildReport:
    started = time.perf_counter()
    report = BuildReport(masked=settings.mask_personal_data)
    previous = store.manifest()
    if previous and not rebuild:
        check_buildable(previous, embedder, settings, where or settings.index_dir)

    logger.info("reading documents from %s", ", ".join(str(p) for p in paths) or "the index")
    drop = set(remove)
    docs = {d.id: d for d in _read_all(paths, settings, report, on_file) if d.id not in drop}
    failed_paths = {os.path.realpath(path) for path, _ in report.failed}  # (Path.resolve raises on a loop)
    indexed: dict[str, DocumentEntry] = (previous or {}).get("documents", {})
    keep: set[str] = set()  # indexed before, unreadable now: the indexed text stays
    for doc_id, entry in indexed.items():
        if doc_id in docs or doc_id in drop:
            continue
        if entry["path"] in failed_paths:
            keep.add(doc_id)
        elif not replace and Path(entry["path"]).exists():
            # documents indexed before stay, read again from their files; a file that is gone is dropped
            try:
                doc = read_document(Path(entry["path"]), max_bytes=settings.max_file_bytes)
                docs[doc_id] = replace_field(doc, internal=entry["internal"])
            except ParseError as exc:
                _skip(report, on_file, entry["path"], str(exc))
                keep.add(doc_id)
    stored = store.stored_documents(keep) if previous else {}
    for doc_id in sorted(keep):
        if doc_id in stored:
            docs[doc_id] = stored[doc_id]
            report.kept.append(doc_id)
    if report.kept:
        logger.info("kept the indexed text of %s: the files cannot be read now", ", ".join(report.kept))
    old_hashes = {doc_id: entry["sha256"] for doc_id, entry in indexed.items()}
    report.removed = sorted(set(old_hashes) - set(docs))
    for doc_id, doc in docs.items():
        if doc_id not in old_hashes:
            report.added.append(doc_id)
        elif old_hashes[doc_id] != doc.sha256:
            report.changed.append(doc_id)

    if not docs:
        raise RagError(
            f"Nothing could be indexed from {', '.join(str(p) for p in paths)}: "
            f"{len(report.failed)} files failed and no other supported files were found. "
            "Check the paths and the messages above; the index was left as it was."
        )
    unchanged = not (report.added or report.changed or report.removed)
    if (
        previous
        and previous.get("analysis") == ANALYSIS_VERSION
        and masked(previous) == settings.mask_personal_data
        and not rebuild
        and unchanged
    ):
        report.documents = len(docs)
        report.chunks = previous.get("counts", {}).get("chunks", 0)
        report.reused = report.chunks
        found_before: dict[str, Any] = dict(previous["personal_data"])
        report.personal_data = {k: v for k, v in found_before.items() if k != "masked"}
        report.path = str(store.current())
        report.seconds = time.perf_counter() - started
        return report  # nothing to do: the current index is up to date

    logger.info("structuring and chunking %d documents", len(docs))
    parsed = []
    chunks: list[Chunk] = []
    found: dict[str, Counter[str]] = {}
    for doc in sorted(docs.values(), key=lambda d: d.id):
        doc, found[doc.id] = _mask(doc, settings)
        if doc.id in report.kept:  # masked when it was indexed: count what was found then
            found[doc.id] += Counter(indexed[doc.id].get("personal_data", {}))
        structure = parse_structure(doc.text)
        parsed.append((doc, structure))
        chunks.extend(chunk_configured(doc, structure, settings, embedder.count_tokens))
    texts = [embed_text(c, settings) for c in chunks]
    hashes = [_sha(t) for t in texts]
    reuse = {} if rebuild or not previous else store.vectors_by_hash()
    vectors = np.zeros((len(chunks), embedder.dim), dtype=np.float32)
    todo = [i for i, h in enumerate(hashes) if h not in reuse]
    for i, h in enumerate(hashes):
        if h in reuse:
            vectors[i] = reuse[h]
    del reuse
    logger.info("embedding %d of %d chunks (%d reused)", len(todo), len(chunks), len(chunks) - len(todo))
    if todo:
        vectors[todo] = embedder.embed_passages(
            [texts[i] for i in todo],
            batch_size=settings.embed_batch_size,
            progress=(lambda n: progress(n, len(todo))) if progress else None,
        )
    report.embedded, report.reused = len(todo), len(chunks) - len(todo)
    report.documents, report.chunks = len(parsed), len(chunks)
    total: Counter[str] = sum(found.values(), Counter())
    report.personal_data = {kind: total[kind] for kind in PERSONAL_DATA}

    per_doc = Counter(c.doc for c in chunks)
    # what was masked in the indexed text, per kind; personnummer includes samordningsnummer
    personal_data = PersonalData(
        masked=settings.mask_personal_data,
        personnummer=total["personnummer"],
        email=total["email"],
        phone=total["phone"],
    )
    manifest = Manifest(
        schema_version=SCHEMA_VERSION,
        analysis=ANALYSIS_VERSION,
        model=dict(embedder.identity),
        dim=embedder.dim,
        chunking=settings_key(settings),
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        documents={
            d.id: DocumentEntry(
                sha256=d.sha256,
                path=d.path,
                internal=d.internal,
                chunks=per_doc[d.id],
                personal_data=dict(found[d.id]),
            )
            for d, _ in parsed
        },
        counts={"documents": len(parsed), "chunks": len(chunks)},
        personal_data=personal_data,
        dense_index=choose_kind(len(chunks), settings.dense_index, settings.dense_flat_max),
    )
    documents = [_stored(d, s) for d, s in parsed]
    report.path = store.write(manifest, documents, chunks, vectors, hashes, settings)
    report.seconds = time.perf_counter() - started
    logger.info(
        "indexed %d documents, %d chunks (%d embedded) in %.1f s",
        report.documents,
        report.chunks,
        report.embedded,
        report.seconds,
    )
    return report


def _stored(doc: Document, structure: Structure) -> StoredDocument:
    """A document as the index keeps it: its metadata and a summary of its structure."""
    summary = {
        "items": [asdict(item) for item in structure.items],
        "furniture": [list(span) for span in structure.furniture],
        "decided_by": structure.decided_by,  # "Beslutad av kommunstyrelsen 2024-11-12, § 203"
        # municipalities and regions the text names at all, and those it names as organisations
        "places": list(named_places(doc.text)),
        "organisations": list(named_places(doc.text, as_organisation=True)),
    }
    return StoredDocument(
        doc.id,
        doc.path,
        doc.sha256,
        doc.format,
        doc.internal,
        doc.text,
        structure.doc_type,
        structure.title,
        structure.organisation,
        structure.body,
        structure.date,
        summary,
    )


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _skip(report: BuildReport, on_file: Callable[[str], None] | None, path: str, message: str) -> None:
    report.failed.append((path, message))
    if on_file:
        on_file(f"skipped {message}")


def _read_all(
    paths: Iterable[Path], settings: Settings, report: BuildReport, on_file: Callable[[str], None] | None
) -> list[Document]:
    docs: dict[str, Document] = {}

    def unlisted(folder: Path, message: str) -> None:
        _skip(report, on_file, str(folder), message)

    for file, root in discover(paths, on_error=unlisted):
        try:
            doc = read_document(file, root=root, max_bytes=settings.max_file_bytes)
        except ParseError as exc:
            _skip(report, on_file, str(file), str(exc))
            continue
        if doc.id in docs and docs[doc.id].path != doc.path:
            message = (
                f"{file.name}: another file of the same name is already indexed ({docs[doc.id].path}). "
                "Rename one of them."
            )
            _skip(report, on_file, str(file), message)
            continue
        docs[doc.id] = doc
    return list(docs.values())


def _mask(doc: Document, settings: Settings) -> tuple[Document, Counter[str]]:
    """The document as indexed: personal data masked, keeping the text's length (offsets hold)."""
    if not settings.mask_personal_data:
        return doc, Counter()
    text, counts = mask_pii(doc.text, keep_length=True)
    return (replace_field(doc, text=text) if counts else doc), counts
