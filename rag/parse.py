"""Read source files into ``Document``s: the only module that reads the corpus from disk.

Every offset in the product is a character offset into ``Document.text``. For ``.txt`` and
``.md`` that text is exactly the decoded file content; for ``.pdf``, ``.docx`` and ``.html`` it is
the extracted text, kept whole so spans can always be checked against it.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from rag.errors import ParseError
from rag.types import Document

logger = logging.getLogger(__name__)

SUPPORTED = (".txt", ".md", ".pdf", ".docx", ".html", ".htm")
# A folder of this name marks the documents below it as internal (staff only).
INTERNAL_DIR = "internal"


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else cp1252, else latin-1."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data[:4096]:
        raise ParseError(f"{name}: looks like a binary file, not text. Remove it or convert it to UTF-8 text.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ParseError(f"{path.name}: the PDF is encrypted. Save an unencrypted copy and index that.")
        pages = [page.extract_text() or "" for page in reader.pages]
    except ParseError:
        raise
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise ParseError(f"{path.name}: cannot read the PDF ({exc}). Check that the file is complete.") from exc
    text = "\n\n".join(p.strip("\n") for p in pages)
    if not text.strip():
        raise ParseError(
            f"{path.name}: the PDF has no text layer (a scan?). Run OCR on it (e.g. ocrmypdf) and index the result."
        )
    return text


def _docx_text(path: Path) -> str:
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    if not zipfile.is_zipfile(path):
        raise ParseError(f"{path.name}: not a readable .docx file (it is not a zip archive). Re-save it from Word.")
    try:
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as exc:
        raise ParseError(f"{path.name}: not a readable .docx file ({exc}). Re-save it from Word.") from exc
    blocks = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            blocks.append("\t".join(cell.text for cell in row.cells))
    return "\n\n".join(b for b in blocks if b.strip())


def _html_text(path: Path, data: bytes) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_text(data, path.name), "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "iframe", "nav", "header", "footer"]):
        tag.decompose()
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line)


def read_document(path: Path, *, root: Path | None = None, max_bytes: int = 50_000_000) -> Document:
    """Read one file into a ``Document``; raise ``ParseError`` naming the file and the fix."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise ParseError(f"{path.name}: unsupported file type '{suffix}'. Supported: {', '.join(SUPPORTED)}.")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ParseError(
                f"{path.name}: {size} bytes is over the limit of {max_bytes}. "
                "Split the file or raise RAG_MAX_FILE_BYTES."
            )
        data = path.read_bytes()
    except OSError as exc:
        raise ParseError(f"{path.name}: cannot be read ({exc.strerror}). Check the path and its permissions.") from exc
    if suffix == ".pdf":
        text = _pdf_text(path)
    elif suffix == ".docx":
        text = _docx_text(path)
    elif suffix in (".html", ".htm"):
        text = _html_text(path, data)
    else:
        text = decode_text(data, path.name)
    if not text.strip():
        raise ParseError(f"{path.name}: the file has no text. Remove it or add its content.")
    relative = path.relative_to(root) if root is not None and path.is_relative_to(root) else Path(path.name)
    return Document(
        id=path.name,
        path=str(path.resolve()),
        text=text,
        sha256=hashlib.sha256(data).hexdigest(),
        format=suffix.lstrip("."),
        internal=INTERNAL_DIR in relative.parts[:-1],
    )


def discover(paths: Iterable[Path]) -> Iterator[tuple[Path, Path]]:
    """Yield ``(file, root)`` for every supported file under the given files and folders.

    Hidden files, README files at a corpus root and symlink loops are skipped; the order is stable.
    """
    for given in paths:
        if given.is_file():
            yield given, given.parent
            continue
        if not given.is_dir():
            raise ParseError(f"{given}: no such file or folder. Check the path.")
        seen: set[tuple[int, int]] = set()
        for dirpath, dirnames, filenames in os.walk(given, followlinks=True):
            stat = os.stat(dirpath)
            if (stat.st_dev, stat.st_ino) in seen:
                dirnames[:] = []
                continue
            seen.add((stat.st_dev, stat.st_ino))
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                file = Path(dirpath) / name
                if name.startswith(".") or file.suffix.lower() not in SUPPORTED:
                    continue
                if name.lower() == "readme.md":
                    continue
                yield file, given
