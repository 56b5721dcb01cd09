"""``rag bench``: speed, memory and scale measured on this machine, side by side with quality.

Phases that measure memory or start-up run in child processes (``python -m rag.bench WORKER ...``),
so each figure is that of a fresh process doing only that work. Nothing here asserts a target: the
figures are printed, and the README keeps the table with the command that made it.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from rag.config import Settings

MODES = ("hybrid", "lexical", "dense")


def machine() -> dict[str, Any]:
    """Cores, CPU model, memory and the versions that matter for the figures."""
    cpu = "unknown"
    memory_gb = 0.0
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line)
        memory_gb = round(kb / 1024 / 1024, 1)
    except (OSError, StopIteration):
        pass
    versions: dict[str, str | None] = {}
    for package in (
        "rag",
        "torch",
        "sentence-transformers",
        "onnxruntime",
        "faiss-cpu",
        "bm25s",
        "numpy",
        "fastapi",
        "uvicorn",
    ):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "versions": versions,
    }


def percentiles(values_ms: Sequence[float]) -> dict[str, float]:
    if not values_ms:
        return {"n": 0}
    a = np.asarray(values_ms, dtype=float)
    return {
        "n": len(a),
        "p50": round(float(np.percentile(a, 50)), 2),
        "p95": round(float(np.percentile(a, 95)), 2),
        "p99": round(float(np.percentile(a, 99)), 2),
    }


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _dir_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6, 1)


def questions(paths: Sequence[Path]) -> list[str]:
    from rag.evaluate import load_questions

    return list(dict.fromkeys(q.question for p in paths for q in load_questions(p)))


# --- ingest with the real model ---


def _chunk_texts(paths: Sequence[Path], settings: Settings, embedder: Any) -> list[str]:
    from rag.chunk import chunk_configured, embed_text
    from rag.parse import discover, read_document
    from rag.structure import parse_structure

    texts = []
    for file, root in discover(paths):
        doc = read_document(file, root=root)
        for chunk in chunk_configured(doc, parse_structure(doc.text), settings, embedder.count_tokens):
            texts.append(embed_text(chunk, settings))
    return texts


def ingest(paths: Sequence[Path], settings: Settings, embedder: Any) -> dict[str, Any]:
    """Embedding throughput of the real model on the real corpus's chunks (what indexing spends),
    in chunks, MB of text and model tokens (prompt and special tokens included) per second: the
    model's cost grows with tokens, so tokens/s is what a faster backend changes and chunks/s
    also depends on how long the chunks are."""
    texts = _chunk_texts(paths, settings, embedder)
    embedder.embed_passages(texts[:8], batch_size=settings.embed_batch_size)  # warm up
    started = time.perf_counter()
    embedder.embed_passages(texts, batch_size=settings.embed_batch_size)
    seconds = time.perf_counter() - started
    chars = sum(len(t) for t in texts)
    tokens = sum(embedder.count_tokens(t) for t in texts)
    return {
        "chunks": len(texts),
        "seconds": round(seconds, 2),
        "chunks_per_s": round(len(texts) / seconds, 1),
        "mb_per_s": round(chars / 1e6 / seconds, 3),
        "tokens_per_chunk": round(tokens / max(len(texts), 1)),
        "tokens_per_s": round(tokens / seconds),
        "backend": settings.backend,
    }


# --- in-process query latency ---


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


# --- workers (child processes) ---


def _rss_mb() -> float:
    """Resident memory now (peak RSS includes what loading needed only for a moment)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


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


# --- HTTP ---


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _load(
    base: str, paths: Sequence[str], concurrency: int, max_requests: int, max_seconds: float
) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    errors = 0
    issued = 0
    deadline = time.perf_counter() + max_seconds

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal issued, errors
        while issued < max_requests and time.perf_counter() < deadline:
            path = paths[issued % len(paths)]
            issued += 1
            started = time.perf_counter()
            try:
                response = await http.get(path)
                if response.status_code != 200:
                    errors += 1
            except httpx.HTTPError:
                errors += 1
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    return {
        "concurrency": concurrency,
        "requests": len(latencies),
        "errors": errors,
        "rps": round(len(latencies) / seconds, 1),
    } | {f"{k}_ms": v for k, v in percentiles(latencies).items() if k != "n"}


def http(
    index: Path,
    asked: Sequence[str],
    concurrencies: Sequence[int],
    max_requests: int,
    max_seconds: float,
    store: str | None = None,
) -> dict[str, Any]:
    """Throughput and latency of /api/search against ``rag serve`` on loopback (serving from
    PostgreSQL when ``store`` is a URL)."""
    from urllib.parse import urlencode

    port = _free_port()
    log = index.parent / "bench-queries.jsonl"
    env = {**os.environ, "RAG_QUERY_LOG": str(log), "HF_HUB_OFFLINE": "1", "RAG_STORE": store or ""}
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("rag")),
            "serve",
            "--index",
            str(index),
            "--port",
            str(port),
            "--no-refresh",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base, server)
        paths = [f"/api/search?{urlencode({'q': q, 'k': 10})}" for q in asked]
        asyncio.run(_load(base, paths[:20], 4, 40, 30))  # warm up: model, caches
        return {
            "endpoint": "/api/search (k=10, distinct questions cycled)",
            "store": "postgresql" if store else "embedded",
            "runs": [asyncio.run(_load(base, paths, c, max_requests, max_seconds)) for c in concurrencies],
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_for(base: str, server: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server stopped while starting; run 'rag serve' by hand to see why")
        try:
            if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError("the server did not start within 300 s")


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


if __name__ == "__main__":
    print(json.dumps(_worker(sys.argv[1:]), ensure_ascii=False))
