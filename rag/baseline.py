"""A plain RAG to measure the product against: the line the product must beat.

Deliberately standard and free of the product's own analysis: each document's raw text cut into
800-character chunks by langchain's ``RecursiveCharacterTextSplitter`` (overlap 100, its default
separators), no structure, no header line, no OCR repair; dense retrieval with the product's
embedder over those chunks, BM25 (bm25s, Swedish Snowball stemming, å/ä/ö folded, Swedish
stopwords), and reciprocal rank fusion (k=60) of the two. Built in memory from an index's
documents; passage vectors are cached on disk by text hash (``VectorCache``), so a repeated
evaluation embeds nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_SWEDISH
from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.types import Chunk, Hit

if TYPE_CHECKING:
    from rag.embed import Embedder

logger = logging.getLogger(__name__)

CHUNK_SIZE = 800
CHUNK_OVERLAP = 100
RRF_K = 60
MODES = ("baseline dense", "baseline bm25", "baseline rrf")
_CANDIDATES = 100
_WORD = re.compile(r"\w+")
_FOLD = str.maketrans({"å": "a", "ä": "a", "ö": "o"})
_STOP = frozenset(STOPWORDS_SWEDISH)


def fixed_chunks(doc_id: str, text: str, size: int = CHUNK_SIZE, overlap: int = CHUNK_OVERLAP) -> list[Chunk]:
    """``text`` cut by the standard recursive splitter; each chunk's span is located in ``text``."""
    splitter = RecursiveCharacterTextSplitter(chunk_size=size, chunk_overlap=overlap, add_start_index=True)
    chunks = []
    for part in splitter.create_documents([text]):
        start = int(part.metadata["start_index"])
        if start < 0:  # the splitter could not place it (it strips whitespace): find it ourselves
            start = text.find(part.page_content)
        if start < 0:
            continue
        end = start + len(part.page_content)
        chunks.append(Chunk(doc=doc_id, start=start, end=end, text=text[start:end]))
    return chunks


def bm25_tokens(text: str, stemmer: Any) -> list[str]:
    """Lower-cased words without Swedish stopwords, Snowball-stemmed, then å/ä/ö folded."""
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOP]
    return [w.translate(_FOLD) for w in stemmer.stemWords(words)]


def rrf(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> list[int]:
    """Ids by plain reciprocal rank fusion, ``sum 1 / (k + rank)``; ties keep the first seen."""
    fused: dict[int, float] = {}
    for ids in rankings:
        for rank, cid in enumerate(ids, start=1):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (k + rank)
    return sorted(fused, key=lambda cid: -fused[cid])


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class VectorCache:
    """Passage vectors by text hash in a folder (``hashes.json`` + ``vectors.npy`` per model).

    Texts already seen are not embedded again; the files are written whole and renamed into place.
    """

    def __init__(self, folder: Path, embedder: Embedder) -> None:
        model = text_hash(json.dumps(dict(embedder.identity), sort_keys=True))[:16]
        self.folder = folder / model
        self.embedder = embedder
        self._vectors: dict[str, np.ndarray] = self._load()

    def _load(self) -> dict[str, np.ndarray]:
        hashes_file, vectors_file = self.folder / "hashes.json", self.folder / "vectors.npy"
        if not hashes_file.exists() or not vectors_file.exists():
            return {}
        hashes = json.loads(hashes_file.read_text(encoding="utf-8"))
        vectors = np.load(vectors_file, allow_pickle=False)
        if len(hashes) != len(vectors):
            return {}
        return {h: vectors[i] for i, h in enumerate(hashes)}

    def add(self, vectors: Mapping[str, np.ndarray]) -> None:
        """Remember vectors computed elsewhere (an index's own), without embedding."""
        self._vectors.update(vectors)

    def passages(self, texts: Sequence[str], batch_size: int = 16) -> np.ndarray:
        """Vectors of ``texts`` as passages, embedding only those not cached, and saving them."""
        hashes = [text_hash(t) for t in texts]
        todo = list({h: t for h, t in zip(hashes, texts, strict=True) if h not in self._vectors}.items())
        if todo:
            logger.info("embedding %d of %d passages (%d cached)", len(todo), len(texts), len(texts) - len(todo))
            new = self.embedder.embed_passages([t for _, t in todo], batch_size=batch_size)
            self._vectors.update({h: new[i] for i, (h, _) in enumerate(todo)})
            self._save()
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32)
        return np.stack([self._vectors[h] for h in hashes]).astype(np.float32)

    def _save(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            hashes = list(self._vectors)
            tmp = Path(tempfile.mkdtemp(dir=self.folder, prefix=".tmp-"))
            np.save(tmp / "vectors.npy", np.stack([self._vectors[h] for h in hashes]), allow_pickle=False)
            (tmp / "hashes.json").write_text(json.dumps(hashes), encoding="utf-8")
            os.replace(tmp / "vectors.npy", self.folder / "vectors.npy")
            os.replace(tmp / "hashes.json", self.folder / "hashes.json")
            tmp.rmdir()
        except OSError as exc:  # a read-only place: the vectors are still used for this run
            logger.warning("cannot cache vectors in %s (%s)", self.folder, exc)


def cache_folder(index_dir: Path) -> Path:
    """Where evaluation vectors are cached: beside the index's versions, or the temp dir if read-only."""
    if os.access(index_dir, os.W_OK):
        return index_dir / "eval-vectors"
    return Path(tempfile.gettempdir()) / "rag-eval-vectors"


@dataclass(frozen=True)
class Baseline:
    """The plain RAG over fixed chunks: dense, BM25 and their RRF."""

    chunks: tuple[Chunk, ...]
    vectors: np.ndarray  # float32 (len(chunks), dim), L2-normalised: inner product is cosine
    bm25: Any
    stemmer: Any

    @classmethod
    def build(cls, texts: Mapping[str, str], cache: VectorCache) -> Baseline:
        """The baseline over documents ``{id: text}``."""
        chunks = tuple(c for doc_id in sorted(texts) for c in fixed_chunks(doc_id, texts[doc_id]))
        stemmer = Stemmer.Stemmer("swedish")
        retriever = bm25s.BM25()
        retriever.index([bm25_tokens(c.text, stemmer) or ["\u2205"] for c in chunks], show_progress=False)
        vectors = cache.passages([c.text for c in chunks])
        return cls(chunks, vectors, retriever, stemmer)

    def dense(self, query_vector: np.ndarray, n: int = _CANDIDATES) -> list[int]:
        scores = self.vectors @ query_vector
        top = np.argsort(-scores, kind="stable")[:n]
        return [int(i) for i in top]

    def lexical(self, query: str, n: int = _CANDIDATES) -> list[int]:
        keys = [k for k in dict.fromkeys(bm25_tokens(query, self.stemmer)) if k in (self.bm25.vocab_dict or {})]
        if not keys:
            return []
        scores = np.asarray(self.bm25.get_scores(keys))
        matching = np.flatnonzero(scores > 0)
        top = matching[np.argsort(-scores[matching], kind="stable")][:n]
        return [int(i) for i in top]

    def search(self, query: str, mode: str, query_vector: Callable[[str], np.ndarray], k: int = 10) -> list[Hit]:
        """The ``k`` best chunks for ``query`` in one of ``MODES``."""
        if mode == "baseline dense":
            ids = self.dense(query_vector(query))
        elif mode == "baseline bm25":
            ids = self.lexical(query)
        elif mode == "baseline rrf":
            ids = rrf([self.dense(query_vector(query)), self.lexical(query)])
        else:
            raise ValueError(f"unknown baseline mode '{mode}'; use one of {', '.join(MODES)}")
        return [Hit(chunk_id=i, chunk=self.chunks[i], score=0.0) for i in ids[:k]]


def best_mode(report: Mapping[str, Mapping[str, Mapping[str, Any]]], metric: str = "mrr@10") -> str | None:
    """The baseline mode with the highest ``metric`` over all questions, or None without baseline rows."""
    rows = [m for m in MODES if m in report and "all" in report[m]]
    return max(rows, key=lambda m: report[m]["all"].get(metric, 0.0), default=None)


def margins(report: Mapping[str, Mapping[str, Mapping[str, Any]]], mode: str = "hybrid") -> dict[str, float]:
    """``mode`` minus the best baseline row, per metric (each metric's own best row): the CI margin."""
    if mode not in report or "all" not in report[mode] or best_mode(report) is None:
        return {}
    out = {}
    for metric in ("recall@1", "recall@5", "mrr@10"):
        best = max(report[m]["all"].get(metric, 0.0) for m in MODES if m in report)
        out[f"margin.{metric}"] = round(report[mode]["all"].get(metric, 0.0) - best, 4)
    return out


def for_index(documents: Mapping[str, Any], index_dir: Path, embedder: Embedder) -> Baseline:
    """The baseline over an index's documents (``{id: StoredDocument}``), vectors cached beside it."""
    return Baseline.build({d: doc.text for d, doc in documents.items()}, VectorCache(cache_folder(index_dir), embedder))


def beside(
    product: Callable[[str, str], list[Hit]], baseline: Baseline, query_vector: Callable[[str], np.ndarray]
) -> Callable[[str, str], list[Hit]]:
    """One ``search(question, mode)`` for ``rag.evaluate.evaluate``: the baseline's ``MODES``, else the product."""

    def search(question: str, mode: str) -> list[Hit]:
        if mode in MODES:
            return baseline.search(question, mode, query_vector)
        return product(question, mode)

    return search
