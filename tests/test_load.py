"""Load on loopback: the real server (``rag serve``, its own process, the real model) over the bundled
and shared corpus plus one internal document, 16 concurrent clients for RAG_LOAD_SECONDS (default 60)
doing mixed /api/ask and /api/search with distinct questions, a quarter of them as staff. Every request
must be answered 200 (rate limiting stays on at its defaults: loopback is exempt); the figures
(requests served, errors, p50/p99 per endpoint) are printed."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import CORPUS, ROOT, SHARED, free_port, start_server

pytestmark = [pytest.mark.load, pytest.mark.real_model]

CLIENTS = 16
SECONDS = float(os.environ.get("RAG_LOAD_SECONDS", "60"))
STAFF = "load-staff-token"
RAG = Path(sys.executable).with_name("rag")
INTERNAL = (
    "Tibro kommun\nKommunstyrelsen\nSammanträdesdatum 2024-10-14\n\n"
    "KS § 12 Intern rutin för AI-verktyg i handläggningen\nDnr KS 2024/0012\n\n"
    "Beslut\n\nKommunstyrelsen beslutar att handläggare får använda godkända AI-verktyg för utkast, "
    "men aldrig för sekretessuppgifter.\n"
)


def _questions() -> list[str]:
    asked = []
    for path in (SHARED / "eval" / "dev_questions.jsonl", ROOT / "eval" / "tune_questions.jsonl"):
        asked += [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line]
    return asked


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("load")
    (root / "internal").mkdir()
    (root / "internal" / "intern-rutin.txt").write_text(INTERNAL, encoding="utf-8")
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "RAG_STAFF_TOKEN": STAFF,
        "RAG_QUERY_LOG": str(root / "queries.jsonl"),
        "RAG_UPLOAD_DIR": str(root / "uploads"),
    }
    for name in ("RAG_RATE_LIMIT_PER_MINUTE", "RAG_RATE_LIMIT_BURST", "RAG_RATE_LIMIT_EXEMPT", "RAG_EMBEDDER"):
        env.pop(name, None)  # the defaults: limiting on, loopback exempt, the real model
    index = root / "index"
    subprocess.run(
        [str(RAG), "index", str(CORPUS), str(SHARED / "corpus"), str(root), "--index", str(index)],
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
    )
    port = free_port()
    command = [str(RAG), "serve", "--index", str(index), "--port", str(port), "--no-refresh"]
    process = start_server(command, env, port)
    base = f"http://127.0.0.1:{port}"
    yield base
    process.terminate()
    process.wait(timeout=30)


async def _load(base: str, questions: list[str], seconds: float) -> dict:
    results: list[tuple[str, int, float]] = []  # (endpoint, status or -1 for an exception, ms)
    failures: list[str] = []
    issued = 0
    deadline = time.perf_counter() + seconds

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal issued
        while time.perf_counter() < deadline:
            n = issued
            issued += 1
            question = questions[n % len(questions)]
            headers = {"Authorization": f"Bearer {STAFF}"} if n % 4 == 3 else {}
            endpoint = "ask" if n % 2 == 0 else "search"
            started = time.perf_counter()
            try:
                if endpoint == "ask":
                    response = await http.post("/api/ask", json={"question": question}, headers=headers)
                else:
                    response = await http.get("/api/search", params={"q": question, "k": 10}, headers=headers)
                status = response.status_code
                if status != 200:
                    failures.append(f"{endpoint} {question!r}: {status} {response.text[:200]}")
            except httpx.HTTPError as exc:
                status = -1
                failures.append(f"{endpoint} {question!r}: {type(exc).__name__} {exc}")
            results.append((endpoint, status, (time.perf_counter() - started) * 1000))

    started = time.perf_counter()
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    # a request unanswered after 120 s counts as an error (16 asks share two cores: seconds each, more
    # when the machine is busy with other work)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as http:
        await asyncio.gather(*(client(http) for _ in range(CLIENTS)))
    elapsed = time.perf_counter() - started
    report: dict = {"clients": CLIENTS, "seconds": round(elapsed, 1), "requests": len(results)}
    report["errors"] = sum(1 for _, status, _ in results if status != 200)
    report["rps"] = round(len(results) / elapsed, 1)
    for name in ("ask", "search", "all"):
        ms = [t for e, _, t in results if name in (e, "all")]
        report[name] = {"n": len(ms), "p50_ms": round(_percentile(ms, 0.5)), "p99_ms": round(_percentile(ms, 0.99))}
    report["failures"] = failures[:10]
    return report


def test_sixteen_clients_for_a_minute_get_every_answer(server, capsys):
    questions = _questions()
    assert len(questions) >= 100
    asyncio.run(_load(server, questions[:8], 5))  # warm-up: the model's first calls and the caches
    report = asyncio.run(_load(server, questions, SECONDS))
    with capsys.disabled():
        print(f"\nload test (loopback, real model, mixed ask/search): {json.dumps(report, ensure_ascii=False)}")
    assert report["requests"] >= CLIENTS
    assert report["errors"] == 0, report["failures"]
