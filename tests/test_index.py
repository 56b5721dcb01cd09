from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import CORPUS, GOTLAND, TIBRO

from rag.build import build_index
from rag.config import Settings
from rag.embed import FakeEmbedder
from rag.errors import IndexMismatch, IndexMissing
from rag.store.embedded import current_path, load_index, read_manifest
from rag.store.manifest import ANALYSIS_VERSION, check_compatible


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
    assert index.count == len(index.chunks()) == report.chunks == len(index.dense_index) == embedder.embedded
    assert len(index.lexical_index) == index.count
    for chunk in index.chunks():
        assert chunk.text == index.documents()[chunk.doc].text[chunk.start : chunk.end]
    manifest = read_manifest(settings.index_dir)
    assert manifest["schema_version"] == 1
    assert manifest["model"] == {"name": "fake", "dim": 64}
    assert manifest["chunking"] == {
        "chunk_size": settings.chunk_size,
        "chunk_overlap": settings.chunk_overlap,
        "max_chunk_tokens": 400,
    }
    assert manifest["documents"][TIBRO.name]["sha256"] == index.documents()[TIBRO.name].sha256
    vectors = np.load(current_path(settings.index_dir) / "vectors.npy")
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_loading_warms_the_memory_mapped_files_in_the_background(corpus, settings, monkeypatch):
    import rag.store.embedded.index

    read: list[list[Path]] = []
    monkeypatch.setattr(rag.store.embedded.index, "_read_through", read.append)
    build_index([corpus], settings.index_dir, FakeEmbedder(), settings)
    index = load_index(settings.index_dir)
    for thread in threading.enumerate():
        if thread.name == "rag-prefetch":
            thread.join()
    version = current_path(settings.index_dir)
    assert read == [[version / "dense.faiss", *sorted((version / "bm25").glob("*.npy"))]]
    assert len(read[0]) > 1 and all(p.is_file() for p in read[0])
    index.close()
    load_index(settings.index_dir, mmap=False).close()  # read whole: nothing to warm
    assert len(read) == 1


def test_warming_skips_files_a_collection_removed(tmp_path):
    from rag.store.embedded.index import _read_through

    (tmp_path / "kept.npy").write_bytes(b"x" * 3_000_000)
    assert _read_through([tmp_path / "collected.faiss", tmp_path / "kept.npy"]) == 3_000_000


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
    assert set(index.documents()) == {TIBRO.name, "001_6e1d6ed25857f700.txt"}


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
    assert len(load_index(settings.index_dir).documents()) == 3
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


# --- personal data in documents ---

PERSONAL = (
    "KS § 87 Dnr KS 2023/01222\nSammanträde 2024-09-30 kl. 13.00-16.30\n\n"
    "Sökande Anna Andersson, personnummer 19880320-0016, samordningsnummer 701063-2391, "
    "inte ett personnummer: 880320-0018. Nås på anna.andersson@tibro.se eller 070-123 45 67.\n\n"
    "Beslut\nKommunstyrelsen beslutar att bevilja ansökan om 1 500 000 kr.\n"
)
SECRETS = ("19880320-0016", "701063-2391", "anna.andersson@tibro.se", "070-123 45 67")


@pytest.fixture
def personal(tmp_path):
    folder = tmp_path / "personal"
    folder.mkdir()
    (folder / "ansokan.txt").write_text(PERSONAL, encoding="utf-8")
    return folder


def test_personal_data_is_masked_in_the_indexed_text_keeping_every_offset(personal, settings):
    report = build_index([personal], settings.index_dir, CountingEmbedder(), settings)
    assert report.personal_data == {"personnummer": 2, "email": 1, "phone": 1}
    index = load_index(settings.index_dir)
    text = index.documents()["ansokan.txt"].text
    assert len(text) == len(PERSONAL)
    for secret in SECRETS:
        assert secret not in text
        start = PERSONAL.index(secret)
        assert text[start : start + len(secret)] == "█" * len(secret)
    for kept in ("KS § 87", "Dnr KS 2023/01222", "2024-09-30", "13.00-16.30", "880320-0018", "1 500 000 kr"):
        assert kept in text
    assert all(c.text == text[c.start : c.end] and "0016" not in c.text for c in index.chunks())
    assert index.manifest["personal_data"] == {"masked": True, "personnummer": 2, "email": 1, "phone": 1}
    assert index.manifest["documents"]["ansokan.txt"]["personal_data"] == {"personnummer": 2, "email": 1, "phone": 1}
    index.close()

    from rag.search import Searcher

    searcher = Searcher.open(settings, CountingEmbedder())
    for query in ("anna.andersson@tibro.se", "19880320-0016", "070-123 45 67", "Anna Andersson"):
        for hit in searcher.search(query, k=5):
            assert not any(secret in hit.chunk.text for secret in SECRETS)
    assert searcher.search("KS 2023/01222", k=1)[0].chunk.doc == "ansokan.txt"


def test_masking_can_be_turned_off_and_changing_it_updates_the_index(personal, settings):
    build_index([personal], settings.index_dir, CountingEmbedder(), settings)
    unmasked = settings.model_copy(update={"mask_personal_data": False})
    with pytest.raises(IndexMismatch) as info:
        check_compatible(read_manifest(settings.index_dir), CountingEmbedder(), unmasked, settings.index_dir)
    assert str(info.value) == (
        f"The index at {settings.index_dir} has personal data masked, but RAG_MASK_PERSONAL_DATA is false. "
        f"Update it: rag index PATH ... --index {settings.index_dir}"
    )

    embedder = CountingEmbedder()
    report = build_index([personal], settings.index_dir, embedder, unmasked)  # re-read, not "nothing to do"
    assert report.masked is False and report.personal_data == {"personnummer": 0, "email": 0, "phone": 0}
    assert 0 < embedder.embedded < report.chunks + 1
    index = load_index(settings.index_dir)
    assert index.documents()["ansokan.txt"].text == PERSONAL
    assert index.manifest["personal_data"]["masked"] is False
    index.close()
    check_compatible(read_manifest(settings.index_dir), embedder, unmasked, settings.index_dir)
    with pytest.raises(IndexMismatch, match="has personal data not masked, but RAG_MASK_PERSONAL_DATA is true"):
        check_compatible(read_manifest(settings.index_dir), embedder, settings, settings.index_dir)

    build_index([personal], settings.index_dir, CountingEmbedder(), settings)  # and back
    assert "0016" not in load_index(settings.index_dir).documents()["ansokan.txt"].text


def test_rag_index_reports_what_it_masked(personal, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from rag.cli import app

    monkeypatch.setenv("RAG_EMBEDDER", "fake")
    result = CliRunner().invoke(app, ["index", str(personal), "--index", str(tmp_path / "index")])
    assert result.exit_code == 0, result.output
    assert (
        "Personal data masked in the indexed text: personnummer/samordningsnummer 2, e-mail addresses 1, "
        "phone numbers 1 (RAG_MASK_PERSONAL_DATA=false turns masking off).\n"
    ) in result.output
    monkeypatch.setenv("RAG_MASK_PERSONAL_DATA", "false")
    result = CliRunner().invoke(app, ["index", str(personal), "--index", str(tmp_path / "index")])
    assert "Personal data is not masked (RAG_MASK_PERSONAL_DATA=false).\n" in result.output


# --- versions on disk: crashes, collection, readers, concurrent builds ---


def versions(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir() if p.name.startswith("v-"))


def touch(corpus: Path, n: int) -> None:
    (corpus / "andring.md").write_text(f"# Ändring {n}\n\nText om AI, version {n}.\n", encoding="utf-8")


def test_old_versions_are_collected_keeping_the_current_and_the_previous_one(corpus, settings):
    built = []
    for n in range(4):
        touch(corpus, n)
        built.append(Path(build_index([corpus], settings.index_dir, CountingEmbedder(), settings).path).name)
    assert versions(settings.index_dir) == built[-2:]
    assert current_path(settings.index_dir).name == built[-1]


def test_a_version_a_loaded_index_uses_is_kept_until_it_is_closed(corpus, settings):
    build_index([corpus], settings.index_dir, CountingEmbedder(), settings)
    from rag.search import Searcher

    searcher = Searcher.open(settings, CountingEmbedder())  # like a running server
    serving = searcher.index.version
    for n in range(3):
        touch(corpus, n)
        build_index([corpus], settings.index_dir, CountingEmbedder(), settings)
    assert current_path(settings.index_dir).name != serving
    assert serving in versions(settings.index_dir) and len(versions(settings.index_dir)) == 3
    assert searcher.search("Vad beslutade Tibro om AI-strategi?", k=1)[0].chunk.doc == TIBRO.name
    searcher.index.close()
    touch(corpus, 99)
    build_index([corpus], settings.index_dir, CountingEmbedder(), settings)
    assert serving not in versions(settings.index_dir) and len(versions(settings.index_dir)) == 2


def test_what_a_crashed_build_left_behind_loads_the_current_index_and_is_cleaned_up(corpus, settings):
    build_index([corpus], settings.index_dir, CountingEmbedder(), settings)
    current = current_path(settings.index_dir)
    # killed while writing; killed after renaming its version but before moving 'current';
    # killed while deleting an old version; killed between making the new link and moving it
    (settings.index_dir / ".v-29991231T000000000000.tmp" / "bm25").mkdir(parents=True)
    (settings.index_dir / ".v-29991231T000000000000.tmp" / "chunks.sqlite").write_bytes(b"half")
    shutil.copytree(current, settings.index_dir / "v-29991231T000000000001")
    (settings.index_dir / "v-29991231T000000000001" / "manifest.json").write_text("{}")
    shutil.copytree(current, settings.index_dir / ".trash-v-20000101T000000000000")
    (settings.index_dir / ".current.tmp").symlink_to("v-29991231T000000000001")
    assert load_index(settings.index_dir).path == current

    report = build_index([corpus], settings.index_dir, CountingEmbedder(), settings)  # nothing to do, but it cleans
    assert report.embedded == 0
    assert sorted(p.name for p in settings.index_dir.iterdir()) == [".lock", "current", current.name]


def test_concurrent_builds_wait_for_each_other_and_lose_nothing(corpus, settings, tmp_path):
    import threading

    extra = [tmp_path / f"extra{i}" for i in range(2)]
    for i, folder in enumerate(extra):
        folder.mkdir()
        (folder / f"ny{i}.md").write_text(f"# Ny riktlinje {i}\n\nText om AI nummer {i}.\n", encoding="utf-8")
    build_index([corpus], settings.index_dir, CountingEmbedder(), settings)
    errors: list[BaseException] = []

    def build(folder: Path) -> None:
        try:
            build_index([folder], settings.index_dir, CountingEmbedder(), settings)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=build, args=(folder,)) for folder in extra]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {"ny0.md", "ny1.md"} <= set(load_index(settings.index_dir).documents())


def test_an_index_folder_with_odd_characters_in_its_name(corpus, tmp_path):
    settings = Settings(index_dir=tmp_path / "index #1 ?x=%20 åäö", embedder="fake")
    build_index([corpus], settings.index_dir, CountingEmbedder(), settings)
    assert len(load_index(settings.index_dir).documents()) == 3


def test_a_view_of_an_index_shares_its_lease(corpus, settings):
    """The public view dying must not release, or close twice, the descriptor that keeps the full
    index's version on disk."""
    import gc

    (corpus / "internal").mkdir()
    (corpus / "internal" / "rutin.md").write_text("# Intern rutin\n\nText om AI i växeln.\n", encoding="utf-8")
    build_index([corpus], settings.index_dir, CountingEmbedder(), settings)
    index = load_index(settings.index_dir)
    view = index.public()
    assert view is not index and view.version == index.version and view.count < index.count
    del view
    gc.collect()
    for n in range(3):
        touch(corpus, n)
        build_index([corpus], settings.index_dir, CountingEmbedder(), settings)
    assert index.path.name in versions(settings.index_dir)
    index.close()
    index.close()  # closing twice is harmless
    touch(corpus, 99)
    build_index([corpus], settings.index_dir, CountingEmbedder(), settings)
    assert index.path.name not in versions(settings.index_dir)
