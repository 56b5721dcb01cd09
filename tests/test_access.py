"""Internal documents never reach a citizen: every operation in the OpenAPI schema and every page is
walked without a token over an index holding one internal document, and each response must equal,
byte for byte but for the index version, the response of a server whose index was built without
that document; none may contain its title, its words, its organisation or its Dnr. With the staff
(or admin) token they are all there. A wrong token is a 401, not a citizen's view."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import CORPUS, GOTLAND, TIBRO, api_app
from fastapi.testclient import TestClient

from rag.api import auth
from rag.build import build_index
from rag.config import Settings
from rag.embed import FakeEmbedder

STAFF = "staff-token-1"
ADMIN = "admin-token-1"
INTERNAL_ID = "hemlig-plan-77.txt"
INTERNAL = """Quorrköpings kommun
Protokoll
Kommunstyrelsen
Sammanträdesdatum 2019-05-14

KS § 77 Nattugglan, plan för språkmodellen Kvastfenix i den interna ärendehanteringen
Dnr KS 2019/0777

Beslut

Kommunstyrelsen beslutar att införa språkmodellen Kvastfenix i Quorrköpings kommuns interna ärendehantering och att ge kommundirektören i uppdrag att ta fram en AI-strategi för projektet Nattugglan.

Ärendet

Projektet Nattugglan ska pröva om en AI-strategi med språkmodellen Kvastfenix kan effektivisera handläggningen av motioner i kommunstyrelsen. Quorrköpings kommun har utrett frågan sedan 2018. Kostnaden beräknas till 4,2 miljoner kronor.
"""
# What must never reach a citizen: title word, a word of the text, organisation, Dnr, file name, a figure.
SECRETS = ("Nattugglan", "Kvastfenix", "Quorrköping", "2019/0777", "hemlig-plan", "4,2 miljoner")
TOPIC = "Vilken språkmodell ska kommunstyrelsen införa i den interna ärendehanteringen?"
VOLATILE = {"index", "built_at"}  # the index version differs between the two servers, nothing else may

# (operation in the schema, URL, request arguments): one or more probes for every operation
PROBES: list[tuple[str, str, str, dict]] = [
    ("get", "/api/health", "/api/health", {}),
    ("get", "/api/stats", "/api/stats", {}),
    ("post", "/api/ask", "/api/ask", {"json": {"question": TOPIC}}),
    ("post", "/api/ask", "/api/ask", {"json": {"question": "Vad beslutade Quorrköpings kommun om Kvastfenix?"}}),
    ("post", "/api/ask", "/api/ask", {"json": {"question": "Hur mycket kostar projektet Nattugglan?"}}),
    ("post", "/api/ask", "/api/ask", {"json": {"question": "AI-strategi", "filters": {"organisation": "Quorrköping"}}}),
    ("post", "/api/ask", "/api/ask", {"json": {"question": "AI-strategi", "filters": {"from": "2019", "to": "2019"}}}),
    (
        "post",
        "/api/ask",
        "/api/ask",
        {"json": {"question": "Och vad beslutade kommunstyrelsen?", "history": [{"question": TOPIC}]}},
    ),
    ("get", "/api/search", "/api/search", {"params": {"q": TOPIC}}),
    ("get", "/api/search", "/api/search", {"params": {"q": "AI-strategi kommunstyrelsen", "k": 50}}),
    ("get", "/api/search", "/api/search", {"params": {"q": "Kvastfenix Nattugglan"}}),
    ("get", "/api/search", "/api/search", {"params": {"q": "KS 2019/0777"}}),
    ("get", "/api/search", "/api/search", {"params": {"q": "AI", "organisation": "Quorrköping"}}),
    ("get", "/api/search", "/api/search", {"params": {"q": "AI", "from": "2019", "to": "2019"}}),
    ("get", "/api/search", "/api/search", {"params": {"q": "AI", "body": "Riksdagen"}}),
    ("get", "/api/search", "/api/search", {"params": {"q": "AI", "type": "roman"}}),
    ("get", "/api/precedent", "/api/precedent", {"params": {"q": TOPIC}}),
    ("get", "/api/precedent", "/api/precedent", {"params": {"q": "AI-strategi", "k": 50}}),
    ("get", "/api/precedent", "/api/precedent", {"params": {"q": "Kvastfenix", "outcome": "uppdrag"}}),
    ("get", "/api/matters/{dnr}", "/api/matters/KS 2019/0777", {}),
    ("get", "/api/matters/{dnr}", "/api/matters/KF 2023-000304", {}),
    ("get", "/api/documents/{doc_id}", f"/api/documents/{INTERNAL_ID}", {}),
    ("get", "/api/documents/{doc_id}", f"/api/documents/{TIBRO.name}", {}),
    (
        "get",
        "/api/documents/{doc_id}/passage",
        f"/api/documents/{INTERNAL_ID}/passage",
        {"params": {"start": 0, "end": 20}},
    ),
    (
        "get",
        "/api/documents/{doc_id}/passage",
        f"/api/documents/{TIBRO.name}/passage",
        {"params": {"start": 0, "end": 20}},
    ),
    ("get", "/api/documents/{doc_id}/similar", f"/api/documents/{INTERNAL_ID}/similar", {}),
    ("get", "/api/documents/{doc_id}/similar", f"/api/documents/{TIBRO.name}/similar", {"params": {"k": 50}}),
    ("get", "/api/documents/{doc_id}/similar", f"/api/documents/{GOTLAND.name}/similar", {"params": {"k": 50}}),
    ("post", "/api/documents", "/api/documents", {"files": {"file": ("a.txt", b"AI")}}),
    ("delete", "/api/documents/{doc_id}", f"/api/documents/{INTERNAL_ID}", {}),
]
PAGES = [
    "/",
    "/precedent",
    f"/documents/{INTERNAL_ID}",
    "/widget-demo",
    "/widget.js",
    "/static/search.js",
    "/docs",
    "/openapi.json",
]


def _settings(root, index: str, **extra) -> Settings:
    return Settings(
        index_dir=root / index,
        embedder="fake",
        query_log=None,
        upload_dir=root / "uploads",
        staff_token=STAFF,
        admin_token=ADMIN,
        **extra,
    )


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """(citizen's and staff's server over the index with the internal document, server over the same
    corpus indexed without it); the public documents are the same files, so paths match too."""
    root = tmp_path_factory.mktemp("access")
    shutil.copytree(CORPUS, root / "corpus")
    public = _settings(root, "public-index")
    build_index([root / "corpus"], public.index_dir, FakeEmbedder(), public)
    (root / "corpus" / "internal").mkdir()
    (root / "corpus" / "internal" / INTERNAL_ID).write_text(INTERNAL, encoding="utf-8")
    full = _settings(root, "index")
    build_index([root / "corpus"], full.index_dir, FakeEmbedder(), full)
    with TestClient(api_app(full)) as with_internal, TestClient(api_app(public)) as without:
        yield with_internal, without


def _strip(value):
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _seen(response):
    """A response as a client sees it: status and body (JSON parsed, the index version left out)."""
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.status_code, _strip(response.json())
    return response.status_code, response.text


def _text(response) -> str:
    body = response.text
    if response.headers.get("content-type", "").startswith("application/json"):
        body += json.dumps(response.json(), ensure_ascii=False)  # \u-escaped text too
    return body.lower()


def _leaks(response) -> list[str]:
    text = _text(response)
    return [s for s in SECRETS if s.lower() in text]


def _asks_about_secrets(url: str, kwargs: dict) -> bool:
    request = (url + json.dumps(kwargs, ensure_ascii=False, default=str)).lower()
    return any(s.lower() in request for s in SECRETS)


def test_every_operation_in_the_schema_is_walked(servers):
    with_internal, _ = servers
    schema = with_internal.get("/openapi.json").json()
    operations = {(method, path) for path, ops in schema["paths"].items() for method in ops}
    walked = {(method, path) for method, path, _, _ in PROBES}
    assert operations == walked, "add probes for new operations (or remove those of gone ones)"
    assert len(operations) == 11


@pytest.mark.parametrize(("method", "operation", "url", "kwargs"), PROBES, ids=[f"{p[0]} {p[2]}" for p in PROBES])
def test_a_citizen_gets_what_an_index_without_the_internal_document_gives(servers, method, operation, url, kwargs):
    with_internal, without = servers
    citizen = getattr(with_internal, method)(url, **kwargs)
    reference = getattr(without, method)(url, **kwargs)
    assert citizen.status_code < 500, citizen.text
    assert _seen(citizen) == _seen(reference)
    if not _asks_about_secrets(url, kwargs):
        assert _leaks(citizen) == [], citizen.text


@pytest.mark.parametrize("url", PAGES)
def test_a_citizen_gets_the_same_pages(servers, url):
    with_internal, without = servers
    citizen = with_internal.get(url)
    assert citizen.status_code == 200
    assert _seen(citizen) == _seen(without.get(url))
    assert _leaks(citizen) == []


def test_what_a_citizen_is_told_about_unknown_values_lists_public_ones_only(servers):
    with_internal, _ = servers
    response = with_internal.get("/api/search", params={"q": "AI", "organisation": "Quorrköping"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == (
        "organisation: no indexed document has 'Quorrköping'. Use one of: Region Gotland, Tibro kommun, Västerås stad."
    )
    assert with_internal.get(f"/api/documents/{INTERNAL_ID}").json() == {
        "detail": f"No document '{INTERNAL_ID}'. List documents with /api/search or /api/stats."
    }
    stats = with_internal.get("/api/stats").json()
    assert stats["documents"] == 3 and "Quorrköpings kommun" not in stats["organisations"]
    facets = with_internal.get("/api/search", params={"q": "AI-strategi kommunstyrelsen", "k": 50}).json()["facets"]
    assert "2019" not in facets["year"]


@pytest.mark.parametrize("token", [STAFF, ADMIN])
def test_staff_see_the_internal_document_everywhere(servers, token):
    with_internal, _ = servers
    auth = {"Authorization": f"Bearer {token}"}
    stats = with_internal.get("/api/stats", headers=auth).json()
    assert stats["documents"] == 4 and stats["organisations"]["Quorrköpings kommun"] == 1
    assert with_internal.get("/api/health", headers=auth).json()["documents"] == 4
    # the probes the citizen walk sends without a secret word do find the document for staff
    hits = with_internal.get("/api/search", params={"q": TOPIC}, headers=auth).json()["hits"]
    assert INTERNAL_ID in [h["doc"] for h in hits[:3]]
    facets = with_internal.get("/api/search", params={"q": "AI-strategi kommunstyrelsen", "k": 50}, headers=auth).json()
    assert facets["facets"]["year"]["2019"] >= 1 and facets["facets"]["organisation"]["Quorrköpings kommun"] >= 1
    answer = with_internal.post("/api/ask", json={"question": TOPIC}, headers=auth).json()
    assert INTERNAL_ID in {c["doc"] for c in answer["citations"]} | {p["doc"] for p in answer["passages"]}
    rows = with_internal.get("/api/precedent", params={"q": TOPIC}, headers=auth).json()["decisions"]
    assert any(r["organisation"] == "Quorrköpings kommun" and r["dnr"] == "KS 2019/0777" for r in rows)
    document = with_internal.get(f"/api/documents/{INTERNAL_ID}", headers=auth)
    assert document.status_code == 200
    assert any("Nattugglan" in (item["title"] or "") for item in document.json()["items"])
    passage = with_internal.get(f"/api/documents/{INTERNAL_ID}/passage", params={"start": 0, "end": 20}, headers=auth)
    assert passage.json()["text"] == INTERNAL[:20]
    assert with_internal.get(f"/api/documents/{INTERNAL_ID}/similar", headers=auth).status_code == 200
    filtered = with_internal.get("/api/search", params={"q": "AI", "organisation": "Quorrköping"}, headers=auth)
    assert filtered.status_code == 200 and {h["doc"] for h in filtered.json()["hits"]} == {INTERNAL_ID}


BAD_HEADERS = [
    {"Authorization": "Bearer wrong"},
    {"Authorization": f"Bearer {STAFF}x"},
    {"Authorization": f"Basic {STAFF}"},
    {"Authorization": STAFF},
    {"Authorization": ""},
]


@pytest.mark.parametrize("headers", BAD_HEADERS)
@pytest.mark.parametrize(("method", "operation", "url", "kwargs"), [p for p in PROBES if p[1] != "/api/documents"])
def test_a_wrong_token_is_a_401_not_a_citizen(servers, headers, method, operation, url, kwargs):
    with_internal, _ = servers
    response = getattr(with_internal, method)(url, headers=headers, **kwargs)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    if operation != "/api/documents/{doc_id}" or method == "get":
        assert response.json()["detail"] == (
            "The Authorization header holds no valid token. Send 'Authorization: Bearer <token>' with the staff "
            "token (RAG_STAFF_TOKEN) or the admin token, or no Authorization header to see public documents only."
        )


def test_a_token_sent_to_a_server_without_staff_access_is_a_401(servers, tmp_path):
    root = tmp_path
    shutil.copytree(CORPUS, root / "corpus")
    settings = Settings(index_dir=root / "index", embedder="fake", query_log=None)
    build_index([root / "corpus"], settings.index_dir, FakeEmbedder(), settings)
    with TestClient(api_app(settings)) as client:
        response = client.get("/api/stats", headers={"Authorization": "Bearer anything"})
        assert response.status_code == 401
        assert response.json()["detail"].startswith("This server has no staff access (RAG_STAFF_TOKEN is not set).")
        assert client.get("/api/stats").status_code == 200


def test_tokens_are_compared_in_constant_time_and_all_of_them(monkeypatch):
    from types import SimpleNamespace

    from pydantic import SecretStr

    compared = []

    def compare(a, b):
        compared.append((a, b))
        return a == b

    monkeypatch.setattr(auth.hmac, "compare_digest", compare)
    tokens = (SecretStr(STAFF), SecretStr(ADMIN))
    assert auth.bearer_matches(SimpleNamespace(headers={"authorization": f"Bearer {ADMIN}"}), *tokens)
    assert compared == [(ADMIN.encode(), STAFF.encode()), (ADMIN.encode(), ADMIN.encode())]
    compared.clear()
    assert auth.bearer_matches(SimpleNamespace(headers={"authorization": f"Bearer {STAFF}"}), *tokens)
    assert len(compared) == 2, "the second token is compared even when the first matched"
    assert not auth.bearer_matches(SimpleNamespace(headers={"authorization": f"Basic {STAFF}"}), *tokens)


def test_a_document_uploaded_as_internal_is_for_staff_only(tmp_path):
    shutil.copytree(CORPUS, tmp_path / "corpus")
    settings = _settings(tmp_path, "index")
    build_index([tmp_path / "corpus"], settings.index_dir, FakeEmbedder(), settings)
    admin = {"Authorization": f"Bearer {ADMIN}"}
    staff = {"Authorization": f"Bearer {STAFF}"}
    text = "# Intern riktlinje\n\nTibro kommun prövar språkmodellen Glasbjörn internt.\n"
    with TestClient(api_app(settings)) as client:
        response = client.post(
            "/api/documents", files={"file": ("glas.md", text.encode())}, data={"internal": "true"}, headers=admin
        )
        assert response.status_code == 201, response.text
        assert (tmp_path / "uploads" / "internal" / "glas.md").exists()
        assert client.get("/api/documents/glas.md").status_code == 404
        assert "glas.md" not in {h["doc"] for h in client.get("/api/search", params={"q": "Glasbjörn"}).json()["hits"]}
        assert client.get("/api/stats").json()["documents"] == 3
        assert client.get("/api/search", params={"q": "Glasbjörn"}, headers=staff).json()["hits"][0]["doc"] == "glas.md"
        # a public upload beside it stays public, and the internal one stays internal through re-indexing
        response = client.post(
            "/api/documents", files={"file": ("open.md", "# Open\n\nTibro prövar AI.\n".encode())}, headers=admin
        )
        assert response.status_code == 201 and response.json()["documents"] == 5
        assert client.get("/api/documents/open.md").status_code == 200
        assert client.get("/api/documents/glas.md").status_code == 404
        # deleting removes the file from the upload folder's internal/ as well
        deleted = client.delete("/api/documents/glas.md", headers=admin).json()
        assert deleted == {"doc": "glas.md", "removed": True, "file_deleted": True, "documents": 4}
        assert not (tmp_path / "uploads" / "internal" / "glas.md").exists()


def test_an_index_of_internal_documents_only_shows_a_citizen_nothing(tmp_path):
    (tmp_path / "corpus" / "internal").mkdir(parents=True)
    (tmp_path / "corpus" / "internal" / INTERNAL_ID).write_text(INTERNAL, encoding="utf-8")
    settings = _settings(tmp_path, "index")
    build_index([tmp_path / "corpus"], settings.index_dir, FakeEmbedder(), settings)
    with TestClient(api_app(settings)) as client:
        assert client.get("/api/stats").json()["documents"] == 0
        search = client.get("/api/search", params={"q": TOPIC}).json()
        assert search["total"] == 0 and search["hits"] == []
        answer = client.post("/api/ask", json={"question": TOPIC}).json()
        assert answer["abstained"] is True and answer["passages"] == []
        assert client.get("/api/precedent", params={"q": TOPIC}).json()["decisions"] == []
        for response in (search, answer):
            assert not any(s.lower() in json.dumps(response, ensure_ascii=False).lower() for s in SECRETS)
        staff = {"Authorization": f"Bearer {STAFF}"}
        assert client.get("/api/search", params={"q": TOPIC}, headers=staff).json()["total"] >= 1
