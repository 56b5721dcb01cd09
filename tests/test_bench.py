"""The benchmark's parts: the synthetic corpus keeps the structure of real protocols, derived vectors
are unit vectors built from real ones, the dense index is chosen by size and HNSW keeps recall.
No timing is asserted anywhere: figures belong to 'rag bench'."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

from rag.bench import machine, percentiles
from rag.embed import FakeEmbedder
from rag.parse import read_document
from rag.store.embedded.dense import DenseIndex, choose_kind
from rag.structure import parse_structure
from rag.synth import DerivedEmbedder, SentenceBank, generate
from rag.vocab import OUTCOMES

BANK = SentenceBank(
    by_section={
        "Ärendet": [
            "Kommunen ska utreda hur AI kan användas i skolan.",
            "Förvaltningen ser möjligheter med generativ AI i administrationen.",
        ],
        "Motion": ["Motionärerna föreslår att kommunen tar fram en AI-strategi."],
    },
    titles=["Svar på motion om AI-strategi"],
)


def test_synthetic_protocols_have_items_dnr_sections_and_outcomes(tmp_path):
    documents = generate(BANK, 300, tmp_path)
    assert documents == len(list(tmp_path.glob("*.txt"))) > 1
    doc = read_document(sorted(tmp_path.glob("*.txt"))[0])
    structure = parse_structure(doc.text)
    assert structure.doc_type == "protokoll" and structure.organisation and structure.date
    items = [i for i in structure.items if i.paragraph]  # the page header before § 1 is an item too
    assert len(items) >= 3
    for item in items:
        assert item.dnr and item.outcome in OUTCOMES
        assert {"Beslut", "Ärendet", "Yrkanden"} <= {s.heading for s in item.sections}


def test_the_generator_is_reproducible(tmp_path):
    generate(BANK, 100, tmp_path / "a", seed=3)
    generate(BANK, 100, tmp_path / "b", seed=3)
    assert [p.read_text() for p in sorted((tmp_path / "a").iterdir())] == [
        p.read_text() for p in sorted((tmp_path / "b").iterdir())
    ]


def test_derived_vectors_are_unit_vectors_near_their_sentences():
    real = FakeEmbedder()
    sentences = [s for group in BANK.by_section.values() for s in group]
    bank = SentenceBank(BANK.by_section, BANK.titles, dict(zip(sentences, real.embed_passages(sentences), strict=True)))
    derived = DerivedEmbedder(real, bank, noise=0.001)
    text = f"{sentences[0]} {sentences[1]}"
    vector = derived.embed_passages([text])[0]
    assert abs(np.linalg.norm(vector) - 1) < 1e-5
    expected = bank.vectors[sentences[0]] + bank.vectors[sentences[1]]
    assert float(vector @ (expected / np.linalg.norm(expected))) > 0.99
    assert derived.identity["name"] == "derived-from-fake" and "Gaussian noise" in derived.description
    assert derived.count_tokens("ett två") == real.count_tokens("ett två")


def test_the_dense_index_is_exact_when_small_and_hnsw_when_large():
    assert choose_kind(1000) == "flat" and choose_kind(100_000) == "hnsw"
    assert choose_kind(100_000, "flat") == "flat" and choose_kind(10, "hnsw") == "hnsw"


def test_hnsw_keeps_recall_against_exact_search_with_and_without_filters():
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((50, 64))
    vectors = centres[rng.integers(50, size=5000)] + 0.3 * rng.standard_normal((5000, 64))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    exact, hnsw = DenseIndex.build(vectors, "flat"), DenseIndex.build(vectors, "hnsw")
    assert hnsw.kind == "hnsw" and exact.kind == "flat"
    queries = vectors[rng.integers(5000, size=50)] + 0.05 * rng.standard_normal((50, 64)).astype(np.float32)
    allowed = np.arange(0, 5000, 3)
    for restrict in (None, allowed):
        hits = 0
        for q in queries:
            truth, _ = exact.search(q, 10, restrict)
            got, _ = hnsw.search(q, 10, restrict)
            hits += len(set(truth.tolist()) & set(got.tolist()))
            if restrict is not None:
                assert set(got.tolist()) <= set(allowed.tolist())
        assert hits / (10 * len(queries)) >= 0.98


_LOAD_AND_MEASURE = """
import sys
from pathlib import Path
def anon_mb():
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("RssAnon:"))
    return int(line.split()[1]) / 1024
from rag.store.embedded.dense import DenseIndex
before = anon_mb()
index = DenseIndex.load(Path(sys.argv[1]), mmap=sys.argv[2] == "mmap")
print(anon_mb() - before)
"""


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_a_loaded_dense_index_leaves_its_vectors_in_the_file(kind, tmp_path):
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((40_000 if kind == "flat" else 10_000, 384)).astype(np.float32)  # 61 / 15 MB
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    built = DenseIndex.build(vectors, kind)
    built.save(tmp_path / "dense.faiss")
    query = vectors[17] + 0.01 * rng.standard_normal(384).astype(np.float32)
    expected = built.search(query, 10)

    def heap_growth(mode: str) -> float:  # in a fresh process: this one's heap has room the build freed
        run = subprocess.run(
            [sys.executable, "-c", _LOAD_AND_MEASURE, str(tmp_path / "dense.faiss"), mode],
            capture_output=True,
            text=True,
            check=True,
        )
        return float(run.stdout)

    size_mb = vectors.nbytes / 2**20
    assert heap_growth("copy") > size_mb * 0.9  # the measurement sees a copy
    assert heap_growth("mmap") < size_mb / 10
    mapped = DenseIndex.load(tmp_path / "dense.faiss")
    assert np.array_equal(mapped.vector(17), vectors[17])
    got = mapped.search(query, 10)
    assert np.array_equal(got[0], expected[0]) and np.allclose(got[1], expected[1])


def test_percentiles_and_machine():
    p = percentiles([float(x) for x in range(1, 101)])
    assert (p["n"], p["p50"], p["p95"], p["p99"]) == (100, 50.5, 95.05, 99.01)
    assert percentiles([]) == {"n": 0}
    m = machine()
    assert m["cores"] >= 1 and "torch" in m["versions"]


@pytest.mark.parametrize("bad", ["1000,x", "lots"])
def test_bench_refuses_bad_sizes(bad, monkeypatch):
    from typer.testing import CliRunner

    from rag.cli import app

    result = CliRunner().invoke(app, ["bench", "--sizes", bad])
    assert result.exit_code != 0 and "--sizes" in str(result.exception)


def test_bench_refuses_unknown_backends():
    from typer.testing import CliRunner

    from rag.cli import app

    result = CliRunner().invoke(app, ["bench", "--backends", "onnx,tensorrt"])
    assert result.exit_code != 0
    assert str(result.exception) == "--backends: unknown tensorrt. Choose from onnx, onnx-int8, torch."


@pytest.mark.real_model
def test_a_backend_is_measured_with_its_own_index_and_quality(tmp_path):
    """The worker 'rag bench --backends' runs per backend, here in-process on the seeds."""
    from conftest import CORPUS, SHARED

    from rag.bench.workers import _backend

    questions = SHARED / "eval" / "dev_questions.jsonl"
    result = _backend(
        {
            "backend": "onnx",
            "paths": [str(CORPUS)],
            "question_files": [str(questions)],
            "questions": ["Vad beslutade Tibro om en AI-strategi?", "Hur ofta ska Gotland rapportera?"],
            "work": str(tmp_path),
        }
    )
    assert result["backend"] == "onnx" and result["model"]["backend"] == "onnx"
    ingested = result["ingest"]
    assert ingested["chunks"] > 0 and ingested["chunks_per_s"] > 0
    assert ingested["tokens_per_s"] == pytest.approx(ingested["chunks_per_s"] * ingested["tokens_per_chunk"], rel=0.02)
    assert 20 < ingested["tokens_per_chunk"] <= 512  # the model's longest input
    assert result["query_embed_ms"]["n"] == 2 and result["rss_loaded_mb"] > 0
    quality = result["quality"]["dev_questions.jsonl"]
    assert set(quality) == {"hybrid", "dense"}
    assert 0 < quality["hybrid"]["recall@5"] <= 1 and 0 < quality["hybrid"]["mrr@10"] <= 1
    assert (tmp_path / "index" / "current").exists()


def test_the_printed_report_keeps_every_figure_whole(capsys):
    from rag.cli.bench import _print_bench

    lat = {"n": 116, "p50": 15.26, "p95": 21.09, "p99": 123.456}
    quality = {"hybrid": {"recall@5": 0.9615, "mrr@10": 0.7342}, "dense": {"recall@5": 0.9231, "mrr@10": 0.6966}}
    ingest = {"chunks": 70, "seconds": 4.26, "chunks_per_s": 16.4, "mb_per_s": 0.011, "tokens_per_s": 2559}
    ingest |= {"tokens_per_chunk": 156, "backend": "onnx"}
    report = {
        "machine": {"cores": 2, "cpu": "a CPU", "memory_gb": 23.5, "python": "3.11", "versions": {"faiss": "1.15"}},
        "backends": [
            {
                "backend": "onnx-int8",
                "load_s": 1.01,
                "rss_loaded_mb": 448.0,
                "ingest": ingest,
                "query_embed_ms": lat,
                "quality": {"dev_questions.jsonl": quality, "tune_questions.jsonl": quality},
            }
        ],
        "ingest": ingest,
        "questions": 116,
        "real": {
            "documents": 15,
            "chunks": 70,
            "build_s": 4.4,
            "load_s": 0.32,
            "index_mb": 0.4,
            "quality": {"hybrid": {"recall@1": 0.769, "recall@5": 1.0, "mrr@10": 0.862}},
            "latency_ms": {"hybrid": lat},
        },
        "http": [
            {
                "endpoint": "/api/search",
                "store": "postgresql",
                "runs": [
                    {"concurrency": 16, "requests": 400, "errors": 0, "rps": 163.5, "p50_ms": 92.33, "p95_ms": 148.87}
                    | {"p99_ms": 208.45}
                ],
                "mixed": [
                    {"concurrency": 16, "requests": 400, "errors": 0, "rps": 101.7, "p50_ms": 140.5, "p95_ms": 250.25}
                    | {"p99_ms": 297.75}
                ],
            }
        ],
        "scale": [
            {
                "chunks": 118278,
                "store": "postgresql",
                "publish_s": 61.25,
                "build_s": 126.5,
                "build_peak_rss_mb": 1581.4,
                "index_mb": 512.7,
                "load_s": 1.63,
                "rss_model_mb": 490.9,
                "rss_mb": 1188.8,
                "peak_rss_mb": 1188.8,
                "latency_ms": {m: lat for m in ("hybrid", "lexical", "dense", "hybrid, query vector cached")},
                "dense": {"kind": "hnsw", "recall@10": 0.994, "recall@100": 0.9812},
                "vectors": "derived from real ones",
            }
        ],
    }
    _print_bench(report)
    printed = capsys.readouterr().out
    assert "…" not in printed  # no cell cut short
    words = set(re.findall(r"[\w.()]+", printed))
    for figure in (
        "123.456",
        "0.734",
        "16.4",
        "(2559)",
        "490.9",
        "1188.8",
        "0.9812",
        "208.45",
        "1.63",
        "(61.25)",
        "101.7",
        "297.75",
    ):
        assert figure in words
