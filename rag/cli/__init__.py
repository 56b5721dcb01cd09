"""The ``rag`` command line: verbs mirror the pipeline. The only package besides the server that prints.

One module per group of commands: ``index`` (index, model), ``ask`` (search, ask, matter), ``eval``
(eval, calibrate, weights), ``serve`` (serve, report), ``bench``, ``postgres`` (start, stop, status);
``common`` holds the consoles and what the commands share. The commands are registered here, in
the order ``rag --help`` lists them.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from rag.cli import ask, bench, eval, index, postgres, serve
from rag.cli.common import err
from rag.errors import RagError

app = typer.Typer(
    help="Search Swedish municipal protocols and guidelines on AI, with cited passages.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress to stderr.")] = False) -> None:
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets itself to DEBUG on import


app.command()(index.index)
app.command()(index.model)
app.command()(ask.search)
app.command("eval")(eval.eval_)
app.command()(eval.calibrate)
app.command()(eval.weights)
app.command()(ask.ask)
app.command()(serve.serve)
app.command()(serve.report)
app.command()(bench.bench)
app.add_typer(postgres.postgres_app, name="postgres")
app.command()(ask.matter)


def main() -> None:
    try:
        app()
    except RagError as exc:
        err.print(f"Error: {exc}", markup=False, highlight=False)
        sys.exit(1)
