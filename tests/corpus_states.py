"""Synthetic corpora in two states, A and B, for the crash and soak tests.

Each document is one of the real protocols in ``corpus/`` with a document number (and in state B,
for every other document, a revision) written into every sentence, so no two documents share a
chunk and going from one state to the other embeds about half the chunks again. Every fifth
document is a PDF (reading those takes a measurable time). B also drops the first documents of A
and adds as many new ones.
"""

from __future__ import annotations

import re
from pathlib import Path

from conftest import CORPUS, pdf_bytes

_SOURCES = sorted(CORPUS.glob("*.txt"))
_SENTENCE_END = re.compile(r"\.(?=\s)")
_LINES_PER_PAGE = 55


def make_pdf(pages: list[list[str]]) -> bytes:
    """A minimal PDF with a text layer: one page per list of lines (Helvetica, WinAnsi)."""
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, once the pages are numbered
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    kids = []
    for lines in pages:
        shown = (line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for line in lines)
        stream = ("BT /F1 10 Tf 50 780 Td " + " ".join(f"({line}) Tj 0 -13 Td" for line in shown) + " ET").encode(
            "cp1252", "replace"
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
            b"/Resources << /Font << /F1 3 0 R >> >> >>" % len(objects)
        )
        kids.append(len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    return pdf_bytes(objects)


def state(name: str, documents: int) -> dict[str, bytes]:
    """File name -> content of every document in state ``name`` ("A" or "B")."""
    turnover = max(1, documents // 20)
    numbers = range(documents) if name == "A" else range(turnover, documents + turnover)
    files = {}
    for i in numbers:
        revision = 1 if name == "B" and i % 2 == 0 else 0
        source = _SOURCES[i % len(_SOURCES)].read_text(encoding="utf-8")
        text = _SENTENCE_END.sub(f" (nr {i}.{revision}).", source)
        if i % 5 == 4:
            lines = text.splitlines()
            pages = [lines[at : at + _LINES_PER_PAGE] for at in range(0, len(lines), _LINES_PER_PAGE)]
            files[f"protokoll_{i:04d}.pdf"] = make_pdf(pages)
        else:
            files[f"protokoll_{i:04d}.txt"] = text.encode("utf-8")
    return files


def write_state(folder: Path, name: str, documents: int) -> None:
    """Make ``folder`` hold exactly the documents of state ``name``, changing only what differs."""
    folder.mkdir(parents=True, exist_ok=True)
    wanted = state(name, documents)
    for file in folder.iterdir():
        if file.name not in wanted:
            file.unlink()
    for file_name, content in wanted.items():
        file = folder / file_name
        if not file.exists() or file.read_bytes() != content:
            file.write_bytes(content)
