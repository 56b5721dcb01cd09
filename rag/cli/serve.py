"""``rag serve`` (the HTTP API) and ``rag report`` (what its query log says people asked)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from rag.cli.common import IndexOpt, _embedder, _settings, out
from rag.config import get_settings
from rag.errors import InputError


def serve(
    index_dir: IndexOpt = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on (default: RAG_HOST or 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: RAG_PORT or 8000).")] = None,
    refresh: Annotated[bool, typer.Option(help="Index RAG_CORPUS first when the index is missing or stale.")] = True,
    workers: Annotated[
        int, typer.Option(min=1, help="API processes (more than one needs RAG_STORE: they share PostgreSQL).")
    ] = 1,
) -> None:
    """Serve the HTTP API, first bringing the index up to date with the corpus.

    Example: rag serve --port 8000   (or: RAG_STORE=postgresql://... rag serve --workers 4)
    """
    import os

    import uvicorn

    from rag.build import build_index
    from rag.store import publish

    if index_dir is not None:  # the app reads its settings from the environment (rag.api.deps.get_settings)
        os.environ["RAG_INDEX_DIR"] = str(index_dir)
    settings = _settings(index_dir)
    if workers > 1 and not settings.store:
        raise InputError(
            f"--workers {workers}: several processes would each count the rate limit and rotate the query log "
            "on their own. Set RAG_STORE to a PostgreSQL URL (rag postgres start --data DIR) so they share them, "
            "or serve with one worker."
        )
    embedder = _embedder(settings)
    if refresh:
        report = build_index(settings.corpus, settings.index_dir, embedder, settings)
        publish(settings)
        out.print(
            f"Index {settings.index_dir}: {report.documents} documents, {report.chunks} chunks "
            f"({report.embedded} embedded now).",
            markup=False,
            highlight=False,
        )
    if workers > 1:  # each worker imports server and builds its app from the environment
        uvicorn.run("server:app", host=host or settings.host, port=port or settings.port, workers=workers)
        return
    from rag.api.app import create_app

    uvicorn.run(create_app(embedder), host=host or settings.host, port=port or settings.port, log_level="info")


def _report_table(title: str, heading: str, rows: list[dict[str, Any]], key: str) -> Table:
    from rich.text import Text

    table = Table(title=title, title_justify="left")
    table.add_column("count", justify="right")
    table.add_column(heading)
    for row in rows:
        table.add_row(str(row["count"]), Text(row[key]))  # Text: a masked "[telefon]" is not markup
    return table


def _report_line(summary: dict[str, Any], skipped: int) -> str:
    endpoints = ", ".join(f"{name} {n}" for name, n in summary["endpoints"].items())
    parts = [f"{summary['requests']} requests ({endpoints or 'none'})"]
    if summary["first"]:
        parts[0] += f" from {summary['first']} to {summary['last']}"
    if summary["abstained_rate"] is not None:
        parts.append(f"abstained {summary['abstained']} ({summary['abstained_rate']:.0%} of answers)")
    latency = summary["latency_ms"]
    if latency["p50"] is not None:
        parts.append(f"latency p50 {latency['p50']:.0f} ms, p95 {latency['p95']:.0f} ms")
    if skipped:
        parts.append(f"{skipped} lines skipped (not JSON objects)")
    return "; ".join(parts) + "."


def report(
    log: Annotated[
        Path | None, typer.Option("--log", help="Query log (default: RAG_QUERY_LOG or logs/queries.jsonl).")
    ] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Rows per table.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Summarise the query log (and its rotated backups): traffic, abstentions, latency, frequent and
    unanswered questions, most cited documents.

    Example: rag report --top 10
    """
    from rag.querylog import read_entries, summarise

    if log is None:
        log = get_settings().query_log
    if log is None:
        raise InputError(
            "The query log is off (RAG_QUERY_LOG is empty). Set RAG_QUERY_LOG=logs/queries.jsonl for 'rag serve' "
            "to turn it on, or pass --log PATH to read a log."
        )
    store = get_settings().store
    if store and log == get_settings().query_log:  # the servers log to the database they share
        from rag import pgshared
        from rag.store.postgres import safe_url

        source, entries, skipped = safe_url(store), list(pgshared.read_entries(store)), 0
        summary = summarise(entries, top=top)
    else:
        file_entries = read_entries(log)
        summary = summarise(file_entries, top=top)
        source, skipped = str(log), file_entries.skipped
    if as_json:
        print(json.dumps(summary | {"log": source, "skipped_lines": skipped}, ensure_ascii=False, indent=2))
        return
    out.print(_report_table("Most frequent questions", "question", summary["top_questions"], "question"))
    out.print(_report_table("Unanswered questions", "question", summary["unanswered"], "question"))
    out.print(_report_table("Most cited documents", "document", summary["top_cited"], "doc"))
    out.print(_report_line(summary, skipped), markup=False, highlight=False)
