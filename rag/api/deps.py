"""What routes receive by dependency: the settings, the index service and its assistant for this
caller (staff or citizen), the admin check, the query log, and the folders paths are named from.

Settings reach everything one way, ``get_settings``: a route asks for ``SettingsDep``; the lifespan
and the middlewares, which run outside a request, read the same through ``app_settings``. ``rag
serve`` puts its options in the environment first; tests put their own settings in its place with
``app.dependency_overrides[get_settings]`` (never a served app: see ``create_app``).

The dependencies are ``async``: FastAPI runs a plain function in a worker thread, a hop per
dependency per request; ``get_assistant`` goes to a thread only when it may have to wait for a new
index version.
"""

from __future__ import annotations

from functools import lru_cache, partial
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from rag.answer import Assistant
from rag.api.auth import bearer_matches, signed_in
from rag.api.paths import roots
from rag.api.service import Service
from rag.config import Settings
from rag.pgshared import PgQueryLog
from rag.querylog import QueryLog
from rag.types import StoredDocument


@lru_cache
def environment_settings() -> Settings:
    """The settings from the ``RAG_*`` environment, read once per process."""
    return Settings()


async def get_settings() -> Settings:
    """The settings routes get: the environment's (async, so no worker-thread hop per request)."""
    return environment_settings()


def app_settings(app: FastAPI) -> Settings:
    """The settings ``app``'s routes get (the environment's, or what ``app.dependency_overrides`` puts
    in place of ``get_settings``), for the lifespan and the middlewares."""
    override = app.dependency_overrides.get(get_settings)
    return override() if override is not None else environment_settings()


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_service(request: Request) -> Service:
    """The index service the lifespan opened."""
    return request.app.state.service


ServiceDep = Annotated[Service, Depends(get_service)]


async def is_staff(request: Request, settings: SettingsDep) -> bool:
    """True for a valid staff or admin bearer token, or a staff session from signing in with OpenID
    Connect; False for a request without either (a citizen); any other Authorization header is a 401,
    so a mistyped or expired token is told, not silently shown the public documents only."""
    if "authorization" not in request.headers:
        return signed_in(request) is not None
    if bearer_matches(request, settings.staff_token, settings.admin_token):
        return True
    if settings.staff_token is None and settings.admin_token is None:
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


async def get_assistant(service: ServiceDep, staff: Annotated[bool, Depends(is_staff)]) -> Assistant:
    """The assistant over what this caller may see: everything for staff, the public view otherwise.
    Only when the served version may be stale (a new one published, or the version asked of
    PostgreSQL) does it wait in a worker thread; otherwise it answers at once."""
    if service.served_is_current():
        return service.served(staff=staff)
    return await run_in_threadpool(partial(service.assistant, staff=staff))


AssistantDep = Annotated[Assistant, Depends(get_assistant)]


async def require_admin(request: Request, settings: SettingsDep) -> None:
    """Uploading and deleting: a 403 while no RAG_ADMIN_TOKEN is set, a 401 without that token."""
    token = settings.admin_token
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


def open_query_log(settings: Settings) -> QueryLog | PgQueryLog | None:
    """The query log the settings ask for: none, a rotated file, or (several processes) the database."""
    if not settings.query_log:
        return None
    if settings.store:  # several processes: one log, in the database
        return PgQueryLog(settings.store)
    return QueryLog(settings.query_log, settings.query_log_max_bytes, settings.query_log_backups)


async def get_query_log(request: Request) -> QueryLog | PgQueryLog | None:
    """The query log the lifespan opened, None when RAG_QUERY_LOG is empty."""
    return request.app.state.query_log


QueryLogDep = Annotated[QueryLog | PgQueryLog | None, Depends(get_query_log)]


async def get_roots(settings: SettingsDep) -> list[Path]:
    """The folders documents are named relative to in responses (never by the server's path)."""
    return roots(settings)


RootsDep = Annotated[list[Path], Depends(get_roots)]


def find_document(assistant: Assistant, doc_id: str) -> StoredDocument:
    """The indexed document ``doc_id`` this caller may see; a 404 otherwise, worded the same for an
    internal document as for an unknown one."""
    document = assistant.searcher.index.document(doc_id)
    if document is None:
        raise HTTPException(404, detail=f"No document '{doc_id}'. List documents with /api/search or /api/stats.")
    return document
