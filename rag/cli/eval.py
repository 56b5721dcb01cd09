"""``rag eval`` (retrieval, answers, structure against gold, ablation, quality floors) and
``rag calibrate`` (the abstention threshold)."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from rag.cli.common import IndexOpt, _assistant, _searcher, _settings, err, out
from rag.errors import InputError, RagError


def _answer_metrics(items: list[Any], assistant: Any) -> Any:
    from rag.evaluate import evaluate_answers

    documents = assistant.searcher.index.documents()
    return evaluate_answers(
        items,
        lambda q: assistant.ask(q),
        lambda doc: documents[doc].text if doc in documents else None,
    )


def _near_misses(items: list[Any], assistant: Any, answers: Any) -> Any:
    """Near misses made from the answerable questions (another organisation), asked like the rest,
    and the curve and threshold they give (``rag.calibrate.near_miss_report``); None without any."""
    from rag.calibrate import make_near_misses, near_miss_report

    made = make_near_misses(items, assistant.searcher.organisations)
    if not made or not answers.confidence_answerable:
        return None
    asked = [(q.id, answer.confidence, answer.abstained) for q in made for answer in [assistant.ask(q.question)]]
    return near_miss_report(answers.confidence_answerable, answers.confidence_unanswerable, asked)


def _print_near_misses(report: Any, configured: float) -> None:
    table = Table(title="Abstention curve: answerable vs unanswerable (labelled + the tuning half of near misses)")
    for col in ("threshold", "unanswerable abstained", "answerable abstained"):
        table.add_column(col)
    for point in report.curve[::2]:
        table.add_row(
            f"{point.threshold:.4f}", f"{point.unanswerable_abstained:.0%}", f"{point.answerable_abstained:.1%}"
        )
    out.print(table)
    chosen = report.chosen
    out.print(
        f"Near misses (another organisation): {report.made} made, {report.held_out} held out; held out abstained "
        f"{report.held_out_abstained:.0%} at the configured threshold {configured:.4f}. Chosen threshold "
        f"(most unanswerable abstentions with at most 5% of answerable): {chosen.threshold:.4f}, abstaining on "
        f"{chosen.unanswerable_abstained:.0%} of unanswerable and {chosen.answerable_abstained:.1%} of answerable; "
        f"held out near misses abstained there: {report.held_out_abstained_at_chosen:.0%}.",
        markup=False,
        highlight=False,
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
    near = _near_misses(items, assistant, answers)
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
        if near:
            full["near_misses"] = asdict(near)
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
        kinds = Table(title="Answers by question kind: the first citation, or any, covers the gold answer")
        for col in ("kind", "answered", "first", "any"):
            kinds.add_column(col)
        for kind, (n, first, anywhere) in sorted(answers.kinds.items()):
            kinds.add_row(kind, str(n), f"{first / n:.2f}", f"{anywhere / n:.2f}")
        out.print(kinds)
        if calibration:
            _print_calibration(calibration, assistant.threshold, source)
        if near:
            _print_near_misses(near, assistant.threshold)
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
        measured |= {"answer.near_miss_abstain_rate": near.held_out_abstained} if near else {}
        measured |= plain.margins(report)  # margin.mrr@10 etc.: only with the baseline measured
        measured |= shape.metrics() if shape else {}  # structure.overall, structure.outcome ...
        unknown = [name for name in minimum if name not in measured]
        if unknown:
            raise InputError(f"{floor}: unknown metric(s) {', '.join(unknown)}. Use names from 'rag eval --json'.")
        below = [f"{name} {measured[name]} < {value}" for name, value in minimum.items() if measured[name] < value]
        if below:
            raise RagError("Quality dropped below the floor: " + "; ".join(below))
        out.print(f"Quality floor {floor}: met.")


def calibrate(
    questions: Annotated[list[Path], typer.Argument(help="Labelled question files (JSON lines), some unanswerable.")],
    index_dir: IndexOpt = None,
    write: Annotated[bool, typer.Option(help="Store the threshold in rag/calibration.json.")] = False,
) -> None:
    """Choose the abstention threshold on labelled questions, each folder of files one set, with
    near misses made from the answerable ones (another organisation): the highest threshold at
    which every set abstains on at most 5% of its answerable questions, fitted on one half of the
    questions (a stable hash of the id) and reported on the other half, which it never saw.

    Example: rag calibrate ../shared/realdocs/questions.jsonl ../shared/devset/questions_*.jsonl
    ../shared/eval/dev_questions.jsonl --index index --write
    """
    from rag.calibrate import CALIBRATION_FILE, held_out_calibration, make_near_misses, save
    from rag.evaluate import load_questions

    settings = _settings(index_dir)
    assistant = _assistant(settings)
    answerable: dict[str, list[tuple[str, float]]] = {}
    unanswerable: list[tuple[str, float]] = []
    for path in questions:
        items = load_questions(path)
        near = make_near_misses(items, assistant.searcher.organisations)
        for q in [*items, *near]:
            confidence = assistant.ask(q.question).confidence
            if q.doc and q.answer_quote:
                answerable.setdefault(str(path.parent), []).append((q.id, confidence))
            else:
                unanswerable.append((q.id, confidence))
    if not answerable or not unanswerable:
        raise InputError("Calibration needs both answerable and unanswerable questions (doc: null) in the files.")
    calibration, held = held_out_calibration(answerable, unanswerable)
    _print_calibration(calibration, assistant.threshold, "before this run")
    if not held:
        out.print("Too few questions to hold half out: the threshold is fitted on all of them.", markup=False)
    for name, value in held.items():
        out.print(f"held out, at {calibration.threshold:.4f}: {name} {value:.1%}", markup=False, highlight=False)
    if write:
        save(calibration, [str(p) for p in questions])
        out.print(f"Wrote {CALIBRATION_FILE}.", markup=False, highlight=False)


def weights(
    questions: Annotated[list[Path], typer.Argument(help="Labelled question files (JSON lines); each folder one set.")],
    index_dir: IndexOpt = None,
    folds: Annotated[int, typer.Option(min=2, help="Cross-validation folds of whole documents.")] = 5,
) -> None:
    """Fit the sentence weights (rag.answer.SENTENCE_WEIGHTS) on the candidates of every answerable
    question of all sets together, and print per set how often the first sentence holds the answer
    when the weights are fitted without the question's document (folds of whole documents), with
    and without the tie-break by closeness to the question, beside the weights in use. Every
    candidate sentence is embedded, so it takes a minute or two.

    Example: rag weights ../shared/realdocs/questions.jsonl ../shared/devset/questions_*.jsonl
    ../shared/eval/dev_questions.jsonl --index index
    """
    from dataclasses import replace

    from rag.answer import SENTENCE_WEIGHTS
    from rag.evaluate import load_questions
    from rag.sentence_model import candidate_rows, fit, held_out_first, signal_names

    assistant = _assistant(_settings(index_dir))
    sets: dict[str, str] = {}  # question key -> set
    asked = []
    for path in questions:
        for q in load_questions(path):
            key = f"{path.parent}:{q.id}"
            sets[key] = str(path.parent)
            asked.append(replace(q, id=key))
    rows = candidate_rows(assistant, asked, similarity=True)
    if not any(r.label for r in rows):
        raise InputError("No candidate sentence holds a gold answer: give answerable questions of this index.")
    names = signal_names(rows)
    table = Table(title=f"First sentence holds the answer, weights fitted without its document ({folds} folds)")
    for col in ("set", "questions", "held out", "held out, ties broken by closeness"):
        table.add_column(col)
    plain = held_out_first(rows, names, folds)
    tied = held_out_first(rows, names, folds, tie_break=True)
    for name in dict.fromkeys(sets.values()):
        keys = [k for k in plain if sets[k] == name]
        table.add_row(name, str(len(keys)), f"{sum(plain[k][0] for k in keys)}", f"{sum(tied[k][0] for k in keys)}")
    out.print(table)
    fitted = fit(rows, names)
    table = Table(title="Weights fitted on all of them, beside the weights in use")
    for col in ("signal", "fitted", "in use"):
        table.add_column(col)
    for name in [*names, "bias"]:
        used = SENTENCE_WEIGHTS.get(name)
        table.add_row(name, f"{fitted[name]:.2f}", "" if used is None else f"{used:.2f}")
    out.print(table)
