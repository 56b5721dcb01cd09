"""Who sees what. Documents under an ``internal/`` folder are for staff; everyone else sees the
public view of the index: the same index with its internal documents and chunks taken out before
anything is searched, counted or listed.

Taking them out of the index (rather than filtering results) is what keeps them from leaking
sideways: keyword statistics (BM25 term frequencies), the organisations and bodies a question is
parsed against, the values an unknown-filter message lists, facet and stats counts, and the
answer's abstention signals are all computed from the public chunks alone. A request without a
staff token gets the same response it would get from an index built without the internal files.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np

from rag.dense import DenseIndex
from rag.index import Index, lexical_text
from rag.lexical import LexicalIndex

logger = logging.getLogger(__name__)


class DenseSubset(DenseIndex):
    """A dense index restricted to some ids of another, renumbered ``0..len(ids)-1``; the vectors stay
    where they are (no copy), searches run on the full index limited to those ids."""

    def __init__(self, full: DenseIndex, ids: np.ndarray) -> None:  # no super().__init__: nothing to own
        self._full = full
        self._ids = np.asarray(ids, dtype=np.int64)  # ascending: view id -> full id

    @property
    def kind(self) -> str:
        return self._full.kind

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def dim(self) -> int:
        return self._full.dim

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        wanted = self._ids if allowed is None else self._ids[np.asarray(allowed, dtype=np.int64)]
        ids, scores = self._full.search(query, k, wanted)
        return np.searchsorted(self._ids, ids).astype(np.int64), scores

    def vector(self, i: int) -> np.ndarray:
        return self._full.vector(int(self._ids[i]))

    def save(self, path: object) -> None:
        raise TypeError("A view of an index is not saved; save the index it views.")


class EmptyLexical(LexicalIndex):
    """Keyword search over no chunks (bm25s cannot index an empty list)."""

    def __init__(self) -> None:  # no retriever
        self._count = 0
        self._vocab = {}

    def scores(self, query_keys: object) -> np.ndarray:
        return np.zeros(0, dtype=np.float32)

    def document_frequency(self, key: str) -> int:
        return 0


def has_internal(index: Index) -> bool:
    return any(d.internal for d in index.documents.values()) or any(c.internal for c in index.chunks)


def public_view(index: Index) -> Index:
    """``index`` without its internal documents: what a request without a staff token searches. The
    index itself when nothing in it is internal. Chunk ids are renumbered, so they show no gaps
    where internal chunks were; keyword search is rebuilt over the public chunks so its term
    statistics count them alone."""
    if not has_internal(index):
        return index
    if index.dense.kind == "pgvector":  # PostgreSQL: internal rows are left out in SQL instead
        from rag.pgstore import public_view as pg_public_view

        return pg_public_view(index)
    documents = {doc_id: d for doc_id, d in index.documents.items() if not d.internal}
    keep = [i for i, c in enumerate(index.chunks) if not c.internal and c.doc in documents]
    chunks = [index.chunks[i] for i in keep]
    lexical = LexicalIndex.build([lexical_text(c) for c in chunks]) if chunks else EmptyLexical()
    listed = index.manifest.get("documents", {})
    manifest = index.manifest | {
        "documents": {doc_id: entry for doc_id, entry in listed.items() if doc_id in documents},
        "counts": {"documents": len(documents), "chunks": len(chunks)},
    }
    logger.info(
        "public view of %s: %d of %d documents, %d of %d chunks",
        index.path.name,
        len(documents),
        len(index.documents),
        len(chunks),
        len(index.chunks),
    )
    return replace(
        index,
        manifest=manifest,
        chunks=chunks,
        documents=documents,
        dense=DenseSubset(index.dense, np.array(keep, dtype=np.int64)),
        lexical=lexical,
    )
