from __future__ import annotations

import shutil

import pytest
from conftest import CORPUS
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.errors import InputError
from rag.search import blend_groups, diversify, groups, rrf, validate_filters
from rag.types import Filters


def test_rrf_sums_weighted_reciprocal_ranks():
    fused = rrf([([1, 2, 3], 1.0), ([3, 1], 0.5)], k=10)
    assert fused[1] == pytest.approx(1 / 11 + 0.5 / 12)
    assert fused[3] == pytest.approx(1 / 13 + 0.5 / 11)
    assert fused[2] == pytest.approx(1 / 12)


def test_diversify_scores_down_further_chunks_of_a_document():
    docs = ["a", "a", "a", "b", "c"]
    scored = {0: 1.0, 1: 0.99, 2: 0.98, 3: 0.9, 4: 0.5}
    assert diversify(scored, docs, decay=0.85, k=4) == [0, 3, 1, 2]
    assert diversify(scored, docs, decay=1.0, k=4) == [0, 1, 2, 3]
    assert diversify(scored, docs, decay=0.5, k=5) == [0, 3, 4, 1, 2]


def _diversify_by_scan(scored, doc_of, decay, k, free):
    """The definition: each pick scans every remaining candidate (the heap in diversify is lazy)."""
    remaining = sorted(scored, key=lambda cid: -scored[cid])
    picked, per_doc = [], {}
    while remaining and len(picked) < k:
        best = max(remaining, key=lambda c: scored[c] * decay ** max(0, per_doc.get(doc_of[c], 0) - free + 1))
        remaining.remove(best)
        picked.append(best)
        per_doc[doc_of[best]] = per_doc.get(doc_of[best], 0) + 1
    return picked


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.floats(0, 10, allow_nan=False)), max_size=40),
    st.sampled_from([0.0, 0.5, 0.85, 1.0]),
    st.integers(1, 12),
    st.integers(0, 3),
)
def test_diversify_picks_as_the_scan_over_all_candidates_would(rows, decay, k, free):
    doc_of = [f"d{doc}" for doc, _ in rows]
    scored = {cid: round(score, 1) for cid, (_, score) in enumerate(rows)}  # rounding makes ties
    assert diversify(scored, doc_of, decay, k, free) == _diversify_by_scan(scored, doc_of, decay, k, free)


def test_bad_filter_values_name_the_field():
    with pytest.raises(InputError, match=r"^outcome: unknown value 'maybe'. Use one of: bifall, avslag"):
        validate_filters(Filters(outcome="maybe"))
    with pytest.raises(InputError, match=r"^from: '2024-13' is not a date. Use YYYY, YYYY-MM or YYYY-MM-DD.$"):
        validate_filters(Filters(date_from="2024-13"))


@pytest.fixture(scope="module")
def searcher(tmp_path_factory):
    from rag.build import build_index
    from rag.config import Settings
    from rag.embed import FakeEmbedder
    from rag.search import Searcher
    from rag.store.embedded import load_index

    root = tmp_path_factory.mktemp("search")
    shutil.copytree(CORPUS, root / "corpus")
    settings = Settings(index_dir=root / "index", embedder="fake")
    embedder = FakeEmbedder()
    build_index([root / "corpus"], settings.index_dir, embedder, settings)
    return Searcher(load_index(settings.index_dir), embedder, settings)


def test_search_finds_the_decision(searcher):
    hits = searcher.search("Vad beslutade Tibro om AI-strategi?", k=3)
    assert hits[0].chunk.doc == "000_cf550d43679497b7.txt"
    assert all(h.chunk.text == searcher.index.documents()[h.chunk.doc].text[h.chunk.start : h.chunk.end] for h in hits)


def test_dnr_and_paragraph_lookup_rank_the_item_first(searcher):
    assert searcher.search("KS 2023/01222", k=1)[0].chunk.paragraph == "§ 87"
    assert searcher.search("§ 58", k=1)[0].chunk.doc == "003_122012043ca4c196.txt"


def test_a_filter_that_matches_nothing_returns_nothing(searcher):
    with pytest.raises(InputError, match=r"organisation: no indexed document has 'Göteborg'\. Use one of: "):
        searcher.search("AI", k=5, filters=Filters(organisation="Göteborg"))
    assert searcher.search("AI", k=5, filters=Filters(organisation="Tibro", date_from="2030")) == []
    hits = searcher.search("AI", k=5, filters=Filters(organisation="Gotland"))
    assert hits and all(h.chunk.organisation == "Region Gotland" for h in hits)


def test_modes_and_diversification(searcher):
    for mode in ("hybrid", "lexical", "dense"):
        hits = searcher.search("motion om artificiell intelligens", k=6, mode=mode)
        assert hits
        assert len({h.chunk.doc for h in hits}) >= 2
    lexical = searcher.search("AI-strategi", k=3, mode="lexical")
    assert all(h.dense_rank is None and h.lexical_rank for h in lexical)


def test_bad_queries(searcher):
    with pytest.raises(InputError, match=r"^query: the query is empty"):
        searcher.search("  ")
    with pytest.raises(InputError, match=r"^k: 0 is out of range"):
        searcher.search("AI", k=0)


def test_score_fusion_normalises_each_ranking_and_weights_it():
    from rag.search import score_fusion

    fused = score_fusion([([(1, 10.0), (2, 5.0), (3, 0.0)], 1.0), ([(3, 0.9), (1, 0.5)], 0.5)])
    assert fused == pytest.approx({1: 1.0 + 0.0, 2: 0.5, 3: 0.0 + 0.5})
    assert score_fusion([([(7, 2.0)], 1.0), ([], 1.0)]) == {7: 1.0}


def test_groups_number_runs_of_equal_keys():
    assert groups([("a", "§ 1"), ("a", "§ 1"), ("a", "§ 2"), ("b", "§ 2"), ("a", "§ 1")]) == [0, 0, 1, 2, 3]
    assert groups([]) == []


def test_blend_groups_lifts_passages_of_the_best_item_and_is_off_at_zero():
    scored = {0: 1.0, 1: 0.6, 2: 0.7}
    assert blend_groups(scored, [0, 0, 1], 0.0) is scored
    blended = blend_groups(scored, [0, 0, 1], 0.5)
    assert blended == pytest.approx({0: 1.5, 1: 1.1, 2: 1.05})
    assert sorted(blended, key=lambda c: -blended[c]) == [0, 1, 2]


def test_the_best_passages_are_ordered_by_what_they_answer(searcher):
    from rag.answer import Assistant

    question = "Vad blev beslutet om motionen i Tibro?"
    fused = searcher.search(question, k=8)
    assistant = Assistant(searcher)  # installs its order as the searcher's reorder stage
    try:
        info = searcher.understand(question)
        # whatever order the best five come in, the passage with the item's decision comes first
        shuffled = [*reversed(fused[:5]), *fused[5:]]
        assert "beslutar" not in shuffled[0].chunk.text
        ordered = assistant.order_passages(info, shuffled)
        assert "Kommunfullmäktige beslutar" in ordered[0].chunk.text
        assert sorted(h.chunk_id for h in ordered[:5]) == sorted(h.chunk_id for h in fused[:5])
        assert ordered[5:] == fused[5:]
        # the fused order on request, and in the lexical and dense diagnostics
        assert searcher.search(question, k=8, reorder=False) == fused
        lexical = searcher.search(question, k=8, mode="lexical")
        assert searcher.search(question, k=8, mode="lexical", reorder=False) == lexical
        assert [h.chunk_id for h in searcher.search(question, k=8)] == [
            h.chunk_id for h in assistant.order_passages(info, fused)
        ]
        # kept by question and passages: asked again, the same order without scoring again
        assert (question, tuple((h.chunk_id, h.score) for h in fused[:5])) in assistant._order_cache
        assert assistant.order_passages(info, fused) == searcher.search(question, k=8)
    finally:
        searcher.reorder = None
