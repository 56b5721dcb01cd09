"""Writing the embedded index: the ``WriteStore`` of an index folder (``rag.store.base``)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from rag.chunk import lexical_text
from rag.config import Settings
from rag.store.embedded.dense import DenseIndex, choose_kind
from rag.store.embedded.lexical import LexicalIndex
from rag.store.embedded.sqlite import stored_documents, write_sqlite
from rag.store.embedded.versions import build_lock, collect_garbage, current_path, new_version, read_manifest
from rag.store.embedded.versions import vectors_by_hash as version_vectors
from rag.types import Chunk, Document, Manifest, StoredDocument


class EmbeddedStore:
    """The index folder ``index_dir`` as a build writes it: each build a new version folder."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir

    def current(self) -> str | None:
        version = current_path(self.index_dir)
        return None if version is None else str(version)

    def manifest(self) -> Manifest | None:
        return read_manifest(self.index_dir)

    def vectors_by_hash(self) -> dict[str, np.ndarray]:
        return version_vectors(current_path(self.index_dir))

    def stored_documents(self, ids: set[str]) -> dict[str, Document]:
        version = current_path(self.index_dir)
        if version is None or not ids:
            return {}
        return stored_documents(version / "chunks.sqlite", ids)

    def write(
        self,
        manifest: Manifest,
        documents: Sequence[StoredDocument],
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        hashes: Sequence[str],
        settings: Settings,
    ) -> str:
        def fill(folder: Path) -> None:
            write_sqlite(folder / "chunks.sqlite", documents, chunks)
            np.save(folder / "vectors.npy", vectors, allow_pickle=False)
            (folder / "embed_hashes.json").write_text(json.dumps(list(hashes)), encoding="utf-8")
            kind = choose_kind(len(vectors), settings.dense_index, settings.dense_flat_max)
            DenseIndex.build(vectors, kind).save(folder / "dense.faiss")
            LexicalIndex.build([lexical_text(c, settings) for c in chunks]).save(folder / "bm25")
            text = json.dumps(manifest, indent=2, ensure_ascii=False)
            (folder / "manifest.json").write_text(text, encoding="utf-8")

        return str(new_version(self.index_dir, fill))

    @contextmanager
    def lock(self) -> Iterator[None]:
        with build_lock(self.index_dir):
            yield

    def collect(self) -> list[str]:
        return collect_garbage(self.index_dir)
