"""Dense recall: the serving dense index against exact search on the same vectors."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.bench.common import percentiles


def dense_recall(
    index: Any, query_vectors: np.ndarray, vectors_file: Path, ks: Sequence[int] = (10, 100)
) -> dict[str, Any]:
    """The serving dense index (a ``ReadStore``) against exact search on the same vectors: recall@k
    (10 as shown, 100 as many as hybrid search fuses) and latency at the first k. The vectors are
    the build's (``vectors.npy`` of its version folder)."""
    from rag.store.embedded.dense import DenseIndex

    vectors = np.load(vectors_file, mmap_mode="r")
    exact = DenseIndex.build(np.asarray(vectors), "flat")
    out: dict[str, Any] = {"kind": index.dense_kind}
    for k in ks:
        hits, times_exact, times_served = 0, [], []
        for q in query_vectors:
            started = time.perf_counter()
            truth, _ = exact.search(q, k)
            times_exact.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            got = [i for i, _ in index.dense(q, k)]
            times_served.append((time.perf_counter() - started) * 1000)
            hits += len(set(truth.tolist()) & set(got))
        out[f"recall@{k}"] = round(hits / (k * len(query_vectors)), 4)
        out.setdefault("exact_ms", percentiles(times_exact))
        out.setdefault("served_ms", percentiles(times_served))
    return out
