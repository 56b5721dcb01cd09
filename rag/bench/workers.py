"""The phases that run in child processes (``python -m rag.bench WORKER CONFIG``), so that each
figure is that of a fresh process doing only that work: a model backend, a synthetic index's
build and its serving, ingest on Ray."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.bench.common import _dir_mb, _peak_rss_mb, _rss_mb, percentiles
from rag.bench.ingest import ingest
from rag.bench.latency import query_latency
from rag.bench.recall import dense_recall
from rag.config import Settings


def _backend(config: dict[str, Any]) -> dict[str, Any]:
    """One model backend in a fresh process: load, memory, ingest, query embedding and quality."""
    from rag.build import build_index
    from rag.embed import SentenceTransformerEmbedder
    from rag.evaluate import evaluate, load_questions
    from rag.search import Searcher

    settings = Settings(index_dir=Path(config["work"]) / "index", backend=config["backend"])
    started = time.perf_counter()
    embedder = SentenceTransformerEmbedder(settings.model_dir, backend=settings.backend)
    load_s = time.perf_counter() - started
    rss_loaded = _rss_mb()
    paths = [Path(p) for p in config["paths"]]
    ingested = ingest(paths, settings, embedder)
    times = []
    for q in config["questions"]:
        started = time.perf_counter()
        embedder.embed_queries([q])
        times.append((time.perf_counter() - started) * 1000)
    build_index(paths, settings.index_dir, embedder, settings, rebuild=True)
    searcher = Searcher.open(settings, embedder)
    quality = {}
    for file in config["question_files"]:
        measured = evaluate(
            load_questions(Path(file)),
            lambda q, mode: searcher.search(q, k=10, mode=mode),
            lambda doc: searcher.index.documents()[doc].text if doc in searcher.index.documents() else None,
        )
        quality[Path(file).name] = {
            mode: {k: measured[mode]["all"][k] for k in ("recall@5", "mrr@10")} for mode in ("hybrid", "dense")
        }
    return {
        "backend": settings.backend,
        "model": dict(embedder.identity),
        "load_s": round(load_s, 2),
        "rss_loaded_mb": rss_loaded,
        "peak_rss_mb": _peak_rss_mb(),
        "ingest": ingested,
        "query_embed_ms": percentiles(times),
        "quality": quality,
    }


def _ray_ingest(config: dict[str, Any]) -> dict[str, Any]:
    """Ingest with the chunks embedded by ``workers`` model actors on a Ray cluster of one node that
    this process starts on loopback (Ray takes 127.0.0.1 for the outward address unless it is told
    the cluster is one node, and a benchmark's traffic stays on this machine)."""
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # read when Ray is imported: before that
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    import ray

    from rag.embed import load_embedder
    from rag.rayembed import RayEmbedder

    settings = Settings(backend=config["backend"])
    workers = int(config["workers"])
    ray.init(num_cpus=workers, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    try:
        embedder = RayEmbedder(load_embedder(settings), settings, "auto", workers)
        return {"workers": workers} | ingest([Path(p) for p in config["paths"]], settings, embedder)
    finally:
        ray.shutdown()


class _QueriesOnly:
    """The real model for queries and token counts, under another index's identity (searching only)."""

    def __init__(self, real: Any, identity: dict[str, Any]) -> None:
        self.real, self.identity, self.dim = real, identity, real.dim

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.real.embed_queries(texts)  # type: ignore[no-any-return]

    def embed_passages(self, texts: Sequence[str], **_: Any) -> np.ndarray:
        raise RuntimeError("searching only: passages are not embedded here")

    def count_tokens(self, text: str) -> int:
        return self.real.count_tokens(text)  # type: ignore[no-any-return]


def _worker(argv: Sequence[str]) -> dict[str, Any]:
    import logging

    logging.disable(logging.WARNING)
    command, config = argv[0], json.loads(argv[1])
    if command == "backend":
        return _backend(config)
    if command == "build":
        from rag.build import build_index
        from rag.embed import load_embedder
        from rag.store.embedded import load_index
        from rag.synth import DerivedEmbedder, generate, sentence_bank

        real_settings = Settings(index_dir=Path(config["real_index"]), backend=config["backend"])
        real = load_embedder(real_settings)
        bank = sentence_bank(load_index(real_settings.index_dir), real)
        corpus = Path(config["work"]) / "corpus"
        started = time.perf_counter()
        documents = generate(bank, config["chunks"], corpus)
        generated = time.perf_counter() - started
        derived = DerivedEmbedder(real, bank)
        settings = Settings(index_dir=Path(config["work"]) / "index", backend=config["backend"])
        started = time.perf_counter()
        report = build_index([corpus], settings.index_dir, derived, settings, rebuild=True)
        return {
            "documents": documents,
            "chunks": report.chunks,
            "corpus_mb": _dir_mb(corpus),
            "generate_s": round(generated, 1),
            "build_s": round(time.perf_counter() - started, 1),
            "index_mb": _dir_mb(settings.index_dir),
            "build_peak_rss_mb": _peak_rss_mb(),
            "vectors": derived.description,
        }
    if command == "ray-ingest":
        return _ray_ingest(config)
    if command == "query":
        from rag.embed import load_embedder
        from rag.search import Searcher
        from rag.store import open_index, publish
        from rag.store.embedded import current_path, read_manifest

        settings = Settings(index_dir=Path(config["index"]), backend=config["backend"], store=config.get("store"))
        real = load_embedder(settings)
        rss_model = _rss_mb()
        embedder: Any = real
        if config.get("derived"):  # queries by the real model, under the synthetic index's identity
            embedder = _QueriesOnly(real, (read_manifest(settings.index_dir) or {}).get("model", {}))
        started = time.perf_counter()
        publish(settings)  # PostgreSQL: copy the build in (nothing to do for the folder)
        publish_s = time.perf_counter() - started
        started = time.perf_counter()
        index = open_index(settings)
        searcher = Searcher(index, embedder, settings)
        load_s = time.perf_counter() - started
        asked = config["questions"]
        latency = query_latency(searcher, asked)
        serving = {"rss_model_mb": rss_model, "rss_mb": _rss_mb(), "peak_rss_mb": _peak_rss_mb()}
        vectors = (current_path(settings.index_dir) or settings.index_dir) / "vectors.npy"
        recall = dense_recall(index, real.embed_queries(asked), vectors_file=vectors)  # exact index beside: after RSS
        store = "postgresql" if settings.store else "embedded"
        timing = {"store": store, "publish_s": round(publish_s, 1), "load_s": round(load_s, 2)}
        return timing | serving | {"latency_ms": latency, "dense": recall}
    raise SystemExit(f"unknown worker command {command}")


def _run_worker(command: str, config: dict[str, Any], timeout: float) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "rag.bench", command, json.dumps(config)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    if result.returncode != 0:
        raise RuntimeError(f"bench worker '{command}' failed: {result.stderr.strip()[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def scale(
    size: int, real_index: Path, work: Path, asked: Sequence[str], backend: str, store: str | None = None
) -> list[dict[str, Any]]:
    """Build a synthetic index of about ``size`` chunks and measure it in fresh processes: served from
    its folder, and from PostgreSQL too when ``store`` is a URL (published there first)."""
    target = work / f"synthetic-{size}"
    shutil.rmtree(target, ignore_errors=True)
    config = {"real_index": str(real_index), "work": str(target), "chunks": size, "backend": backend}
    built = _run_worker("build", config, timeout=7200)
    query = {"index": str(target / "index"), "derived": True, "questions": list(asked), "backend": backend}
    rows = [{"size": size} | built | _run_worker("query", query, timeout=3600)]
    if store:
        rows.append({"size": size} | built | _run_worker("query", query | {"store": store}, timeout=7200))
    return rows


def backends(
    names: Sequence[str], paths: Sequence[Path], question_files: Sequence[Path], asked: Sequence[str], work: Path
) -> list[dict[str, Any]]:
    """Each model backend measured alike, one fresh process each, its index built in ``work``."""
    return [
        _run_worker(
            "backend",
            {
                "backend": name,
                "paths": [str(p) for p in paths],
                "question_files": [str(p) for p in question_files],
                "questions": list(asked),
                "work": str(work / f"backend-{name}"),
            },
            timeout=3600,
        )
        for name in names
    ]
