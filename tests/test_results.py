"""The search page's result set (rag.results): one entry per item, facet counts that equal what
selecting shows, and honest empty results; through the API on the bundled corpus (fake embedder)."""

from __future__ import annotations

import pytest
from conftest import api_app, index_bundled_corpus
from fastapi.testclient import TestClient

from rag.config import Settings
from rag.results import EmptyReason, empty_reason, facet_counts, group_hits, selected, unknown_dnrs
from rag.types import Chunk, Filters, Hit


def _hit(cid: int, doc: str, paragraph: str | None, organisation: str, date: str = "2024-05-02") -> Hit:
    chunk = Chunk(doc, cid * 10, cid * 10 + 5, "text", paragraph=paragraph, organisation=organisation, date=date)
    return Hit(cid, chunk, 1.0 / (cid + 1))


HITS = [
    _hit(0, "a.txt", "§ 4", "Örnviks kommun"),
    _hit(1, "b.txt", None, "Region Sundby", "2023-01-10"),
    _hit(2, "a.txt", "§ 4", "Örnviks kommun"),
    _hit(3, "a.txt", "§ 9", "Örnviks kommun"),
]


def test_hits_are_grouped_per_item_in_the_order_of_their_best_passage():
    groups = group_hits(HITS)
    assert [(g.doc, g.paragraph, [h.chunk_id for h in g.hits]) for g in groups] == [
        ("a.txt", "§ 4", [0, 2]),
        ("b.txt", None, [1]),
        ("a.txt", "§ 9", [3]),
    ]


def test_a_facet_count_is_what_selecting_the_value_shows():
    groups = group_hits(HITS)
    for chosen in (Filters(), Filters(organisation="Region Sundby")):
        items, documents = facet_counts(groups, chosen)
        assert items["organisation"] == {"Örnviks kommun": 2, "Region Sundby": 1}
        assert documents["organisation"] == {"Örnviks kommun": 1, "Region Sundby": 1}
        for value, count in items["organisation"].items():
            assert len(selected(groups, Filters(organisation=value))) == count
    # another facet's selection narrows the counts of this one
    items, _ = facet_counts(groups, Filters(date_from="2024"))
    assert items["organisation"] == {"Örnviks kommun": 2} and items["year"] == {"2024": 2}


def test_why_a_query_finds_nothing():
    frequency = {"ai": 3, "strategi": 2}.get
    known = lambda key: frequency(key) or 0  # noqa: E731
    assert empty_reason([], known, [], []) == EmptyReason("no_words")
    assert empty_reason(["kattmat"], known, [], [], {"kattmat": "Kattmat"}) == EmptyReason(
        "unknown_words", ("Kattmat",)
    )
    assert empty_reason(["ai"], known, ["Stockholm"], []) == EmptyReason("unknown_place", ("Stockholm",))
    assert empty_reason(["ai"], known, [], ["KS 2031/9"]) == EmptyReason("unknown_dnr", ("KS 2031/9",))
    assert empty_reason(["ai", "kattmat"], known, [], []) is None


def test_a_dnr_is_known_from_an_item_or_from_the_text():
    items = ["KS 2023/01222"]
    texts = lambda: ["Ärendet hänger ihop med Dnr BUN 2022/0456."]  # noqa: E731
    assert unknown_dnrs(["KS 2023/1222", "2022/456", "KS 2031/0009"], items, texts) == ["KS 2031/0009"]
    assert unknown_dnrs([], items, texts) == []


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = tmp_path_factory.mktemp("results")
    settings = Settings(index_dir=root / "index", embedder="fake", query_log=None, upload_dir=root / "uploads")
    index_bundled_corpus(root, settings)
    with TestClient(api_app(settings)) as c:
        yield c


@pytest.mark.parametrize(
    ("q", "code"),
    [
        ("kattmat", "unknown_words"),
        ("<script>", "unknown_words"),
        ("och det att som", "no_words"),
        ("Vad beslutade Stockholm om AI?", "unknown_place"),
        ("KS 2031/0009", "unknown_dnr"),
    ],
)
def test_a_query_that_can_find_nothing_real_has_no_hits_and_says_why(client, q, code):
    for group in ({}, {"group": "item"}):
        body = client.get("/api/search", params={"q": q, **group}).json()
        assert body["total"] == 0 and body["hits"] == [] and body["empty"]["code"] == code


def test_grouped_search_lists_each_item_once_with_its_other_passages(client):
    body = client.get("/api/search", params={"q": "Vad beslutade Tibro om en AI-strategi?", "group": "item"}).json()
    keys = [(h["doc"], h["paragraph"]) for h in body["hits"]]
    assert len(keys) == len(set(keys)) == body["total"] and body["empty"] is None
    assert body["query_organisations"] == ["Tibro kommun"]
    assert any(h["more"] for h in body["hits"])
    for hit in body["hits"]:
        assert all((m["doc"], m["paragraph"]) == (hit["doc"], hit["paragraph"]) for m in hit["more"])
    for value, count in body["facets"]["organisation"].items():
        chosen = client.get("/api/search", params={"q": "AI-strategi", "group": "item", "organisation": value})
        everything = client.get("/api/search", params={"q": "AI-strategi", "group": "item"}).json()
        assert chosen.json()["total"] == everything["facets"]["organisation"][value]
        assert list(chosen.json()["facets"]["organisation"]) == list(everything["facets"]["organisation"])
        assert count >= 1
