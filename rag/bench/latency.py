"""In-process query latency per search mode."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from rag.bench.common import percentiles

MODES = ("hybrid", "lexical", "dense")


def query_latency(searcher: Any, asked: Sequence[str], k: int = 10) -> dict[str, Any]:
    """p50/p95/p99 per mode over distinct questions, each embedded afresh (the query cache is
    emptied before each), and hybrid again with the query vector cached (search cost alone)."""
    out: dict[str, Any] = {}
    searcher.search("what does the plan say", k=k)  # one-time loading, as Searcher.open and the server do first
    for mode in MODES:
        times = []
        for q in asked:
            searcher._query_vectors.clear()
            started = time.perf_counter()
            searcher.search(q, k=k, mode=mode)
            times.append((time.perf_counter() - started) * 1000)
        out[mode] = percentiles(times)
    times = []
    for q in asked:
        searcher.search(q, k=k)
        started = time.perf_counter()
        searcher.search(q, k=k)
        times.append((time.perf_counter() - started) * 1000)
    out["hybrid, query vector cached"] = percentiles(times)
    return out
