"""The query log, for accountability: who asked what, what was answered and cited, how fast.

One JSON object per line, rotated by size. Questions are masked for personal data (``rag.pii``)
before they reach the disk, so the log can be kept and shown without holding personnummer,
e-mail addresses or phone numbers.

Rotation is safe across the threads of one process (the handler holds a lock), not across
processes: run one server process per log file.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

from rag.errors import InputError, RagError
from rag.pii import mask_pii

logger = logging.getLogger(__name__)

# Each QueryLog gets a logger of its own, so two logs (e.g. in tests) never share a handler.
_instances = itertools.count(1)


class _Handler(RotatingFileHandler):
    """A rotating file handler that reports a failed write as a warning instead of a traceback."""

    def handleError(self, record: logging.LogRecord) -> None:
        logger.warning("Could not write to the query log %s: %s", self.baseFilename, sys.exc_info()[1])


def _mask(value: Any) -> Any:
    return mask_pii(value)[0] if isinstance(value, str) else value


def _masked(entry: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``entry`` with personal data masked in the fields that hold user text."""
    masked = dict(entry)
    for key in ("question", "standalone"):
        if key in masked:
            masked[key] = _mask(masked[key])
    history = masked.get("history")
    if isinstance(history, list):
        masked["history"] = [
            {k: _mask(v) if k in ("question", "answer") else v for k, v in turn.items()}
            if isinstance(turn, dict)
            else _mask(turn)
            for turn in history
        ]
    return masked


class QueryLog:
    """Appends one masked JSON line per request to ``path``, keeping ``backups`` rotated files.

    ``max_bytes`` is the size at which the file is rotated (``path`` -> ``path.1`` -> ``path.2`` ...).
    """

    def __init__(self, path: Path, max_bytes: int, backups: int) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._handler = _Handler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        except OSError as exc:
            raise RagError(
                f"Cannot open the query log {path}: {exc.strerror or exc}. Set RAG_QUERY_LOG to a writable "
                "file, or to an empty string to turn the log off."
            ) from exc
        self._handler.setFormatter(logging.Formatter("%(message)s"))
        self._logger = logging.getLogger(f"{__name__}.file{next(_instances)}")
        self._logger.propagate = False
        self._logger.setLevel(logging.INFO)
        self._logger.addHandler(self._handler)
        self._closed = False

    def write(self, entry: dict[str, Any]) -> None:
        """Log one request. Never raises: a log that cannot be written must not fail the request."""
        try:
            if self._closed:
                raise ValueError("the log is closed")
            # The time is the log's own, first on the line; a "time" in the entry is replaced.
            fields = {k: v for k, v in _masked(entry).items() if k != "time"}
            record = {"time": datetime.now(UTC).isoformat(timespec="milliseconds"), **fields}
            self._logger.info("%s", json.dumps(record, ensure_ascii=False, default=str))
        except Exception as exc:  # any failure here is the log's, not the request's
            logger.warning("Could not write to the query log %s: %s", self.path, exc)

    def close(self) -> None:
        """Release the file; later writes are dropped with a warning."""
        self._closed = True
        self._logger.removeHandler(self._handler)
        self._handler.close()


class LogEntries(Iterator[dict[str, Any]]):
    """The entries of a query log and its backups, oldest first.

    Lines that are not JSON objects (a write cut off by a crash, a hand edit) are skipped and
    counted in ``skipped`` as iteration passes them.
    """

    def __init__(self, files: list[Path]) -> None:
        self.files = files
        self.skipped = 0
        self._entries = self._read()

    def __next__(self) -> dict[str, Any]:
        return next(self._entries)

    def _read(self) -> Iterator[dict[str, Any]]:
        for file in self.files:
            try:
                lines = file.open(encoding="utf-8", errors="replace")
            except FileNotFoundError:  # rotated away by a running server since the files were listed
                logger.debug("Skipped %s: no longer there", file)
                continue
            with lines:
                for number, line in enumerate(lines, start=1):
                    if not line.strip():
                        continue
                    try:
                        entry = json.loads(line)
                    except ValueError:
                        entry = None
                    if isinstance(entry, dict):
                        yield entry
                    else:
                        self.skipped += 1
                        logger.debug("Skipped %s line %d: not a JSON object", file, number)


def log_files(path: Path) -> list[Path]:
    """``path``'s rotated backups oldest first (``path.N`` ... ``path.1``), then ``path``, those that exist."""
    backups = [p for p in path.parent.glob(f"{path.name}.*") if p.suffix[1:].isdigit()] if path.parent.is_dir() else []
    backups.sort(key=lambda p: int(p.suffix[1:]), reverse=True)
    return backups + ([path] if path.is_file() else [])


def read_entries(path: Path) -> LogEntries:
    """Every entry of the log at ``path`` and its backups, oldest first; see ``LogEntries.skipped``."""
    files = log_files(path)
    if not files:
        raise InputError(
            f"No query log at {path}. The server writes it when RAG_QUERY_LOG is set (default logs/queries.jsonl); "
            "pass --log PATH to read another file.",
            field="log",
        )
    return LogEntries(files)


def _percentile(sorted_values: list[float], percent: float) -> float | None:
    """Nearest-rank percentile: always a latency that was actually measured."""
    if not sorted_values:
        return None
    return sorted_values[max(0, math.ceil(percent / 100 * len(sorted_values)) - 1)]


def _spelled(groups: dict[str, Counter[str]], top: int) -> list[dict[str, Any]]:
    """The ``top`` question groups by size, each shown in its most common spelling."""
    ranked = sorted(groups.values(), key=lambda spellings: -sum(spellings.values()))
    return [{"question": s.most_common(1)[0][0], "count": sum(s.values())} for s in ranked[:top]]


def summarise(entries: Iterable[dict[str, Any]], top: int = 20) -> dict[str, Any]:
    """Figures for a report on the log: traffic, abstentions, latency, frequent questions, cited documents.

    Questions are grouped ignoring case and whitespace. The abstention rate is over ``ask`` entries
    that say whether they abstained. A document counts once per answer that cites it. Latencies
    are nearest-rank percentiles in milliseconds; ``None`` where there is nothing to measure.
    """
    requests = 0
    endpoints: Counter[str] = Counter()
    answered = abstained = 0
    latencies: list[float] = []
    asked: dict[str, Counter[str]] = {}
    unanswered: dict[str, Counter[str]] = {}
    cited: Counter[str] = Counter()
    times: list[str] = []
    for entry in entries:
        requests += 1
        endpoint = str(entry.get("endpoint", "unknown"))
        endpoints[endpoint] += 1
        latency = entry.get("latency_ms")
        if isinstance(latency, int | float) and not isinstance(latency, bool):
            latencies.append(float(latency))
        if isinstance(entry.get("time"), str):
            times.append(entry["time"])
        question = entry.get("question")
        spelling = " ".join(question.split()) if isinstance(question, str) else ""
        if spelling:
            asked.setdefault(spelling.casefold(), Counter())[spelling] += 1
        if endpoint == "ask" and isinstance(entry.get("abstained"), bool):
            answered += 1
            if entry["abstained"]:
                abstained += 1
                if spelling:
                    unanswered.setdefault(spelling.casefold(), Counter())[spelling] += 1
        docs = entry.get("cited")
        if isinstance(docs, list):
            cited.update(list(dict.fromkeys(str(doc) for doc in docs)))  # once per answer, in order
    latencies.sort()
    return {
        "requests": requests,
        "endpoints": dict(endpoints.most_common()),
        "abstained": abstained,
        "abstained_rate": abstained / answered if answered else None,
        "latency_ms": {"p50": _percentile(latencies, 50), "p95": _percentile(latencies, 95)},
        "top_questions": _spelled(asked, top),
        "unanswered": _spelled(unanswered, top),
        "top_cited": [{"doc": doc, "count": n} for doc, n in cited.most_common(top)],
        "first": min(times) if times else None,
        "last": max(times) if times else None,
    }
