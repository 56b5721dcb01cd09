"""Ingest with the real model: embedding throughput on the real corpus's chunks."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.config import Settings


def _chunk_texts(paths: Sequence[Path], settings: Settings, embedder: Any) -> list[str]:
    from rag.chunk import chunk_configured, embed_text
    from rag.parse import discover, read_document
    from rag.structure import parse_structure

    texts = []
    for file, root in discover(paths):
        doc = read_document(file, root=root)
        for chunk in chunk_configured(doc, parse_structure(doc.text), settings, embedder.count_tokens):
            texts.append(embed_text(chunk, settings))
    return texts


def ingest(paths: Sequence[Path], settings: Settings, embedder: Any) -> dict[str, Any]:
    """Embedding throughput of the real model on the real corpus's chunks (what indexing spends),
    in chunks, MB of text and model tokens (prompt and special tokens included) per second: the
    model's cost grows with tokens, so tokens/s is what a faster backend changes and chunks/s
    also depends on how long the chunks are."""
    texts = _chunk_texts(paths, settings, embedder)
    embedder.embed_passages(texts[:8], batch_size=settings.embed_batch_size)  # warm up
    started = time.perf_counter()
    embedder.embed_passages(texts, batch_size=settings.embed_batch_size)
    seconds = time.perf_counter() - started
    chars = sum(len(t) for t in texts)
    tokens = sum(embedder.count_tokens(t) for t in texts)
    return {
        "chunks": len(texts),
        "seconds": round(seconds, 2),
        "chunks_per_s": round(len(texts) / seconds, 1),
        "mb_per_s": round(chars / 1e6 / seconds, 3),
        "tokens_per_chunk": round(tokens / max(len(texts), 1)),
        "tokens_per_s": round(tokens / seconds),
        "backend": settings.backend,
    }
