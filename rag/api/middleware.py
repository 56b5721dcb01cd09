"""The middlewares: the body size limit (pure ASGI, so it also covers bodies without
Content-Length), the rate limit per client address, CORS for the configured origins, and the
security headers on every response.

Each takes ``settings``, a function giving the app's settings (``rag.api.deps.app_settings``), and
calls it once: Starlette builds the middlewares on the app's first event (its start-up), after a
test or ``rag serve`` has put its settings in place of the environment's.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Awaitable, Callable
from functools import lru_cache
from ipaddress import ip_address, ip_network
from typing import Any

from fastapi import HTTPException
from fastapi.middleware.cors import CORSMiddleware
from starlette.datastructures import MutableHeaders

from rag.config import Settings
from rag.pgshared import PgTokenBuckets
from rag.ratelimit import TokenBuckets


class BodyTooLarge(HTTPException):
    """Raised while a body is read past its limit: an HTTPException, so FastAPI's body parsing passes
    it on as the 413 it is instead of turning it into a 400 (a chunked body has no Content-Length to
    refuse it by beforehand)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=_too_large_detail(limit))


SettingsSource = Callable[[], Settings]


class BodyLimit:
    """A body over ``max_request_bytes`` (``max_upload_bytes`` for a POST to ``upload_path``) is a 413,
    refused by its Content-Length or, without one, as soon as more has arrived."""

    def __init__(self, app: Any, settings: SettingsSource, upload_path: str) -> None:
        self.app = app
        self.settings = settings()
        self.upload_path = upload_path

    def limit(self, scope: dict[str, Any]) -> int:
        if scope.get("path") == self.upload_path and scope.get("method") == "POST":
            return self.settings.max_upload_bytes
        return self.settings.max_request_bytes

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

    def __init__(self, app: Any, settings: SettingsSource) -> None:
        self.app = app
        conf = settings()
        self.per_minute = conf.rate_limit_per_minute
        self.buckets: TokenBuckets | PgTokenBuckets | None = None
        if self.per_minute and conf.store:  # several processes: one count, in the database
            self.buckets = PgTokenBuckets(conf.store, self.per_minute, conf.rate_limit_burst)
        elif self.per_minute:
            self.buckets = TokenBuckets(self.per_minute, conf.rate_limit_burst)
        self.exempt = [ip_network(n, strict=False) for n in conf.rate_limit_exempt]

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


class Cors(CORSMiddleware):
    """CORS headers for the origins in ``cors_origins`` (a page elsewhere embedding the widget), on
    every API answer, 429 and 413 included."""

    def __init__(self, app: Any, settings: SettingsSource) -> None:
        super().__init__(
            app,
            allow_origins=settings().cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["Retry-After"],
        )


class SecurityHeaders:
    """Adds Content-Security-Policy (unless the response set its own), X-Content-Type-Options and
    Referrer-Policy to every response, pages and API alike."""

    def __init__(self, app: Any, settings: SettingsSource) -> None:
        self.app = app
        self.headers = {
            "content-security-policy": content_security_policy(settings().frame_ancestors),
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
