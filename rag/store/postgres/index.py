"""A published version in PostgreSQL as a ``ReadStore`` (``rag.store.base``): documents and chunk
metadata read into memory when it is loaded, keyword scores and nearest neighbours in SQL.

BM25 sums the postings of the query's keys in SQL (weights and document frequencies precomputed
per version by ``publish``); nearest neighbours are ``ORDER BY embedding <#> query`` on ``halfvec``.
The citizens' view reads the public weights and frequencies and leaves internal rows out in SQL.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from rag.errors import IndexMissing
from rag.store.base import ReadStore
from rag.store.catalogue import Catalogue
from rag.store.embedded.dense import HNSW_EF_SEARCH
from rag.store.embedded.lexical import idf
from rag.store.filters import best
from rag.store.postgres.connect import CHUNK_FIELDS, DOC_FIELDS, check_schema, connect, meta, safe_url, version_name
from rag.store.postgres.publish import vector_text
from rag.types import Chunk, Filters, Manifest, StoredDocument

logger = logging.getLogger(__name__)


class _Database:
    """One version's tables, with a connection per thread (shared by an index and its view)."""

    def __init__(self, url: str, version: int) -> None:
        self.url, self.version = url, version
        self.chunks_table = f"rag_chunks_{version}"
        self.postings_table = f"rag_postings_{version}"
        self.terms_table = f"rag_terms_{version}"
        self._local = threading.local()

    def _con(self) -> Any:
        con = getattr(self._local, "con", None)
        if con is None or con.closed:
            con = self._local.con = connect(self.url)
            # HNSW: as wide a beam as FAISS searches with (pgvector's default of 40 returns at most 40
            # rows, so 100 candidates were never found: recall@100 0.40 at 89k chunks), and filtered
            # searches go on scanning the graph until they have their k rows
            con.execute(f"SET hnsw.ef_search = {HNSW_EF_SEARCH}")
            con.execute("SET hnsw.iterative_scan = relaxed_order")
        return con

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._con().execute(sql, params).fetchall())


class PgIndex(Catalogue):
    """One published version of the index (``public``: its citizens' view, chunk ids renumbered
    over the public chunks as the embedded view numbers them)."""

    def __init__(
        self,
        db: _Database,
        manifest: Manifest,
        chunks: list[Chunk],
        documents: dict[str, StoredDocument],
        dim: int,
        public_ids: np.ndarray,
        public: bool = False,
    ) -> None:
        super().__init__(manifest, chunks, documents)
        self.db = db
        self._dim = dim
        self._public_ids = public_ids  # ascending chunk ids of public chunks: view position -> chunk id
        self._public = public
        self._df: dict[str, int] = {}  # a version never changes: frequencies are cached
        self._df_column = "df_public" if public else "df_all"

    @property
    def version(self) -> str:
        return version_name(self.db.version)

    @property
    def dense_kind(self) -> str:
        return "pgvector"

    # --- keyword search ---

    def _frequencies(self, keys: Sequence[str]) -> dict[str, int]:
        missing = [k for k in keys if k not in self._df]
        if missing:
            sql = f"SELECT key, {self._df_column} FROM {self.db.terms_table} WHERE key = ANY(%s)"
            found = dict(self.db.fetch(sql, (missing,)))
            self._df.update({k: int(found.get(k, 0)) for k in missing})
        return {k: self._df[k] for k in keys}

    def document_frequency(self, key: str) -> int:
        return self._frequencies([key])[key]

    def idf(self, key: str) -> float:
        return idf(self.count, self.document_frequency(key))

    def scores(self, keys: Sequence[str]) -> np.ndarray:
        """BM25 score of every chunk for analysed keys (zeros where nothing matches)."""
        out = np.zeros(self.count, dtype=np.float32)
        matched = [k for k, df in self._frequencies(list(dict.fromkeys(keys))).items() if df]
        if not matched or not self.count:
            return out
        weights = [idf(self.count, self._df[k]) for k in matched]
        weight = "w_public" if self._public else "w_all"
        sql = f"""
            SELECT p.chunk, sum(q.idf * p.{weight}) FROM {self.db.postings_table} p
            JOIN unnest(%s::text[], %s::float8[]) AS q(key, idf) USING (key)
            WHERE p.{weight} IS NOT NULL GROUP BY p.chunk"""
        rows = self.db.fetch(sql, (matched, weights))
        if rows:
            ids = np.array([r[0] for r in rows], dtype=np.int64)
            values = np.array([r[1] for r in rows], dtype=np.float32)
            out[self._position(ids)] = values
        return out

    def lexical(self, keys: Sequence[str], n: int, filters: Filters | None = None) -> list[tuple[int, float]]:
        return best(self.scores(keys), n, self._columns.allowed(filters))

    # --- nearest neighbours ---

    def _where(self, allowed: np.ndarray | None) -> tuple[str, tuple[Any, ...]]:
        """The WHERE clause for a search restricted to ``allowed`` (ids of this view) and, for
        citizens, to public chunks."""
        if allowed is None:
            return ("WHERE NOT internal", ()) if self._public else ("", ())
        ids = self._public_ids[np.asarray(allowed, dtype=np.int64)] if self._public else np.asarray(allowed)
        return "WHERE id = ANY(%s)", ([int(i) for i in ids],)

    def _position(self, ids: np.ndarray) -> np.ndarray:
        """View ids of chunk ids (themselves for staff; for citizens, the rank among public ids)."""
        return np.searchsorted(self._public_ids, ids) if self._public else ids

    def dense(self, vector: np.ndarray, n: int, filters: Filters | None = None) -> list[tuple[int, float]]:
        allowed = self._columns.allowed(filters)
        k = min(n, self.count if allowed is None else len(allowed))
        if k <= 0:
            return []
        where, params = self._where(allowed)
        sql = (
            f"SELECT id, -(embedding <#> %s::halfvec) FROM {self.db.chunks_table} {where} "
            "ORDER BY embedding <#> %s::halfvec LIMIT %s"
        )
        query = vector_text(np.asarray(vector, dtype=np.float32).reshape(-1))
        if k > HNSW_EF_SEARCH:  # a wider search than the beam: widen it for this query
            self.db.fetch(f"SELECT set_config('hnsw.ef_search', '{min(k, 1000)}', false)")
        rows = self.db.fetch(sql, (query, *params, query, k))
        if k > HNSW_EF_SEARCH:
            self.db.fetch(f"SELECT set_config('hnsw.ef_search', '{HNSW_EF_SEARCH}', false)")
        rows.sort(key=lambda r: -r[1])  # relaxed order: nearly sorted, sorted here
        ids = self._position(np.array([r[0] for r in rows], dtype=np.int64)).astype(np.int64)
        scores = np.array([r[1] for r in rows], dtype=np.float32)
        return [(int(i), float(s)) for i, s in zip(ids, scores, strict=True)]

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        if not len(ids):
            return np.empty((0, self._dim), dtype=np.float32)
        return np.stack([self._vector(int(self._public_ids[i]) if self._public else int(i)) for i in ids])

    def _vector(self, chunk_id: int) -> np.ndarray:
        rows = self.db.fetch(f"SELECT embedding::text FROM {self.db.chunks_table} WHERE id = %s", (chunk_id,))
        return np.array(json.loads(rows[0][0]), dtype=np.float32)

    # --- who sees what ---

    def public(self) -> ReadStore:
        """The citizens' view: internal rows excluded in SQL, statistics of public rows."""
        if self._public or not (
            any(d.internal for d in self._documents.values()) or any(c.internal for c in self._chunks)
        ):
            return self
        documents = {k: d for k, d in self._documents.items() if not d.internal}
        chunks = [c for c in self._chunks if not c.internal and c.doc in documents]
        listed = self._manifest.get("documents", {})
        manifest = self._manifest.copy()
        manifest["documents"] = {k: v for k, v in listed.items() if k in documents}
        manifest["counts"] = {"documents": len(documents), "chunks": len(chunks)}
        return PgIndex(self.db, manifest, chunks, documents, self._dim, self._public_ids, public=True)

    def close(self) -> None:
        """Nothing to release: a published version stays until two newer ones are published."""


def load(url: str) -> PgIndex:
    """The current version in the database, its documents and chunk metadata read into memory."""
    with connect(url) as con:
        found = meta(con)
        check_schema(found, url)
        if "current" not in found:
            raise IndexMissing(f"No index published to {safe_url(url)}. Run 'rag index corpus' with RAG_STORE set.")
        version = int(found["current"])
        manifest = found[f"manifest_{version}"]
        doc_rows = con.execute(f"SELECT {', '.join(DOC_FIELDS)}, structure FROM rag_documents_{version}").fetchall()
        columns = ", ".join("stop" if f == "end" else f for f in CHUNK_FIELDS)
        rows = con.execute(f"SELECT {columns} FROM rag_chunks_{version} ORDER BY id").fetchall()
        dim_row = con.execute(f"SELECT vector_dims(embedding) FROM rag_chunks_{version} LIMIT 1").fetchone()
    documents = {r[0]: StoredDocument(**dict(zip((*DOC_FIELDS, "structure"), r, strict=True))) for r in doc_rows}
    chunks = []
    for r in rows:
        fields = dict(zip(CHUNK_FIELDS, r, strict=True))
        chunks.append(Chunk(text=documents[fields["doc"]].text[fields["start"] : fields["end"]], **fields))
    public_ids = np.array([i for i, c in enumerate(chunks) if not c.internal], dtype=np.int64)
    dim = int(dim_row[0]) if dim_row else int(manifest.get("model", {}).get("dim", 384))
    logger.info(
        "loaded version %d from %s: %d documents, %d chunks", version, safe_url(url), len(documents), len(chunks)
    )
    return PgIndex(_Database(url, version), manifest, chunks, documents, dim, public_ids)
