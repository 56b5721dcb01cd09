"""Swedish keyword search: BM25 (bm25s) over OCR-repaired, stemmed, folded keys (``rag.normalise``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

from rag.normalise import analyse


def idf(count: int, df: int) -> float:
    """BM25's (Lucene) inverse document frequency of a key in ``df`` of ``count`` chunks, as bm25s
    computes it: ln(1 + (N - df + 0.5) / (df + 0.5))."""
    return float(np.log(1.0 + (count - df + 0.5) / (df + 0.5)))


class LexicalIndex:
    """BM25 over a list of texts; document id == position in that list == chunk id."""

    def __init__(self, retriever: bm25s.BM25, count: int) -> None:
        self._bm25 = retriever
        self._count = count
        self._vocab: dict[str, int] = retriever.vocab_dict or {}

    @classmethod
    def build(cls, texts: Sequence[str], *, k1: float = 1.2, b: float = 0.75) -> LexicalIndex:
        corpus = [analyse(t) or ["\u2205"] for t in texts]  # bm25s rejects empty documents
        retriever = bm25s.BM25(k1=k1, b=b, method="lucene")
        retriever.index(corpus, show_progress=False)
        return cls(retriever, len(texts))

    def __len__(self) -> int:
        return self._count

    def scores(self, query_keys: Sequence[str]) -> np.ndarray:
        """BM25 score of every document for the analysed query (zeros where nothing matches)."""
        keys = [k for k in dict.fromkeys(query_keys) if k in self._vocab]
        if not keys or not self._count:
            return np.zeros(self._count, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(keys), dtype=np.float32)

    def document_frequency(self, key: str) -> int:
        """How many chunks contain ``key`` (0 for a key the index has never seen)."""
        column = self._vocab.get(key)
        if column is None:
            return 0
        indptr = self._bm25.scores["indptr"]
        return int(indptr[column + 1] - indptr[column])

    def idf(self, key: str) -> float:
        """BM25's (Lucene) inverse document frequency of ``key``; an unseen key gets the highest."""
        return idf(self._count, self.document_frequency(key))

    def save(self, directory: Path) -> None:
        self._bm25.save(str(directory), allow_pickle=False)

    @classmethod
    def load(cls, directory: Path, count: int, *, mmap: bool = True) -> LexicalIndex:
        return cls(bm25s.BM25.load(str(directory), mmap=mmap, allow_pickle=False), count)
