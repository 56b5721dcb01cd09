"""``rag search``, ``rag ask`` and ``rag matter``: reading the index, with the filters the API has."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from rag.api.paths import roots
from rag.cli.common import IndexOpt, _assistant, _settings, out
from rag.errors import InputError
from rag.types import Answer, Filters, Hit

# The options rag search and rag ask share: batch mode and the filters the API has.
QueriesOpt = Annotated[Path | None, typer.Option("--queries", help="JSON lines of {id, question}: batch mode.")]
OrganisationOpt = Annotated[str | None, typer.Option("--organisation", help="Only this organisation, e.g. 'Tibro'.")]
FromOpt = Annotated[str | None, typer.Option("--from", help="From date, YYYY[-MM[-DD]].")]
ToOpt = Annotated[str | None, typer.Option("--to", help="To date, YYYY[-MM[-DD]].")]
TypeOpt = Annotated[str | None, typer.Option("--type", help="Document type, e.g. protokoll.")]
OutcomeOpt = Annotated[str | None, typer.Option("--outcome", help="Decision outcome, e.g. avslag.")]


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


def _passages(hits: list[Hit], folders: list[Path]) -> list[dict[str, Any]]:
    """Hits as the API writes a passage (``PassageOut``): paths relative to the corpus folders."""
    from rag.api.schemas.ask import PassageOut

    return [
        PassageOut.model_validate(h, context={"roots": folders}).model_dump(mode="json", by_alias=True) for h in hits
    ]


def _answer(answer: Answer, folders: list[Path]) -> dict[str, Any]:
    """An answer as ``POST /api/ask`` writes it (``AskOut``)."""
    from rag.api.schemas.ask import AskOut

    return AskOut.model_validate(answer, context={"roots": folders}).model_dump(mode="json", by_alias=True)


def _read_queries(path: Path) -> list[dict[str, Any]]:
    from rag.evaluate import load_questions

    return [{"id": q.id, "question": q.question} for q in load_questions(path)]


def search(
    query: Annotated[str | None, typer.Argument(help="The question or words to search for.")] = None,
    index_dir: IndexOpt = None,
    k: Annotated[int, typer.Option("-k", help="Number of hits.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    queries: QueriesOpt = None,
    organisation: OrganisationOpt = None,
    body: Annotated[str | None, typer.Option(help="Only this body, e.g. 'Kommunstyrelsen' or 'KS'.")] = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    doc_type: TypeOpt = None,
    outcome: OutcomeOpt = None,
    mode: Annotated[str, typer.Option(help="hybrid, lexical or dense.")] = "hybrid",
) -> None:
    """Search the index for passages.

    Example: rag search "Vad beslutade Tibro om en AI-strategi?" -k 3 --json
    """
    if (query is None) == (queries is None):
        raise InputError("Give either a QUERY or --queries FILE.jsonl, not both or neither.")
    settings = _settings(index_dir)
    filters = _filters(organisation, body, date_from, date_to, doc_type, outcome)
    searcher = _assistant(settings).searcher  # the product's search: with the passage order by answer signals
    folders = roots(settings)  # documents named as the API names them, never by this machine's paths
    if queries is not None:
        for row in _read_queries(queries):
            hits = searcher.search(row["question"], k=k, filters=filters, mode=mode)
            print(json.dumps({"id": row["id"], "hits": _passages(hits, folders)}, ensure_ascii=False))
        return
    assert query is not None
    hits = searcher.search(query, k=k, filters=filters, mode=mode)
    if as_json:
        print(json.dumps({"query": query, "hits": _passages(hits, folders)}, ensure_ascii=False, indent=2))
        return
    if not hits:
        out.print("No hits.")
    for rank, hit in enumerate(hits, start=1):
        c = hit.chunk
        where = ", ".join(x for x in (c.organisation, c.body, c.paragraph, c.date, c.section) if x)
        out.print(f"[bold]{rank}. {c.doc}[/bold] [{c.start}:{c.end}] {where}  (score {hit.score:.4f})")
        out.print("   " + " ".join(c.text.split())[:400], markup=False, highlight=False)


def ask(
    question: Annotated[str | None, typer.Argument(help="The question.")] = None,
    index_dir: IndexOpt = None,
    k: Annotated[int, typer.Option("-k", help="Passages to return as reading.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="Print the /api/ask JSON.")] = False,
    queries: QueriesOpt = None,
    organisation: OrganisationOpt = None,
    body: Annotated[str | None, typer.Option(help="Only this body, e.g. 'KS'.")] = None,
    date_from: FromOpt = None,
    date_to: ToOpt = None,
    doc_type: TypeOpt = None,
    outcome: OutcomeOpt = None,
) -> None:
    """Answer a question with quotes cited to document, §, date and span, or abstain.

    Example: rag ask "Vad beslutade Tibro om en AI-strategi?" --index index
    """
    if (question is None) == (queries is None):
        raise InputError("Give either a QUESTION or --queries FILE.jsonl, not both or neither.")
    settings = _settings(index_dir)
    filters = _filters(organisation, body, date_from, date_to, doc_type, outcome)
    assistant = _assistant(settings)
    folders = roots(settings)  # documents named as the API names them, never by this machine's paths
    if queries is not None:
        for row in _read_queries(queries):
            answer = assistant.ask(row["question"], filters=filters, k=k)
            print(json.dumps({"id": row["id"]} | _answer(answer, folders), ensure_ascii=False))
        return
    assert question is not None
    answer = assistant.ask(question, filters=filters, k=k)
    if as_json:
        print(json.dumps(_answer(answer, folders), ensure_ascii=False, indent=2))
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
