"""Read source files into ``Document``s: the only module that reads the corpus from disk.

Every offset in the product is a character offset into ``Document.text``. For ``.txt`` and
``.md`` that text is the decoded file content, cleaned by ``clean_text`` (line endings made ``\\n``,
invisible format and control characters removed, NFC); for ``.pdf``, ``.docx`` and ``.html`` it is
the extracted text, cleaned the same way. It is kept whole so spans can always be checked against it.

Source files are untrusted input: anything wrong with one file is a ``ParseError`` naming the file,
what is wrong and what to do, so one bad file never stops a build.
"""

from __future__ import annotations

import errno
import hashlib
import io
import logging
import os
import re
import stat
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from rag.errors import ParseError
from rag.types import Document

logger = logging.getLogger(__name__)

SUPPORTED = (".txt", ".md", ".pdf", ".docx", ".html", ".htm")
# A folder of this name marks the documents below it as internal (staff only).
INTERNAL_DIR = "internal"
# A .docx holding more members than this is not a document someone wrote.
MAX_DOCX_MEMBERS = 10_000

# Characters that break lines: vertical tab (Word's line break), form feed (page break), NEL, and
# Unicode's line and paragraph separators. They become "\n" so structure parsing sees the lines.
_LINE_BREAKS = re.compile("\r\n?|[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# Control characters other than tab and newline, and invisible format characters: zero-width space,
# joiners and non-joiners, direction marks and overrides, word joiner, soft hyphen, BOM, tags.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000e0001-\U000e007f]"
)
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # in text: all but tab, line breaks and form feed
_NAME_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")  # in a file name: all of them


def clean_text(text: str) -> str:
    """``text`` as indexed: line endings made ``\\n``, invisible and control characters removed, NFC.

    A zero-width space inside a word would split it for search and a lone ``\\r`` would hide line
    starts from structure parsing; decomposed letters (``a`` + combining ring) would not match ``å``.
    """
    text = _INVISIBLE.sub("", _LINE_BREAKS.sub("\n", text))
    return unicodedata.normalize("NFC", text)


def _shown(name: str) -> str:
    """A file name as it can be printed on one line: undecodable bytes and control characters escaped."""
    shown = os.fsencode(name).decode("utf-8", "backslashreplace")
    return _NAME_CONTROL.sub(lambda m: repr(m.group())[1:-1], shown)


def _one_line(message: object, limit: int = 200) -> str:
    text = " ".join(str(message).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _sniff(data: bytes) -> str | None:
    """What a file really is, from its first bytes, when that is a well-known format."""
    head = data[:1024].lstrip().lower()
    if head.startswith(b"%pdf-"):
        return "a PDF"
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in head[:512]:
        return "an HTML page"
    if data.startswith(b"PK\x03\x04"):
        return "a zip archive"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return "an old Word (.doc) file or a password-protected Office file"
    if data.startswith(b"{\\rtf"):
        return "an RTF file"
    images = {b"\x89PNG": "a PNG", b"\xff\xd8\xff": "a JPEG", b"GIF8": "a GIF", b"II*\x00": "a TIFF"}
    for magic, what in images.items():
        if data.startswith(magic):
            return what + " image"
    if data.startswith(b"\x1f\x8b"):
        return "a gzip archive"
    if data.startswith((b"\x7fELF", b"MZ")):
        return "a program"
    return None


def _utf16_without_bom(data: bytes) -> str | None:
    """Text written as UTF-16 without a byte order mark: mostly Latin, so every other byte is zero."""
    sample = data[:4096]
    if len(sample) < 8 or len(data) % 2:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    for zeros, other, encoding in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if zeros >= 0.6 * half and other == 0:
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                return None
    return None


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 (with or without BOM), UTF-32/UTF-16 with BOM, UTF-16 without BOM, else cp1252, else latin-1."""
    binary = f"{_shown(name)}: looks like a binary file, not text. Remove it or convert it to UTF-8 text."
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        try:
            return data.decode("utf-32")
        except UnicodeDecodeError as exc:
            raise ParseError(binary) from exc
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ParseError(binary) from exc
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data[:4096]:
        text = _utf16_without_bom(data)
        if text is not None:
            return text
        what = _sniff(data)
        if what:
            raise ParseError(f"{_shown(name)}: is {what}, not text. Remove it or give it the right file extension.")
        raise ParseError(binary)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    # Random bytes decode as latin-1 without complaint; text has (almost) no control characters.
    controls = len(_CONTROL.findall(text[:65536]))
    if controls > 2 and controls > 0.01 * min(len(text), 65536):
        raise ParseError(binary)
    return text


def _pdf_text(name: str, data: bytes) -> str:
    from pypdf import PdfReader

    what = _sniff(data)
    if what != "a PDF":
        hint = " (a download that saved an error page?)" if what == "an HTML page" else ""
        raise ParseError(
            f"{name}: is not a PDF but {what or 'something else'}{hint}. Download or export the PDF again."
        )
    if b"%%EOF" not in data[-4096:]:
        raise ParseError(f"{name}: the PDF is truncated (it has no end-of-file marker). Copy the complete file again.")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = bool(reader.decrypt(""))  # PasswordType.NOT_DECRYPTED is 0
            except Exception:  # e.g. AES encryption without the optional cryptography package
                opened = False
            if not opened:
                raise ParseError(f"{name}: the PDF is encrypted. Save an unencrypted copy and index that.")
        pages = [page.extract_text() or "" for page in reader.pages]
        has_images = any(len(page.images) for page in reader.pages)
    except ParseError:
        raise
    # pypdf meets arbitrary bytes here and can fail in many ways; one broken file must not stop a build
    except Exception as exc:
        raise ParseError(f"{name}: cannot read the PDF ({_one_line(exc)}). Check that the file is complete.") from exc
    text = "\n\n".join(p.strip("\n") for p in pages)
    if not text.strip():
        if has_images:
            raise ParseError(
                f"{name}: the PDF is a scan (its pages are images without a text layer). "
                "It needs OCR: run e.g. ocrmypdf on it and index the result."
            )
        raise ParseError(
            f"{name}: the PDF has no text layer (a scan?). Run OCR on it (e.g. ocrmypdf) and index the result."
        )
    return text


def _docx_text(name: str, data: bytes, max_bytes: int) -> str:
    import zipfile

    import docx

    if not data.startswith(b"PK"):
        what = _sniff(data)
        if what and what != "a zip archive":
            raise ParseError(f"{name}: not a readable .docx file (it is {what}). Save it as .docx from Word.")
        raise ParseError(f"{name}: not a readable .docx file (it is not a zip archive). Re-save it from Word.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ParseError(f"{name}: not a readable .docx file ({_one_line(exc)}). Re-save it from Word.") from exc
    # A zip bomb: small on disk, huge unpacked. zipfile never yields more than a member's declared
    # size, so the declared sizes bound what python-docx can unpack; check them before it reads.
    unpacked = sum(member.file_size for member in members)
    if unpacked > max_bytes or len(members) > MAX_DOCX_MEMBERS:
        raise ParseError(
            f"{name}: unpacks to {unpacked} bytes in {len(members)} parts, over the limit of {max_bytes} "
            "(a zip bomb?). Remove it, or raise RAG_MAX_FILE_BYTES if it is a real document."
        )
    try:
        document = docx.Document(io.BytesIO(data))
        blocks = [p.text for p in document.paragraphs]
        for table in document.tables:
            for row in table.rows:
                blocks.append("\t".join(cell.text for cell in row.cells))
    # python-docx meets arbitrary zip content here (missing parts, broken XML, not Word at all)
    except Exception as exc:
        raise ParseError(f"{name}: not a readable .docx file ({_one_line(exc)}). Re-save it from Word.") from exc
    return "\n\n".join(b for b in blocks if b.strip())


def _html_text(name: str, data: bytes) -> str:
    from bs4 import BeautifulSoup

    try:
        soup = BeautifulSoup(decode_text(data, name), "html.parser")
        for tag in soup(
            ["script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "nav", "header", "footer"]
        ):
            tag.decompose()
        text = soup.get_text("\n")
    except ParseError:
        raise
    except Exception as exc:  # the parser meets arbitrary markup
        raise ParseError(f"{name}: cannot read the HTML ({_one_line(exc)}). Save the page again.") from exc
    lines = (line.strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _read_bytes(path: Path, name: str, max_bytes: int) -> bytes:
    """The file's content, refusing what is not a readable regular file within the size limit."""
    try:
        info = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ParseError(
                f"{name}: is a symbolic link that leads back to itself (a loop). Remove the link or point it at a file."
            ) from exc
        if exc.errno == errno.ENOENT and path.is_symlink():
            raise ParseError(
                f"{name}: is a symbolic link to {_shown(os.readlink(path))}, which does not exist. "
                "Remove the link or restore the file."
            ) from exc
        raise ParseError(f"{name}: cannot be read ({exc.strerror}). Check the path and its permissions.") from exc
    if stat.S_ISDIR(info.st_mode):
        raise ParseError(f"{name}: is a folder, not a file. Give the files in it, or the folder, without the name.")
    if not stat.S_ISREG(info.st_mode):
        # reading a named pipe or a device would block or never end
        raise ParseError(f"{name}: is not a regular file (a named pipe or a device). Remove it from the corpus.")
    too_big = f"over the limit of {max_bytes}. Split the file or raise RAG_MAX_FILE_BYTES."
    if info.st_size > max_bytes:
        raise ParseError(f"{name}: {info.st_size} bytes is {too_big}")
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except PermissionError as exc:
        raise ParseError(
            f"{name}: no permission to read it. Give the user running rag read access (chmod a+r) or remove it."
        ) from exc
    except OSError as exc:
        raise ParseError(f"{name}: cannot be read ({exc.strerror}). Check the path and its permissions.") from exc
    if len(data) > max_bytes:  # it grew after stat
        raise ParseError(f"{name}: more than {max_bytes} bytes is {too_big}")
    return data


def read_document(path: Path, *, root: Path | None = None, max_bytes: int = 50_000_000) -> Document:
    """Read one file into a ``Document``; raise ``ParseError`` naming the file and the fix."""
    name = _shown(path.name)
    if name != path.name:
        raise ParseError(
            f"{name}: the file name has characters that are not valid UTF-8 text or are control characters. "
            "Rename the file."
        )
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise ParseError(f"{name}: unsupported file type '{suffix}'. Supported: {', '.join(SUPPORTED)}.")
    data = _read_bytes(path, name, max_bytes)
    if suffix == ".pdf":
        text = _pdf_text(name, data)
    elif suffix == ".docx":
        text = _docx_text(name, data, max_bytes)
    elif suffix in (".html", ".htm"):
        text = _html_text(name, data)
    else:
        text = decode_text(data, name)
    text = clean_text(text)
    if not text.strip():
        raise ParseError(f"{name}: the file has no text. Remove it or add its content.")
    relative = path.relative_to(root) if root is not None and path.is_relative_to(root) else Path(path.name)
    return Document(
        id=path.name,
        path=str(path.resolve()),
        text=text,
        sha256=hashlib.sha256(data).hexdigest(),
        format=suffix.lstrip("."),
        internal=INTERNAL_DIR in relative.parts[:-1],
    )


def discover(
    paths: Iterable[Path], *, on_error: Callable[[Path, str], None] | None = None
) -> Iterator[tuple[Path, Path]]:
    """Yield ``(file, root)`` for every supported file under the given files and folders.

    Hidden files, README files at a corpus root and symlink loops are skipped; the order is stable.
    A folder that cannot be listed is reported to ``on_error`` (file, message) and skipped.
    """
    for given in paths:
        if given.is_file():
            yield given, given.parent
            continue
        if not given.is_dir():
            raise ParseError(f"{given}: no such file or folder. Check the path.")

        def unlisted(exc: OSError, given: Path = given) -> None:
            if on_error is not None and exc.filename:
                folder = Path(exc.filename)
                on_error(
                    folder,
                    f"{_shown(str(folder.relative_to(given) if folder.is_relative_to(given) else folder))}/: "
                    f"cannot list the folder ({exc.strerror}). Give the user running rag access to it or remove it.",
                )

        seen: set[tuple[int, int]] = set()
        for dirpath, dirnames, filenames in os.walk(given, followlinks=True, onerror=unlisted):
            try:
                info = os.stat(dirpath)
            except OSError:
                dirnames[:] = []
                continue
            if (info.st_dev, info.st_ino) in seen:
                dirnames[:] = []
                continue
            seen.add((info.st_dev, info.st_ino))
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                file = Path(dirpath) / name
                if name.startswith(".") or file.suffix.lower() not in SUPPORTED:
                    continue
                if name.lower() == "readme.md":
                    continue
                yield file, given
