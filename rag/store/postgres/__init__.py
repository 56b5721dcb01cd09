"""The index in PostgreSQL with pgvector: one database shared by many API processes and machines.

``RAG_STORE=postgresql://user@host:port/db`` selects it; the embedded index (a folder of FAISS,
bm25s and SQLite files) stays the default. A build runs as always, into the local index folder
(so vectors of unchanged chunks are re-used by hash), and is then *published*: copied into new
tables of the next version in one transaction, which also repoints ``rag_meta.current``. Readers
see the old version or the new one, never half; a running server notices the new version number
and loads it in the background, as it does with a new version folder. Two versions are kept.

- ``connect``: connections, the meta table, schema checks, ``StoreError``;
- ``publish``: a folder's current version copied in, with BM25 postings;
- ``index``: a published version as a ``ReadStore`` (``PgIndex``, ``load``);
- ``store``: the ``WriteStore`` (``PgStore``: the folder, then publish).
"""

from rag.store.postgres.connect import SCHEMA_VERSION, StoreError, current_version, safe_url, tables, version_name
from rag.store.postgres.index import PgIndex, load
from rag.store.postgres.publish import publish
from rag.store.postgres.store import PgStore

__all__ = [
    "SCHEMA_VERSION",
    "PgIndex",
    "PgStore",
    "StoreError",
    "current_version",
    "load",
    "publish",
    "safe_url",
    "tables",
    "version_name",
]
