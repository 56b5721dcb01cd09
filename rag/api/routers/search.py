"""GET /api/search: a page of hits with highlighted snippets and facet counts, one per item (§) with
``group=item``, and why a query that can find nothing real finds nothing."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from rag.answer import Assistant
from rag.api.deps import AssistantDep, QueryLogDep, RootsDep, SettingsDep
from rag.api.schemas.ask import passage_fields
from rag.api.schemas.common import DATE, MAX_PAGE, MAX_QUERY_BYTES, OUTCOME, QUERY_LIMIT, check_query, error_responses
from rag.api.schemas.documents import is_ocr
from rag.api.schemas.search import SearchOut
from rag.display import display, display_text, repaired_reading
from rag.highlight import snippet
from rag.normalise import analyse, tokenize
from rag.results import EmptyReason, empty_reason, facet_counts, group_hits, selected, unknown_dnrs
from rag.search import facets, validate_filters
from rag.types import Filters, Hit

router = APIRouter()


def _passage(a: Assistant, hit: Hit, keys: set[str]) -> dict[str, Any]:
    """A hit's passage with its snippet: the matched words highlighted, as document offsets and as shown."""
    document = a.searcher.index.documents()[hit.chunk.doc]
    s = snippet(document.text, hit.chunk.start, hit.chunk.end, keys)
    shown = display(s.text, s.highlights, offset=s.start)
    ocr = is_ocr(document)
    return passage_fields(hit) | {
        "ocr": ocr,
        "repaired_title": display_text(repaired_reading(hit.chunk.title)) if ocr else None,
        "snippet": {
            "text": s.text,
            "start": s.start,
            "end": s.end,
            "highlights": s.highlights,
            "display": {
                "text": shown.text,
                "highlights": shown.highlights,
                "repaired": repaired_reading(shown.text) if ocr else None,
            },
        },
    }


def _why_empty(a: Assistant, q: str) -> EmptyReason | None:
    """Why the query can find nothing real (``rag.results.empty_reason``), or None when it can."""
    searcher = a.searcher
    info = searcher.understand(q)
    keys = sorted(searcher.query_keys(q))
    words = {k: token.word for token in tokenize(q) for k in analyse(token.word)}
    index = searcher.index
    missing = unknown_dnrs(info.dnrs, index.values("dnr"), lambda: (d.text for d in index.documents().values()))
    return empty_reason(keys, index.document_frequency, a.unknown_places(info), missing, words)


@router.get("/api/search", response_model=SearchOut, tags=["search"], responses=error_responses(422))
def search(
    a: AssistantDep,
    settings: SettingsDep,
    roots: RootsDep,
    log: QueryLogDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_QUERY_BYTES,
            description=QUERY_LIMIT,
            examples=["Vad beslutade Tibro om en AI-strategi?"],
        ),
    ],
    k: Annotated[int, Query(ge=1, le=50, description="Hits per page.")] = 10,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    organisation: Annotated[str | None, Query(max_length=200, examples=["Tibro"])] = None,
    body: Annotated[str | None, Query(max_length=200, examples=["KF"])] = None,
    date_from: Annotated[
        str | None, Query(alias="from", max_length=10, examples=["2024"], json_schema_extra=DATE)
    ] = None,
    date_to: Annotated[
        str | None, Query(alias="to", max_length=10, examples=["2024-12"], json_schema_extra=DATE)
    ] = None,
    doc_type: Annotated[str | None, Query(alias="type", max_length=50, examples=["protokoll"])] = None,
    outcome: Annotated[str | None, Query(max_length=50, examples=["avslag"], json_schema_extra=OUTCOME)] = None,
    group: Annotated[
        Literal["item"] | None,
        Query(description="item: one hit per item (§) or document, its other passages under `more`."),
    ] = None,
) -> SearchOut:
    """Passages for a query, a page at a time, with highlighted snippets and facet counts; with
    `group=item` one hit per item (§) or document. A query that can find nothing real (only
    stopwords or markup, words no document has, a place no document is from or mentions, an
    unknown Dnr) has no hits and says why in `empty`."""
    started = time.perf_counter()
    check_query(q, settings)
    filters = Filters(organisation, body, date_from, date_to, doc_type, outcome)
    searcher = a.searcher
    validate_filters(filters)
    searcher.check_filters(filters)  # an unknown value is a 422 listing the values that exist
    reason = _why_empty(a, q)
    keys = searcher.query_keys(q)
    shown: list[dict[str, Any]]
    if group == "item":
        # ranked without the facet selections, which then pick from the same groups their counts count
        dated = Filters(date_from=date_from, date_to=date_to)
        groups = [] if reason else group_hits(searcher.results(q, filters=dated))
        chosen = selected(groups, filters)
        counts, documents = facet_counts(groups, filters)
        total = len(chosen)
        shown = [
            _passage(a, g.best, keys) | {"more": [_passage(a, h, keys) for h in g.hits[1:]]}
            for g in chosen[(page - 1) * k : page * k]
        ]
        cited = sorted({g.doc for g in chosen[(page - 1) * k : page * k]})
    else:
        results = [] if reason else searcher.results(q, filters=filters)
        total = len(results)
        shown = [_passage(a, hit, keys) for hit in results[(page - 1) * k : page * k]]
        counts = facets(results)
        _, documents = facet_counts(group_hits(results), Filters())
        cited = sorted({h["doc"] for h in shown})
    if log is not None:
        log.write(
            {
                "endpoint": "search",
                "question": q,
                "filters": {k2: v for k2, v in vars(filters).items() if v is not None},
                "latency_ms": round((time.perf_counter() - started) * 1000, 1),
                "abstained": None,
                "cited": cited,
                "hits": total,
                "status": 200,
            }
        )
    result = {
        "query": q,
        "total": total,
        "page": page,
        "k": k,
        "pages": (total + k - 1) // k,
        "hits": shown,
        "facets": counts,
        "facet_documents": documents,
        "empty": reason,
        "query_organisations": list(searcher.understand(q).organisations),
    }
    return SearchOut.model_validate(result, context={"roots": roots})
