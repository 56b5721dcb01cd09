"""Schemathesis against the app's own OpenAPI schema: generated requests, valid and invalid, to every
operation, with a bounded number of examples each. No response may be a 5xx, and every response must
match what the schema declares for its status (status code, content type, headers and body).

Uploads and deletes run with the admin token (otherwise every case would stop at the 401) over the
index of a copy of the corpus; the rest run as a citizen, over an index with an internal document."""

from __future__ import annotations

import os
import shutil

import pytest
import schemathesis
from conftest import CORPUS, api_app
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from rag.build import build_index
from rag.config import Settings
from rag.embed import FakeEmbedder

pytestmark = pytest.mark.schemathesis

ADMIN = "schema-admin-token"
# examples per operation: 30 keeps the whole run near a minute on two cores; raise it to look harder
EXAMPLES = int(os.environ.get("RAG_SCHEMATHESIS_EXAMPLES", "30"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    root = tmp_path_factory.mktemp("schema")
    shutil.copytree(CORPUS, root / "corpus")
    (root / "corpus" / "internal").mkdir()
    (root / "corpus" / "internal" / "intern.md").write_text(
        "# Intern riktlinje\n\nTibro kommun beslutar att pröva AI i ärendehanteringen.\n", encoding="utf-8"
    )
    conf = Settings(
        index_dir=root / "index",
        embedder="fake",
        query_log=root / "queries.jsonl",
        upload_dir=root / "uploads",
        admin_token=ADMIN,
        max_upload_bytes=20_000,
    )
    build_index([root / "corpus"], conf.index_dir, FakeEmbedder(), conf)
    application = api_app(conf)
    with TestClient(application):  # runs the lifespan: the index and model are loaded once
        yield application


OPERATIONS = [
    ("POST", "/api/ask"),
    ("GET", "/api/search"),
    ("GET", "/api/precedent"),
    ("GET", "/api/documents/{doc_id}"),
    ("GET", "/api/documents/{doc_id}/passage"),
    ("GET", "/api/documents/{doc_id}/similar"),
    ("GET", "/api/matters/{dnr}"),
    ("GET", "/api/health"),
    ("GET", "/api/stats"),
    ("POST", "/api/documents"),
    ("DELETE", "/api/documents/{doc_id}"),
]


@pytest.fixture(scope="module")
def api_schema(app):
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_the_list_is_every_operation(api_schema):
    found = {(op.method.upper(), op.path) for op in (r.ok() for r in api_schema.get_all_operations())}
    assert found == set(OPERATIONS)


CASES = [(method, path, mode) for method, path in OPERATIONS for mode in GenerationMode]
# no parameters and no body: nothing to get wrong
CASES = [c for c in CASES if not (c[1] in ("/api/health", "/api/stats") and c[2] == GenerationMode.NEGATIVE)]


@pytest.mark.parametrize(("method", "path", "mode"), CASES, ids=[f"{m} {p} {g.value}" for m, p, g in CASES])
def test_every_operation_answers_as_its_schema_says(api_schema, method, path, mode):
    """Valid requests (positive) and requests that break the schema (negative), EXAMPLES of each."""
    operation = api_schema[path][method]
    headers = {"Authorization": f"Bearer {ADMIN}"} if path == "/api/documents" or method == "DELETE" else {}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()
