"""A loaded version of the embedded index: documents and chunks from SQLite in memory, FAISS and
bm25s memory-mapped; the ``ReadStore`` of ``rag.store.base``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.errors import IndexMismatch, IndexMissing
from rag.store.base import ReadStore
from rag.store.catalogue import Catalogue
from rag.store.embedded.dense import DenseIndex
from rag.store.embedded.lexical import LexicalIndex
from rag.store.embedded.sqlite import read_sqlite
from rag.store.embedded.versions import Lease, current_path, lease, manifest_of
from rag.store.embedded.view import public_view
from rag.store.filters import best
from rag.store.manifest import check_current
from rag.types import Chunk, Filters, Manifest, StoredDocument

logger = logging.getLogger(__name__)

# How many times loading retries when the version it resolved is collected before it is locked.
_LOAD_TRIES = 5


class EmbeddedIndex(Catalogue):
    """Chunks, documents, the two retrievers and the manifest of one version.

    It holds a ``Lease`` on its version folder so that no build collects it while it is in use;
    ``close`` (or garbage collection of the index and its views) releases it. Built in memory
    (no folder, no lease) by ``rag.ablation`` for variants of an index.
    """

    def __init__(
        self,
        path: Path,
        manifest: Manifest,
        chunks: list[Chunk],
        documents: dict[str, StoredDocument],
        dense: DenseIndex,
        lexical: LexicalIndex,
        lease: Lease | None = None,
    ) -> None:
        super().__init__(manifest, chunks, documents)
        self.path = path
        self.dense_index = dense
        self.lexical_index = lexical
        self.lease = lease

    @property
    def version(self) -> str:
        return self.path.name

    @property
    def dense_kind(self) -> str:
        return self.dense_index.kind

    def lexical(self, keys: Sequence[str], n: int, filters: Filters | None = None) -> list[tuple[int, float]]:
        return best(self.lexical_index.scores(keys), n, self._columns.allowed(filters))

    def dense(self, vector: np.ndarray, n: int, filters: Filters | None = None) -> list[tuple[int, float]]:
        ids, scores = self.dense_index.search(vector, n, self._columns.allowed(filters))
        return [(int(i), float(s)) for i, s in zip(ids, scores, strict=True)]

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        if not len(ids):
            return np.empty((0, self.dense_index.dim), dtype=np.float32)
        return np.stack([self.dense_index.vector(i) for i in ids])

    def document_frequency(self, key: str) -> int:
        return self.lexical_index.document_frequency(key)

    def idf(self, key: str) -> float:
        return self.lexical_index.idf(key)

    def public(self) -> ReadStore:
        return public_view(self)

    def close(self) -> None:
        """Release the version folder for collection (the loaded data stay usable)."""
        if self.lease is not None:
            self.lease.close()


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


def load_index(index_dir: Path, *, mmap: bool = True) -> EmbeddedIndex:
    """Load the current version of the index at ``index_dir``."""
    for _ in range(_LOAD_TRIES):
        version = current_path(index_dir)
        if version is None or not (version / "manifest.json").exists():
            break
        held = lease(version)
        if held is None:
            continue  # collected between resolving 'current' and locking it: 'current' has moved on
        try:
            manifest = manifest_of(version)
            check_current(manifest, index_dir)
            docs, chunks = read_sqlite(version / "chunks.sqlite")
            dense = DenseIndex.load(version / "dense.faiss", mmap=mmap)
            lexical = LexicalIndex.load(version / "bm25", len(chunks), mmap=mmap)
            if mmap:
                _prefetch([version / "dense.faiss", *sorted((version / "bm25").glob("*.npy"))])
            index = EmbeddedIndex(version, manifest, chunks, docs, dense, lexical, held)
        except BaseException:
            held.close()
            raise
        if len(dense) != len(chunks):
            index.close()
            raise IndexMismatch(f"The index at {index_dir} is inconsistent. Rebuild it with 'rag index ... --rebuild'.")
        logger.info("loaded index %s: %d documents, %d chunks", version.name, len(docs), len(chunks))
        return index
    raise IndexMissing(f"No index at {index_dir}. Run 'rag index corpus --index {index_dir}' first.")
