"""What the commands share: the two consoles (results to stdout, progress and errors to stderr), the
--index option, and settings, model, searcher and assistant opened for one run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from rag.config import Settings, get_settings

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

IndexOpt = Annotated[Path | None, typer.Option("--index", help="Index directory (default: RAG_INDEX_DIR or ./index).")]


def _settings(index: Path | None) -> Settings:
    settings = get_settings()
    if index is not None:
        settings = settings.model_copy(update={"index_dir": index})
    return settings


def _embedder(settings: Settings) -> Any:
    from rag.embed import load_embedder

    return load_embedder(settings)


def _searcher(settings: Settings) -> Any:
    from rag.search import Searcher

    return Searcher.open(settings)


def _assistant(settings: Settings) -> Any:
    from rag.answer import Assistant

    return Assistant.open(settings)
