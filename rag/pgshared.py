"""State that several API processes share through PostgreSQL: the rate limit and the query log.

With one process, both live in it (``rag.ratelimit.TokenBuckets``, ``rag.querylog.QueryLog``). With
``rag serve --workers N`` or several servers behind a proxy, each process would count a client's
requests on its own (N times the limit) and rotate one log file under the others' feet. With
``RAG_STORE`` set, the buckets are rows of ``rag_rate`` (one atomic ``INSERT ... ON CONFLICT``
per request, on the database's clock) and the log is rows of ``rag_query_log``; the index
version is shared already (``rag.store.current_version``).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from rag.querylog import _masked
from rag.store.postgres.connect import connect, safe_url

logger = logging.getLogger(__name__)


class _Connections:
    """One connection per thread, opened on first use and again after it broke."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._local = threading.local()

    def get(self) -> Any:
        con = getattr(self._local, "con", None)
        if con is None or con.closed or con.broken:
            con = self._local.con = connect(self.url)
            # a bucket or log row lost in a crash costs nothing; a flush to disk per request costs ms
            con.execute("SET synchronous_commit = off")
        return con


class PgTokenBuckets:
    """``rag.ratelimit.TokenBuckets`` with its buckets in the database, shared by every process."""

    def __init__(self, url: str, per_minute: float, burst: int) -> None:
        if per_minute <= 0 or burst < 1:
            raise ValueError("per_minute must be positive and burst at least 1")
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._db = _Connections(url)
        self._db.get().execute(
            "CREATE TABLE IF NOT EXISTS rag_rate (key text PRIMARY KEY, tokens double precision NOT NULL, "
            "at double precision NOT NULL, granted boolean NOT NULL)"
        )

    def take(self, key: str, now: float | None = None) -> float:
        """0.0 when ``key`` may make a request now (a token is taken), else the seconds until it may.
        ``now`` is ignored: processes on several machines count on the database's clock."""
        clock = "extract(epoch FROM clock_timestamp())::double precision"
        refilled = f"least(%(burst)s, r.tokens + greatest(0, {clock} - r.at) * %(rate)s)"
        sql = f"""
            INSERT INTO rag_rate AS r (key, tokens, at, granted) VALUES (%(key)s, %(burst)s - 1, {clock}, true)
            ON CONFLICT (key) DO UPDATE SET
                tokens = CASE WHEN {refilled} >= 1 THEN {refilled} - 1 ELSE {refilled} END,
                at = {clock},
                granted = {refilled} >= 1
            RETURNING r.tokens, r.granted"""
        row = self._db.get().execute(sql, {"key": key, "burst": self.burst, "rate": self.rate}).fetchone()
        tokens, granted = row
        return 0.0 if granted else (1.0 - float(tokens)) / self.rate


class PgQueryLog:
    """``rag.querylog.QueryLog`` as rows of ``rag_query_log``: masked the same way, never raising."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._db = _Connections(url)
        self._db.get().execute(
            "CREATE TABLE IF NOT EXISTS rag_query_log (id bigserial PRIMARY KEY, at timestamptz NOT NULL, entry jsonb)"
        )
        self._closed = False

    def write(self, entry: dict[str, Any]) -> None:
        try:
            if self._closed:
                raise ValueError("the log is closed")
            at = datetime.now(UTC)
            fields = {k: v for k, v in _masked(entry).items() if k != "time"}
            record = {"time": at.isoformat(timespec="milliseconds"), **fields}
            self._db.get().execute(
                "INSERT INTO rag_query_log (at, entry) VALUES (%s, %s::jsonb)",
                (at, json.dumps(record, ensure_ascii=False, default=str)),
            )
        except Exception as exc:  # any failure here is the log's, not the request's
            logger.warning("Could not write to the query log in %s: %s", safe_url(self.url), exc)

    def close(self) -> None:
        self._closed = True


def read_entries(url: str) -> Iterator[dict[str, Any]]:
    """Every logged request, oldest first."""
    with connect(url) as con:
        exists = con.execute("SELECT to_regclass('rag_query_log')").fetchone()
        if not exists or exists[0] is None:
            return iter(())
        rows = con.execute("SELECT entry FROM rag_query_log ORDER BY id").fetchall()
    return (r[0] for r in rows if isinstance(r[0], dict))
