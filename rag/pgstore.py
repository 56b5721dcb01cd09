"""The index in PostgreSQL with pgvector: one database shared by many API processes and machines.

``RAG_STORE=postgresql://user@host:port/db`` selects it; the embedded index (a folder of FAISS,
bm25s and SQLite files) stays the default. A build runs as always, into the local index folder
(so vectors of unchanged chunks are re-used by hash), and is then *published*: copied into new
tables of the next version in one transaction, which also repoints ``rag_meta.current``. Readers
see the old version or the new one, never half; a running server notices the new version number
and loads it in the background, as it does with a new version folder. Two versions are kept.

What is stored, per version ``N``:
- ``rag_documents_N``: the documents with their text and structure summary (JSON);
- ``rag_chunks_N``: the chunks with their folded metadata columns (filters are ``WHERE`` clauses)
  and the vector as ``halfvec`` (inner product; an HNSW index above ``dense_flat_max`` chunks);
- ``rag_postings_N`` and ``rag_terms_N``: the product's own analysed keys (``rag.normalise.analyse``
  of each chunk's keyword text, so both backends match the same words), each posting with its BM25
  term weight and each key with its document frequency, for BM25 summed in SQL with the formula
  bm25s uses ("lucene": idf ln(1 + (N - df + .5)/(df + .5)) x tf / (tf + k1 (1 - b + b dl/avgdl))).
  Weights and frequencies are kept twice, over all chunks and over public ones, so internal
  documents leave no trace in a citizen's ranking.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from rag.config import Settings
from rag.dense import HNSW_EF_SEARCH, DenseIndex
from rag.errors import IndexMissing, RagError
from rag.index import Index, StoredDocument, _read_sqlite, current_path, lexical_text
from rag.lexical import LexicalIndex
from rag.normalise import analyse
from rag.types import Chunk

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 2  # 2: BM25 weights and frequencies precomputed per version
# Stored fields, in table order: documents as rag.index.StoredDocument, chunks as rag.types.Chunk
# (without the text, which is a slice of its document's; "end" is a reserved word in SQL: "stop").
DOC_FIELDS = ("id", "path", "sha256", "format", "internal", "text", "doc_type", "title", "organisation", "body", "date")
CHUNK_FIELDS: tuple[str, ...] = ("doc", "start", "end", "section", "paragraph", "dnr", "date", "organisation")
CHUNK_FIELDS += ("body", "doc_type", "outcome", "title", "internal")
K1, B = 1.2, 0.75  # bm25s' defaults, as rag.lexical builds with
KEEP_VERSIONS = 2


class StoreError(RagError):
    """The PostgreSQL store cannot be reached or used."""


def is_postgres(url: str | None) -> bool:
    return bool(url) and str(url).startswith(("postgresql://", "postgres://"))


def _connect(url: str) -> Any:
    try:
        import psycopg
    except ImportError:
        raise StoreError(
            "RAG_STORE names PostgreSQL, but psycopg is not installed. Install the extra: "
            "'.venv/bin/pip install -e \".[postgres]\"'."
        ) from None
    try:
        con = psycopg.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "no answer"
        raise StoreError(
            f"RAG_STORE: cannot connect to {safe_url(url)} ({reason}). Check the URL, that the server runs "
            "('rag postgres status --data DIR') and that it accepts connections from this host."
        ) from None
    except psycopg.ProgrammingError as exc:
        raise StoreError(f"RAG_STORE: '{safe_url(url)}' is not a valid PostgreSQL URL ({exc}).") from None
    major = con.info.server_version // 10000
    if major < 13:
        con.close()
        raise StoreError(f"RAG_STORE: PostgreSQL {major} at {safe_url(url)} is too old; version 13 or newer is needed.")
    row = con.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
    if row is None:
        try:
            con.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except psycopg.Error:
            con.close()
            raise StoreError(
                f"RAG_STORE: the database at {safe_url(url)} has no pgvector extension and this user cannot create it. "
                "Run 'CREATE EXTENSION vector;' in it as a superuser (pgvector 0.7 or newer, for halfvec)."
            ) from None
        row = con.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
    if row is None or tuple(int(x) for x in str(row[0]).split(".")[:2]) < (0, 7):
        con.close()
        found = row[0] if row else "(none)"
        raise StoreError(f"RAG_STORE: pgvector {found} has no halfvec; upgrade it to 0.7 or newer.")
    return con


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    head, at, tail = url.rpartition("@")
    if not at or ":" not in head.split("//", 1)[-1]:
        return url
    scheme, _, userinfo = head.partition("//")
    return f"{scheme}//{userinfo.split(':', 1)[0]}:***@{tail}"


def _meta(con: Any) -> dict[str, Any]:
    con.execute("CREATE TABLE IF NOT EXISTS rag_meta (key text PRIMARY KEY, value jsonb NOT NULL)")
    return {k: v for k, v in con.execute("SELECT key, value FROM rag_meta").fetchall()}


def version_path(version: int) -> Path:
    """How a version is named where an embedded index names its folder (``Index.path``)."""
    return Path(f"postgresql-v{version}")


def current_version(url: str) -> int | None:
    """The version readers should serve, or None when nothing was published."""
    with _connect(url) as con:
        meta = _meta(con)
    _check_schema(meta, url)
    return int(meta["current"]) if "current" in meta else None


def _check_schema(meta: dict[str, Any], url: str) -> None:
    found = meta.get("schema_version")
    if found is not None and int(found) != SCHEMA_VERSION:
        raise StoreError(
            f"RAG_STORE: the database at {safe_url(url)} has schema version {found}, this program uses "
            f"{SCHEMA_VERSION}. Publish the index again with this program ('rag index PATH ...' with RAG_STORE "
            "set): the new version replaces the old tables, which stay served until then."
        )


def tables(url: str) -> set[str]:
    """The store's tables in the database (all versions kept)."""
    with _connect(url) as con:
        rows = con.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'rag_%%'").fetchall()
    return {r[0] for r in rows}


def _vector_text(v: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.6g}" for x in v.tolist()) + "]"


def _copy(con: Any, table: str, columns: Sequence[str], rows: Any) -> None:
    with con.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def publish(index_dir: Path, url: str, settings: Settings) -> int:
    """Copy the current version of the embedded index at ``index_dir`` into the database as its next
    version, in one transaction; returns the new version number."""
    version_dir = current_path(index_dir)
    if version_dir is None:
        raise IndexMissing(f"No index at {index_dir} to publish. Run 'rag index PATH --index {index_dir}' first.")
    manifest = json.loads((version_dir / "manifest.json").read_text(encoding="utf-8"))
    documents, chunks = _read_sqlite(version_dir / "chunks.sqlite")
    vectors = np.load(version_dir / "vectors.npy", mmap_mode="r", allow_pickle=False)
    dim = int(vectors.shape[1]) if len(vectors) else int(manifest.get("model", {}).get("dim", 384))
    with _connect(url) as con:
        meta = _meta(con)
        if int(meta.get("schema_version", SCHEMA_VERSION)) > SCHEMA_VERSION:
            _check_schema(meta, url)  # a newer program's database: publishing would downgrade it
        with con.transaction():
            con.execute("LOCK TABLE rag_meta IN EXCLUSIVE MODE")  # one publisher at a time
            meta = _meta(con)
            served = meta.get(f"manifest_{meta.get('current')}", {}).get("store", {})
            if served.get("source") == version_dir.name:
                logger.info("%s is already served as version %s", version_dir.name, meta["current"])
                return int(meta["current"])
            version = int(meta.get("last", 0)) + 1
            d, c, p = f"rag_documents_{version}", f"rag_chunks_{version}", f"rag_postings_{version}"
            con.execute(
                f"CREATE TABLE {d} (id text PRIMARY KEY, path text, sha256 text, format text, internal boolean, "
                "text text, doc_type text, title text, organisation text, body text, date text, structure jsonb)"
            )
            con.execute(
                f"CREATE TABLE {c} (id integer PRIMARY KEY, doc text, start integer, stop integer, section text, "
                "paragraph text, dnr text, date text, organisation text, body text, doc_type text, outcome text, "
                f"title text, internal boolean, embedding halfvec({dim}))"
            )
            con.execute(f"CREATE TABLE {p} (key text, chunk integer, w_all real, w_public real)")
            con.execute(f"CREATE TABLE rag_terms_{version} (key text PRIMARY KEY, df_all integer, df_public integer)")
            _copy(
                con,
                d,
                (*DOC_FIELDS, "structure"),
                (
                    (*(getattr(x, f) for f in DOC_FIELDS), json.dumps(x.structure, ensure_ascii=False))
                    for x in documents.values()
                ),
            )
            columns = ["stop" if f == "end" else f for f in CHUNK_FIELDS]
            _copy(
                con,
                c,
                ("id", *columns, "embedding"),
                ((i, *(getattr(x, f) for f in CHUNK_FIELDS), _vector_text(vectors[i])) for i, x in enumerate(chunks)),
            )
            postings, terms, counts = _postings(chunks, settings)
            _copy(con, p, ("key", "chunk", "w_all", "w_public"), postings)
            _copy(con, f"rag_terms_{version}", ("key", "df_all", "df_public"), terms)
            con.execute(f"CREATE INDEX ON {p} (key) INCLUDE (chunk, w_all, w_public)")  # index-only scans
            if len(chunks) > settings.dense_flat_max:
                con.execute(f"CREATE INDEX ON {c} USING hnsw (embedding halfvec_ip_ops) WITH (m = 32)")
            con.execute(f"ANALYZE {c}")
            con.execute(f"ANALYZE {p}")
            manifest["store"] = {"backend": "postgresql", "version": version, "source": version_dir.name} | counts
            for key, value in (
                ("schema_version", SCHEMA_VERSION),
                ("last", version),
                ("current", version),
                (f"manifest_{version}", manifest),
            ):
                upsert = (
                    "INSERT INTO rag_meta VALUES (%s, %s::jsonb) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
                )
                con.execute(upsert, (key, json.dumps(value, ensure_ascii=False)))
            for old in range(1, version - KEEP_VERSIONS + 1):
                for table in (f"rag_documents_{old}", f"rag_chunks_{old}", f"rag_postings_{old}", f"rag_terms_{old}"):
                    con.execute(f"DROP TABLE IF EXISTS {table}")
                con.execute("DELETE FROM rag_meta WHERE key = %s", (f"manifest_{old}",))
    logger.info(
        "published %d documents, %d chunks to %s as version %d", len(documents), len(chunks), safe_url(url), version
    )
    return version


Rows = list[tuple[Any, ...]]


def _postings(chunks: Sequence[Any], settings: Settings) -> tuple[Rows, Rows, dict[str, int]]:
    """BM25's per-posting weights and per-key document frequencies, for everyone and for citizens.

    The weight of a key in a chunk is bm25s' "lucene" term part, tf / (tf + k1 (1 - b + b dl/avgdl)),
    with avgdl over all chunks (``w_all``) or over public ones (``w_public``, null for an internal
    chunk); a query then only sums idf x weight over its keys' postings.
    """
    analysed = [analyse(lexical_text(c, settings)) or ["\u2205"] for c in chunks]  # as rag.lexical indexes ""
    public = [not c.internal for c in chunks]
    n_all, n_public = len(chunks), sum(public)
    avg_all = sum(len(k) for k in analysed) / max(1, n_all)
    avg_public = sum(len(k) for k, p in zip(analysed, public, strict=True) if p) / max(1, n_public)
    postings: Rows = []
    df_all: Counter[str] = Counter()
    df_public: Counter[str] = Counter()
    for i, keys in enumerate(analysed):
        dl = len(keys)
        norm_all = K1 * (1 - B + B * dl / avg_all)
        norm_public = K1 * (1 - B + B * dl / avg_public) if public[i] else None
        for key, tf in Counter(keys).items():
            w_public = tf / (tf + norm_public) if norm_public is not None else None
            postings.append((key, i, tf / (tf + norm_all), w_public))
            df_all[key] += 1
            df_public[key] += public[i]
    terms = [(key, df, df_public[key]) for key, df in df_all.items()]
    return postings, terms, {"chunks_all": n_all, "chunks_public": n_public}


class PgDense(DenseIndex):
    """Inner-product search in SQL over one version's ``halfvec`` column; ids are chunk ids."""

    def __init__(self, store: PgStore, count: int, dim: int, public: bool = False) -> None:  # nothing of FAISS
        self._store, self._count, self._dim, self._public = store, count, dim, public

    @property
    def kind(self) -> str:
        return "pgvector"

    def __len__(self) -> int:
        return self._count

    @property
    def dim(self) -> int:
        return self._dim

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, self._count if allowed is None else len(allowed))
        if k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        where, params = self._store.where(allowed, self._public)
        sql = (
            f"SELECT id, -(embedding <#> %s::halfvec) FROM {self._store.chunks_table} {where} "
            "ORDER BY embedding <#> %s::halfvec LIMIT %s"
        )
        vector = _vector_text(np.asarray(query, dtype=np.float32).reshape(-1))
        if k > HNSW_EF_SEARCH:  # a wider search than the beam: widen it for this query
            self._store.fetch(f"SELECT set_config('hnsw.ef_search', '{min(k, 1000)}', false)")
        rows = self._store.fetch(sql, (vector, *params, vector, k))
        if k > HNSW_EF_SEARCH:
            self._store.fetch(f"SELECT set_config('hnsw.ef_search', '{HNSW_EF_SEARCH}', false)")
        rows.sort(key=lambda r: -r[1])  # relaxed order: nearly sorted, sorted here
        return np.array([r[0] for r in rows], dtype=np.int64), np.array([r[1] for r in rows], dtype=np.float32)

    def vector(self, i: int) -> np.ndarray:
        rows = self._store.fetch(f"SELECT embedding::text FROM {self._store.chunks_table} WHERE id = %s", (int(i),))
        return np.array(json.loads(rows[0][0]), dtype=np.float32)

    def save(self, path: object) -> None:
        raise TypeError("A PostgreSQL index is published with 'rag index', not saved.")


class PgLexical(LexicalIndex):
    """BM25 in SQL over one version's postings: scores for every chunk id (zeros where nothing matches)."""

    def __init__(self, store: PgStore, count: int, n: int, public: bool = False) -> None:  # no bm25s retriever
        self._store, self._count, self._n, self._public = store, count, n, public
        self._vocab = {}
        self._df: dict[str, int] = {}  # a version never changes: frequencies are cached
        self._column = "df_public" if public else "df_all"

    def _frequencies(self, keys: Sequence[str]) -> dict[str, int]:
        missing = [k for k in keys if k not in self._df]
        if missing:
            sql = f"SELECT key, {self._column} FROM {self._store.terms_table} WHERE key = ANY(%s)"
            found = dict(self._store.fetch(sql, (missing,)))
            self._df.update({k: int(found.get(k, 0)) for k in missing})
        return {k: self._df[k] for k in keys}

    def document_frequency(self, key: str) -> int:
        return self._frequencies([key])[key]

    def idf(self, key: str) -> float:
        df = self.document_frequency(key)
        return float(np.log(1.0 + (self._n - df + 0.5) / (df + 0.5)))

    def scores(self, query_keys: Sequence[str]) -> np.ndarray:
        out = np.zeros(self._count, dtype=np.float32)
        keys = [k for k, df in self._frequencies(list(dict.fromkeys(query_keys))).items() if df]
        if not keys or not self._count:
            return out
        idf = [float(np.log(1.0 + (self._n - self._df[k] + 0.5) / (self._df[k] + 0.5))) for k in keys]
        weight = "w_public" if self._public else "w_all"
        sql = f"""
            SELECT p.chunk, sum(q.idf * p.{weight}) FROM {self._store.postings_table} p
            JOIN unnest(%s::text[], %s::float8[]) AS q(key, idf) USING (key)
            WHERE p.{weight} IS NOT NULL GROUP BY p.chunk"""
        rows = self._store.fetch(sql, (keys, idf))
        if rows:
            ids = np.array([r[0] for r in rows], dtype=np.int64)
            values = np.array([r[1] for r in rows], dtype=np.float32)
            out[self._store.position(ids, self._public)] = values
        return out

    def save(self, directory: Path) -> None:
        raise TypeError("A PostgreSQL index is published with 'rag index', not saved.")


class PgStore:
    """One published version of the index in PostgreSQL, with a small pool of connections."""

    def __init__(self, url: str, version: int, public_ids: np.ndarray) -> None:
        self.url, self.version = url, version
        self.chunks_table = f"rag_chunks_{version}"
        self.postings_table = f"rag_postings_{version}"
        self.terms_table = f"rag_terms_{version}"
        self._public_ids = public_ids  # ascending chunk ids of public chunks: view position -> chunk id
        self._local = threading.local()

    def _con(self) -> Any:
        con = getattr(self._local, "con", None)
        if con is None or con.closed:
            con = self._local.con = _connect(self.url)
            # HNSW: as wide a beam as FAISS searches with (pgvector's default of 40 returns at most 40
            # rows, so 100 candidates were never found: recall@100 0.40 at 89k chunks), and filtered
            # searches go on scanning the graph until they have their k rows
            con.execute(f"SET hnsw.ef_search = {HNSW_EF_SEARCH}")
            con.execute("SET hnsw.iterative_scan = relaxed_order")
        return con

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._con().execute(sql, params).fetchall())

    def where(self, allowed: np.ndarray | None, public: bool) -> tuple[str, tuple[Any, ...]]:
        """The WHERE clause for a search restricted to ``allowed`` (view ids) and, for citizens, public chunks."""
        if allowed is None:
            return ("WHERE NOT internal", ()) if public else ("", ())
        ids = self._public_ids[np.asarray(allowed, dtype=np.int64)] if public else np.asarray(allowed)
        return "WHERE id = ANY(%s)", ([int(i) for i in ids],)

    def position(self, ids: np.ndarray, public: bool) -> np.ndarray:
        """View positions of chunk ids (identity for staff; for citizens, the rank among public ids)."""
        return np.searchsorted(self._public_ids, ids) if public else ids


class PgPublicDense(PgDense):
    """The citizens' dense search: public chunks only, ids renumbered as the public view numbers them."""

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        ids, scores = super().search(query, k, allowed)
        return self._store.position(ids, True).astype(np.int64), scores

    def vector(self, i: int) -> np.ndarray:
        return super().vector(int(self._store._public_ids[i]))


def load(url: str) -> Index:
    """The current version in the database as an ``Index`` whose retrievers run in SQL."""
    with _connect(url) as con:
        meta = _meta(con)
        _check_schema(meta, url)
        if "current" not in meta:
            raise IndexMissing(f"No index published to {safe_url(url)}. Run 'rag index corpus' with RAG_STORE set.")
        version = int(meta["current"])
        manifest = meta[f"manifest_{version}"]
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
    store = PgStore(url, version, public_ids)
    dim = int(dim_row[0]) if dim_row else int(manifest.get("model", {}).get("dim", 384))
    logger.info(
        "loaded version %d from %s: %d documents, %d chunks", version, safe_url(url), len(documents), len(chunks)
    )
    return Index(
        path=version_path(version),
        manifest=manifest,
        chunks=chunks,
        documents=documents,
        dense=PgDense(store, len(chunks), dim),
        lexical=PgLexical(store, len(chunks), len(chunks)),
    )


def public_view(index: Index) -> Index:
    """The citizens' view of a PostgreSQL index: internal rows excluded in SQL, statistics of public rows."""
    if not isinstance(index.dense, PgDense):
        raise TypeError("public_view of rag.pgstore takes an index loaded from PostgreSQL")
    store = index.dense._store
    documents = {k: d for k, d in index.documents.items() if not d.internal}
    chunks = [c for c in index.chunks if not c.internal and c.doc in documents]
    listed = index.manifest.get("documents", {})
    manifest = index.manifest | {
        "documents": {k: v for k, v in listed.items() if k in documents},
        "counts": {"documents": len(documents), "chunks": len(chunks)},
    }
    return replace(
        index,
        manifest=manifest,
        chunks=chunks,
        documents=documents,
        dense=PgPublicDense(store, len(chunks), index.dense.dim, public=True),
        lexical=PgLexical(store, len(chunks), len(chunks), public=True),
    )
