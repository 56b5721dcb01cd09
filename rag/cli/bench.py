"""``rag bench``: speed, memory and scale on this machine, printed as tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, get_args

import typer
from rich.console import Console
from rich.table import Table

from rag.cli.common import err
from rag.config import Backend, get_settings
from rag.errors import InputError


def bench(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="The real corpus (default: corpus and ../shared/corpus).")
    ] = None,
    sizes: Annotated[
        str, typer.Option(help="Synthetic corpus sizes in chunks, comma-separated.")
    ] = "1000,10000,100000",
    questions: Annotated[
        list[Path] | None, typer.Option("--questions", help="Question files (the first also measures quality).")
    ] = None,
    work: Annotated[Path | None, typer.Option(help="Scratch folder (default: a temporary one, removed after).")] = None,
    requests: Annotated[int, typer.Option(help="Most HTTP requests per concurrency level.")] = 400,
    seconds: Annotated[float, typer.Option(help="Most seconds per concurrency level.")] = 30.0,
    backends: Annotated[
        str, typer.Option(help="Model backends to compare side by side, comma-separated ('' for none).")
    ] = "torch,onnx,onnx-int8",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    store: Annotated[
        str | None,
        typer.Option(
            help="Also serve from PostgreSQL: a URL, or 'local' to start one in the scratch folder ('rag postgres')."
        ),
    ] = None,
    ray_workers: Annotated[
        str, typer.Option(help="Also measure ingest on Ray with these numbers of model actors, e.g. '1,2'.")
    ] = "",
) -> None:
    """Measure speed, memory and scale on this machine, with retrieval quality beside them.

    Example: rag bench --sizes 1000,10000,100000
    """
    import shutil
    import tempfile

    from rag.bench import run

    settings = get_settings()
    shared = Path("..") / "shared"
    paths = paths or [p for p in (Path("corpus"), shared / "corpus") if p.exists()]
    questions = questions or [
        p for p in (shared / "eval" / "dev_questions.jsonl", Path("eval") / "tune_questions.jsonl") if p.exists()
    ]
    if not questions:
        raise InputError("Give --questions FILE.jsonl: no default question file was found.")
    try:
        size_list = [int(s) for s in sizes.split(",") if s.strip()]
    except ValueError as exc:
        raise InputError(f"--sizes: '{sizes}' is not a list of numbers. Use e.g. 1000,10000,100000.") from exc
    compare = [b.strip() for b in backends.split(",") if b.strip()]
    unknown = sorted(set(compare) - set(get_args(Backend)))
    if unknown:
        raise InputError(f"--backends: unknown {', '.join(unknown)}. Choose from {', '.join(get_args(Backend))}.")
    scratch = work or Path(tempfile.mkdtemp(prefix="rag-bench-"))
    local_pg = scratch / "postgres" if store == "local" else None
    if local_pg is not None:
        from rag import pgserver

        store = pgserver.start(local_pg).url
    try:
        report = run(
            settings,
            paths,
            questions,
            size_list,
            scratch,
            max_requests=requests,
            max_seconds=seconds,
            compare=compare,
            say=lambda line: err.print(line, markup=False, highlight=False),
            store=store,
            ray_workers=[int(w) for w in ray_workers.split(",") if w.strip()],
        )
    finally:
        if local_pg is not None:
            from rag import pgserver

            pgserver.stop(local_pg)
        if work is None:
            shutil.rmtree(scratch, ignore_errors=True)
    if as_json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return
    _print_bench(report)


def _print_bench(report: dict[str, Any]) -> None:
    # the tables are wide: a pipe gets 160 columns, and a cell too narrow folds instead of losing digits
    out = Console(soft_wrap=True, width=max(160, Console().width))
    m = report["machine"]
    out.print(
        f"Machine: {m['cores']} cores, {m['cpu']}, {m['memory_gb']} GB; Python {m['python']}; "
        + ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v),
        markup=False,
        highlight=False,
    )
    if report["backends"]:
        files = list(report["backends"][0]["quality"])
        table = Table(title="Model backends (fresh process each; quality of its own index, hybrid and dense)")
        for col in ("backend", "load s", "RSS MB", "ingest chunks/s (tokens/s)", "query embed p50/p95 ms"):
            table.add_column(col, overflow="fold")
        for name in files:
            table.add_column(f"{name}: hybrid R@5 / MRR", overflow="fold")
            table.add_column("dense R@5 / MRR", overflow="fold")
        for b in report["backends"]:
            q = b["query_embed_ms"]
            quality = [
                f"{b['quality'][f][mode]['recall@5']:.3f} / {b['quality'][f][mode]['mrr@10']:.3f}"
                for f in files
                for mode in ("hybrid", "dense")
            ]
            table.add_row(
                b["backend"],
                str(b["load_s"]),
                str(b["rss_loaded_mb"]),
                f"{b['ingest']['chunks_per_s']} ({b['ingest']['tokens_per_s']})",
                f"{q['p50']} / {q['p95']}",
                *quality,
            )
        out.print(table)
    i = report["ingest"]
    out.print(
        f"Ingest with the real model ({i['backend']}): {i['chunks']} chunks in {i['seconds']} s = "
        f"{i['chunks_per_s']} chunks/s, {i['mb_per_s']} MB of text/s, {i['tokens_per_s']} model tokens/s "
        f"({i['tokens_per_chunk']} per chunk)",
        markup=False,
        highlight=False,
    )
    for r in report.get("ray_ingest", []):
        out.print(
            f"Ingest on Ray ({r['workers']} model actor(s), one loopback node): {r['chunks_per_s']} chunks/s, "
            f"{r['tokens_per_s']} model tokens/s",
            markup=False,
            highlight=False,
        )
    real = report["real"]
    table = Table(
        title=f"Real corpus: {real['documents']} documents, {real['chunks']} chunks "
        f"(build {real['build_s']} s, load {real['load_s']} s, {real['index_mb']} MB); {report['questions']} questions"
    )
    for col in ("mode", "R@1", "R@5", "MRR@10", "p50 ms", "p95 ms", "p99 ms"):
        table.add_column(col, overflow="fold")
    for mode, lat in real["latency_ms"].items():
        q = real["quality"].get(mode, {})
        table.add_row(
            mode,
            *(f"{q[k]:.3f}" if k in q else "" for k in ("recall@1", "recall@5", "mrr@10")),
            *(str(lat.get(k, "")) for k in ("p50", "p95", "p99")),
        )
    out.print(table)
    table = Table(title=f"HTTP {report['http'][0]['endpoint']}")
    for col in ("store", "workload", "clients", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms"):
        table.add_column(col, overflow="fold")
    columns = ("concurrency", "requests", "errors", "rps", "p50_ms", "p95_ms", "p99_ms")
    for served in report["http"]:
        for workload, runs in (("search", served["runs"]), ("half ask, half search", served.get("mixed", []))):
            for r in runs:
                table.add_row(served.get("store", "embedded"), workload, *(str(r[k]) for k in columns))
    out.print(table)
    if report["scale"]:
        table = Table(title="Scale: synthetic corpora (fresh processes; query latency with the real model)")
        for col in (
            "chunks",
            "store",
            "build s (publish s)",
            "build peak RSS MB",
            "index MB",
            "load s",
            "serving RSS MB: model / all / peak",
            "hybrid p50/p95/p99 ms",
            "lexical p50/p95",
            "dense p50/p95",
            "hybrid cached p50/p95",
            "dense index",
            "recall@10 / @100",
        ):
            table.add_column(col, overflow="fold")
        for s in report["scale"]:
            lat = s["latency_ms"]

            def cell(mode: str, keys: tuple[str, ...] = ("p50", "p95"), lat: dict[str, Any] = lat) -> str:
                return " / ".join(str(lat[mode][k]) for k in keys)

            published = f" ({s['publish_s']})" if s.get("store") == "postgresql" else ""
            table.add_row(
                str(s["chunks"]),
                s.get("store", "embedded"),
                f"{s['build_s']}{published}",
                str(s["build_peak_rss_mb"]),
                str(s["index_mb"]),
                str(s["load_s"]),
                f"{s['rss_model_mb']} / {s['rss_mb']} / {s['peak_rss_mb']}",
                cell("hybrid", ("p50", "p95", "p99")),
                cell("lexical"),
                cell("dense"),
                cell("hybrid, query vector cached"),
                s["dense"]["kind"],
                f"{s['dense']['recall@10']} / {s['dense']['recall@100']}",
            )
        out.print(table)
        out.print("Dense vectors of synthetic chunks: " + report["scale"][0]["vectors"], markup=False, highlight=False)
