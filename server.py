"""The HTTP API: a FastAPI app over ``rag``. Heavy things (settings, model, index) load once, in the
lifespan; a new index version (from ``rag index`` or an upload) is picked up without a restart.

Run with ``rag serve``; ``uvicorn server:app`` works too. Every response is JSON; user input never
produces a 500: bad values are 422 naming the field, unknown documents 404, big bodies 413, too
many requests from one client 429.

Access: a request without an ``Authorization`` header is a citizen's and is served from the public
view of the index (``rag.access``), so internal documents are absent from every answer, hit, count,
list and error message; a valid staff (or admin) bearer token sees everything; any other
``Authorization`` header is a 401, never quietly treated as a citizen's.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import time
import unicodedata
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, Literal

import fastapi_offline
from fastapi import Depends, FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag.answer import Assistant
from rag.api.auth import OidcSettings, add_staff_signin, bearer_matches, signed_in
from rag.api.middleware import BodyLimit, RateLimit, SecurityHeaders, content_security_policy
from rag.api.schemas.ask import AskIn, AskOut
from rag.api.schemas.common import DATE, OUTCOME, error_responses
from rag.api.schemas.documents import DeleteOut, DocumentOut, PassageContextOut, UploadOut
from rag.api.schemas.precedent import MattersOut, PrecedentOut
from rag.api.schemas.search import SearchOut
from rag.api.schemas.status import HealthOut, StatsOut
from rag.api.service import Service
from rag.bodies import ask_body, relative_path, with_display, without_server_paths
from rag.bodies import roots as corpus_roots
from rag.config import Settings, get_settings
from rag.conversation import Turn
from rag.display import display, display_text, markup_spans, ocr_damage, repaired_reading
from rag.embed import Embedder
from rag.errors import IndexMissing, InputError, RagError
from rag.highlight import snippet
from rag.index import build_index
from rag.matters import dnr_key, matters
from rag.normalise import analyse, tokenize
from rag.parse import INTERNAL_DIR, SUPPORTED
from rag.pgshared import PgQueryLog
from rag.precedent import decision_dict, precedent, similar
from rag.querylog import QueryLog
from rag.results import EmptyReason, empty_reason, facet_counts, group_hits, selected, unknown_dnrs
from rag.search import facets, hit_dict, validate_filters
from rag.store import current_version, publish
from rag.types import Filters, Hit

logger = logging.getLogger(__name__)

MAX_PAGE = 100
OCR_DAMAGE = 0.06  # words read differently: OCR texts 0.13-0.23, clean protocols and guidelines 0.001-0.037
# what a query string may hold at all; the limit people get is RAG_MAX_QUESTION_CHARS, checked in the route
MAX_QUERY_BYTES = 20_000
QUERY_LIMIT = "At most RAG_MAX_QUESTION_CHARS characters (1000 by default; /api/stats says the limit)."
MAX_NAME_BYTES = 200  # an uploaded file's name, after cleaning (file systems allow 255)
WEB = Path(__file__).resolve().parent / "web"  # the pages: plain HTML, CSS and ES modules, no build step
SWAGGER_ASSETS = Path(fastapi_offline.__file__).parent / "static"  # swagger-ui-bundle.js, swagger-ui.css


def get_service(request: Request) -> Service:
    return request.app.state.service  # type: ignore[no-any-return]


def is_staff(request: Request) -> bool:
    """True for a valid staff or admin bearer token, or a staff session from signing in with OpenID
    Connect; False for a request without either (a citizen); any other Authorization header is a 401,
    so a mistyped or expired token is told, not silently shown the public documents only."""
    if "authorization" not in request.headers:
        return signed_in(request) is not None
    conf: Settings = request.app.state.settings
    if bearer_matches(request, conf.staff_token, conf.admin_token):
        return True
    if conf.staff_token is None and conf.admin_token is None:
        detail = (
            "This server has no staff access (RAG_STAFF_TOKEN is not set). Send no Authorization header "
            "to see the public documents."
        )
    else:
        detail = (
            "The Authorization header holds no valid token. Send 'Authorization: Bearer <token>' with the staff "
            "token (RAG_STAFF_TOKEN) or the admin token, or no Authorization header to see public documents only."
        )
    raise HTTPException(401, detail=detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def get_assistant(request: Request, staff: Annotated[bool, Depends(is_staff)]) -> Assistant:
    return get_service(request).assistant(staff=staff)


ServiceDep = Annotated[Service, Depends(get_service)]
AssistantDep = Annotated[Assistant, Depends(get_assistant)]


# --- helpers ---


def _filters(
    organisation: str | None,
    body: str | None,
    date_from: str | None,
    date_to: str | None,
    doc_type: str | None,
    outcome: str | None,
) -> Filters:
    return Filters(organisation, body, date_from, date_to, doc_type, outcome)


def _document(assistant: Assistant, doc_id: str) -> Any:
    document = assistant.searcher.index.documents.get(doc_id)
    if document is None:
        raise HTTPException(404, detail=f"No document '{doc_id}'. List documents with /api/search or /api/stats.")
    return document


def _safe_name(name: str) -> str:
    """An uploaded file's name reduced to a plain file name: no directories (either slash), no leading
    dot, NUL and every other character but letters, digits and ``_ .()-`` replaced, Unicode in one
    (composed) form so two names that look alike are one name."""
    base = Path(unicodedata.normalize("NFC", name).replace("\\", "/")).name
    base = re.sub(r"[^\w .()-]+", "_", base).strip(" .")
    if not base:
        raise InputError(
            "file: the file name is empty or unusable. Give the file a name like 'protokoll.pdf'.", field="file"
        )
    if len(base.encode()) > MAX_NAME_BYTES:
        raise InputError(
            f"file: the file name is longer than {MAX_NAME_BYTES} bytes. Give the file a shorter name.", field="file"
        )
    return base


def create_app(
    settings: Settings | None = None, embedder: Embedder | None = None, oidc: OidcSettings | None = None
) -> FastAPI:
    """The app; ``settings`` override the environment (tests pass their own), and an ``embedder``
    already loaded (by ``rag serve``) is used instead of loading the model again; ``oidc`` configures
    staff sign-in (default: from ``RAG_OIDC_*``)."""
    conf = settings or get_settings()
    signin = oidc or OidcSettings()
    # documents are named to clients by id and path relative to these, never by the server's path
    roots = corpus_roots(conf)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = conf
        app.state.service = Service(conf, embedder)
        app.state.query_log = (
            None
            if not conf.query_log
            else PgQueryLog(conf.store)
            if conf.store  # several processes: one log, in the database
            else QueryLog(conf.query_log, conf.query_log_max_bytes, conf.query_log_backups)
        )
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
        docs_url=None,  # served below with a Content-Security-Policy that allows its one inline script
        redoc_url=None,
    )
    # outermost last: security headers on everything, CORS headers on every API answer (429 and 413
    # included), rate limit before a body is read, body limit around the app
    upload_path = "/api/documents"
    app.add_middleware(
        BodyLimit,
        limit=lambda scope: (
            conf.max_upload_bytes
            if scope.get("path") == upload_path and scope.get("method") == "POST"
            else conf.max_request_bytes
        ),
    )
    app.add_middleware(RateLimit, settings=conf)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=conf.cors_origins,
        allow_methods=["GET", "POST", "DELETE"],
        allow_headers=["Authorization", "Content-Type"],
        expose_headers=["Retry-After"],
    )
    add_staff_signin(app, signin)  # its session middleware inside the security headers
    app.add_middleware(SecurityHeaders, csp=content_security_policy(conf.frame_ancestors))

    def log_query(request: Request, entry: dict[str, Any]) -> None:
        query_log = request.app.state.query_log
        if query_log is not None:
            query_log.write(entry)

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError) -> JSONResponse:
        loc = ["body" if request.method == "POST" else "query", exc.field or "input"]
        return JSONResponse(status_code=422, content={"detail": [{"loc": loc, "msg": str(exc), "type": "value_error"}]})

    @app.exception_handler(IndexMissing)
    async def missing(request: Request, exc: IndexMissing) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": str(exc)})

    @app.exception_handler(RagError)
    async def rag_error(request: Request, exc: RagError) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": str(exc)})

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "value_error")}
            for e in exc.errors()
        ]
        return JSONResponse(status_code=422, content={"detail": errors})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """HTTP errors as they are, but FastAPI's 400 for a body it cannot parse (bytes that are not
        UTF-8 JSON, broken multipart) becomes a 422 naming the body and the fix, like every bad input."""
        if exc.status_code != 400:
            return await http_exception_handler(request, exc)
        if request.url.path == upload_path:
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

    def require_admin(request: Request) -> None:
        token = conf.admin_token
        if token is None:
            raise HTTPException(
                403,
                detail="Uploading and deleting documents is off. Set RAG_ADMIN_TOKEN to a secret on the server "
                "and send it as 'Authorization: Bearer <token>'.",
            )
        if not bearer_matches(request, token):
            raise HTTPException(
                401,
                detail="A valid 'Authorization: Bearer <token>' header is required.",
                headers={"WWW-Authenticate": "Bearer"},
            )

    @app.post("/api/ask", response_model=AskOut, tags=["answers"], responses=error_responses(413, 422))
    def ask(request: Request, a: AssistantDep, body: AskIn) -> dict[str, Any]:
        """Answer a question with quoted sentences, each cited `[n]` to document, §, date and span, or
        abstain (`abstained: true`, `answer: null`) and return the nearest passages as related reading.
        Follow-ups ("Och vad beslutade Västerås?") are resolved against `history`."""
        started = time.perf_counter()
        history = [Turn(t.question, t.answer, t.standalone_question) for t in body.history]
        filters = body.filters.filters() if body.filters else None
        answer = a.ask(body.question, history=history, filters=filters, k=body.k)
        result = ask_body(answer, roots)
        log_query(
            request,
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
            },
        )
        return result

    damaged: dict[str, bool] = {}  # document sha256 -> OCR text with misread words

    def is_ocr(document: Any) -> bool:
        if document.sha256 not in damaged:
            damaged[document.sha256] = ocr_damage(document.text) > OCR_DAMAGE
        return damaged[document.sha256]

    def snippet_of(a: Assistant, hit: Hit, keys: set[str]) -> dict[str, Any]:
        document = a.searcher.index.documents[hit.chunk.doc]
        s = snippet(document.text, hit.chunk.start, hit.chunk.end, keys)
        shown = display(s.text, s.highlights, offset=s.start)
        ocr = is_ocr(document)
        return with_display(without_server_paths(hit_dict(hit), roots)) | {
            "ocr": ocr,
            "repaired_title": display_text(repaired_reading(hit.chunk.title)) if ocr else None,
            "snippet": {
                "text": s.text,
                "start": s.start,
                "end": s.end,
                "highlights": [{"start": x, "end": y} for x, y in s.highlights],
                "display": {
                    "text": shown.text,
                    "highlights": [{"start": x, "end": y} for x, y in shown.highlights],
                    "repaired": repaired_reading(shown.text) if ocr else None,
                },
            },
        }

    def why_empty(a: Assistant, q: str) -> EmptyReason | None:
        searcher = a.searcher
        info = searcher.understand(q)
        keys = sorted(searcher.query_keys(q))
        words = {k: token.word for token in tokenize(q) for k in analyse(token.word)}
        index = searcher.index
        missing = unknown_dnrs(info.dnrs, index.chunks, lambda: (d.text for d in index.documents.values()))
        return empty_reason(keys, index.lexical.document_frequency, a.unknown_places(info), missing, words)

    @app.get("/api/search", response_model=SearchOut, tags=["search"], responses=error_responses(422))
    def search(
        request: Request,
        a: AssistantDep,
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
    ) -> dict[str, Any]:
        """Passages for a query, a page at a time, with highlighted snippets and facet counts; with
        `group=item` one hit per item (§) or document. A query that can find nothing real (only
        stopwords or markup, words no document has, a place no document is from or mentions, an
        unknown Dnr) has no hits and says why in `empty`."""
        started = time.perf_counter()
        if len(q) > conf.max_question_chars:
            raise InputError(
                f"q: the query is longer than {conf.max_question_chars} characters. Shorten it.", field="q"
            )
        filters = _filters(organisation, body, date_from, date_to, doc_type, outcome)
        searcher = a.searcher
        validate_filters(filters)
        searcher.allowed(filters)  # an unknown value is a 422 listing the values that exist
        reason = why_empty(a, q)
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
                snippet_of(a, g.best, keys) | {"more": [snippet_of(a, h, keys) for h in g.hits[1:]]}
                for g in chosen[(page - 1) * k : page * k]
            ]
            cited = sorted({g.doc for g in chosen[(page - 1) * k : page * k]})
        else:
            results = [] if reason else searcher.results(q, filters=filters)
            total = len(results)
            shown = [snippet_of(a, hit, keys) for hit in results[(page - 1) * k : page * k]]
            counts = facets(results)
            _, documents = facet_counts(group_hits(results), Filters())
            cited = sorted({h["doc"] for h in shown})
        log_query(
            request,
            {
                "endpoint": "search",
                "question": q,
                "filters": {k2: v for k2, v in vars(filters).items() if v is not None},
                "latency_ms": round((time.perf_counter() - started) * 1000, 1),
                "abstained": None,
                "cited": cited,
                "hits": total,
                "status": 200,
            },
        )
        return {
            "query": q,
            "total": total,
            "page": page,
            "k": k,
            "pages": (total + k - 1) // k,
            "hits": shown,
            "facets": counts,
            "facet_documents": documents,
            "empty": {"code": reason.code, "values": list(reason.values)} if reason else None,
            "query_organisations": list(searcher.understand(q).organisations),
        }

    @app.get(
        "/api/documents/{doc_id}", response_model=DocumentOut, tags=["documents"], responses=error_responses(404, 422)
    )
    def document(a: AssistantDep, doc_id: Annotated[str, PathParam(max_length=300)]) -> dict[str, Any]:
        """A document's metadata, full text and items (§) with their spans."""
        d = _document(a, doc_id)
        return {
            "id": d.id,
            "path": relative_path(d.path, roots),
            "title": d.title,
            "organisation": d.organisation,
            "body": d.body,
            "date": d.date,
            "doc_type": d.doc_type,
            "format": d.format,
            "length": len(d.text),
            "text": d.text,
            "items": [
                item
                | {
                    "display_title": display_text(item.get("title")),
                    "decision": {"start": item["decision"][0], "end": item["decision"][1]}
                    if item.get("decision")
                    else None,
                }
                for item in d.structure.get("items", [])
            ],
            "decided_by": d.structure.get("decided_by"),
            "display_title": display_text(d.title),
            "ocr": is_ocr(d),
            "repaired_title": display_text(repaired_reading(d.title)) if is_ocr(d) else None,
            "markup": [{"start": x, "end": y} for x, y in markup_spans(d.text)],
        }

    @app.get(
        "/api/documents/{doc_id}/passage",
        response_model=PassageContextOut,
        tags=["documents"],
        responses=error_responses(404, 422),
    )
    def passage(
        a: AssistantDep,
        doc_id: Annotated[str, PathParam(max_length=300)],
        start: Annotated[int, Query(ge=0)],
        end: Annotated[int, Query(ge=1)],
        context: Annotated[int, Query(ge=0, le=5000, description="Characters of context on each side.")] = 300,
    ) -> dict[str, Any]:
        """The span `[start, end)` of a document with surrounding context, and where it stands."""
        d = _document(a, doc_id)
        if not start < end <= len(d.text):
            raise InputError(
                f"end: the span [{start}, {end}) is not inside the document (length {len(d.text)}). "
                "Give 0 <= start < end <= length.",
                field="end",
            )
        lo, hi = max(0, start - context), min(len(d.text), end + context)
        item = next((i for i in d.structure.get("items", []) if i["start"] <= start < i["end"]), None)
        section = None
        if item:
            section = next((s["heading"] for s in item.get("sections", []) if s["start"] <= start < s["end"]), None)
        return {
            "doc": d.id,
            "start": start,
            "end": end,
            "text": d.text[start:end],
            "before": d.text[lo:start],
            "after": d.text[end:hi],
            "context_start": lo,
            "context_end": hi,
            "paragraph": item.get("paragraph") if item else None,
            "section": section,
            "title": (item.get("title") if item else None) or d.title,
            "organisation": d.organisation,
            "date": (item.get("date") if item else None) or d.date,
        }

    @app.get("/api/precedent", response_model=PrecedentOut, tags=["precedent"], responses=error_responses(422))
    def precedent_(
        request: Request,
        a: AssistantDep,
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
    ) -> dict[str, Any]:
        """Decisions on the matter from every organisation: one row per decision with its outcome and
        decisive sentence as a citation; the same item found in several documents is one row."""
        started = time.perf_counter()
        if len(q) > conf.max_question_chars:
            raise InputError(
                f"q: the query is longer than {conf.max_question_chars} characters. Shorten it.", field="q"
            )
        rows = precedent(a.searcher, q, filters=_filters(None, None, None, None, None, outcome), limit=k)
        log_query(
            request,
            {
                "endpoint": "precedent",
                "question": q,
                "filters": {"outcome": outcome} if outcome else {},
                "latency_ms": round((time.perf_counter() - started) * 1000, 1),
                "abstained": None,
                "cited": sorted({r.citation.doc for r in rows}),
                "hits": len(rows),
                "status": 200,
            },
        )
        decisions = [with_display(decision_dict(r)) for r in rows]
        return {"query": q, "decisions": without_server_paths(decisions, roots)}

    @app.get(
        "/api/documents/{doc_id}/similar",
        response_model=PrecedentOut,
        tags=["precedent"],
        responses=error_responses(404, 422),
    )
    def similar_(
        a: AssistantDep,
        doc_id: Annotated[str, PathParam(max_length=300)],
        k: Annotated[int, Query(ge=1, le=50)] = 20,
    ) -> dict[str, Any]:
        """Decisions by other organisations on the same matter as this document."""
        _document(a, doc_id)
        rows = [with_display(decision_dict(r)) for r in similar(a.searcher, doc_id, limit=k)]
        return {"query": doc_id, "decisions": without_server_paths(rows, roots)}

    @app.get(
        "/api/matters/{dnr:path}", response_model=MattersOut, tags=["precedent"], responses=error_responses(404, 422)
    )
    def matters_(a: AssistantDep, dnr: Annotated[str, PathParam(max_length=100)]) -> dict[str, Any]:
        """A matter's history: every item with this case number (any spelling), and the motion it
        answers, in date order, one matter per organisation; each step with its body, outcome and
        decisive sentence."""
        if dnr_key(dnr) is None:
            raise InputError(f"dnr: '{dnr}' is not a case number. Give one like 'KS 2024/551'.", field="dnr")
        return {"dnr": dnr, "matters": [asdict(m) for m in matters(a.searcher.index.documents.values(), dnr)]}

    @app.get("/api/health", response_model=HealthOut, tags=["service"], responses=error_responses())
    def health(a: AssistantDep) -> dict[str, Any]:
        index = a.searcher.index
        return {
            "status": "ok",
            "documents": len(index.documents),
            "chunks": len(index.chunks),
            "index": index.path.name,
        }

    @app.get("/api/stats", response_model=StatsOut, tags=["service"], responses=error_responses())
    def stats(a: AssistantDep) -> dict[str, Any]:
        """What is indexed: documents, chunks, organisations, document types, model and build time."""
        index = a.searcher.index
        organisations: dict[str, int] = {}
        doc_types: dict[str, int] = {}
        years: dict[str, int] = {}
        for d in index.documents.values():
            if d.organisation:
                organisations[d.organisation] = organisations.get(d.organisation, 0) + 1
            doc_types[d.doc_type] = doc_types.get(d.doc_type, 0) + 1
            if d.date:
                years[d.date[:4]] = years.get(d.date[:4], 0) + 1
        return {
            "documents": len(index.documents),
            "chunks": len(index.chunks),
            "organisations": dict(sorted(organisations.items())),
            "doc_types": dict(sorted(doc_types.items())),
            "years": dict(sorted(years.items())),
            "max_question_chars": conf.max_question_chars,
            "model": dict(index.manifest.get("model", {})),
            "built_at": index.manifest.get("built_at"),
            "index": index.path.name,
        }

    @app.post(
        "/api/documents",
        response_model=UploadOut,
        status_code=201,
        tags=["documents"],
        dependencies=[Depends(require_admin)],
        responses=error_responses(403, 409, 413, 422),
    )
    def upload(
        service: ServiceDep,
        file: Annotated[UploadFile, File(description="A .txt .md .pdf .docx or .html file.")],
        internal: Annotated[bool, Form(description="Staff only: seen only with a staff token.")] = False,
    ) -> dict[str, Any]:
        """Add a document (staff only: `Authorization: Bearer <RAG_ADMIN_TOKEN>`); it is indexed at once,
        incrementally, and served without a restart. `internal=true` keeps it from citizens (it is
        stored in the upload folder's `internal/`)."""
        name = _safe_name(file.filename or "")
        if Path(name).suffix.lower() not in SUPPORTED:
            raise InputError(
                f"file: '{name}' is not a supported type. Use one of: {', '.join(sorted(SUPPORTED))}.",
                field="file",
            )
        upload_dir = conf.upload_dir
        folder = upload_dir / INTERNAL_DIR if internal else upload_dir
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / name
        with service.write_lock:
            indexed = service.assistant(staff=True).searcher.index.documents.get(name)
            if indexed is not None and Path(indexed.path).resolve() != target.resolve():
                raise HTTPException(
                    409,
                    detail=f"A document named '{name}' is already indexed from elsewhere. Rename the file, "
                    "or delete that document first.",
                )
            existed = target.exists()
            previous = target.read_bytes() if existed else None
            data = file.file.read(conf.max_upload_bytes + 1)
            if len(data) > conf.max_upload_bytes:
                raise HTTPException(413, detail=f"The file is larger than {conf.max_upload_bytes} bytes.")
            target.write_bytes(data)
            try:
                # the upload folder is the root, so a file under its internal/ is marked internal
                report = build_index([upload_dir], conf.index_dir, service.embedder, conf)
                publish(conf)
            except RagError:
                _restore(target, previous)
                raise
            service.refresh(wait=None)  # the new document is searchable when this answers
            failed = [message for path, message in report.failed if Path(path).name == name]
            if failed:
                _restore(target, previous)
                raise InputError(f"file: {failed[0]}", field="file")
        doc_id = target.name
        return {
            "doc": doc_id,
            "chunks": service.assistant(staff=True)
            .searcher.index.manifest["documents"]
            .get(doc_id, {})
            .get("chunks", 0),
            "embedded": report.embedded,
            "documents": report.documents,
        }

    @app.delete(
        "/api/documents/{doc_id}",
        response_model=DeleteOut,
        tags=["documents"],
        dependencies=[Depends(require_admin)],
        responses=error_responses(403, 404, 409, 422),
    )
    def delete(service: ServiceDep, doc_id: Annotated[str, PathParam(max_length=300)]) -> dict[str, Any]:
        """Remove a document from the index (staff only). An uploaded file is deleted too; a file in the
        corpus stays on disk and comes back if its folder is indexed again."""
        with service.write_lock:
            document = _document(service.assistant(staff=True), doc_id)
            report = build_index([], conf.index_dir, service.embedder, conf, remove=[doc_id])
            publish(conf)
            service.refresh(wait=None)
            path = Path(document.path)
            # only a file the upload folder holds is deleted; a corpus file stays where it is
            uploaded = path.resolve().is_relative_to(conf.upload_dir.resolve())
            if uploaded and path.is_file():
                path.unlink()
        return {
            "doc": doc_id,
            "removed": doc_id in report.removed,
            "file_deleted": uploaded,
            "documents": report.documents,
        }

    # --- the web pages (issue: staff widget, citizens' search, coordinators' precedent view) ---

    app.mount("/static", StaticFiles(directory=WEB / "static"), name="static")

    def page(name: str) -> Callable[[], FileResponse]:
        def serve() -> FileResponse:
            return FileResponse(WEB / name, media_type="text/html; charset=utf-8")

        return serve

    app.add_api_route("/", page("index.html"), include_in_schema=False, name="search_page")
    app.add_api_route("/precedent", page("precedent.html"), include_in_schema=False)
    app.add_api_route("/documents/{doc_id}", page("document.html"), include_in_schema=False)
    app.add_api_route("/widget-demo", page("demo.html"), include_in_schema=False)

    app.mount("/static-docs", StaticFiles(directory=SWAGGER_ASSETS), name="static-docs")

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        """Swagger UI from the assets bundled in fastapi-offline, served here (an intranet without a CDN
        gets it too); its one inline script is allowed by hash."""
        root = request.scope.get("root_path", "")
        html = get_swagger_ui_html(
            openapi_url=root + (app.openapi_url or "/openapi.json"),
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}/static-docs/swagger-ui-bundle.js",
            swagger_css_url=f"{root}/static-docs/swagger-ui.css",
            swagger_favicon_url=f"{root}/static-docs/favicon.png",
        )
        inline = re.findall(rb"<script>(.*?)</script>", html.body, re.DOTALL)
        hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s).digest()).decode()}'" for s in inline)
        html.headers["content-security-policy"] = (
            f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
            f"img-src 'self' data:; connect-src 'self'; object-src 'none'; "
            f"base-uri 'none'; frame-ancestors {conf.frame_ancestors}"
        )
        return html

    @app.get("/widget.js", include_in_schema=False)
    def widget() -> FileResponse:
        return FileResponse(WEB / "widget.js", media_type="text/javascript; charset=utf-8")

    return app


def _restore(target: Path, previous: bytes | None) -> None:
    """Put an upload's target back as it was: the old file, or no file."""
    if previous is None:
        target.unlink(missing_ok=True)
    else:
        target.write_bytes(previous)


app = create_app()
