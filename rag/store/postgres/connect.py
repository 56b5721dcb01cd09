"""Reaching the PostgreSQL store: connections, the meta table and its checks, each failure one
``RAG_STORE: ...`` message naming the fix (with the password masked)."""

from __future__ import annotations

from typing import Any

from rag.errors import RagError

SCHEMA_VERSION = 2  # 2: BM25 weights and frequencies precomputed per version
# Stored fields, in table order: documents as rag.types.StoredDocument, chunks as rag.types.Chunk
# (without the text, which is a slice of its document's; "end" is a reserved word in SQL: "stop").
DOC_FIELDS = ("id", "path", "sha256", "format", "internal", "text", "doc_type", "title", "organisation", "body", "date")
CHUNK_FIELDS: tuple[str, ...] = ("doc", "start", "end", "section", "paragraph", "dnr", "date", "organisation")
CHUNK_FIELDS += ("body", "doc_type", "outcome", "title", "internal")


class StoreError(RagError):
    """The PostgreSQL store cannot be reached or used."""


def connect(url: str) -> Any:
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


def meta(con: Any) -> dict[str, Any]:
    con.execute("CREATE TABLE IF NOT EXISTS rag_meta (key text PRIMARY KEY, value jsonb NOT NULL)")
    return {k: v for k, v in con.execute("SELECT key, value FROM rag_meta").fetchall()}


def version_name(version: int) -> str:
    """How a version is named where an embedded index names its folder (``ReadStore.version``)."""
    return f"postgresql-v{version}"


def current_version(url: str) -> int | None:
    """The version readers should serve, or None when nothing was published."""
    with connect(url) as con:
        found = meta(con)
    check_schema(found, url)
    return int(found["current"]) if "current" in found else None


def check_schema(found: dict[str, Any], url: str) -> None:
    version = found.get("schema_version")
    if version is not None and int(version) != SCHEMA_VERSION:
        raise StoreError(
            f"RAG_STORE: the database at {safe_url(url)} has schema version {version}, this program uses "
            f"{SCHEMA_VERSION}. Publish the index again with this program ('rag index PATH ...' with RAG_STORE "
            "set): the new version replaces the old tables, which stay served until then."
        )


def tables(url: str) -> set[str]:
    """The store's tables in the database (all versions kept)."""
    with connect(url) as con:
        rows = con.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'rag_%%'").fetchall()
    return {r[0] for r in rows}
