"""The HTTP API: a FastAPI app over ``rag``. Heavy things (settings, model, index) load once, in the
lifespan; a new index version (from ``rag index`` or an upload) is picked up without a restart.

Run with ``rag serve``; ``uvicorn server:app`` works too. Every response is JSON; user input never
produces a 500: bad values are 422 naming the field, unknown documents 404, big bodies 413, too
many requests from one client 429.

Access: a request without an ``Authorization`` header is a citizen's and is served from the public
view of the index (``ReadStore.public``), so internal documents are absent from every answer, hit, count,
list and error message; a valid staff (or admin) bearer token sees everything; any other
``Authorization`` header is a 401, never quietly treated as a citizen's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import math
import re
import secrets
import threading
import time
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from functools import lru_cache
from ipaddress import ip_address, ip_network
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import fastapi_offline
from fastapi import Depends, FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic.json_schema import JsonDict
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag.answer import Assistant
from rag.bodies import ask_body, relative_path, with_display, without_server_paths
from rag.bodies import roots as corpus_roots
from rag.build import build_index
from rag.config import Settings, get_settings
from rag.conversation import Turn
from rag.display import display, display_text, markup_spans, ocr_damage, repaired_reading
from rag.embed import Embedder
from rag.errors import IndexMissing, InputError, RagError
from rag.highlight import snippet
from rag.matters import dnr_key, matters
from rag.normalise import analyse, tokenize
from rag.parse import INTERNAL_DIR, SUPPORTED
from rag.pgshared import PgQueryLog, PgTokenBuckets
from rag.precedent import decision_dict, precedent, similar
from rag.querylog import QueryLog
from rag.ratelimit import TokenBuckets
from rag.results import EmptyReason, empty_reason, facet_counts, group_hits, selected, unknown_dnrs
from rag.search import facets, hit_dict, validate_filters
from rag.store import current_version, publish
from rag.types import Filters, Hit
from rag.vocab import OUTCOMES

logger = logging.getLogger(__name__)

MAX_PAGE = 100
OCR_DAMAGE = 0.06  # words read differently: OCR texts 0.13-0.23, clean protocols and guidelines 0.001-0.037
# what a query string may hold at all; the limit people get is RAG_MAX_QUESTION_CHARS, checked in the route
MAX_QUERY_BYTES = 20_000
QUERY_LIMIT = "At most RAG_MAX_QUESTION_CHARS characters (1000 by default; /api/stats says the limit)."
MAX_NAME_BYTES = 200  # an uploaded file's name, after cleaning (file systems allow 255)
# Documented in the schema only: the check itself is rag.search.validate_filters, whose message says the fix.
DATE: JsonDict = {"pattern": r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$"}
OUTCOME: JsonDict = {"enum": [*OUTCOMES, None]}
WEB = Path(__file__).resolve().parent / "web"  # the pages: plain HTML, CSS and ES modules, no build step
SWAGGER_ASSETS = Path(fastapi_offline.__file__).parent / "static"  # swagger-ui-bundle.js, swagger-ui.css


# --- request and response models (the OpenAPI schema) ---


class FiltersIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    organisation: str | None = Field(None, max_length=200, examples=["Tibro"])
    body: str | None = Field(None, max_length=200, examples=["KF"])
    date_from: str | None = Field(None, alias="from", max_length=10, examples=["2024"], json_schema_extra=DATE)
    date_to: str | None = Field(None, alias="to", max_length=10, examples=["2024-12-31"], json_schema_extra=DATE)
    doc_type: str | None = Field(None, alias="type", max_length=50, examples=["protokoll"])
    outcome: str | None = Field(None, max_length=50, examples=["avslag"], json_schema_extra=OUTCOME)

    def filters(self) -> Filters:
        return Filters(self.organisation, self.body, self.date_from, self.date_to, self.doc_type, self.outcome)


class TurnIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    question: str = Field(max_length=2000)
    answer: str | None = Field(None, max_length=20_000)
    standalone_question: str | None = Field(None, max_length=4000)


class AskIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"question": "Vad beslutade Tibro om en AI-strategi?"},
                {
                    "question": "Och vad beslutade Västerås?",
                    "history": [{"question": "Vad beslutade Tibro om en AI-strategi?"}],
                },
                {"question": "How often must the AI assignment be reported in Gotland?", "k": 3},
            ]
        },
    )

    question: str = Field(description="The question, Swedish or English (limit: RAG_MAX_QUESTION_CHARS).")
    filters: FiltersIn | None = None
    k: int = Field(5, ge=1, le=50, description="Passages to return as reading.")
    history: list[TurnIn] = Field(default_factory=list, max_length=20, description="Earlier turns, oldest first.")


class CitationOut(BaseModel):
    n: int
    doc: str
    path: str = Field(description="The file's path relative to its corpus folder, never the server's path.")
    title: str | None
    organisation: str | None
    body: str | None
    date: str | None
    paragraph: str | None
    dnr: str | None
    section: str | None
    start: int
    end: int
    quote: str = Field(description="Equal to the document text at [start, end).")
    display: str | None = Field(None, description="The quote as shown: no markup, lines reflowed (not for offsets).")
    display_title: str | None = Field(None, description="The title without markup.")


class PassageOut(BaseModel):
    doc: str
    path: str = Field(description="The file's path relative to its corpus folder, never the server's path.")
    start: int
    end: int
    text: str
    score: float
    lexical_rank: int | None
    dense_rank: int | None
    section: str | None
    paragraph: str | None
    dnr: str | None
    date: str | None
    organisation: str | None
    body: str | None
    doc_type: str | None
    outcome: str | None
    title: str | None
    chunk_id: int
    display_title: str | None = Field(None, description="The title without markup.")


class EvidenceOut(BaseModel):
    similarity: float
    coverage: float
    answer_type: str | None
    answer_type_found: bool
    missing: list[str]
    unknown_places: list[str]


class AskOut(BaseModel):
    question: str
    standalone_question: str = Field(description="What was searched: the question, or a follow-up resolved.")
    language: str
    answer: str | None
    abstained: bool
    confidence: float
    reason: str | None
    generated: bool
    citations: list[CitationOut]
    passages: list[PassageOut]
    evidence: EvidenceOut


class Span(BaseModel):
    start: int
    end: int


class DisplayOut(BaseModel):
    text: str = Field(description="The snippet as shown: no markup, hyphenation joined, lines reflowed.")
    highlights: list[Span] = Field(description="Matched words, as offsets into this text.")
    repaired: str | None = Field(None, description="For OCR text: the snippet as the normaliser reads it.")


class SnippetOut(BaseModel):
    text: str
    start: int
    end: int
    highlights: list[Span] = Field(description="Matched words, as document offsets within [start, end).")
    display: DisplayOut | None = None


class SearchPassageOut(PassageOut):
    snippet: SnippetOut
    ocr: bool = Field(False, description="The document is OCR text with misread words.")
    repaired_title: str | None = Field(None, description="For OCR text: the title as the normaliser reads it.")


class SearchHitOut(SearchPassageOut):
    more: list[SearchPassageOut] = Field(
        default_factory=list, description="With group=item: the item's other passages in the results, best first."
    )


class EmptyOut(BaseModel):
    code: str = Field(description="no_words | unknown_words | unknown_place | unknown_dnr")
    values: list[str] = Field(description="The words, places or Dnr that no document has.")


class SearchOut(BaseModel):
    query: str
    total: int = Field(
        description="Passages in the result set (those scoring at least a quarter of the best); with "
        "group=item, items (§) and documents without §."
    )
    page: int
    k: int
    pages: int
    hits: list[SearchHitOut]
    facets: dict[str, dict[str, int]] = Field(description="Passages per value; with group=item, items per value.")
    facet_documents: dict[str, dict[str, int]] = Field(description="Documents per facet value.")
    empty: EmptyOut | None = Field(description="Why the query finds nothing, when it cannot find anything real.")
    query_organisations: list[str] = Field(description="Indexed organisations the query names.")


class SectionOut(BaseModel):
    heading: str
    start: int
    end: int


class PersonOut(BaseModel):
    name: str
    party: str | None
    role: str


class ItemOut(BaseModel):
    paragraph: str | None
    number: int | None
    title: str | None
    display_title: str | None = None
    dnr: str | None
    body: str | None
    date: str | None
    outcome: str | None = Field(
        description="bifall, avslag, besvarad, återremiss, ingen åtgärd, uppdrag, noterad, "
        "bordlagd, val, or other (no decision text)"
    )
    outcomes: list[str] = Field(default_factory=list, description="The outcomes of further att-satser.")
    proposal_to: str | None = Field(None, description="The higher body this item only proposes to, if it does.")
    decision: Span | None = Field(None, description="The decisive sentence(s): offsets into the document text.")
    start: int
    end: int
    sections: list[SectionOut]
    persons: list[PersonOut]


class DocumentOut(BaseModel):
    id: str
    path: str = Field(description="The file's path relative to its corpus folder (or upload folder).")
    title: str | None
    organisation: str | None
    body: str | None
    date: str | None
    doc_type: str
    format: str
    length: int
    text: str
    items: list[ItemOut]
    decided_by: str | None = Field(None, description="A guideline's decision reference, as written.")
    display_title: str | None = None
    ocr: bool = Field(False, description="OCR text with misread words (the normaliser repairs them for search).")
    repaired_title: str | None = None
    markup: list[Span] = Field(
        default_factory=list, description="Spans of markdown markup in the text, for a page to hide."
    )


class PassageContextOut(BaseModel):
    doc: str
    start: int
    end: int
    text: str
    before: str
    after: str
    context_start: int
    context_end: int
    paragraph: str | None
    section: str | None
    title: str | None
    organisation: str | None
    date: str | None


class DecisionOut(BaseModel):
    organisation: str | None
    body: str | None
    date: str | None
    paragraph: str | None
    dnr: str | None
    outcome: str | None
    title: str | None
    score: float
    documents: list[str]
    citation: CitationOut
    display_title: str | None = None


class StepOut(BaseModel):
    """One item of a matter: which document and §, who handled it and what they decided."""

    doc: str
    paragraph: str | None
    title: str | None
    dnr: str | None
    organisation: str | None
    body: str | None
    date: str | None
    doc_type: str
    outcome: str | None
    proposal_to: str | None
    decision: str | None
    decision_start: int | None
    decision_end: int | None
    link: str


class MatterOut(BaseModel):
    dnr: str
    organisation: str | None
    steps: list[StepOut]


class MattersOut(BaseModel):
    dnr: str
    matters: list[MatterOut]


class PrecedentOut(BaseModel):
    query: str
    decisions: list[DecisionOut]


class HealthOut(BaseModel):
    status: str
    documents: int
    chunks: int
    index: str


class StatsOut(BaseModel):
    documents: int
    chunks: int
    organisations: dict[str, int]
    doc_types: dict[str, int]
    years: dict[str, int] = Field(description="Documents per year of their date.")
    max_question_chars: int = Field(description="The longest question or query accepted (RAG_MAX_QUESTION_CHARS).")
    model: dict[str, Any]
    built_at: str | None
    index: str


class ErrorOut(BaseModel):
    detail: str = Field(description="What is wrong and what to do.")


class FieldErrorOut(BaseModel):
    loc: list[str | int] = Field(description="Where: 'body' or 'query', then the field.")
    msg: str
    type: str


class ValidationErrorOut(BaseModel):
    detail: list[FieldErrorOut]


_ERRORS: dict[int, dict[str, Any]] = {
    401: {
        "model": ErrorOut,
        "description": "The Authorization header holds no valid token (send none to see public documents only).",
    },
    403: {"model": ErrorOut, "description": "Uploading and deleting are off: no RAG_ADMIN_TOKEN is set."},
    404: {"model": ErrorOut, "description": "No such document (an internal one is not found without a staff token)."},
    409: {
        "model": ErrorOut,
        "description": "The request conflicts with what is indexed; the message says how to resolve it.",
    },
    413: {"model": ErrorOut, "description": "The request body is larger than the limit."},
    422: {"model": ValidationErrorOut, "description": "A value is invalid: each error names the field and the fix."},
    429: {
        "model": ErrorOut,
        "description": "Too many requests from this client (RAG_RATE_LIMIT_PER_MINUTE).",
        "headers": {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}},
    },
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` for the error statuses an endpoint can answer with; every endpoint
    under /api/ can be rate limited (429) and refuses a wrong token (401)."""
    return {code: _ERRORS[code] for code in sorted({401, 429, *codes})}


class UploadOut(BaseModel):
    doc: str
    chunks: int
    embedded: int
    documents: int


class DeleteOut(BaseModel):
    doc: str
    removed: bool
    file_deleted: bool
    documents: int


# --- the loaded index, replaced when a new version appears ---


class Service:
    """The assistants over the current index version, one for staff (everything) and one for
    citizens (the public view), replaced together when ``current`` points at a new version.

    A new version loads in a background thread (the public view rebuilds its keyword statistics,
    about a millisecond a chunk); the request that notices it waits at most ``RELOAD_WAIT`` seconds
    for it, every other request meanwhile is answered from the version already loaded, so a re-index
    never stalls the service. A version that fails to load is logged and skipped; the old one keeps serving.
    """

    RELOAD_WAIT = 5.0

    def __init__(self, settings: Settings, embedder: Embedder | None) -> None:
        self.settings = settings
        staff = Assistant.open(settings, embedder)
        self._assistants = (staff, staff.public())
        self._version = staff.searcher.index.version
        self.embedder = staff.searcher.embedder
        self._state = threading.Lock()
        self._loading: threading.Event | None = None
        self._failed: str | None = None
        self.write_lock = threading.Lock()  # one upload or delete at a time

    def _load(self, done: threading.Event, wanted: str) -> None:
        try:
            staff = Assistant.open(self.settings, self.embedder)
            pair = (staff, staff.public())
            with self._state:
                self._assistants, self._version = pair, staff.searcher.index.version
            logger.info("serving index %s", staff.searcher.index.version)
        except Exception:
            logger.exception("could not load index %s; still serving %s", wanted, self._version)
            self._failed = wanted
        finally:
            with self._state:
                self._loading = None
            done.set()

    def refresh(self, wait: float | None) -> None:
        """Load the version ``current`` points at if it is new. The caller that starts the loading
        waits for it up to ``wait`` seconds, others do not wait; ``wait=None`` waits until the current
        version is the one served (or has failed), whoever started it."""
        while True:
            version = current_version(self.settings)
            if version is None or version == self._version or version == self._failed:
                return
            with self._state:
                done = self._loading
                started = done is None
                if done is None:
                    done = self._loading = threading.Event()
                    logger.info("index changed to %s; loading it", version)
                    thread = threading.Thread(target=self._load, args=(done, version), name="index-reload", daemon=True)
                    thread.start()
            if wait is None:
                done.wait()
                continue
            if started:
                done.wait(wait)
            return

    def assistant(self, *, staff: bool) -> Assistant:
        """The assistant for staff (internal documents included) or for everyone else."""
        self.refresh(self.RELOAD_WAIT)
        assistants = self._assistants  # one read: the pair is replaced whole
        return assistants[0] if staff else assistants[1]


def bearer_matches(request: Request, *tokens: SecretStr | None) -> bool:
    """Whether the request's ``Authorization: Bearer`` token is one of ``tokens``, compared in
    constant time (every configured token is compared, so the time says nothing about which)."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    sent = value.strip().encode()
    matches = [hmac.compare_digest(sent, t.get_secret_value().encode()) for t in tokens if t is not None]
    return scheme.lower() == "bearer" and any(matches)


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


# --- staff sign-in with OpenID Connect (authorization-code flow with PKCE, authlib) ---


class OidcSettings(BaseSettings):
    """Staff sign-in, as municipalities run it (Azure AD / Entra ID, Keycloak, Freja eID): the
    issuer's URL (its /.well-known/openid-configuration is read), this server's client id and secret
    there, and the secret that signs the session cookie (unset: a random one, so sessions end when
    the server restarts). Sign-in is off while ``RAG_OIDC_ISSUER`` is unset."""

    model_config = SettingsConfigDict(env_prefix="RAG_OIDC_", extra="ignore")

    issuer: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    session_secret: SecretStr | None = None
    scopes: str = "openid profile email"
    session_hours: float = 8.0

    @property
    def enabled(self) -> bool:
        return bool(self.issuer and self.client_id)


SESSION_KEY = "staff"


def signed_in(request: Request) -> dict[str, Any] | None:
    """The staff member signed in on this session ({sub, name, exp}), or None (no sign-in
    configured, not signed in, or the session has expired)."""
    session = request.scope.get("session")
    staff = session.get(SESSION_KEY) if isinstance(session, dict) else None
    if not isinstance(staff, dict) or float(staff.get("exp", 0)) <= time.time():
        return None
    return staff


def _local_path(target: str | None) -> str:
    """Where to go after signing in or out: a path on this server, never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def add_staff_signin(app: FastAPI, oidc: OidcSettings) -> None:
    """/auth/login, /auth/callback, /auth/logout and /auth/session. The ID token is validated by
    authlib against the issuer's JWKS (signature, issuer, audience, expiry, nonce); the session
    (a signed cookie, SameSite=Lax) then holds who signed in until the token or ``session_hours``
    expires, whichever is first."""

    @app.get("/auth/session", include_in_schema=False)
    def session_state(request: Request) -> dict[str, Any]:
        staff = signed_in(request) if oidc.enabled else None
        return {"enabled": oidc.enabled, "signed_in": staff is not None, "name": staff and staff.get("name")}

    if not oidc.enabled:
        return
    from authlib.integrations.starlette_client import OAuth, OAuthError
    from starlette.middleware.sessions import SessionMiddleware

    secret = oidc.session_secret.get_secret_value() if oidc.session_secret else secrets.token_urlsafe(32)
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret,
        session_cookie="rag_session",
        max_age=int(oidc.session_hours * 3600),
        same_site="lax",
        https_only=bool(oidc.issuer and oidc.issuer.startswith("https://")),
    )
    oauth = OAuth()
    issuer = (oidc.issuer or "").rstrip("/")
    oauth.register(
        "staff",
        client_id=oidc.client_id,
        client_secret=oidc.client_secret.get_secret_value() if oidc.client_secret else None,
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": oidc.scopes, "code_challenge_method": "S256"},
    )
    client: Any = oauth.create_client("staff")

    @app.get("/auth/login", include_in_schema=False)
    async def login(request: Request, next: str | None = None) -> Response:
        request.session["next"] = _local_path(next)
        return await client.authorize_redirect(request, str(request.url_for("auth_callback")))  # type: ignore[no-any-return]

    @app.get("/auth/callback", include_in_schema=False, name="auth_callback")
    async def callback(request: Request) -> Response:
        try:
            token = await client.authorize_access_token(request)
        except OAuthError as error:
            logger.warning("staff sign-in failed: %s", error.error)
            return HTMLResponse(
                "<!doctype html><meta charset=utf-8><title>Inloggningen misslyckades</title>"
                "<p>Inloggningen misslyckades. <a href='/auth/login'>Försök igen</a> eller "
                "<a href='/'>gå till sökningen</a>.</p>",
                status_code=401,
            )
        claims = dict(token.get("userinfo") or {})  # the ID token's claims, checked against the JWKS
        if "name" not in claims and "email" not in claims:
            try:  # many providers put the profile in the userinfo endpoint only
                profile = await client.userinfo(token=token)
                if profile.get("sub") == claims.get("sub"):
                    claims |= {k: profile[k] for k in ("name", "email") if k in profile}
            except Exception:
                logger.info("no userinfo for %s", claims.get("sub"))
        expires = min(float(claims.get("exp", 0)) or time.time(), time.time() + oidc.session_hours * 3600)
        target = _local_path(request.session.pop("next", "/"))
        request.session[SESSION_KEY] = {
            "sub": claims.get("sub"),
            "name": claims.get("name") or claims.get("email") or claims.get("sub"),
            "exp": max(expires, time.time() + 300),
        }
        request.session["id_token"] = token.get("id_token")
        logger.info("staff signed in: %s", claims.get("sub"))
        return RedirectResponse(target, status_code=303)

    @app.get("/auth/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        id_token = request.session.get("id_token")
        request.session.clear()
        metadata = await client.load_server_metadata()
        end = metadata.get("end_session_endpoint")
        if not end:
            return RedirectResponse("/", status_code=303)
        back = str(request.url_for("search_page"))
        query = {"post_logout_redirect_uri": back, "client_id": oidc.client_id or ""}
        if id_token:
            query["id_token_hint"] = id_token
        return RedirectResponse(f"{end}?{urlencode(query)}", status_code=303)


def get_assistant(request: Request, staff: Annotated[bool, Depends(is_staff)]) -> Assistant:
    return get_service(request).assistant(staff=staff)


ServiceDep = Annotated[Service, Depends(get_service)]
AssistantDep = Annotated[Assistant, Depends(get_assistant)]


# --- body size limit (a pure ASGI middleware, so it also covers bodies without Content-Length) ---


class BodyTooLarge(HTTPException):
    """Raised while a body is read past its limit: an HTTPException, so FastAPI's body parsing passes
    it on as the 413 it is instead of turning it into a 400 (a chunked body has no Content-Length to
    refuse it by beforehand)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=_too_large_detail(limit))


class BodyLimit:
    def __init__(self, app: Any, limit: Callable[[dict[str, Any]], int]) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope)
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        received = 0
        started = False

        async def counting_receive() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _too_large(send, limit)


def _too_large_detail(limit: int) -> str:
    return f"The request body is larger than {limit} bytes. Send less."


async def _too_large(send: Callable[[Any], Awaitable[None]], limit: int) -> None:
    body = json.dumps({"detail": _too_large_detail(limit)}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


# --- rate limit and security headers (pure ASGI middlewares) ---


@lru_cache(maxsize=4096)
def _address(client: str) -> Any:
    try:
        return ip_address(client)
    except ValueError:
        return None


class RateLimit:
    """At most ``settings.rate_limit_per_minute`` requests to /api/ per client address (a token bucket,
    ``rate_limit_burst`` deep); over it, a 429 with ``Retry-After``. Exempt: the addresses in
    ``rate_limit_exempt``, CORS preflights, and requests without an IP address (in-process, or a
    Unix socket: a local proxy)."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app = app
        self.per_minute = settings.rate_limit_per_minute
        self.buckets: TokenBuckets | PgTokenBuckets | None = None
        if self.per_minute and settings.store:  # several processes: one count, in the database
            self.buckets = PgTokenBuckets(settings.store, self.per_minute, settings.rate_limit_burst)
        elif self.per_minute:
            self.buckets = TokenBuckets(self.per_minute, settings.rate_limit_burst)
        self.exempt = [ip_network(n, strict=False) for n in settings.rate_limit_exempt]

    def limited(self, scope: dict[str, Any]) -> str | None:
        """The client address to count this request against, or None when it is not limited."""
        if self.buckets is None or scope["type"] != "http" or scope.get("method") == "OPTIONS":
            return None
        if not scope.get("path", "").startswith("/api/"):
            return None
        client = (scope.get("client") or (None, 0))[0]
        address = _address(client) if client else None
        if address is None or any(address in network for network in self.exempt):
            return None
        return str(client)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        client = self.limited(scope)
        if client is None or self.buckets is None:
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(client, time.monotonic())
        if not wait:
            await self.app(scope, receive, send)
            return
        seconds = max(1, math.ceil(wait))
        body = json.dumps(
            {
                "detail": f"Too many requests from {client}: the limit is {self.per_minute} a minute. "
                f"Try again in {seconds} s."
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(seconds).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def content_security_policy(frame_ancestors: str) -> str:
    """The pages' policy: scripts, styles and everything else from this origin only (no inline
    scripts or styles; the widget adopts a constructed stylesheet), framed only by ``frame_ancestors``."""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        f"font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {frame_ancestors}"
    )


class SecurityHeaders:
    """Adds Content-Security-Policy (unless the response set its own), X-Content-Type-Options and
    Referrer-Policy to every response, pages and API alike."""

    def __init__(self, app: Any, csp: str) -> None:
        self.app = app
        self.headers = {
            "content-security-policy": csp,
            "x-content-type-options": "nosniff",
            "referrer-policy": "same-origin",
        }

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


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
    document = assistant.searcher.index.document(doc_id)
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
        document = a.searcher.index.documents()[hit.chunk.doc]
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
        missing = unknown_dnrs(info.dnrs, index.values("dnr"), lambda: (d.text for d in index.documents().values()))
        return empty_reason(keys, index.document_frequency, a.unknown_places(info), missing, words)

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
        searcher.check_filters(filters)  # an unknown value is a 422 listing the values that exist
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
        return {"dnr": dnr, "matters": [asdict(m) for m in matters(a.searcher.index.documents().values(), dnr)]}

    @app.get("/api/health", response_model=HealthOut, tags=["service"], responses=error_responses())
    def health(a: AssistantDep) -> dict[str, Any]:
        index = a.searcher.index
        return {
            "status": "ok",
            "documents": len(index.documents()),
            "chunks": index.count,
            "index": index.version,
        }

    @app.get("/api/stats", response_model=StatsOut, tags=["service"], responses=error_responses())
    def stats(a: AssistantDep) -> dict[str, Any]:
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
        return {
            "documents": len(index.documents()),
            "chunks": index.count,
            "organisations": dict(sorted(organisations.items())),
            "doc_types": dict(sorted(doc_types.items())),
            "years": dict(sorted(years.items())),
            "max_question_chars": conf.max_question_chars,
            "model": dict(index.manifest.get("model", {})),
            "built_at": index.manifest.get("built_at"),
            "index": index.version,
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
            indexed = service.assistant(staff=True).searcher.index.document(name)
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
