"""POST /api/ask: a question answered with cited quotes, or an abstention with related reading."""

from __future__ import annotations

import time

from fastapi import APIRouter

from rag.api.deps import AssistantDep, QueryLogDep, RootsDep
from rag.api.schemas.ask import AskIn, AskOut
from rag.api.schemas.common import error_responses
from rag.conversation import Turn

router = APIRouter()


@router.post("/api/ask", response_model=AskOut, tags=["answers"], responses=error_responses(413, 422))
def ask(a: AssistantDep, body: AskIn, roots: RootsDep, log: QueryLogDep) -> AskOut:
    """Answer a question with quoted sentences, each cited `[n]` to document, §, date and span, or
    abstain (`abstained: true`, `answer: null`) and return the nearest passages as related reading.
    Follow-ups ("Och vad beslutade Västerås?") are resolved against `history`."""
    started = time.perf_counter()
    history = [Turn(t.question, t.answer, t.standalone_question) for t in body.history]
    filters = body.filters.filters() if body.filters else None
    answer = a.ask(body.question, history=history, filters=filters, k=body.k)
    result = AskOut.model_validate(answer, context={"roots": roots})
    if log is not None:
        log.write(
            {
                "endpoint": "ask",
                "question": body.question,
                "standalone": answer.standalone,
                "history": [{"question": t.question, "answer": t.answer} for t in body.history],
                "filters": body.filters.model_dump(exclude_none=True) if body.filters else {},
                "latency_ms": round((time.perf_counter() - started) * 1000, 1),
                "abstained": answer.abstained,
                "cited": sorted({c.doc for c in answer.citations}),
                "hits": len(answer.passages),
                "status": 200,
            }
        )
    return result
