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
    .lock                           held (flock) by the one build that may run at a time

A build writes a new version directory (``.v-<build time>.tmp`` until it is complete) and only then
repoints ``current``, so a crash at any moment leaves the previous index serving; the next build
removes what a crashed one left behind. Vectors of chunks whose embedding text is unchanged are
copied from the previous version, so re-indexing unchanged files embeds nothing.

Old versions are collected by the next build: the current one and the one before it stay, and so
does any version a loaded ``Index`` still uses (each holds a shared flock on its version directory
until it is closed or garbage-collected), so a running server never loses the files it has open.

Personal data (personnummer, samordningsnummer, e-mail addresses, phone numbers) is masked in the
text of every document as it is indexed, unless ``mask_personal_data`` is off. Masking keeps the
length of the text, so every character offset stays valid.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import sqlite3
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from dataclasses import replace as replace_field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.chunk import chunk_configured
from rag.config import Settings
from rag.dense import DenseIndex, choose_kind
from rag.errors import IndexMismatch, IndexMissing, ParseError, RagError
from rag.lexical import LexicalIndex
from rag.normalise import repair
from rag.parse import discover, read_document
from rag.pii import mask_pii
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
# 3: text cleaned of invisible and control characters, line endings made "\n"; personal data masked.
# 4: adjacent short sections of an item share a chunk (merge_sections).
# 5: merged chunks labelled by the decision's section; no context line on chunks under header_min_chars.
# 6: structure read on any layout (rag.structure, rag.decision): items, Dnr, outcomes, decisive spans,
#    proposal_to, a guideline's decided_by in the stored summary.
ANALYSIS_VERSION = 6
CURRENT = "current"
LOCK = ".lock"
# What the build and the collector of old versions put in INDEX_DIR besides versions and ``current``.
_TMP_PREFIX, _TRASH_PREFIX, _LINK_TMP = ".v-", ".trash-", f".{CURRENT}.tmp"
# The kinds of personal data counted in the manifest and the build report.
PERSONAL_DATA = ("personnummer", "email", "phone")
# How many times loading retries when the version it resolved is collected before it is locked.
_LOAD_TRIES = 5


@cache
def _defaults() -> Settings:
    """The settings' defaults, environment not read: the text of callers that pass no settings."""
    return Settings.model_construct()


def embed_text(chunk: Chunk, settings: Settings | None = None) -> str:
    """What the model embeds for a chunk: its context line and its OCR-repaired text (either can be
    switched off: ``header_in_dense``, ``repair_dense``; a chunk under ``header_min_chars`` has no
    context line: a page-end fragment of a few words would match on its item's title alone)."""
    s = settings or _defaults()
    text = repair(chunk.text) if s.repair_dense else chunk.text
    if not s.header_in_dense or len(chunk.text) < s.header_min_chars:
        return text
    return f"{chunk.header()}\n\n{text}"


def lexical_text(chunk: Chunk, settings: Settings | None = None) -> str:
    """What keyword search matches for a chunk: its context line and its text (the line can be
    switched off: ``header_in_lexical``; a chunk under ``header_min_chars`` has none)."""
    s = settings or _defaults()
    if not s.header_in_lexical or len(chunk.text) < s.header_min_chars:
        return chunk.text
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
    # documents whose file failed this time but that were indexed before: their indexed text stays
    kept: list[str] = field(default_factory=list)
    # personal data masked in the indexed text, per kind (personnummer includes samordningsnummer)
    masked: bool = True
    personal_data: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    path: str = ""


class Lease:
    """A shared flock on a version directory: no build collects the version while it is held.

    Released by ``close`` or when the last ``Index`` holding it is garbage-collected; views of an
    index made with ``dataclasses.replace`` share it, so its descriptor is closed exactly once.
    """

    def __init__(self, fd: int) -> None:
        self._release = weakref.finalize(self, os.close, fd)

    def close(self) -> None:
        self._release()


@dataclass
class Index:
    """A loaded index: chunks, documents, the two retrievers and the manifest.

    It holds a ``Lease`` on its version directory so that no build collects it while it is in
    use; ``close`` (or garbage collection of the ``Index`` and its views) releases it.
    """

    path: Path
    manifest: dict[str, Any]
    chunks: list[Chunk]
    documents: dict[str, StoredDocument]
    dense: DenseIndex
    lexical: LexicalIndex
    lease: Lease | None = field(default=None, repr=False, compare=False)

    def close(self) -> None:
        """Release the version directory for collection (the loaded data stay usable)."""
        if self.lease is not None:
            self.lease.close()


# Settings that change what an index holds, recorded in the manifest only when not the default
# (so indexes built before they existed stay valid).
_TEXT_SWITCHES = (
    "structure_chunking",
    "merge_sections",
    "drop_furniture",
    "header_in_dense",
    "header_in_lexical",
    "header_min_chars",
    "repair_dense",
)


def _settings_key(settings: Settings) -> dict[str, int]:
    key = {
        "chunk_size": settings.chunk_size,
        "chunk_overlap": settings.chunk_overlap,
        "max_chunk_tokens": settings.max_chunk_tokens,
    }
    defaults = Settings.model_fields
    for name in _TEXT_SWITCHES:
        if getattr(settings, name) != defaults[name].default:
            key[name] = int(getattr(settings, name))
    return key


def _masked(manifest: dict[str, Any]) -> bool | None:
    """Whether the index's text has personal data masked (None for an index from before masking)."""
    return manifest.get("personal_data", {}).get("masked")


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
    """Refuse to search an index built with other settings, saying how to rebuild or update it."""
    _check_buildable(manifest, embedder, settings, index_dir)
    if _masked(manifest) != settings.mask_personal_data:
        state = "masked" if _masked(manifest) else "not masked"
        raise IndexMismatch(
            f"The index at {index_dir} has personal data {state}, but RAG_MASK_PERSONAL_DATA is "
            f"{str(settings.mask_personal_data).lower()}. Update it: rag index PATH ... --index {index_dir}"
        )


def _check_buildable(manifest: dict[str, Any], embedder: Embedder, settings: Settings, index_dir: Path) -> None:
    """Refuse to add to an index built with another schema, model or chunking settings, saying how to rebuild.

    (Another masking setting needs no rebuild: every build reads all documents again.)
    """
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
        "decided_by": structure.decided_by,  # "Beslutad av kommunstyrelsen 2024-11-12, § 203"
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


def _connect_ro(path: Path) -> sqlite3.Connection:
    # as a URI, so a folder name with '?', '#' or '%' in it is not read as URI syntax
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def _read_sqlite(path: Path) -> tuple[dict[str, StoredDocument], list[Chunk]]:
    """Documents and chunks as stored. Columns are named and rows unpacked (no ``sqlite3.Row``),
    and each metadata value is kept once for all the chunks that repeat it (an organisation, a
    title): at 118k chunks 1.3 s and 200 MB instead of 1.8 s and 290 MB."""
    con = _connect_ro(path)
    docs = {}
    for row in con.execute(
        "SELECT id, path, sha256, format, internal, text, doc_type, title, organisation, body, date, structure "
        "FROM documents"
    ):
        doc_id, path_, sha256, format_, internal, text, doc_type, title, organisation, body, date, structure = row
        docs[doc_id] = StoredDocument(
            doc_id,
            path_,
            sha256,
            format_,
            bool(internal),
            text,
            doc_type,
            title,
            organisation,
            body,
            date,
            json.loads(structure),
        )
    values: dict[str, str] = {}

    def once(value: str | None) -> str | None:
        return None if value is None else values.setdefault(value, value)

    chunks = []
    for (
        doc_id,
        start,
        end,
        section,
        paragraph,
        dnr,
        date,
        organisation,
        body,
        doc_type,
        outcome,
        title,
        internal,
    ) in con.execute(
        'SELECT doc, start, "end", section, paragraph, dnr, date, organisation, body, doc_type, outcome, title, '
        "internal FROM chunks ORDER BY id"
    ):
        doc = docs[doc_id]
        chunks.append(
            Chunk(
                doc.id,
                start,
                end,
                doc.text[start:end],
                once(section),
                once(paragraph),
                once(dnr),
                once(date),
                once(organisation),
                once(body),
                once(doc_type),
                once(outcome),
                once(title),
                bool(internal),
            )
        )
    con.close()
    return docs, chunks


def _lease(version: Path) -> Lease | None:
    """Share-lock a version directory so no build collects it; None when it was collected meanwhile."""
    try:
        fd = os.open(version, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
    except OSError:  # a file system without flock: load without the protection
        logger.warning("cannot lock %s; a build may delete it while it is loaded", version)
    # a build renames a version away while it holds the exclusive lock, so after it the name is gone
    if not (version / "manifest.json").exists():
        os.close(fd)
        return None
    return Lease(fd)


def _read_through(paths: list[Path]) -> int:
    """Read the files a megabyte at a time and drop the bytes; returns how many were read."""
    buffer, total = bytearray(1 << 20), 0
    for path in paths:
        try:
            with path.open("rb", buffering=0) as fh:
                while n := fh.readinto(buffer):
                    total += n
        except OSError:
            continue  # a version collected meanwhile: nothing to warm
    return total


def _prefetch(paths: list[Path]) -> None:
    """Read memory-mapped files once in a background thread, so they are in the page cache.

    Without it, a server started on a cold cache reads the HNSW graph and vectors from disk a page
    at a time as queries touch them: at 118k chunks the first 116 queries spent 2.5 s in HNSW
    instead of 0.25 s. (``posix_fadvise(WILLNEED)`` read only 8 MB of the 214 MB file here.)
    The pages are the kernel's cache, shared and evictable, not this process's heap."""
    threading.Thread(target=_read_through, args=(paths,), name="rag-prefetch", daemon=True).start()


def load_index(index_dir: Path, *, mmap: bool = True) -> Index:
    """Load the current version of the index at ``index_dir``."""
    for _ in range(_LOAD_TRIES):
        version = current_path(index_dir)
        if version is None or not (version / "manifest.json").exists():
            break
        lease = _lease(version)
        if lease is None:
            continue  # collected between resolving 'current' and locking it: 'current' has moved on
        try:
            manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
            check_current(manifest, index_dir)
            docs, chunks = _read_sqlite(version / "chunks.sqlite")
            dense = DenseIndex.load(version / "dense.faiss", mmap=mmap)
            lexical = LexicalIndex.load(version / "bm25", len(chunks), mmap=mmap)
            if mmap:
                _prefetch([version / "dense.faiss", *sorted((version / "bm25").glob("*.npy"))])
        except BaseException:
            lease.close()
            raise
        index = Index(version, manifest, chunks, docs, dense, lexical, lease)
        if len(dense) != len(chunks):
            index.close()
            raise IndexMismatch(f"The index at {index_dir} is inconsistent. Rebuild it with 'rag index ... --rebuild'.")
        logger.info("loaded index %s: %d documents, %d chunks", version.name, len(docs), len(chunks))
        return index
    raise IndexMissing(f"No index at {index_dir}. Run 'rag index corpus --index {index_dir}' first.")


def _previous_vectors(version: Path | None) -> dict[str, np.ndarray]:
    """Embedding-text hash -> vector of a version, for reuse."""
    if version is None or not (version / "vectors.npy").exists():
        return {}
    hashes = json.loads((version / "embed_hashes.json").read_text(encoding="utf-8"))
    vectors = np.load(version / "vectors.npy", mmap_mode="r", allow_pickle=False)
    return {h: np.asarray(vectors[i]) for i, h in enumerate(hashes)}


def _stored_documents(version: Path | None, ids: set[str]) -> dict[str, Document]:
    """The documents ``ids`` as a version holds them (text as indexed then)."""
    if version is None or not ids:
        return {}
    con = _connect_ro(version / "chunks.sqlite")
    rows = con.execute("SELECT id, path, text, sha256, format, internal FROM documents").fetchall()
    con.close()
    return {
        row[0]: Document(id=row[0], path=row[1], text=row[2], sha256=row[3], format=row[4], internal=bool(row[5]))
        for row in rows
        if row[0] in ids
    }


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


@contextmanager
def _build_lock(index_dir: Path) -> Iterator[None]:
    """One build at a time per index directory (the kernel releases the lock of a killed build)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.warning("another build of %s is running; waiting for it to finish", index_dir)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


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
    embedding text is new are embedded. A document indexed before whose file cannot be read now
    keeps its indexed text. ``rebuild`` ignores an incompatible previous index; ``remove`` names
    documents to drop even though their files are still there.
    """
    with _build_lock(index_dir):
        _collect_garbage(index_dir)
        return _build(paths, index_dir, embedder, settings, rebuild, replace, remove, progress, on_file)


def _build(
    paths: Sequence[Path],
    index_dir: Path,
    embedder: Embedder,
    settings: Settings,
    rebuild: bool,
    replace: bool,
    remove: Sequence[str],
    progress: Callable[[int, int], None] | None,
    on_file: Callable[[str], None] | None,
) -> BuildReport:
    started = time.perf_counter()
    report = BuildReport(masked=settings.mask_personal_data)
    previous = read_manifest(index_dir)
    previous_version = current_path(index_dir) if previous else None
    if previous and not rebuild:
        _check_buildable(previous, embedder, settings, index_dir)

    logger.info("reading documents from %s", ", ".join(str(p) for p in paths) or "the index")
    drop = set(remove)
    docs = {d.id: d for d in _read_all(paths, settings, report, on_file) if d.id not in drop}
    failed_paths = {os.path.realpath(path) for path, _ in report.failed}  # (Path.resolve raises on a loop)
    indexed: dict[str, dict[str, Any]] = (previous or {}).get("documents", {})
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
    stored = _stored_documents(previous_version, keep)
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
        and _masked(previous) == settings.mask_personal_data
        and not rebuild
        and unchanged
    ):
        report.documents = len(docs)
        report.chunks = previous.get("counts", {}).get("chunks", 0)
        report.reused = report.chunks
        report.personal_data = {k: v for k, v in previous["personal_data"].items() if k != "masked"}
        report.path = str(previous_version)
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
    reuse = {} if rebuild else _previous_vectors(previous_version)
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
                "personal_data": dict(found[d.id]),
            }
            for d, _ in parsed
        },
        "counts": {"documents": len(parsed), "chunks": len(chunks)},
        # what was masked in the indexed text, per kind; personnummer includes samordningsnummer
        "personal_data": {"masked": settings.mask_personal_data, **report.personal_data},
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
    name = "v-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    logger.info("writing index version %s", name)
    tmp = index_dir / f"{_TMP_PREFIX}{name[2:]}.tmp"
    tmp.mkdir()
    _write_sqlite(tmp / "chunks.sqlite", parsed, chunks)
    np.save(tmp / "vectors.npy", vectors, allow_pickle=False)
    (tmp / "embed_hashes.json").write_text(json.dumps(list(hashes)), encoding="utf-8")
    kind = choose_kind(len(vectors), settings.dense_index, settings.dense_flat_max)
    DenseIndex.build(vectors, kind).save(tmp / "dense.faiss")
    LexicalIndex.build([lexical_text(c, settings) for c in chunks]).save(tmp / "bm25")
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    # durable before it becomes visible: the files, then the folders that name them
    for entry in sorted(tmp.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if entry.is_file():
            with open(entry, "rb") as fh:
                os.fsync(fh.fileno())
        elif entry.is_dir():
            _fsync_dir(entry)
    _fsync_dir(tmp)
    final = index_dir / name
    tmp.rename(final)
    _fsync_dir(index_dir)
    link_tmp = index_dir / _LINK_TMP
    if link_tmp.is_symlink() or link_tmp.exists():
        link_tmp.unlink()
    link_tmp.symlink_to(name)
    os.replace(link_tmp, index_dir / CURRENT)
    _fsync_dir(index_dir)
    logger.info("index version %s is current", name)
    _collect_garbage(index_dir)
    return final


def _collect_garbage(index_dir: Path) -> list[str]:
    """Remove old versions and what crashed builds left behind; return the names removed.

    The current version stays, and so does the one before it (a reader may have resolved
    ``current`` just before it moved; it is also there to go back to). Any other version that a
    loaded ``Index`` still holds stays until it is released. Call it only while holding the build
    lock: a temporary folder is then never one a running build is writing.
    """
    if not index_dir.is_dir():
        return []
    current = current_path(index_dir)
    versions = sorted(p.name for p in index_dir.iterdir() if p.name.startswith("v-") and not p.is_symlink())
    keep = set()
    if current is not None and current.parent == index_dir.resolve():
        keep.add(current.name)
        older = [v for v in versions if v < current.name]
        keep.update(older[-1:])
    removed = []
    for entry in sorted(index_dir.iterdir()):
        if entry.name == _LINK_TMP:
            entry.unlink(missing_ok=True)
            removed.append(entry.name)
        elif entry.name.startswith((_TMP_PREFIX, _TRASH_PREFIX)):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
        elif entry.name.startswith("v-") and entry.name not in keep and _remove_unused(entry):
            removed.append(entry.name)
    if removed:
        logger.info("removed from %s: %s", index_dir, ", ".join(removed))
    return removed


def _remove_unused(version: Path) -> bool:
    """Delete a version directory unless a loaded ``Index`` holds it; True if it was deleted."""
    if version.is_symlink() or not version.is_dir():
        version.unlink(missing_ok=True)
        return True
    fd = os.open(version, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.info("kept %s: it is in use", version.name)
            return False
        except OSError:  # a file system without flock (NFS allows no exclusive lock on a folder)
            logger.info("cannot tell whether %s is in use; removing it", version.name)
        trash = version.with_name(_TRASH_PREFIX + version.name)
        version.rename(trash)  # a reader that locks it after this sees the name gone and retries
        shutil.rmtree(trash, ignore_errors=True)
        return True
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
