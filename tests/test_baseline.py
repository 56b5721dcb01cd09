from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import Stemmer

from rag.baseline import MODES, Baseline, VectorCache, beside, bm25_tokens, fixed_chunks, margins, rrf
from rag.types import Hit

PROTOCOL = (
    "Kommunstyrelsen\nProtokoll 2024-03-12\n\n"
    "§ 12 Riktlinjer för generativ AI\n"
    "Kommunstyrelsen beslutar att anta riktlinjerna för användning av generativ AI i förvaltningarna. "
    * 4
    + "\n\n§ 13 Budget för skolan\nBarn- och utbildningsnämnden får en utökad ram för läromedel.\n"
)


class CountingEmbedder:
    """A fake embedder that counts the passages it embeds."""

    dim = 8

    def __init__(self) -> None:
        self.embedded = 0
        self.identity = {"name": "counting", "dim": 8}

    def _vector(self, text: str) -> np.ndarray:
        rng = np.random.default_rng(sum(text.encode("utf-8")) % 1000)
        v = rng.normal(size=self.dim).astype(np.float32)
        return v / np.linalg.norm(v)

    def embed_queries(self, texts):
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_passages(self, texts, *, batch_size=16, progress=None):
        self.embedded += len(texts)
        return np.stack([self._vector(t) for t in texts])

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def test_fixed_chunks_are_spans_of_the_text_no_longer_than_the_size():
    chunks = fixed_chunks("p.txt", PROTOCOL, size=200, overlap=40)
    assert len(chunks) > 2
    for c in chunks:
        assert c.text == PROTOCOL[c.start : c.end]
        assert len(c.text) <= 200
        assert c.paragraph is None and c.title is None  # no structure: plain text only
    assert chunks[0].start == 0
    assert PROTOCOL.rstrip().endswith(chunks[-1].text)


def test_bm25_tokens_stem_drop_stopwords_and_fold():
    stemmer = Stemmer.Stemmer("swedish")
    assert bm25_tokens("Riktlinjerna för Västerås och nämnden", stemmer) == ["riktlinj", "vasteras", "namnd"]


def test_rrf_orders_by_summed_reciprocal_ranks():
    assert rrf([[1, 2, 3], [3, 1]], k=60) == [1, 3, 2]


def test_vector_cache_embeds_each_text_once_and_keeps_vectors_on_disk(tmp_path: Path):
    embedder = CountingEmbedder()
    first = VectorCache(tmp_path, embedder).passages(["a text", "another text", "a text"])
    assert embedder.embedded == 2
    again = VectorCache(tmp_path, embedder).passages(["another text", "a new text"])
    assert embedder.embedded == 3
    np.testing.assert_array_equal(again[0], first[1])


def test_baseline_finds_the_passage_by_keywords_and_each_mode_answers(tmp_path: Path):
    other = "Socialnämnden\n\n§ 4 Hemtjänst\nNämnden godkänner avtalet om hemtjänst i norra området.\n"
    baseline = Baseline.build({"ks.txt": PROTOCOL, "sn.txt": other}, VectorCache(tmp_path, CountingEmbedder()))
    vector = CountingEmbedder().embed_queries(["x"])[0]
    hits = baseline.search("avtalet om hemtjänsten", "baseline bm25", lambda q: vector)
    assert hits[0].chunk.doc == "sn.txt"
    for mode in MODES:
        assert baseline.search("generativ AI", mode, lambda q: vector)
    with pytest.raises(ValueError, match="unknown baseline mode"):
        baseline.search("x", "hybrid", lambda q: vector)


def test_beside_sends_baseline_modes_to_the_baseline_and_the_rest_to_the_product(tmp_path: Path):
    baseline = Baseline.build({"ks.txt": PROTOCOL}, VectorCache(tmp_path, CountingEmbedder()))
    product_calls: list[str] = []

    def product(question: str, mode: str) -> list[Hit]:
        product_calls.append(mode)
        return []

    search = beside(product, baseline, lambda q: CountingEmbedder().embed_queries([q])[0])
    assert search("generativ AI", "baseline bm25")
    assert search("generativ AI", "hybrid") == []
    assert product_calls == ["hybrid"]


def test_margins_are_the_product_minus_the_best_baseline_row_per_metric():
    def row(r1: float, r5: float, mrr: float) -> dict:
        return {"all": {"recall@1": r1, "recall@5": r5, "mrr@10": mrr}}

    report = {
        "hybrid": row(0.6, 0.9, 0.7),
        "baseline dense": row(0.5, 0.8, 0.65),
        "baseline bm25": row(0.55, 0.7, 0.6),
        "baseline rrf": row(0.4, 0.85, 0.5),
    }
    assert margins(report) == {"margin.recall@1": 0.05, "margin.recall@5": 0.05, "margin.mrr@10": 0.05}
    assert margins({"hybrid": row(1, 1, 1)}) == {}
