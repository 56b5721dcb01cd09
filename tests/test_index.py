from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import CORPUS, GOTLAND, TIBRO

from rag.config import Settings
from rag.embed import FakeEmbedder
from rag.errors import IndexMismatch, IndexMissing
from rag.index import ANALYSIS_VERSION, build_index, current_path, load_index, read_manifest


class CountingEmbedder(FakeEmbedder):
    def __init__(self, dim: int = 64) -> None:
        super().__init__(dim)
        self.embedded = 0

    def embed_passages(self, texts, **kwargs):
        self.embedded += len(texts)
        return super().embed_passages(texts, **kwargs)


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    shutil.copytree(CORPUS, folder)
    return folder


def test_build_and_load_round_trip(corpus, settings):
    embedder = CountingEmbedder()
    report = build_index([corpus], settings.index_dir, embedder, settings)
    assert (report.documents, len(report.added), report.failed) == (3, 3, [])
    index = load_index(settings.index_dir)
    assert len(index.chunks) == report.chunks == len(index.dense) == len(index.lexical) == embedder.embedded
    for chunk in index.chunks:
        assert chunk.text == index.documents[chunk.doc].text[chunk.start : chunk.end]
    manifest = read_manifest(settings.index_dir)
    assert manifest["schema_version"] == 1
    assert manifest["model"] == {"name": "fake", "dim": 64}
    assert manifest["chunking"] == {
        "chunk_size": settings.chunk_size,
        "chunk_overlap": settings.chunk_overlap,
        "max_chunk_tokens": 400,
    }
    assert manifest["documents"][TIBRO.name]["sha256"] == index.documents[TIBRO.name].sha256
    vectors = np.load(current_path(settings.index_dir) / "vectors.npy")
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_reindexing_unchanged_files_embeds_nothing(corpus, settings):
    build_index([corpus], settings.index_dir, CountingEmbedder(), settings)
    again = CountingEmbedder()
    report = build_index([corpus], settings.index_dir, again, settings)
    assert again.embedded == 0
    assert (report.embedded, report.added, report.changed, report.removed) == (0, [], [], [])


def test_changed_and_deleted_documents(corpus, settings):
    build_index([corpus], settings.index_dir, CountingEmbedder(), settings)
    tibro = corpus / TIBRO.name
    tibro.write_text(
        tibro.read_text(encoding="utf-8") + "\n\nTillägg: ett nytt stycke om AI i skolan.\n", encoding="utf-8"
    )
    (corpus / GOTLAND.name).unlink()
    embedder = CountingEmbedder()
    report = build_index([corpus], settings.index_dir, embedder, settings)
    assert report.changed == [TIBRO.name]
    assert report.removed == [GOTLAND.name]
    assert 0 < embedder.embedded < 5
    index = load_index(settings.index_dir)
    assert set(index.documents) == {TIBRO.name, "001_6e1d6ed25857f700.txt"}


def test_adding_a_file_keeps_what_is_indexed_and_replace_drops_it(corpus, settings, tmp_path):
    build_index([corpus], settings.index_dir, CountingEmbedder(), settings)
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "riktlinje.md").write_text(
        "# Riktlinje för AI\n\nAnställda får inte mata in sekretessuppgifter i AI-tjänster.\n", encoding="utf-8"
    )
    report = build_index([extra], settings.index_dir, CountingEmbedder(), settings)
    assert (report.documents, report.added) == (4, ["riktlinje.md"])
    report = build_index([extra], settings.index_dir, CountingEmbedder(), settings, replace=True)
    assert report.documents == 1
    assert sorted(report.removed) == sorted(p.name for p in CORPUS.glob("*.txt"))


def test_bad_files_get_one_line_each_and_the_rest_is_indexed(corpus, settings):
    (corpus / "empty.txt").write_text("   \n", encoding="utf-8")
    (corpus / "junk.txt").write_bytes(b"\x00\x01\x02binary")
    report = build_index([corpus], settings.index_dir, CountingEmbedder(), settings)
    assert report.documents == 3
    assert sorted(msg for _, msg in report.failed) == [
        "empty.txt: the file has no text. Remove it or add its content.",
        "junk.txt: looks like a binary file, not text. Remove it or convert it to UTF-8 text.",
    ]


def test_a_model_mismatch_is_refused_with_how_to_rebuild(corpus, settings):
    build_index([corpus], settings.index_dir, CountingEmbedder(), settings)
    with pytest.raises(IndexMismatch) as info:
        build_index([corpus], settings.index_dir, CountingEmbedder(dim=32), settings)
    assert str(info.value) == (
        f"The index at {settings.index_dir} was built with model fake (dim 64), but the configured model is "
        f"fake (dim 32). Rebuild it: rag index PATH ... --index {settings.index_dir} --rebuild"
    )
    report = build_index([corpus], settings.index_dir, CountingEmbedder(dim=32), settings, rebuild=True)
    assert report.embedded == report.chunks


def test_a_chunking_mismatch_is_refused(corpus, settings):
    build_index([corpus], settings.index_dir, CountingEmbedder(), settings)
    other = Settings(index_dir=settings.index_dir, embedder="fake", chunk_size=300)
    with pytest.raises(IndexMismatch, match="was built with chunking"):
        build_index([corpus], settings.index_dir, CountingEmbedder(), other)


def test_missing_index_says_how_to_build_one(tmp_path):
    with pytest.raises(IndexMissing) as info:
        load_index(tmp_path / "nowhere")
    assert (
        str(info.value)
        == f"No index at {tmp_path / 'nowhere'}. Run 'rag index corpus --index {tmp_path / 'nowhere'}' first."
    )


def test_a_failed_build_leaves_the_previous_index_serving(corpus, settings):
    build_index([corpus], settings.index_dir, CountingEmbedder(), settings)
    before = current_path(settings.index_dir)

    class Exploding(CountingEmbedder):
        def embed_passages(self, texts, **kwargs):
            raise RuntimeError("killed mid-embedding")

    (corpus / "new.txt").write_text("Ett nytt protokoll om AI.", encoding="utf-8")
    with pytest.raises(RuntimeError):
        build_index([corpus], settings.index_dir, Exploding(), settings)
    assert current_path(settings.index_dir) == before
    assert len(load_index(settings.index_dir).documents) == 3
    versions = [p.name for p in settings.index_dir.iterdir() if p.name.startswith("v-")]
    assert versions == [before.name]
    assert json.loads((before / "manifest.json").read_text())["counts"]["documents"] == 3


def test_documents_indexed_from_another_working_directory_are_kept(corpus, settings, tmp_path, monkeypatch):
    monkeypatch.chdir(corpus.parent)
    build_index([Path("corpus")], settings.index_dir, CountingEmbedder(), settings)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "ny.md").write_text("# Ny riktlinje\n\nText om AI.\n", encoding="utf-8")
    monkeypatch.chdir(elsewhere)
    report = build_index([Path("ny.md")], settings.index_dir, CountingEmbedder(), settings)
    assert (report.documents, report.removed) == (4, [])


def test_an_index_from_an_older_analysis_is_refused_for_search_and_updated_by_index(corpus, settings):
    build_index([corpus], settings.index_dir, CountingEmbedder(), settings)
    manifest_file = current_path(settings.index_dir) / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    manifest["analysis"] = 0
    manifest_file.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatch) as info:
        load_index(settings.index_dir)
    assert str(info.value) == (
        f"The index at {settings.index_dir} was analysed by an older version of this program (analysis 0, now {ANALYSIS_VERSION}). "
        f"Update it: rag index PATH ... --index {settings.index_dir}"
    )
    embedder = CountingEmbedder()
    report = build_index([corpus], settings.index_dir, embedder, settings)
    assert embedder.embedded == 0 and report.reused == report.chunks
    assert load_index(settings.index_dir).manifest["analysis"] == ANALYSIS_VERSION
