"""The store boundary: what search, answers, precedent and the API read from an index, and what a
build writes to one. Two protocols, each held by the embedded folder (``rag.store.embedded``) and
PostgreSQL (``rag.store.postgres``) alike (``tests/test_store_contract.py``).

Above the boundary: query understanding, fusion, boosts, diversification, citations, answers.
Below it: documents, chunks and their metadata, facet vocabularies (``values``), filters (applied
inside ``lexical`` and ``dense``), keyword statistics, vectors and nearest neighbours, and who sees
what (``public``).

Chunk ids are ``0..count-1`` in document order (a document's chunks are adjacent, in text order);
a view numbers its own chunks the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Protocol

import numpy as np

from rag.config import Settings
from rag.types import Chunk, Document, Filters, Manifest, StoredDocument


class ReadStore(Protocol):
    """One loaded version of the index, to search and read."""

    @property
    def version(self) -> str:
        """The version's name ('v-20250101T...' for a folder, 'postgresql-v3'): a server compares it
        with ``rag.store.current_version`` to notice a new build."""
        ...

    @property
    def manifest(self) -> Manifest:
        """How the version was built (``rag.store.manifest`` checks it against the running model)."""
        ...

    @property
    def count(self) -> int:
        """How many chunks there are."""
        ...

    @property
    def dense_kind(self) -> str:
        """How nearest neighbours are found: 'flat' (exact), 'hnsw' or 'pgvector'."""
        ...

    def chunk(self, i: int) -> Chunk: ...

    def chunks(self) -> Sequence[Chunk]:
        """Every chunk, by id."""
        ...

    def chunk_ids(self, doc_id: str) -> list[int]:
        """The ids of a document's chunks, in text order (none for an unknown document)."""
        ...

    def document(self, doc_id: str) -> StoredDocument | None:
        """A document, or None when there is none of that id (or it is not in this view)."""
        ...

    def documents(self) -> Mapping[str, StoredDocument]:
        """Every document, by id."""
        ...

    def values(self, field: str) -> list[str]:
        """The distinct non-empty values of a chunk field (``rag.store.filters.FIELDS``: organisation,
        body, doc_type, outcome, date, dnr, doc), sorted: the vocabularies a question is parsed
        against and an unknown filter value is answered with."""
        ...

    def lexical(self, keys: Sequence[str], n: int, filters: Filters | None = None) -> list[tuple[int, float]]:
        """The ``n`` best chunks for analysed query keys by BM25 among those passing ``filters``:
        (id, score), best first, ties by id; chunks matching no key are left out."""
        ...

    def dense(self, vector: np.ndarray, n: int, filters: Filters | None = None) -> list[tuple[int, float]]:
        """The ``n`` nearest chunks to an L2-normalised vector by inner product (cosine) among those
        passing ``filters``: (id, score), best first."""
        ...

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        """The stored vectors of chunks, float32 (len(ids), dim)."""
        ...

    def document_frequency(self, key: str) -> int:
        """How many chunks hold an analysed key (0 for a key never seen)."""
        ...

    def idf(self, key: str) -> float:
        """BM25's inverse document frequency of a key; an unseen key gets the highest."""
        ...

    def public(self) -> ReadStore:
        """The citizens' view: the internal documents and their chunks taken out before anything is
        searched, counted or listed (keyword statistics too), chunk ids renumbered without gaps; the
        store itself when nothing in it is internal."""
        ...

    def close(self) -> None:
        """Let the version be collected once nothing else holds it (what was loaded stays usable)."""
        ...


class WriteStore(Protocol):
    """Where a build writes: the version it builds on, and an atomic publish of the next one."""

    def current(self) -> str | None:
        """Where the current version is (its folder), or None before the first build."""
        ...

    def manifest(self) -> Manifest | None:
        """The current version's manifest (what an incremental build compares against)."""
        ...

    def vectors_by_hash(self) -> dict[str, np.ndarray]:
        """The current version's vectors by the hash of their embedding text, for reuse."""
        ...

    def stored_documents(self, ids: set[str]) -> dict[str, Document]:
        """Documents ``ids`` as the current version holds them (text as indexed then)."""
        ...

    def write(
        self,
        manifest: Manifest,
        documents: Sequence[StoredDocument],
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        hashes: Sequence[str],
        settings: Settings,
    ) -> str:
        """Write a complete version and make it the current one atomically (a reader sees the old
        one or the new one, never half); returns where it is. ``vectors[i]`` is chunk ``i``'s,
        L2-normalised float32; ``hashes[i]`` the hash of its embedding text."""
        ...

    def lock(self) -> AbstractContextManager[None]:
        """Held for a whole build: one build at a time (another waits)."""
        ...

    def collect(self) -> list[str]:
        """Remove old versions no reader holds, and what crashed builds left; returns what went."""
        ...
