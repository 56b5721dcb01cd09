"""Dense search with FAISS: inner product over L2-normalised float32 vectors, i.e. cosine.

FAISS id == row in the chunk table == chunk id.
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

# FAISS's own thread pool fights the embedding model's threads for the 2 cores and makes single
# queries take ~1 s (measured, NOTES.md); one thread is fastest for one query at a time.
faiss.omp_set_num_threads(1)


class DenseIndex:
    """Exact inner-product search; ``search`` can be restricted to a set of ids (filters)."""

    def __init__(self, index: faiss.Index) -> None:
        self._index = index

    @classmethod
    def build(cls, vectors: np.ndarray) -> DenseIndex:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        index = faiss.IndexFlatIP(vectors.shape[1])
        if len(vectors):
            index.add(vectors)
        return cls(index)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    @property
    def dim(self) -> int:
        return int(self._index.d)

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Ids and cosine scores of the ``k`` nearest vectors, best first; only ``allowed`` ids if given."""
        k = min(k, len(self) if allowed is None else len(allowed))
        if k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        params = None
        if allowed is not None:
            selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
            params = faiss.SearchParameters()
            params.sel = selector  # the selector must outlive the search: kept alive by this frame
        scores, ids = self._index.search(q, k, params=params)
        keep = ids[0] >= 0
        return ids[0][keep].astype(np.int64), scores[0][keep]

    def vector(self, i: int) -> np.ndarray:
        """The stored vector of id ``i``."""
        return np.asarray(self._index.reconstruct(int(i)), dtype=np.float32)

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, *, mmap: bool = True) -> DenseIndex:
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
        return cls(faiss.read_index(str(path), flags))
