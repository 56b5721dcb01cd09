"""The HTTP API: a FastAPI app over ``rag``. Heavy things (settings, model, index) load once, in the lifespan.

Run with ``rag serve``; ``uvicorn server:app`` works too.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse

from rag.config import Settings, get_settings
from rag.embed import Embedder
from rag.errors import IndexMissing, InputError, RagError
from rag.search import Searcher, hit_dict
from rag.types import Filters

logger = logging.getLogger(__name__)


def get_searcher(request: Request) -> Searcher:
    """The searcher loaded in the lifespan."""
    return request.app.state.searcher  # type: ignore[no-any-return]


SearcherDep = Annotated[Searcher, Depends(get_searcher)]


def create_app(settings: Settings | None = None, embedder: Embedder | None = None) -> FastAPI:
    """The app; ``settings`` override the environment (tests pass their own), and an ``embedder``
    already loaded (by ``rag serve``) is used instead of loading the model again."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        conf = settings or get_settings()
        app.state.settings = conf
        app.state.searcher = Searcher.open(conf, embedder)
        logger.info("serving index %s", app.state.searcher.index.path)
        yield

    app = FastAPI(
        title="rag: Swedish municipal decisions on AI",
        description="Search protocols and guidelines on AI, with passages cited to document, §, date and span.",
        version="0.1.0",
        lifespan=lifespan,
    )

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": str(exc)})

    @app.exception_handler(IndexMissing)
    async def missing(request: Request, exc: IndexMissing) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": str(exc)})

    @app.exception_handler(RagError)
    async def rag_error(request: Request, exc: RagError) -> JSONResponse:
        return JSONResponse(status_code=400, content={"detail": str(exc)})

    @app.get("/api/health")
    def health(s: SearcherDep) -> dict[str, Any]:
        return {"status": "ok", "documents": len(s.index.documents), "chunks": len(s.index.chunks)}

    @app.get("/api/search")
    def search(
        s: SearcherDep,
        q: Annotated[str, Query(min_length=1, max_length=1000, examples=["Vad beslutade Tibro om en AI-strategi?"])],
        k: Annotated[int, Query(ge=1, le=100)] = 10,
        organisation: str | None = None,
        body: str | None = None,
        date_from: Annotated[str | None, Query(alias="from")] = None,
        date_to: Annotated[str | None, Query(alias="to")] = None,
        doc_type: Annotated[str | None, Query(alias="type")] = None,
        outcome: str | None = None,
    ) -> dict[str, Any]:
        filters = Filters(organisation, body, date_from, date_to, doc_type, outcome)
        hits = s.search(q, k=k, filters=filters)
        return {"query": q, "hits": [hit_dict(h) for h in hits]}

    return app


app = create_app()
