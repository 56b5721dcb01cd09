"""No response names a file by the server's path: documents are named by id and by their path relative
to the corpus folder they are under. Every endpoint's JSON is walked for absolute paths."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, TIBRO, api_app
from fastapi.testclient import TestClient

from rag.api.paths import relative_path
from rag.build import build_index
from rag.config import Settings
from rag.embed import FakeEmbedder

NOTE = (
    "# Riktlinje för AI-verktyg i nämndens arbete\n\n"
    "Socialnämnden får använda AI-verktyg för att sammanfatta egna anteckningar. "
    "Personuppgifter får inte skrivas in i verktygen.\n"
)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("paths")
    corpus = root / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "nämnd").mkdir()
    (corpus / "nämnd" / "riktlinje-ai.md").write_text(NOTE, encoding="utf-8")
    settings = Settings(
        index_dir=root / "index", embedder="fake", query_log=None, upload_dir=root / "uploads", corpus=[corpus]
    )
    build_index([corpus], settings.index_dir, FakeEmbedder(), settings)
    with TestClient(api_app(settings)) as client:
        yield client, root


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def _paths(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [v for k, v in value.items() if k == "path"] + [p for v in value.values() for p in _paths(v)]
    if isinstance(value, list):
        return [p for v in value for p in _paths(v)]
    return []


def test_no_endpoint_names_a_server_path(setup):
    client, root = setup
    tibro = TIBRO.name
    urls = [
        "/api/health",
        "/api/stats",
        "/api/search?q=AI-strategi",
        "/api/search?q=AI-verktyg+personuppgifter",
        f"/api/documents/{tibro}",
        f"/api/documents/{tibro}/passage?start=0&end=50",
        "/api/documents/riktlinje-ai.md",
        f"/api/documents/{tibro}/similar",
        "/api/precedent?q=Ska+kommunen+ta+fram+en+AI-strategi%3F",
        "/api/documents/finns-inte.txt",
    ]
    bodies = [client.get(url).json() for url in urls]
    bodies += [
        client.post("/api/ask", json={"question": question}).json()
        for question in ("Vad beslutade Tibro om en AI-strategi?", "Har Göteborg förbjudit AI?")
    ]
    leaked = {str(root), str(root.resolve()), str(CORPUS), str(Path.cwd())}
    strings = [s for body in bodies for s in _strings(body)]
    assert strings and not [s for s in strings if any(p in s for p in leaked)]
    paths = [p for body in bodies for p in _paths(body)]
    assert paths and not [p for p in paths if p.startswith("/") or ":\\" in p]
    # a document in a subfolder is named by its path under the corpus folder
    assert client.get("/api/documents/riktlinje-ai.md").json()["path"] == "nämnd/riktlinje-ai.md"
    hits = client.get("/api/search?q=AI-verktyg+personuppgifter").json()["hits"]
    assert "nämnd/riktlinje-ai.md" in {h["path"] for h in hits}


def test_a_path_outside_every_root_is_shown_as_its_file_name(tmp_path):
    assert relative_path(str(tmp_path / "a" / "b.txt"), [tmp_path / "a"]) == "b.txt"
    assert relative_path(str(tmp_path / "a" / "c" / "b.txt"), [tmp_path / "a"]) == "c/b.txt"
    assert relative_path("/srv/rag/corpus/x.txt", [tmp_path]) == "x.txt"
