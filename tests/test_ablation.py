from __future__ import annotations

import json
from pathlib import Path

from rag.ablation import VARIANTS, Variant, ablate, question_sets, table, variant_index
from rag.baseline import VectorCache
from rag.build import build_index
from rag.chunk import embed_text, lexical_text
from rag.config import Settings
from rag.embed import FakeEmbedder
from rag.evaluate import Question, load_questions
from rag.store.embedded import load_index
from rag.types import Chunk

PROTOCOL = """Kommunstyrelsen
Protokoll 2024-03-12

§ 12 Riktlinjer för generativ AI
Dnr KS 2024/0042

Beslut
Kommunstyrelsen beslutar att anta riktlinjerna för användning av generativ AI.

Ärendet
Förvaltningen har tagit fram riktlinjer för hur anställda får använda AI-tjänster.

§ 13 Läromedel
Dnr KS 2024/0050

Beslut
Barn- och utbildningsnämnden får en utökad ram för digitala läromedel.
"""


def _index(tmp_path: Path, settings: Settings):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ks.txt").write_text(PROTOCOL, encoding="utf-8")
    build_index([corpus], settings.index_dir, FakeEmbedder(), settings)
    return load_index(settings.index_dir)


def test_switches_take_the_header_and_the_repair_out_of_the_indexed_text():
    text = "Al-strategin antogs av nämnden efter en lång diskussion om hur förvaltningen ska arbeta. " * 2
    chunk = Chunk("d", 0, len(text), text, paragraph="§ 4", organisation="Tibro")
    off = Settings(header_in_dense=False, header_in_lexical=False, repair_dense=False)
    assert embed_text(chunk).startswith("Tibro · § 4\n\nAI-strategin")
    assert embed_text(chunk, off) == chunk.text
    assert lexical_text(chunk, off) == chunk.text
    assert lexical_text(chunk, Settings(header_in_dense=False)) == lexical_text(chunk)


def test_a_short_chunk_has_no_context_line_to_match_on():
    fragment = Chunk("d", 0, 25, "Bilaga 3 till protokollet", paragraph="§ 4", title="Motion om AI i skolan")
    assert embed_text(fragment) == lexical_text(fragment) == fragment.text
    assert lexical_text(fragment, Settings(header_min_chars=0)).startswith("§ 4 · Motion om AI i skolan\n")


def test_a_variant_that_changes_text_embeds_only_texts_never_seen(tmp_path: Path, settings: Settings):
    index = _index(tmp_path, settings)
    embedder = FakeEmbedder()
    cache = VectorCache(tmp_path / "cache", embedder)
    from rag.ablation import index_vectors

    cache.add(index_vectors(index))
    same = variant_index(index, settings, embedder, cache)
    assert [c.text for c in same.chunks()] == [c.text for c in index.chunks()]
    assert not (tmp_path / "cache").exists()  # nothing embedded, nothing written
    fixed = variant_index(index, settings.model_copy(update={"structure_chunking": False}), embedder, cache)
    assert all(c.paragraph is None for c in fixed.chunks())
    assert (tmp_path / "cache").exists()


def test_ablate_gives_one_row_per_variant_and_the_baseline_rows_per_set(tmp_path: Path, settings: Settings):
    index = _index(tmp_path, settings)
    q = Question("q1", "Vilka riktlinjer för generativ AI antogs?", "ks.txt", "anta riktlinjerna för användning")
    sets = {"real": [q], "written": [q]}
    variants = (Variant("product"), Variant("no header line", {"header_in_dense": False, "header_in_lexical": False}))
    rows = ablate(index, FakeEmbedder(), settings, sets, VectorCache(tmp_path / "cache", FakeEmbedder()), variants)
    assert [name for name, _ in rows] == [
        "product",
        "no header line",
        "baseline dense",
        "baseline bm25",
        "baseline rrf",
    ]
    assert all(set(metrics) == {"real", "written"} and metrics["real"]["n"] == 1 for _, metrics in rows)
    columns, body = table(rows)
    assert columns[1].startswith("real (n=1)") and len(body) == 5


def test_every_variant_changes_a_real_setting():
    fields = Settings.model_fields
    for variant in VARIANTS:
        assert all(name in fields for name in variant.changes), variant.name


def test_question_sets_are_grouped_by_folder(tmp_path: Path):
    for folder, name in (("real", "a.jsonl"), ("written", "b.jsonl"), ("written", "c.jsonl")):
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / name).write_text(json.dumps({"id": name, "question": "Vad?"}) + "\n", encoding="utf-8")
    paths = [tmp_path / "real" / "a.jsonl", tmp_path / "written" / "b.jsonl", tmp_path / "written" / "c.jsonl"]
    sets = question_sets(paths, load_questions)
    assert {k: [q.id for q in v] for k, v in sets.items()} == {"real": ["a.jsonl"], "written": ["b.jsonl", "c.jsonl"]}


def test_rag_eval_ablate_prints_one_row_per_variant(tmp_path: Path, settings: Settings, monkeypatch):
    from typer.testing import CliRunner

    from rag.cli import app

    _index(tmp_path, settings)
    monkeypatch.setenv("RAG_EMBEDDER", "fake")
    questions = tmp_path / "real" / "questions.jsonl"
    questions.parent.mkdir()
    row = {
        "id": "q1",
        "question": "Vilka riktlinjer för AI antogs?",
        "doc": "ks.txt",
        "answer_quote": "anta riktlinjerna",
    }
    questions.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", "--ablate", str(questions), "--index", str(settings.index_dir), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert list(rows) == [v.name for v in VARIANTS] + ["baseline dense", "baseline bm25", "baseline rrf"]
    assert rows["product"]["real"]["n"] == 1
