"""/api/health and /api/stats: what is served, and what the index holds."""

from __future__ import annotations

from fastapi import APIRouter

from rag.api.deps import AssistantDep, SettingsDep
from rag.api.schemas.common import error_responses
from rag.api.schemas.status import HealthOut, StatsOut

router = APIRouter()


@router.get("/api/health", response_model=HealthOut, tags=["service"], responses=error_responses())
def health(a: AssistantDep) -> HealthOut:
    index = a.searcher.index
    return HealthOut(status="ok", documents=len(index.documents()), chunks=index.count, index=index.version)


@router.get("/api/stats", response_model=StatsOut, tags=["service"], responses=error_responses())
def stats(a: AssistantDep, settings: SettingsDep) -> StatsOut:
    """What is indexed: documents, chunks, organisations, document types, model and build time."""
    index = a.searcher.index
    organisations: dict[str, int] = {}
    doc_types: dict[str, int] = {}
    years: dict[str, int] = {}
    for d in index.documents().values():
        if d.organisation:
            organisations[d.organisation] = organisations.get(d.organisation, 0) + 1
        doc_types[d.doc_type] = doc_types.get(d.doc_type, 0) + 1
        if d.date:
            years[d.date[:4]] = years.get(d.date[:4], 0) + 1
    return StatsOut(
        documents=len(index.documents()),
        chunks=index.count,
        organisations=dict(sorted(organisations.items())),
        doc_types=dict(sorted(doc_types.items())),
        years=dict(sorted(years.items())),
        max_question_chars=settings.max_question_chars,
        model=dict(index.manifest.get("model", {})),
        built_at=index.manifest.get("built_at"),
        index=index.version,
    )
