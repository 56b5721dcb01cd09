"""The document and chunk tables of a version folder (``chunks.sqlite``).

A chunk's text is not stored: it is ``documents.text[start:end]`` of its document. Chunk id ==
row id == FAISS id == BM25 document id.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from rag.types import Chunk, Document, StoredDocument


def write_sqlite(path: Path, documents: Sequence[StoredDocument], chunks: Sequence[Chunk]) -> None:
    con = sqlite3.connect(path)
    with con:
        con.executescript(
            """
            CREATE TABLE documents (
                id TEXT PRIMARY KEY, path TEXT, sha256 TEXT, format TEXT, internal INTEGER, text TEXT,
                doc_type TEXT, title TEXT, organisation TEXT, body TEXT, date TEXT, structure TEXT);
            CREATE TABLE chunks (
                id INTEGER PRIMARY KEY, doc TEXT REFERENCES documents(id), start INTEGER, "end" INTEGER,
                section TEXT, paragraph TEXT, dnr TEXT, date TEXT, organisation TEXT, body TEXT,
                doc_type TEXT, outcome TEXT, title TEXT, internal INTEGER);
            CREATE INDEX chunks_doc ON chunks(doc);
            """
        )
        con.executemany(
            "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    d.id,
                    d.path,
                    d.sha256,
                    d.format,
                    int(d.internal),
                    d.text,
                    d.doc_type,
                    d.title,
                    d.organisation,
                    d.body,
                    d.date,
                    json.dumps(d.structure, ensure_ascii=False),
                )
                for d in documents
            ],
        )
        con.executemany(
            "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    i,
                    c.doc,
                    c.start,
                    c.end,
                    c.section,
                    c.paragraph,
                    c.dnr,
                    c.date,
                    c.organisation,
                    c.body,
                    c.doc_type,
                    c.outcome,
                    c.title,
                    int(c.internal),
                )
                for i, c in enumerate(chunks)
            ],
        )
    con.close()


def connect_ro(path: Path) -> sqlite3.Connection:
    # as a URI, so a folder name with '?', '#' or '%' in it is not read as URI syntax
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def read_sqlite(path: Path) -> tuple[dict[str, StoredDocument], list[Chunk]]:
    """Documents and chunks as stored. Columns are named and rows unpacked (no ``sqlite3.Row``),
    and each metadata value is kept once for all the chunks that repeat it (an organisation, a
    title): at 118k chunks 1.3 s and 200 MB instead of 1.8 s and 290 MB."""
    con = connect_ro(path)
    docs = {}
    for row in con.execute(
        "SELECT id, path, sha256, format, internal, text, doc_type, title, organisation, body, date, structure "
        "FROM documents"
    ):
        doc_id, path_, sha256, format_, internal, text, doc_type, title, organisation, body, date, structure = row
        docs[doc_id] = StoredDocument(
            doc_id,
            path_,
            sha256,
            format_,
            bool(internal),
            text,
            doc_type,
            title,
            organisation,
            body,
            date,
            json.loads(structure),
        )
    values: dict[str, str] = {}

    def once(value: str | None) -> str | None:
        return None if value is None else values.setdefault(value, value)

    chunks = []
    for (
        doc_id,
        start,
        end,
        section,
        paragraph,
        dnr,
        date,
        organisation,
        body,
        doc_type,
        outcome,
        title,
        internal,
    ) in con.execute(
        'SELECT doc, start, "end", section, paragraph, dnr, date, organisation, body, doc_type, outcome, title, '
        "internal FROM chunks ORDER BY id"
    ):
        doc = docs[doc_id]
        chunks.append(
            Chunk(
                doc.id,
                start,
                end,
                doc.text[start:end],
                once(section),
                once(paragraph),
                once(dnr),
                once(date),
                once(organisation),
                once(body),
                once(doc_type),
                once(outcome),
                once(title),
                bool(internal),
            )
        )
    con.close()
    return docs, chunks


def stored_documents(path: Path, ids: set[str]) -> dict[str, Document]:
    """The documents ``ids`` as the tables at ``path`` hold them (text as indexed then)."""
    con = connect_ro(path)
    rows = con.execute("SELECT id, path, text, sha256, format, internal FROM documents").fetchall()
    con.close()
    return {
        row[0]: Document(id=row[0], path=row[1], text=row[2], sha256=row[3], format=row[4], internal=bool(row[5]))
        for row in rows
        if row[0] in ids
    }
