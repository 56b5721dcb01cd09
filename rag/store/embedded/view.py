"""The citizens' view of an embedded index: the same index with its internal documents and chunks
taken out before anything is searched, counted or listed.

Taking them out of the index (rather than filtering results) is what keeps them from leaking
sideways: keyword statistics (BM25 term frequencies), the organisations and bodies a question is
parsed against, the values an unknown-filter message lists, facet and stats counts, and the
answer's abstention signals are all computed from the public chunks alone. A request without a
staff token gets the same response it would get from an index built without the internal files.

The view renumbers the public chunks ``0..m-1`` (ascending in the full index, so document order
holds) and searches the full FAISS index restricted to their ids, mapping ids back; its keyword
search is a BM25 index built anew over the public chunks (about a millisecond a chunk).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from rag.chunk import lexical_text
from rag.store.catalogue import Catalogue
from rag.store.embedded.lexical import LexicalIndex, idf
from rag.store.filters import best
from rag.types import Filters

if TYPE_CHECKING:
    from rag.store.base import ReadStore
    from rag.store.embedded.index import EmbeddedIndex

logger = logging.getLogger(__name__)


def has_internal(index: EmbeddedIndex) -> bool:
    return any(d.internal for d in index.documents().values()) or any(c.internal for c in index.chunks())


def public_view(index: EmbeddedIndex) -> ReadStore:
    """``index`` without its internal documents, or ``index`` itself when nothing in it is internal."""
    if not has_internal(index):
        return index
    return PublicView(index)


class PublicView(Catalogue):
    """An ``EmbeddedIndex`` less its internal documents (a ``ReadStore``). It holds the full index,
    so the full index's version stays leased while the view is in use."""

    def __init__(self, full: EmbeddedIndex) -> None:
        self._full = full
        documents = {k: d for k, d in full.documents().items() if not d.internal}
        keep = [i for i, c in enumerate(full.chunks()) if not c.internal and c.doc in documents]
        self._ids = np.array(keep, dtype=np.int64)  # ascending: view id -> full id
        chunks = [full.chunk(i) for i in keep]
        listed = full.manifest.get("documents", {})
        manifest = full.manifest.copy()
        manifest["documents"] = {doc_id: entry for doc_id, entry in listed.items() if doc_id in documents}
        manifest["counts"] = {"documents": len(documents), "chunks": len(chunks)}
        super().__init__(manifest, chunks, documents)
        # bm25s cannot index an empty list: a view of no chunks has no keyword index
        self._lexical = LexicalIndex.build([lexical_text(c) for c in self._chunks]) if self._chunks else None
        logger.info(
            "public view of %s: %d of %d documents, %d of %d chunks",
            full.version,
            len(self._documents),
            len(full.documents()),
            len(self._chunks),
            full.count,
        )

    @property
    def version(self) -> str:
        return self._full.version

    @property
    def dense_kind(self) -> str:
        return self._full.dense_kind

    def lexical(self, keys: Sequence[str], n: int, filters: Filters | None = None) -> list[tuple[int, float]]:
        if self._lexical is None:
            return []
        return best(self._lexical.scores(keys), n, self._columns.allowed(filters))

    def dense(self, vector: np.ndarray, n: int, filters: Filters | None = None) -> list[tuple[int, float]]:
        allowed = self._columns.allowed(filters)
        wanted = self._ids if allowed is None else self._ids[allowed]
        ids, scores = self._full.dense_index.search(vector, n, wanted)
        view_ids = np.searchsorted(self._ids, ids)
        return [(int(i), float(s)) for i, s in zip(view_ids, scores, strict=True)]

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        return self._full.vectors([int(self._ids[i]) for i in ids])

    def document_frequency(self, key: str) -> int:
        return 0 if self._lexical is None else self._lexical.document_frequency(key)

    def idf(self, key: str) -> float:
        return idf(0, 0) if self._lexical is None else self._lexical.idf(key)

    def public(self) -> ReadStore:
        return self

    def close(self) -> None:
        self._full.close()
