"""HTTP: throughput and latency of ``rag serve`` on loopback under concurrent clients."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.bench.common import percentiles
from rag.net import free_port

# A request of a workload: method, path and JSON body (None for a GET).
Request = tuple[str, str, dict[str, Any] | None]


async def _load(
    base: str, requests: Sequence[Request], concurrency: int, max_requests: int, max_seconds: float
) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    errors = 0
    issued = 0
    deadline = time.perf_counter() + max_seconds

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal issued, errors
        while issued < max_requests and time.perf_counter() < deadline:
            method, path, body = requests[issued % len(requests)]
            issued += 1
            started = time.perf_counter()
            try:
                response = await http.request(method, path, json=body)
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
    """Throughput and latency against ``rag serve`` on loopback (serving from PostgreSQL when
    ``store`` is a URL): /api/search alone ("runs"), and half /api/ask, half /api/search as the chat
    widget and the search page together load it ("mixed"; every other question is asked, the rest
    searched, as in tests/test_load.py)."""
    from urllib.parse import urlencode

    port = free_port()
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
        search: list[Request] = [("GET", f"/api/search?{urlencode({'q': q, 'k': 10})}", None) for q in asked]
        mixed: list[Request] = [
            ("POST", "/api/ask", {"question": q}) if n % 2 == 0 else search[n] for n, q in enumerate(asked)
        ]
        asyncio.run(_load(base, mixed[:20], 4, 40, 30))  # warm up: model, caches
        return {
            "endpoint": "/api/search (k=10) and /api/ask, distinct questions cycled",
            "store": "postgresql" if store else "embedded",
            "runs": [asyncio.run(_load(base, search, c, max_requests, max_seconds)) for c in concurrencies],
            "mixed": [asyncio.run(_load(base, mixed, c, max_requests, max_seconds)) for c in concurrencies],
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
