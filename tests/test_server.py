from __future__ import annotations

import shutil

import pytest
from conftest import CORPUS
from fastapi.testclient import TestClient

from rag.config import Settings
from rag.embed import FakeEmbedder
from rag.index import build_index
from server import create_app


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = tmp_path_factory.mktemp("server")
    shutil.copytree(CORPUS, root / "corpus")
    settings = Settings(index_dir=root / "index", embedder="fake")
    build_index([root / "corpus"], settings.index_dir, FakeEmbedder(), settings)
    with TestClient(create_app(settings)) as c:
        yield c


def test_health(client):
    assert client.get("/api/health").json() == {
        "status": "ok",
        "documents": 3,
        "chunks": client.get("/api/health").json()["chunks"],
    }


def test_search_returns_hits_with_exact_spans(client):
    body = client.get("/api/search", params={"q": "halvårsvis", "k": 2}).json()
    assert body["query"] == "halvårsvis"
    hit = body["hits"][0]
    assert hit["doc"] == "003_122012043ca4c196.txt"
    text = (CORPUS / hit["doc"]).read_text(encoding="utf-8")
    assert hit["text"] == text[hit["start"] : hit["end"]]


def test_bad_input_is_a_422_naming_the_field(client):
    response = client.get("/api/search", params={"q": "AI", "outcome": "kanske"})
    assert response.status_code == 422
    assert response.json()["detail"].startswith("outcome: unknown value 'kanske'.")
    assert client.get("/api/search", params={"q": ""}).status_code == 422
    assert client.get("/api/search", params={"q": "AI", "k": 0}).status_code == 422


def test_missing_index_fails_at_start_with_the_fix(tmp_path):
    from rag.errors import IndexMissing

    app = create_app(Settings(index_dir=tmp_path / "none", embedder="fake"))
    with pytest.raises(IndexMissing), TestClient(app):
        pass
