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


# HNSW parameters: 32 links per node; construction and search beam widths chosen by measuring
# recall against exact search with real query vectors on 118k synthetic chunks (rag bench; README):
# efSearch 96 kept only 0.906 of the exact top 10, 256 0.973, 512 0.994 (and 0.981 of the top 100
# that hybrid search fuses) at 1.6 ms a query, against 19 ms for the exact scan.
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 512


def choose_kind(count: int, wanted: str = "auto", flat_max: int = 20_000) -> str:
    """'flat' (exact) where a scan is fast enough, 'hnsw' above ``flat_max`` vectors."""
    if wanted != "auto":
        return wanted
    return "flat" if count <= flat_max else "hnsw"


class DenseIndex:
    """Inner-product search, exact (flat) or approximate (HNSW); ``search`` can be restricted to a set
    of ids (filters)."""

    def __init__(self, index: faiss.Index) -> None:
        self._index = index
        if isinstance(index, faiss.IndexHNSW):
            index.hnsw.efSearch = HNSW_EF_SEARCH

    @classmethod
    def build(cls, vectors: np.ndarray, kind: str = "flat") -> DenseIndex:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        dim = vectors.shape[1]
        index: faiss.Index
        if kind == "hnsw":
            index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        else:
            index = faiss.IndexFlatIP(dim)
        if len(vectors):
            index.add(vectors)
        return cls(index)

    @property
    def kind(self) -> str:
        return "hnsw" if isinstance(self._index, faiss.IndexHNSW) else "flat"

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
            if self.kind == "hnsw":
                params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]
                params.efSearch = max(HNSW_EF_SEARCH, k)
            else:
                params = faiss.SearchParameters()
            params.sel = selector  # the selector must outlive the search: kept alive by this frame
        elif self.kind == "hnsw" and k > HNSW_EF_SEARCH:
            params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]
            params.efSearch = k
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
        """The saved index; with ``mmap`` its vectors (and HNSW's links) stay in the file, mapped
        read-only, so loading copies nothing and the pages a search reads are page cache, shared
        between processes. (``IO_FLAG_MMAP`` alone maps only IVF lists: flat and HNSW need
        ``IO_FLAG_MMAP_IFC``. At 118k chunks loading HNSW took 0.18 s and 223 MB of heap; mapped,
        0.01 s and 2 MB.)"""
        flags = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY if mmap else 0
        try:
            return cls(faiss.read_index(str(path), flags))
        except RuntimeError:  # not every index type can be memory-mapped; read it whole
            return cls(faiss.read_index(str(path)))
