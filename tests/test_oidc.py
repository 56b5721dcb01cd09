"""Staff sign-in with OpenID Connect against a real OpenID provider (npm's oidc-provider, installed
by 'scripts/install.sh --dev' into tests/oidc/) started on loopback: Chromium signs in through the
provider's own form (authorization-code flow with PKCE), the pages and the widget then see internal
documents, and signing out ends it. Nothing is mocked: the ID token is checked against the provider's
JWKS by authlib."""

from __future__ import annotations

import shutil
import subprocess
import time

import httpx
import pytest
from conftest import CORPUS, ROOT, api_app, free_port, serving
from fastapi.testclient import TestClient

from rag.api.auth import OidcSettings, _local_path
from rag.build import build_index
from rag.config import Settings
from rag.embed import FakeEmbedder

pytestmark = pytest.mark.browser

PROVIDER = ROOT / "tests" / "oidc"
CLIENT_ID, CLIENT_SECRET = "rag-pages", "test-client-secret-7"
INTERNAL = (
    "Örnviks kommun\nRutin\n\n# Intern rutin för språkmodellen Pilgrimsfalk\n\n"
    "Handläggarna på kommunstyrelsens förvaltning får använda språkmodellen Pilgrimsfalk för att "
    "sammanfatta remissvar. Rutinen gäller bara internt.\n"
)


def _wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {seconds} s")


@pytest.fixture(scope="module")
def provider_and_site(tmp_path_factory):
    if not (PROVIDER / "node_modules" / "oidc-provider").is_dir() or shutil.which("node") is None:
        pytest.fail("The OpenID provider is not installed: run 'bash scripts/install.sh --dev' (needs node and npm).")
    root = tmp_path_factory.mktemp("oidc")
    corpus = root / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "internal").mkdir()
    (corpus / "internal" / "rutin-pilgrimsfalk.md").write_text(INTERNAL, encoding="utf-8")
    settings = Settings(
        index_dir=root / "index", embedder="fake", query_log=None, upload_dir=root / "uploads", corpus=[corpus]
    )
    build_index([corpus], settings.index_dir, FakeEmbedder(), settings)
    op_port, site_port = free_port(), free_port()
    site = f"http://127.0.0.1:{site_port}"
    issuer = f"http://127.0.0.1:{op_port}"
    node = subprocess.Popen(
        [
            "node",
            str(PROVIDER / "provider.mjs"),
            str(op_port),
            CLIENT_ID,
            CLIENT_SECRET,
            f"{site}/auth/callback",
            f"{site}/",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(f"{issuer}/.well-known/openid-configuration")
        oidc = OidcSettings(
            issuer=issuer, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, session_secret="session-secret-for-tests"
        )
        with serving(api_app(settings, oidc=oidc), port=site_port):
            _wait_for(f"{site}/api/health")
            yield issuer, site, settings
    finally:
        node.terminate()
        node.wait(timeout=10)


def _search(page, site: str, q: str) -> str:
    page.goto(f"{site}/?q={q}")
    page.locator("ol.results > li, section.empty").first.wait_for()
    return page.locator("ol.results").inner_text()


def test_staff_sign_in_with_the_provider_shows_internal_documents_and_sign_out_ends_it(provider_and_site, browser):
    issuer, site, _ = provider_and_site
    context = browser.new_context(locale="sv-SE")
    page = context.new_page()
    assert "Pilgrimsfalk" not in _search(page, site, "Pilgrimsfalk remissvar")
    page.get_by_role("link", name="Logga in (personal)").click()
    # the provider's own sign-in form (oidc-provider's development interactions), on its origin
    page.wait_for_url(f"{issuer}/**")
    page.fill("input[name=login]", "anna")
    page.fill("input[name=password]", "any-password")
    page.locator("button[type=submit]").click()
    page.locator("button[type=submit]", has_text="Continue").click()  # consent to the scopes
    page.wait_for_url(f"{site}/**")
    assert "q=Pilgrimsfalk" in page.url, "back where sign-in started"
    page.locator(".account .who").wait_for()
    assert page.locator(".account .who").inner_text() == "Inloggad: Staff anna"
    page.locator("ol.results > li").first.wait_for()
    assert "Pilgrimsfalk" in page.locator("ol.results").inner_text()
    # the widget on the same origin asks with the session too
    page.goto(f"{site}/widget-demo")
    w = page.locator("#rag-chat-widget")
    w.locator(".launcher").click()
    w.locator("textarea").fill("Vilken språkmodell får handläggarna använda för remissvar?")
    w.locator("form button[type=submit]").click()
    w.locator(".turn .a").wait_for(timeout=30_000)
    assert "Pilgrimsfalk" in w.locator(".turn .a").inner_text()
    # signing out ends the session here and at the provider
    page.goto(site)
    page.get_by_role("link", name="Logga ut").click()
    page.wait_for_url(f"{issuer}/**")
    page.locator("button", has_text="Yes, sign me out").click()
    page.wait_for_url(f"{site}/**")
    page.locator(".account .sign-in").wait_for()
    assert "Pilgrimsfalk" not in _search(page, site, "Pilgrimsfalk remissvar")
    context.close()


def test_a_forged_session_or_a_bad_callback_gives_no_staff_access(provider_and_site):
    _, site, _ = provider_and_site
    with httpx.Client(base_url=site) as http:
        http.cookies.set("rag_session", "eyJzdGFmZiI6IHt9fQ==")  # unsigned JSON: {"staff": {}}
        forged = http.get("/api/search", params={"q": "Pilgrimsfalk"})
        assert forged.status_code == 200 and forged.json()["total"] == 0
        bad = http.get("/auth/callback", params={"code": "made-up", "state": "made-up"})
        assert bad.status_code == 401 and "Inloggningen misslyckades" in bad.text
        assert http.get("/auth/session").json() == {"enabled": True, "signed_in": False, "name": None}
        login = http.get("/auth/login", params={"next": "https://evil.example/"})
        assert login.status_code in (302, 303, 307) and "code_challenge=" in login.headers["location"]


def test_sign_in_is_off_without_an_issuer(provider_and_site):
    _, _, settings = provider_and_site
    with TestClient(api_app(settings, oidc=OidcSettings())) as c:
        assert c.get("/auth/session").json() == {"enabled": False, "signed_in": False, "name": None}
        assert c.get("/auth/login").status_code == 404


def test_only_local_paths_are_followed_after_sign_in():
    assert _local_path("/?q=AI") == "/?q=AI"
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", None, ""):
        assert _local_path(target) == "/"
