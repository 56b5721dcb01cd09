"""The app: its lifespan (the index and model load once), the middlewares, the exception handlers
that turn errors into 4xx answers, and the routers.

Every response is JSON; user input never produces a 500: bad values are 422 naming the field,
unknown documents 404, big bodies 413, too many requests from one client 429.

Access: a request without an ``Authorization`` header is a citizen's and is served from the public
view of the index (``ReadStore.public``), so internal documents are absent from every answer, hit, count,
list and error message; a valid staff (or admin) bearer token sees everything; any other
``Authorization`` header is a 401, never quietly treated as a citizen's.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag.api.auth import OidcSettings, add_staff_signin
from rag.api.deps import app_settings, open_query_log
from rag.api.middleware import BodyLimit, Cors, RateLimit, SecurityHeaders
from rag.api.routers import ask, documents, pages, precedent, search, status
from rag.api.service import Service
from rag.embed import Embedder
from rag.errors import IndexMissing, InputError, RagError
from rag.store import current_version

logger = logging.getLogger(__name__)


def create_app(embedder: Embedder | None = None, oidc: OidcSettings | None = None) -> FastAPI:
    """The app. Its settings come from ``get_settings`` (the ``RAG_*`` environment; ``rag serve`` puts
    its options there). An ``embedder`` already loaded (by ``rag serve``) is used instead of loading
    the model again; ``oidc`` configures staff sign-in (default: from ``RAG_OIDC_*``).

    Tests give their own settings with ``app.dependency_overrides[get_settings]``. A served app never
    does: while any override is set, FastAPI analyses every dependency's signature again on every
    request: a quarter of the server's throughput to one client (47 instead of 65 searches a second)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        conf = app_settings(app)
        app.state.service = Service(conf, embedder)
        app.state.query_log = open_query_log(conf)
        logger.info("serving index %s", current_version(conf))
        yield
        if app.state.query_log is not None:
            app.state.query_log.close()

    app = FastAPI(
        title="rag: Swedish municipal decisions on AI",
        description=(
            "Answers and search over protocols and guidelines on AI. Every answer is made of sentences quoted "
            "from the documents, each cited to document, §, date and character span; when the documents do "
            "not answer, the answer abstains and lists related passages.\n\n"
            "Without an `Authorization` header a request sees the public documents only; staff send "
            "`Authorization: Bearer <RAG_STAFF_TOKEN>` to see internal documents too (a wrong token is a 401)."
        ),
        version="0.2.0",
        lifespan=lifespan,
        docs_url=None,  # served by the pages router with a Content-Security-Policy that allows its one inline script
        redoc_url=None,
    )
    # outermost last: security headers on everything, CORS headers on every API answer (429 and 413
    # included), rate limit before a body is read, body limit around the app
    conf = partial(app_settings, app)
    app.add_middleware(BodyLimit, settings=conf, upload_path=documents.UPLOAD_PATH)
    app.add_middleware(RateLimit, settings=conf)
    app.add_middleware(Cors, settings=conf)
    add_staff_signin(app, oidc or OidcSettings())  # its session middleware inside the security headers
    app.add_middleware(SecurityHeaders, settings=conf)

    app.add_exception_handler(InputError, input_error)  # type: ignore[arg-type]
    app.add_exception_handler(IndexMissing, index_missing)
    app.add_exception_handler(RagError, rag_error)
    app.add_exception_handler(RequestValidationError, invalid)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]

    for router in (ask.router, search.router, documents.router, precedent.router, status.router, documents.admin):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=pages.WEB / "static"), name="static")
    app.mount("/static-docs", StaticFiles(directory=pages.SWAGGER_ASSETS), name="static-docs")
    app.include_router(pages.router)
    return app


async def input_error(request: Request, exc: InputError) -> JSONResponse:
    loc = ["body" if request.method == "POST" else "query", exc.field or "input"]
    return JSONResponse(status_code=422, content={"detail": [{"loc": loc, "msg": str(exc), "type": "value_error"}]})


async def index_missing(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(status_code=503, content={"detail": str(exc)})


async def rag_error(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(status_code=409, content={"detail": str(exc)})


async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "value_error")}
        for e in exc.errors()
    ]
    return JSONResponse(status_code=422, content={"detail": errors})


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """HTTP errors as they are, but FastAPI's 400 for a body it cannot parse (bytes that are not
    UTF-8 JSON, broken multipart) becomes a 422 naming the body and the fix, like every bad input."""
    if exc.status_code != 400:
        return await http_exception_handler(request, exc)
    if request.url.path == documents.UPLOAD_PATH:
        loc, msg = (
            ["body", "file"],
            (
                "file: the body is not valid multipart/form-data. Send the file as the form field 'file', "
                "e.g. curl -F file=@protokoll.pdf."
            ),
        )
    else:
        loc, msg = ["body"], 'body: the body is not UTF-8 JSON. Send a JSON object, e.g. {"question": "..."}.'
    return JSONResponse(status_code=422, content={"detail": [{"loc": loc, "msg": msg, "type": "value_error"}]})
