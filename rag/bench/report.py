"""Every measurement in order, into one report (``rag bench``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rag.bench.common import _dir_mb, machine, questions
from rag.bench.ingest import ingest
from rag.bench.latency import query_latency
from rag.bench.throughput import http
from rag.bench.workers import _run_worker, backends, scale
from rag.config import Settings


def run(
    settings: Settings,
    paths: Sequence[Path],
    question_files: Sequence[Path],
    sizes: Sequence[int],
    work: Path,
    concurrencies: Sequence[int] = (1, 4, 16),
    max_requests: int = 400,
    max_seconds: float = 30.0,
    compare: Sequence[str] = (),
    say: Callable[[str], None] = lambda _: None,
    store: str | None = None,
    ray_workers: Sequence[int] = (),
) -> dict[str, Any]:
    """Every measurement: the model backends in ``compare`` side by side; then with the configured
    backend ingest, quality, in-process latency and HTTP on the real corpus; then scale."""
    from rag.build import build_index
    from rag.embed import load_embedder
    from rag.evaluate import evaluate, load_questions
    from rag.search import Searcher

    work.mkdir(parents=True, exist_ok=True)
    asked = questions(question_files)
    report: dict[str, Any] = {"machine": machine(), "questions": len(asked)}
    if compare:
        say(f"backends: {', '.join(compare)} (load, memory, ingest, query embedding, quality)")
    report["backends"] = backends(compare, paths, question_files, asked, work)
    embedder = load_embedder(settings)
    say("ingest: embedding the real corpus with the real model")
    report["ingest"] = ingest(paths, settings, embedder)
    report["ray_ingest"] = []
    for workers in ray_workers:
        say(f"ingest on Ray: {workers} model actor(s) on a loopback cluster")
        config = {"workers": workers, "paths": [str(p) for p in paths], "backend": settings.backend}
        report["ray_ingest"].append(_run_worker("ray-ingest", config, timeout=1800))
    real = Settings(**(settings.model_dump() | {"index_dir": work / "real" / "index"}))
    say("real corpus: building its index")
    started = time.perf_counter()
    build_index(list(paths), real.index_dir, embedder, real, rebuild=True)
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    searcher = Searcher.open(real, embedder)
    load_s = time.perf_counter() - started
    say("real corpus: quality and in-process latency")
    dev = load_questions(question_files[0])
    quality = evaluate(
        dev,
        lambda q, mode: searcher.search(q, k=10, mode=mode),
        lambda doc: searcher.index.documents()[doc].text if doc in searcher.index.documents() else None,
    )
    report["real"] = {
        "documents": len(searcher.index.documents()),
        "chunks": searcher.index.count,
        "build_s": round(build_s, 1),
        "load_s": round(load_s, 2),
        "index_mb": _dir_mb(real.index_dir),
        "quality": {mode: {k: v for k, v in quality[mode]["all"].items() if k != "misses"} for mode in quality},
        "latency_ms": query_latency(searcher, asked),
    }
    say("HTTP: the real server on loopback")
    report["http"] = [http(real.index_dir, asked, concurrencies, max_requests, max_seconds)]
    if store:
        from rag.store import publish

        say("HTTP: the real server on loopback, serving from PostgreSQL")
        publish(real.model_copy(update={"store": store}))
        report["http"].append(http(real.index_dir, asked, concurrencies, max_requests, max_seconds, store))
    report["scale"] = []
    for size in sizes:
        say(f"scale: {size} synthetic chunks (generate, build, load, query{', PostgreSQL' if store else ''})")
        report["scale"].extend(scale(size, real.index_dir, work, asked, settings.backend, store))
    return report
