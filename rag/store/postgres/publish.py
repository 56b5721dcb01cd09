"""Publishing a build to PostgreSQL: the current version of an index folder copied into new tables
of the next version in one transaction, which also repoints ``rag_meta.current``.

What is stored, per version ``N``:
- ``rag_documents_N``: the documents with their text and structure summary (JSON);
- ``rag_chunks_N``: the chunks with their folded metadata columns and the vector as ``halfvec``
  (inner product; an HNSW index above ``dense_flat_max`` chunks);
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
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.chunk import lexical_text
from rag.config import Settings
from rag.errors import IndexMissing
from rag.normalise import analyse
from rag.store.embedded.sqlite import read_sqlite
from rag.store.embedded.versions import current_path, manifest_of
from rag.store.postgres.connect import CHUNK_FIELDS, DOC_FIELDS, SCHEMA_VERSION, check_schema, connect, meta, safe_url
from rag.types import Chunk

logger = logging.getLogger(__name__)

K1, B = 1.2, 0.75  # bm25s' defaults, as rag.store.embedded.lexical builds with
KEEP_VERSIONS = 2


def vector_text(v: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.6g}" for x in v.tolist()) + "]"


def _copy(con: Any, table: str, columns: Sequence[str], rows: Any) -> None:
    with con.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def publish(index_dir: Path, url: str, settings: Settings) -> int:
    """Copy the current version of the embedded index at ``index_dir`` into the database as its next
    version, in one transaction; returns the new version number (the served one when that version
    of the folder is served already)."""
    version_dir = current_path(index_dir)
    if version_dir is None:
        raise IndexMissing(f"No index at {index_dir} to publish. Run 'rag index PATH --index {index_dir}' first.")
    manifest = manifest_of(version_dir)
    documents, chunks = read_sqlite(version_dir / "chunks.sqlite")
    vectors = np.load(version_dir / "vectors.npy", mmap_mode="r", allow_pickle=False)
    dim = int(vectors.shape[1]) if len(vectors) else int(manifest.get("model", {}).get("dim", 384))
    with connect(url) as con:
        found = meta(con)
        if int(found.get("schema_version", SCHEMA_VERSION)) > SCHEMA_VERSION:
            check_schema(found, url)  # a newer program's database: publishing would downgrade it
        with con.transaction():
            con.execute("LOCK TABLE rag_meta IN EXCLUSIVE MODE")  # one publisher at a time
            found = meta(con)
            served = found.get(f"manifest_{found.get('current')}", {}).get("store", {})
            if served.get("source") == version_dir.name:
                logger.info("%s is already served as version %s", version_dir.name, found["current"])
                return int(found["current"])
            version = int(found.get("last", 0)) + 1
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
                ((i, *(getattr(x, f) for f in CHUNK_FIELDS), vector_text(vectors[i])) for i, x in enumerate(chunks)),
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


def _postings(chunks: Sequence[Chunk], settings: Settings) -> tuple[Rows, Rows, dict[str, int]]:
    """BM25's per-posting weights and per-key document frequencies, for everyone and for citizens.

    The weight of a key in a chunk is bm25s' "lucene" term part, tf / (tf + k1 (1 - b + b dl/avgdl)),
    with avgdl over all chunks (``w_all``) or over public ones (``w_public``, null for an internal
    chunk); a query then only sums idf x weight over its keys' postings.
    """
    analysed = [analyse(lexical_text(c, settings)) or ["\u2205"] for c in chunks]  # as the embedded index does ""
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
