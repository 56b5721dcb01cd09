"""Decisions across organisations: on a matter asked about (/api/precedent), on the matter of a
document (/api/documents/{id}/similar), and a matter's history by its case number (/api/matters)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi import Path as PathParam

from rag.api.deps import AssistantDep, QueryLogDep, RootsDep, SettingsDep, find_document
from rag.api.schemas.common import MAX_QUERY_BYTES, OUTCOME, QUERY_LIMIT, check_query, error_responses
from rag.api.schemas.precedent import MattersOut, PrecedentOut
from rag.errors import InputError
from rag.matters import dnr_key, matters
from rag.precedent import precedent, similar
from rag.types import Filters

router = APIRouter()


@router.get("/api/precedent", response_model=PrecedentOut, tags=["precedent"], responses=error_responses(422))
def precedent_(
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
            examples=["Ska kommunen ta fram en AI-strategi?"],
        ),
    ],
    k: Annotated[int, Query(ge=1, le=50, description="Most decisions to list.")] = 20,
    outcome: Annotated[str | None, Query(max_length=50, examples=["avslag"], json_schema_extra=OUTCOME)] = None,
) -> PrecedentOut:
    """Decisions on the matter from every organisation: one row per decision with its outcome and
    decisive sentence as a citation; the same item found in several documents is one row."""
    started = time.perf_counter()
    check_query(q, settings)
    rows = precedent(a.searcher, q, filters=Filters(outcome=outcome), limit=k)
    if log is not None:
        log.write(
            {
                "endpoint": "precedent",
                "question": q,
                "filters": {"outcome": outcome} if outcome else {},
                "latency_ms": round((time.perf_counter() - started) * 1000, 1),
                "abstained": None,
                "cited": sorted({r.citation.doc for r in rows}),
                "hits": len(rows),
                "status": 200,
            }
        )
    return PrecedentOut.model_validate({"query": q, "decisions": rows}, context={"roots": roots})


@router.get(
    "/api/documents/{doc_id}/similar",
    response_model=PrecedentOut,
    tags=["precedent"],
    responses=error_responses(404, 422),
)
def similar_(
    a: AssistantDep,
    roots: RootsDep,
    doc_id: Annotated[str, PathParam(max_length=300)],
    k: Annotated[int, Query(ge=1, le=50)] = 20,
) -> PrecedentOut:
    """Decisions by other organisations on the same matter as this document."""
    find_document(a, doc_id)
    rows = similar(a.searcher, doc_id, limit=k)
    return PrecedentOut.model_validate({"query": doc_id, "decisions": rows}, context={"roots": roots})


@router.get(
    "/api/matters/{dnr:path}", response_model=MattersOut, tags=["precedent"], responses=error_responses(404, 422)
)
def matters_(a: AssistantDep, dnr: Annotated[str, PathParam(max_length=100)]) -> MattersOut:
    """A matter's history: every item with this case number (any spelling), and the motion it
    answers, in date order, one matter per organisation; each step with its body, outcome and
    decisive sentence."""
    if dnr_key(dnr) is None:
        raise InputError(f"dnr: '{dnr}' is not a case number. Give one like 'KS 2024/551'.", field="dnr")
    return MattersOut(dnr=dnr, matters=matters(a.searcher.index.documents().values(), dnr))
