"""Every endpoint through TestClient, with error paths, on the seeds with the fake embedder; and one
real server started with uvicorn on a free port, talked to over HTTP."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from conftest import CORPUS, TIBRO, api_app, index_bundled_corpus, serving
from fastapi.testclient import TestClient

from rag.build import build_index
from rag.config import Settings
from rag.embed import FakeEmbedder

TOKEN = "s3cret-token"


def _settings(root, **extra):
    return Settings(
        index_dir=root / "index",
        embedder="fake",
        query_log=root / "logs" / "queries.jsonl",
        upload_dir=root / "uploads",
        **extra,
    )


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("server")
    return index_bundled_corpus(root, _settings(root))


@pytest.fixture(scope="module")
def client(root):
    with TestClient(api_app(_settings(root))) as c:
        yield c


@pytest.fixture
def admin(tmp_path):
    """A client with uploads on, over its own copy of the corpus (it changes the index)."""
    settings = _settings(tmp_path, admin_token=TOKEN, max_upload_bytes=5000)
    index_bundled_corpus(tmp_path, settings)
    with TestClient(api_app(settings)) as c:
        yield c, tmp_path


def _detail(response) -> str:
    detail = response.json()["detail"]
    return detail if isinstance(detail, str) else " | ".join(f"{d['loc']}: {d['msg']}" for d in detail)


# --- health and stats ---


def test_health_names_the_index_version(client):
    body = client.get("/api/health").json()
    assert body["status"] == "ok" and body["documents"] == 3 and body["chunks"] > 3
    assert body["index"].startswith("v-")


def test_stats_count_documents_organisations_and_model(client):
    body = client.get("/api/stats").json()
    assert body["documents"] == 3
    assert body["organisations"] == {"Region Gotland": 1, "Tibro kommun": 1, "Västerås stad": 1}
    assert body["doc_types"] == {"protokoll": 3}
    assert body["model"]["name"] == "fake"
    assert body["built_at"]


# --- ask ---


def test_ask_returns_an_answer_of_verified_citations(client):
    body = client.post("/api/ask", json={"question": "Vad beslutade Tibro om en AI-strategi?"}).json()
    assert body["abstained"] is False and body["language"] == "sv"
    assert body["answer"].startswith("Enligt Tibro kommun, kommunfullmäktige 2024-09-30, § 100: ”")
    assert body["citations"], body
    for c in body["citations"]:
        text = (CORPUS / c["doc"]).read_text(encoding="utf-8")
        assert text[c["start"] : c["end"]] == c["quote"]
        assert f"[{c['n']}]" in body["answer"]
    assert 0 < body["confidence"] <= 1
    assert body["standalone_question"] == "Vad beslutade Tibro om en AI-strategi?"
    assert 1 <= len(body["passages"]) <= 5


def test_ask_abstains_for_a_place_no_document_mentions(client):
    body = client.post("/api/ask", json={"question": "Har Göteborgs stad förbjudit ChatGPT i skolan?"}).json()
    assert body["abstained"] is True and body["answer"] is None and body["citations"] == []
    assert body["confidence"] == 0
    assert "Göteborg" in body["reason"]
    assert body["passages"], "related reading is still returned"


def test_ask_resolves_a_follow_up_against_the_history(client):
    history = [{"question": "Vad beslutade kommunfullmäktige i Tibro om förslaget att ta fram en AI-strategi?"}]
    body = client.post("/api/ask", json={"question": "Och vad beslutade Västerås?", "history": history}).json()
    assert body["standalone_question"] == ("Vad beslutade Västerås om förslaget att ta fram en AI-strategi?")
    body = client.post("/api/ask", json={"question": "Vem yrkade bifall?", "history": history}).json()
    assert body["standalone_question"] == "Vem yrkade bifall om förslaget att ta fram en AI-strategi i Tibro?"


def test_ask_filters_restrict_the_citations(root):
    # the fake embedder's similarities are not the model's: no abstention threshold, so the filter is what is tested
    with TestClient(api_app(_settings(root, abstain_threshold=0.0))) as client:
        body = client.post(
            "/api/ask", json={"question": "Vad beslutades om AI?", "filters": {"organisation": "Gotland"}}
        ).json()
    assert body["citations"] and {c["organisation"] for c in body["citations"]} == {"Region Gotland"}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"question": ""}, "question"),
        ({"question": "   "}, "question"),
        ({"question": "x" * 1001}, "question"),
        ({"question": "AI", "k": 0}, "k"),
        ({"question": "AI", "k": 51}, "k"),
        ({"question": "AI", "filters": {"outcome": "kanske"}}, "outcome"),
        ({"question": "AI", "filters": {"from": "2024-13"}}, "from"),
        ({"question": "AI", "filters": {"organisation": "Göteborg"}}, "organisation"),
        ({"question": "AI", "filters": {"colour": "blå"}}, "colour"),
        ({"question": 5}, "question"),
        ({}, "question"),
    ],
)
def test_ask_bad_input_is_a_422_naming_the_field(client, payload, field):
    response = client.post("/api/ask", json=payload)
    assert response.status_code == 422, response.text
    assert any(field in d["loc"] or d["msg"].startswith(f"{field}:") for d in response.json()["detail"]), _detail(
        response
    )


def test_a_body_that_is_not_json_is_a_422(client):
    response = client.post("/api/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_an_oversized_body_is_a_413(client):
    response = client.post("/api/ask", content=b"x" * 70_000, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "larger than 65536 bytes" in response.json()["detail"]


def test_the_query_log_records_requests_with_personal_data_masked(root, client):
    client.post("/api/ask", json={"question": "Gäller AI-riktlinjen 19811218-9876 och anna.svensson@tibro.se?"})
    lines = (root / "logs" / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    entry = json.loads(lines[-1])
    assert entry["endpoint"] == "ask" and entry["status"] == 200 and entry["latency_ms"] > 0
    assert "19811218-9876" not in lines[-1] and "anna.svensson@tibro.se" not in lines[-1]
    assert "[personnummer]" in entry["question"] and "[e-post]" in entry["question"]


# --- search ---


def test_search_pages_highlights_and_facets(client):
    body = client.get("/api/search", params={"q": "AI-strategi", "k": 2}).json()
    assert body["page"] == 1 and body["k"] == 2 and len(body["hits"]) == 2
    assert body["total"] >= 2 and body["pages"] == (body["total"] + 1) // 2
    for hit in body["hits"]:
        text = (CORPUS / hit["doc"]).read_text(encoding="utf-8")
        assert hit["text"] == text[hit["start"] : hit["end"]]
        snippet = hit["snippet"]
        assert text[snippet["start"] : snippet["end"]] == snippet["text"]
        for h in snippet["highlights"]:
            assert snippet["start"] <= h["start"] < h["end"] <= snippet["end"]
            assert text[h["start"] : h["end"]].lower().startswith(("ai", "strategi"))
        assert "<" not in snippet["text"] or "<mark" not in snippet["text"]
    assert sum(body["facets"]["organisation"].values()) == body["total"]
    second = client.get("/api/search", params={"q": "AI-strategi", "k": 2, "page": 2}).json()
    assert {h["chunk_id"] for h in second["hits"]}.isdisjoint({h["chunk_id"] for h in body["hits"]})


def test_search_facets_follow_the_filters(client):
    everything = client.get("/api/search", params={"q": "motion AI"}).json()
    tibro = client.get("/api/search", params={"q": "motion AI", "organisation": "Tibro"}).json()
    assert len(everything["facets"]["organisation"]) > 1
    assert list(tibro["facets"]["organisation"]) == ["Tibro kommun"]
    assert tibro["total"] < everything["total"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": ""}, "q"),
        ({"q": "AI", "k": 0}, "k"),
        ({"q": "AI", "k": 1000}, "k"),
        ({"q": "AI", "page": 0}, "page"),
        ({"q": "AI", "outcome": "kanske"}, "outcome"),
        ({"q": "AI", "from": "igår"}, "from"),
        ({"q": "AI", "to": "2024-02-30x"}, "to"),
        ({"q": "AI", "body": "Riksdagen"}, "body"),
        ({"q": "AI", "type": "roman"}, "type"),
        ({"q": "x" * 1001}, "q"),
    ],
)
def test_search_bad_input_is_a_422_naming_the_field(client, params, field):
    response = client.get("/api/search", params=params)
    assert response.status_code == 422, response.text
    assert field in _detail(response)


# --- documents ---


def test_document_has_text_metadata_and_items_with_spans(client):
    body = client.get(f"/api/documents/{TIBRO.name}").json()
    text = TIBRO.read_text(encoding="utf-8")
    assert body["text"] == text and body["length"] == len(text)
    assert (body["organisation"], body["body"], body["date"]) == ("Tibro kommun", "Kommunfullmäktige", "2024-09-30")
    item = body["items"][0]
    assert item["paragraph"] == "§ 100" and "KF § 100" in text[item["start"] : item["end"]]
    assert "Beslut" in [s["heading"] for s in item["sections"]]


def test_passage_gives_the_span_with_context_and_place(client):
    text = TIBRO.read_text(encoding="utf-8")
    start = text.index("Kommunfullmäktige beslutar att avslå")
    end = start + 60
    body = client.get(f"/api/documents/{TIBRO.name}/passage", params={"start": start, "end": end}).json()
    assert body["text"] == text[start:end]
    assert body["before"] == text[body["context_start"] : start] and body["after"] == text[end : body["context_end"]]
    assert (body["paragraph"], body["section"]) == ("§ 100", "Beslut")


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/documents/nope.txt", 404),
        ("/api/documents/nope.txt/passage?start=0&end=5", 404),
        ("/api/documents/nope.txt/similar", 404),
        (f"/api/documents/{TIBRO.name}/passage?start=5&end=5", 422),
        (f"/api/documents/{TIBRO.name}/passage?start=0&end=99999999", 422),
        (f"/api/documents/{TIBRO.name}/passage?start=-1&end=5", 422),
        (f"/api/documents/{TIBRO.name}/passage?start=a&end=5", 422),
    ],
)
def test_document_errors(client, url, status):
    assert client.get(url).status_code == status


# --- precedent ---


def test_precedent_lists_one_row_per_decision_with_a_verified_citation(client):
    body = client.get("/api/precedent", params={"q": "motion om AI-strategi"}).json()
    rows = body["decisions"]
    assert {r["organisation"] for r in rows} >= {"Tibro kommun", "Västerås stad"}
    assert len({(r["organisation"], r["paragraph"]) for r in rows}) == len(rows)
    for r in rows:
        c = r["citation"]
        assert (CORPUS / c["doc"]).read_text(encoding="utf-8")[c["start"] : c["end"]] == c["quote"]
        assert r["outcome"]
    tibro = next(r for r in rows if r["organisation"] == "Tibro kommun")
    assert (tibro["paragraph"], tibro["date"], tibro["outcome"]) == ("§ 100", "2024-09-30", "besvarad")
    assert tibro["citation"]["quote"].startswith("Kommunfullmäktige beslutar att avslå")


def test_precedent_filters_by_outcome(client):
    rows = client.get("/api/precedent", params={"q": "AI", "outcome": "ingen åtgärd"}).json()["decisions"]
    assert rows and {r["outcome"] for r in rows} == {"ingen åtgärd"}


def test_similar_lists_decisions_of_other_organisations(client):
    rows = client.get(f"/api/documents/{TIBRO.name}/similar").json()["decisions"]
    assert rows and "Tibro kommun" not in {r["organisation"] for r in rows}


# --- upload and delete ---


def test_upload_and_delete_are_off_without_a_token(client):
    response = client.post("/api/documents", files={"file": ("a.txt", b"AI")})
    assert response.status_code == 403 and "RAG_ADMIN_TOKEN" in response.json()["detail"]
    assert client.delete(f"/api/documents/{TIBRO.name}").status_code == 403


def test_upload_needs_the_right_token(admin):
    client, _ = admin
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        response = client.post("/api/documents", files={"file": ("a.txt", b"AI")}, headers=headers)
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"


def test_an_uploaded_document_is_searchable_at_once_and_deleted_on_request(admin):
    client, root = admin
    auth = {"Authorization": f"Bearer {TOKEN}"}
    text = "# Riktlinje för AI i Tibro\n\nTibro kommun beslutar att pröva sprakmodellen Zorblax i skolan.\n"
    response = client.post("/api/documents", files={"file": ("riktlinje.md", text.encode())}, headers=auth)
    assert response.status_code == 201, response.text
    assert response.json()["doc"] == "riktlinje.md" and response.json()["documents"] == 4
    assert (root / "uploads" / "riktlinje.md").exists()
    hits = client.get("/api/search", params={"q": "Zorblax"}).json()["hits"]
    assert hits[0]["doc"] == "riktlinje.md"
    response = client.delete("/api/documents/riktlinje.md", headers=auth)
    assert response.json() == {"doc": "riktlinje.md", "removed": True, "file_deleted": True, "documents": 3}
    assert not (root / "uploads" / "riktlinje.md").exists()
    assert client.get("/api/documents/riktlinje.md").status_code == 404
    assert client.delete("/api/documents/riktlinje.md", headers=auth).status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "status", "words"),
    [
        ("bild.png", b"\x89PNG", 422, "not a supported type"),
        ("tom.txt", b"", 422, "tom.txt"),
        ("stor.txt", b"a " * 3000, 413, "larger than"),
        ("../../etc/passwd.txt", b"AI i Tibro", 201, ""),
        (TIBRO.name, b"AI", 409, "already indexed"),
    ],
)
def test_bad_uploads_are_refused_and_nothing_indexed_is_lost(admin, name, content, status, words):
    client, root = admin
    auth = {"Authorization": f"Bearer {TOKEN}"}
    response = client.post("/api/documents", files={"file": (name, content)}, headers=auth)
    assert response.status_code == status, response.text
    assert words in str(response.json())
    documents = client.get("/api/health").json()["documents"]
    assert documents == (4 if status == 201 else 3)
    if status == 201:  # the path was reduced to a plain name inside the upload folder
        assert response.json()["doc"] == "passwd.txt" and (root / "uploads" / "passwd.txt").exists()
    else:
        assert not (root / "uploads" / name).exists() or name == TIBRO.name


def test_a_new_index_version_is_served_without_a_restart(admin):
    client, root = admin
    before = client.get("/api/health").json()["index"]
    (root / "corpus" / "ny.md").write_text("# Ny\n\nRegion Gotland prövar AI i vården.\n", encoding="utf-8")
    settings = _settings(root)
    build_index([root / "corpus"], settings.index_dir, FakeEmbedder(), settings)
    after = client.get("/api/health").json()
    assert after["index"] != before and after["documents"] == 4


def test_a_slow_reload_never_stalls_the_service(tmp_path, monkeypatch):
    from rag.api import service

    settings = _settings(tmp_path)
    index_bundled_corpus(tmp_path, settings)
    with TestClient(api_app(settings)) as client:
        before = client.get("/api/health").json()["index"]
        original = service.Assistant.open.__func__
        gate = threading.Event()

        def slow_open(cls, *args, **kwargs):
            gate.wait(30)
            return original(cls, *args, **kwargs)

        monkeypatch.setattr(service.Assistant, "open", classmethod(slow_open))
        monkeypatch.setattr(service.Service, "RELOAD_WAIT", 0.3)
        (tmp_path / "corpus" / "ny.md").write_text("# Ny\n\nRegion Gotland prövar AI i vården.\n", encoding="utf-8")
        build_index([tmp_path / "corpus"], settings.index_dir, FakeEmbedder(), settings)
        started = time.monotonic()
        first = client.get("/api/health").json()  # notices the new version, waits 0.3 s for it
        assert first["index"] == before and time.monotonic() - started < 2
        started = time.monotonic()
        assert client.get("/api/health").json()["index"] == before  # does not wait at all
        assert time.monotonic() - started < 0.25
        gate.set()
        deadline = time.monotonic() + 30
        while client.get("/api/health").json()["index"] == before and time.monotonic() < deadline:
            time.sleep(0.05)
        after = client.get("/api/health").json()
        assert after["index"] != before and after["documents"] == 4


def test_a_version_that_fails_to_load_leaves_the_old_one_serving(tmp_path, monkeypatch, caplog):
    from rag.api import service
    from rag.errors import IndexMismatch

    settings = _settings(tmp_path)
    index_bundled_corpus(tmp_path, settings)
    with TestClient(api_app(settings)) as client:
        before = client.get("/api/health").json()["index"]

        def broken(cls, *args, **kwargs):
            raise IndexMismatch("broken on purpose")

        monkeypatch.setattr(service.Assistant, "open", classmethod(broken))
        (tmp_path / "corpus" / "ny.md").write_text("# Ny\n\nRegion Gotland prövar AI.\n", encoding="utf-8")
        build_index([tmp_path / "corpus"], settings.index_dir, FakeEmbedder(), settings)
        for _ in range(3):
            response = client.get("/api/search", params={"q": "AI"})
            assert response.status_code == 200
        assert client.get("/api/health").json()["index"] == before
        assert "could not load index" in caplog.text


# --- CORS and start-up ---


def test_cors_allows_only_the_configured_origins(tmp_path, root):
    settings = _settings(root, cors_origins=["https://intranat.tibro.se"])
    with TestClient(api_app(settings)) as c:
        ok = c.get("/api/health", headers={"Origin": "https://intranat.tibro.se"})
        other = c.get("/api/health", headers={"Origin": "https://evil.example"})
    assert ok.headers["access-control-allow-origin"] == "https://intranat.tibro.se"
    assert "access-control-allow-origin" not in other.headers


def test_missing_index_fails_at_start_with_the_fix(tmp_path):
    from rag.errors import IndexMissing

    app = api_app(Settings(index_dir=tmp_path / "none", embedder="fake", query_log=None))
    with pytest.raises(IndexMissing), TestClient(app):
        pass


def test_the_openapi_schema_documents_every_endpoint_with_examples(client):
    schema = client.get("/openapi.json").json()
    paths = set(schema["paths"])
    assert paths >= {
        "/api/ask",
        "/api/search",
        "/api/documents",
        "/api/documents/{doc_id}",
        "/api/documents/{doc_id}/passage",
        "/api/documents/{doc_id}/similar",
        "/api/precedent",
        "/api/health",
        "/api/stats",
    }
    assert schema["components"]["schemas"]["AskIn"]["examples"]
    q = next(p for p in schema["paths"]["/api/search"]["get"]["parameters"] if p["name"] == "q")
    assert q["schema"].get("examples") or q.get("examples")


# --- a real server over HTTP ---


def test_the_real_server_answers_over_http(root):
    with serving(api_app(_settings(root)), seconds=30) as url, httpx.Client(base_url=url, timeout=30) as http:
        assert http.get("/api/health").json()["status"] == "ok"
        body = http.post("/api/ask", json={"question": "Hur ofta ska uppdraget avrapporteras?"}).json()
        assert body["citations"] and not body["abstained"]
        assert http.get("/api/search", params={"q": "halvårsvis"}).json()["hits"]


# --- the web pages (the browser tests are in test_web.py) ---


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("/", "text/html"),
        ("/precedent", "text/html"),
        (f"/documents/{TIBRO.name}", "text/html"),
        ("/widget-demo", "text/html"),
        ("/widget.js", "text/javascript"),
        ("/static/search.js", "text/javascript"),
        ("/static/style.css", "text/css"),
    ],
)
def test_pages_are_served_without_inline_scripts(client, url, kind):
    response = client.get(url)
    assert response.status_code == 200 and response.headers["content-type"].startswith(kind)
    if kind == "text/html":
        import re

        scripts = re.findall(r"<script[^>]*>(.*?)</script>", response.text, re.DOTALL)
        assert scripts and all(not body.strip() for body in scripts), "scripts must come from files (CSP)"
        assert 'src="/' in response.text and "http" not in response.text.split("<body>")[0]


def test_a_missing_static_file_is_a_404(client):
    assert client.get("/static/nope.js").status_code == 404
    assert client.get("/static/../server.py").status_code == 404
