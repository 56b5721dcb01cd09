"""Writing to PostgreSQL: the ``WriteStore`` of ``rag.store.base`` for a database.

A build runs into a local index folder as always, its working copy: the vectors of unchanged
chunks are reused from it at full precision (the database keeps ``halfvec``) and a crash leaves it
whole. Writing a version writes it there, then publishes it (``publish``): one transaction that
also moves ``rag_meta.current``, so readers see the old version or the new one, never half.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from rag.config import Settings
from rag.store.embedded import EmbeddedStore
from rag.store.postgres.publish import publish
from rag.types import Chunk, Document, Manifest, StoredDocument


class PgStore:
    """The database at ``url``, built through the index folder ``local``."""

    def __init__(self, url: str, local: EmbeddedStore) -> None:
        self.url, self.local = url, local

    def current(self) -> str | None:
        return self.local.current()

    def manifest(self) -> Manifest | None:
        return self.local.manifest()

    def vectors_by_hash(self) -> dict[str, np.ndarray]:
        return self.local.vectors_by_hash()

    def stored_documents(self, ids: set[str]) -> dict[str, Document]:
        return self.local.stored_documents(ids)

    def write(
        self,
        manifest: Manifest,
        documents: Sequence[StoredDocument],
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        hashes: Sequence[str],
        settings: Settings,
    ) -> str:
        where = self.local.write(manifest, documents, chunks, vectors, hashes, settings)
        publish(self.local.index_dir, self.url, settings)
        return where

    @contextmanager
    def lock(self) -> Iterator[None]:
        with self.local.lock():  # publishing locks rag_meta too: one publisher per database
            yield

    def collect(self) -> list[str]:
        """Old folder versions; old database versions go as each publish keeps the newest two."""
        return self.local.collect()
