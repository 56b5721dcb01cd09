"""The index on disk: the only module that reads and writes the index directory.

Layout of ``INDEX_DIR``::

    current -> v-<build time>/      symlink, swapped atomically when a build is complete
    v-<build time>/
        manifest.json               schema, model identity and dimension, chunking settings,
                                    build time, per-document content hashes
        chunks.sqlite               documents (full text, metadata) and chunks (spans, metadata)
        vectors.npy                 float32 (n_chunks, dim), L2-normalised; row == chunk id
        dense.faiss                 FAISS inner-product index over vectors.npy; id == chunk id
        bm25/                       bm25s arrays (numpy, no pickle); document id == chunk id

A build writes a new version directory and only then repoints ``current``, so a crash at any
moment leaves the previous index serving. Vectors of chunks whose embedding text is unchanged
are copied from the previous version, so re-indexing unchanged files embeds nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from dataclasses import replace as replace_field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.chunk import chunk_document
from rag.config import Settings
from rag.dense import DenseIndex, choose_kind
from rag.errors import IndexMismatch, IndexMissing, ParseError, RagError
from rag.lexical import LexicalIndex
from rag.normalise import repair
from rag.parse import discover, read_document
from rag.query import named_places
from rag.structure import parse_structure
from rag.types import Chunk, Document, Structure

if TYPE_CHECKING:
    from rag.embed import Embedder

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
# Bump when parsing, structure, chunking or text analysis change what an index holds: an index of
# another version is brought up to date by the next 'rag index' (everything is re-analysed; only
# chunks whose embedding text changed are embedded again) and refused for searching until then.
ANALYSIS_VERSION = 2
CURRENT = "current"


def embed_text(chunk: Chunk) -> str:
    """What the model embeds for a chunk: its context line and its OCR-repaired text."""
    return f"{chunk.header()}\n\n{repair(chunk.text)}"


def lexical_text(chunk: Chunk) -> str:
    """What keyword search matches for a chunk: its context line and its text."""
    return f"{chunk.header()}\n{chunk.text}"


@dataclass(frozen=True)
class StoredDocument:
    """A document as the index keeps it: text, metadata and structure summary."""

    id: str
    path: str
    sha256: str
    format: str
    internal: bool
    text: str
    doc_type: str
    title: str | None
    organisation: str | None
    body: str | None
    date: str | None
    structure: dict[str, Any] = field(default_factory=dict)


@dataclass
class BuildReport:
    """What a build did: counts for the summary line, and one message per failed file."""

    documents: int = 0
    chunks: int = 0
    embedded: int = 0
    reused: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    path: str = ""


@dataclass
class Index:
    """A loaded index: chunks, documents, the two retrievers and the manifest."""

    path: Path
    manifest: dict[str, Any]
    chunks: list[Chunk]
    documents: dict[str, StoredDocument]
    dense: DenseIndex
    lexical: LexicalIndex


def _settings_key(settings: Settings) -> dict[str, int]:
    return {
        "chunk_size": settings.chunk_size,
        "chunk_overlap": settings.chunk_overlap,
        "max_chunk_tokens": settings.max_chunk_tokens,
    }


def current_path(index_dir: Path) -> Path | None:
    """The version directory ``index_dir/current`` points at, or None when there is no index."""
    link = index_dir / CURRENT
    if not link.exists():
        return None
    return link.resolve()


def read_manifest(index_dir: Path) -> dict[str, Any] | None:
    version = current_path(index_dir)
    if version is None or not (version / "manifest.json").exists():
        return None
    return json.loads((version / "manifest.json").read_text(encoding="utf-8"))


def check_compatible(manifest: dict[str, Any], embedder: Embedder, settings: Settings, index_dir: Path) -> None:
    """Refuse an index built with another schema, model or chunking settings, saying how to rebuild."""
    rebuild = f"Rebuild it: rag index PATH ... --index {index_dir} --rebuild"
    if manifest.get("schema_version") != SCHEMA_VERSION:
        raise IndexMismatch(
            f"The index at {index_dir} has schema version {manifest.get('schema_version')}, "
            f"this program reads version {SCHEMA_VERSION}. {rebuild}"
        )
    built, running = manifest.get("model", {}), dict(embedder.identity)
    if (
        built.get("name") != running.get("name")
        or built.get("dim") != running.get("dim")
        or (built.get("sha256") != running.get("sha256"))
    ):
        raise IndexMismatch(
            f"The index at {index_dir} was built with model {built.get('name')} (dim {built.get('dim')}), "
            f"but the configured model is {running.get('name')} (dim {running.get('dim')}). {rebuild}"
        )
    if manifest.get("chunking") != _settings_key(settings):
        raise IndexMismatch(
            f"The index at {index_dir} was built with chunking {manifest.get('chunking')}, "
            f"but the settings say {_settings_key(settings)}. {rebuild}"
        )


def check_current(manifest: dict[str, Any], index_dir: Path) -> None:
    """Refuse to search an index whose text analysis is older than this program's."""
    if manifest.get("analysis") != ANALYSIS_VERSION:
        raise IndexMismatch(
            f"The index at {index_dir} was analysed by an older version of this program "
            f"(analysis {manifest.get('analysis')}, now {ANALYSIS_VERSION}). "
            f"Update it: rag index PATH ... --index {index_dir}"
        )


def _structure_summary(doc: Document, structure: Structure) -> dict[str, Any]:
    return {
        "items": [asdict(item) for item in structure.items],
        "furniture": [list(span) for span in structure.furniture],
        # municipalities and regions the text names at all, and those it names as organisations
        "places": list(named_places(doc.text)),
        "organisations": list(named_places(doc.text, as_organisation=True)),
    }


def _write_sqlite(path: Path, docs: Sequence[tuple[Document, Structure]], chunks: Sequence[Chunk]) -> None:
    con = sqlite3.connect(path)
    with con:
        con.executescript(
            """
            CREATE TABLE documents (
                id TEXT PRIMARY KEY, path TEXT, sha256 TEXT, format TEXT, internal INTEGER, text TEXT,
                doc_type TEXT, title TEXT, organisation TEXT, body TEXT, date TEXT, structure TEXT);
            CREATE TABLE chunks (
                id INTEGER PRIMARY KEY, doc TEXT REFERENCES documents(id), start INTEGER, "end" INTEGER,
                section TEXT, paragraph TEXT, dnr TEXT, date TEXT, organisation TEXT, body TEXT,
                doc_type TEXT, outcome TEXT, title TEXT, internal INTEGER);
            CREATE INDEX chunks_doc ON chunks(doc);
            """
        )
        con.executemany(
            "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    d.id,
                    d.path,
                    d.sha256,
                    d.format,
                    int(d.internal),
                    d.text,
                    s.doc_type,
                    s.title,
                    s.organisation,
                    s.body,
                    s.date,
                    json.dumps(_structure_summary(d, s), ensure_ascii=False),
                )
                for d, s in docs
            ],
        )
        con.executemany(
            "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    i,
                    c.doc,
                    c.start,
                    c.end,
                    c.section,
                    c.paragraph,
                    c.dnr,
                    c.date,
                    c.organisation,
                    c.body,
                    c.doc_type,
                    c.outcome,
                    c.title,
                    int(c.internal),
                )
                for i, c in enumerate(chunks)
            ],
        )
    con.close()


def _read_sqlite(path: Path) -> tuple[dict[str, StoredDocument], list[Chunk]]:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    docs = {}
    for row in con.execute("SELECT * FROM documents"):
        fields = dict(row)
        fields["internal"] = bool(fields["internal"])
        fields["structure"] = json.loads(fields["structure"])
        docs[fields["id"]] = StoredDocument(**fields)
    chunks = []
    for row in con.execute("SELECT * FROM chunks ORDER BY id"):
        fields = dict(row)
        del fields["id"]
        fields["internal"] = bool(fields["internal"])
        fields["text"] = docs[fields["doc"]].text[fields["start"] : fields["end"]]
        chunks.append(Chunk(**fields))
    con.close()
    return docs, chunks


def load_index(index_dir: Path, *, mmap: bool = True) -> Index:
    """Load the current version of the index at ``index_dir``."""
    version = current_path(index_dir)
    if version is None or not (version / "manifest.json").exists():
        raise IndexMissing(f"No index at {index_dir}. Run 'rag index corpus --index {index_dir}' first.")
    manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
    check_current(manifest, index_dir)
    docs, chunks = _read_sqlite(version / "chunks.sqlite")
    dense = DenseIndex.load(version / "dense.faiss", mmap=mmap)
    lexical = LexicalIndex.load(version / "bm25", len(chunks), mmap=mmap)
    if len(dense) != len(chunks):
        raise IndexMismatch(f"The index at {index_dir} is inconsistent. Rebuild it with 'rag index ... --rebuild'.")
    logger.info("loaded index %s: %d documents, %d chunks", version.name, len(docs), len(chunks))
    return Index(version, manifest, chunks, docs, dense, lexical)


def _previous_vectors(index_dir: Path) -> dict[str, np.ndarray]:
    """Embedding-text hash -> vector of the current index, for reuse."""
    version = current_path(index_dir)
    if version is None or not (version / "vectors.npy").exists():
        return {}
    hashes = json.loads((version / "embed_hashes.json").read_text(encoding="utf-8"))
    vectors = np.load(version / "vectors.npy", mmap_mode="r", allow_pickle=False)
    return {h: np.asarray(vectors[i]) for i, h in enumerate(hashes)}


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read_all(
    paths: Iterable[Path], settings: Settings, report: BuildReport, on_file: Callable[[str], None] | None
) -> list[Document]:
    docs: dict[str, Document] = {}
    for file, root in discover(paths):
        try:
            doc = read_document(file, root=root, max_bytes=settings.max_file_bytes)
        except ParseError as exc:
            report.failed.append((str(file), str(exc)))
            if on_file:
                on_file(f"skipped {exc}")
            continue
        if doc.id in docs and docs[doc.id].path != doc.path:
            message = (
                f"{file.name}: another file of the same name is already indexed ({docs[doc.id].path}). "
                "Rename one of them."
            )
            report.failed.append((str(file), message))
            if on_file:
                on_file(f"skipped {message}")
            continue
        docs[doc.id] = doc
    return list(docs.values())


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
    """Index the files under ``paths`` into ``index_dir``, incrementally.

    Documents already in the index stay unless their file is gone (or ``replace`` is set, which
    keeps only what ``paths`` holds); new and changed files are (re)chunked, and only chunks whose
    embedding text is new are embedded. ``rebuild`` ignores an incompatible previous index;
    ``remove`` names documents to drop even though their files are still there.
    """
    started = time.perf_counter()
    report = BuildReport()
    previous = read_manifest(index_dir)
    if previous and not rebuild:
        check_compatible(previous, embedder, settings, index_dir)

    drop = set(remove)
    docs = {d.id: d for d in _read_all(paths, settings, report, on_file) if d.id not in drop}
    indexed: dict[str, dict[str, Any]] = (previous or {}).get("documents", {})
    if not replace:
        # documents indexed before stay, read again from their files; a file that is gone is dropped
        for doc_id, entry in indexed.items():
            if doc_id in docs:
                continue
            if doc_id in drop:
                report.removed.append(doc_id)
                continue
            if Path(entry["path"]).exists():
                try:
                    doc = read_document(Path(entry["path"]), max_bytes=settings.max_file_bytes)
                    docs[doc_id] = replace_field(doc, internal=entry["internal"])
                    continue
                except ParseError as exc:
                    report.failed.append((entry["path"], str(exc)))
            report.removed.append(doc_id)
    old_hashes = {doc_id: entry["sha256"] for doc_id, entry in indexed.items()}
    if replace:
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
    if previous and previous.get("analysis") == ANALYSIS_VERSION and not rebuild and unchanged:
        report.documents = len(docs)
        report.chunks = previous.get("counts", {}).get("chunks", 0)
        report.reused = report.chunks
        report.path = str(current_path(index_dir))
        report.seconds = time.perf_counter() - started
        return report  # nothing to do: the current index is up to date

    parsed = []
    chunks: list[Chunk] = []
    for doc in sorted(docs.values(), key=lambda d: d.id):
        structure = parse_structure(doc.text)
        parsed.append((doc, structure))
        chunks.extend(
            chunk_document(
                doc,
                structure,
                size=settings.chunk_size,
                overlap=settings.chunk_overlap,
                max_tokens=settings.max_chunk_tokens,
                count_tokens=embedder.count_tokens,
            )
        )
    texts = [embed_text(c) for c in chunks]
    hashes = [_sha(t) for t in texts]
    reuse = {} if rebuild else _previous_vectors(index_dir)
    vectors = np.zeros((len(chunks), embedder.dim), dtype=np.float32)
    todo = [i for i, h in enumerate(hashes) if h not in reuse]
    for i, h in enumerate(hashes):
        if h in reuse:
            vectors[i] = reuse[h]
    if todo:
        vectors[todo] = embedder.embed_passages(
            [texts[i] for i in todo],
            batch_size=settings.embed_batch_size,
            progress=(lambda n: progress(n, len(todo))) if progress else None,
        )
    report.embedded, report.reused = len(todo), len(chunks) - len(todo)
    report.documents, report.chunks = len(parsed), len(chunks)

    per_doc = Counter(c.doc for c in chunks)
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "analysis": ANALYSIS_VERSION,
        "model": dict(embedder.identity),
        "dim": embedder.dim,
        "chunking": _settings_key(settings),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "documents": {
            d.id: {
                "sha256": d.sha256,
                "path": d.path,
                "internal": d.internal,
                "chunks": per_doc[d.id],
            }
            for d, _ in parsed
        },
        "counts": {"documents": len(parsed), "chunks": len(chunks)},
        "dense_index": choose_kind(len(chunks), settings.dense_index, settings.dense_flat_max),
    }
    report.path = str(_write_version(index_dir, manifest, parsed, chunks, vectors, hashes, settings))
    report.seconds = time.perf_counter() - started
    logger.info(
        "indexed %d documents, %d chunks (%d embedded) in %.1f s",
        report.documents,
        report.chunks,
        report.embedded,
        report.seconds,
    )
    return report


def _write_version(
    index_dir: Path,
    manifest: dict[str, Any],
    parsed: Sequence[tuple[Document, Structure]],
    chunks: Sequence[Chunk],
    vectors: np.ndarray,
    hashes: Sequence[str],
    settings: Settings,
) -> Path:
    """Write a complete new version beside the current one, then repoint ``current`` atomically."""
    index_dir.mkdir(parents=True, exist_ok=True)
    name = "v-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    tmp = index_dir / f".{name}.tmp"
    tmp.mkdir()
    _write_sqlite(tmp / "chunks.sqlite", parsed, chunks)
    np.save(tmp / "vectors.npy", vectors, allow_pickle=False)
    (tmp / "embed_hashes.json").write_text(json.dumps(list(hashes)), encoding="utf-8")
    kind = choose_kind(len(vectors), settings.dense_index, settings.dense_flat_max)
    DenseIndex.build(vectors, kind).save(tmp / "dense.faiss")
    LexicalIndex.build([lexical_text(c) for c in chunks]).save(tmp / "bm25")
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    for file in tmp.rglob("*"):
        if file.is_file():
            with open(file, "rb") as fh:
                os.fsync(fh.fileno())
    final = index_dir / name
    tmp.rename(final)
    link_tmp = index_dir / f".{CURRENT}.tmp"
    if link_tmp.is_symlink() or link_tmp.exists():
        link_tmp.unlink()
    link_tmp.symlink_to(name)
    os.replace(link_tmp, index_dir / CURRENT)
    _fsync_dir(index_dir)
    for old in index_dir.iterdir():
        if old.name != name and old.name != CURRENT and (old.name.startswith(("v-", ".v-"))):
            shutil.rmtree(old, ignore_errors=True)
    return final


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
