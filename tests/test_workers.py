"""Several API processes over one PostgreSQL: `rag serve --workers N` with RAG_STORE set, on loopback,
with the real model. The processes share the index version, the rate limit and the query log
through the database: a client gets the limit once, not once per process, every request of the
mixed ask/search load is answered, and every request is logged in one place."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess

import httpx
import pytest
from conftest import CORPUS, free_port, fresh_database, start_server
from test_load import RAG, STAFF, _load, _questions

pytestmark = [pytest.mark.load, pytest.mark.real_model]
pytest.importorskip("psycopg", reason="the postgres extra is not installed (scripts/install.sh --dev installs it)")

SECONDS = float(os.environ.get("RAG_LOAD_SECONDS", "60")) / 3


@pytest.fixture(scope="module")
def published(tmp_path_factory, pg_url):
    root = tmp_path_factory.mktemp("workers")
    url = fresh_database(pg_url, "workers")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "RAG_STORE": url, "RAG_STAFF_TOKEN": STAFF}
    env.pop("RAG_EMBEDDER", None)
    subprocess.run(
        [str(RAG), "index", str(CORPUS), "--index", str(root / "index")], env=env, check=True, capture_output=True
    )
    return root, env


def _serve(root, env, workers: int, **extra: str):
    port = free_port()
    command = [str(RAG), "serve", "--index", str(root / "index"), "--port", str(port), "--no-refresh"]
    return start_server([*command, "--workers", str(workers)], env | extra, port), f"http://127.0.0.1:{port}"


def _stop(process) -> None:
    process.terminate()
    process.wait(timeout=60)


def test_more_workers_answer_every_request_of_mixed_load(published, capsys):
    root, env = published
    questions = _questions()
    figures = {}
    for workers in (1, 2):
        process, base = _serve(root, env, workers)
        try:
            asyncio.run(_load(base, questions[:8], 5))  # warm-up: every worker's model and caches
            report = asyncio.run(_load(base, questions, SECONDS))
        finally:
            _stop(process)
        figures[workers] = report
        assert report["errors"] == 0, report["failures"]
    with capsys.disabled():
        for workers, report in figures.items():
            print(f"\n{workers} worker(s) over PostgreSQL, mixed ask/search: {json.dumps(report, ensure_ascii=False)}")


def test_the_rate_limit_is_counted_once_across_workers(published):
    root, env = published
    limits = {"RAG_RATE_LIMIT_PER_MINUTE": "6", "RAG_RATE_LIMIT_BURST": "5", "RAG_RATE_LIMIT_EXEMPT": "[]"}
    process, base = _serve(root, env, 2, **limits)
    try:
        with httpx.Client(base_url=base, timeout=60) as http:
            codes = [http.get("/api/stats").status_code for _ in range(12)]  # new connections reach both workers
    finally:
        _stop(process)
    # health checks while starting took tokens of loopback's bucket too: at most five pass in all
    assert codes.count(200) <= 5 and codes.count(429) >= 7, codes
    assert set(codes) <= {200, 429}


def test_requests_of_every_worker_are_logged_in_the_database(published):
    from rag import pgshared

    root, env = published
    before = len(list(pgshared.read_entries(env["RAG_STORE"])))
    process, base = _serve(root, env, 2)
    try:
        for i in range(6):
            with httpx.Client(base_url=base, timeout=60) as http:  # a new connection each: both workers
                assert http.get("/api/search", params={"q": f"AI i skolan {i}"}).status_code == 200
    finally:
        _stop(process)
    logged = list(pgshared.read_entries(env["RAG_STORE"]))[before:]
    assert [e["question"] for e in logged if e.get("endpoint") == "search"] == [f"AI i skolan {i}" for i in range(6)]
