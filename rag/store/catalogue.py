"""What every store keeps in memory of one version: its manifest, chunks and documents, and the
column index that answers facet values and filters (``rag.store.filters.Columns``). The embedded
index, its public view and PostgreSQL's index share it; only retrieval differs between them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from rag.store.filters import Columns
from rag.types import Chunk, Manifest, StoredDocument


class Catalogue:
    """The read side's in-memory part (``ReadStore``'s chunk, document and facet methods)."""

    def __init__(self, manifest: Manifest, chunks: list[Chunk], documents: dict[str, StoredDocument]) -> None:
        self._manifest = manifest
        self._chunks = chunks
        self._documents = documents
        self._columns = Columns(chunks)

    @property
    def manifest(self) -> Manifest:
        return self._manifest

    @property
    def count(self) -> int:
        return len(self._chunks)

    def chunk(self, i: int) -> Chunk:
        return self._chunks[i]

    def chunks(self) -> Sequence[Chunk]:
        return self._chunks

    def chunk_ids(self, doc_id: str) -> list[int]:
        return [int(i) for i in self._columns.ids("doc", doc_id)]

    def document(self, doc_id: str) -> StoredDocument | None:
        return self._documents.get(doc_id)

    def documents(self) -> Mapping[str, StoredDocument]:
        return MappingProxyType(self._documents)

    def values(self, field: str) -> list[str]:
        return self._columns.values(field)
