"""Who is asking: bearer tokens compared in constant time, and staff sign-in with OpenID Connect
(authorization-code flow with PKCE, authlib) kept in a signed session cookie."""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

logger = logging.getLogger(__name__)


def bearer_matches(request: Request, *tokens: SecretStr | None) -> bool:
    """Whether the request's ``Authorization: Bearer`` token is one of ``tokens``, compared in
    constant time (every configured token is compared, so the time says nothing about which)."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    sent = value.strip().encode()
    matches = [hmac.compare_digest(sent, t.get_secret_value().encode()) for t in tokens if t is not None]
    return scheme.lower() == "bearer" and any(matches)


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
