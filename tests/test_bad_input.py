"""Bad input: a corpus of broken, hostile and odd files next to good ones.

Every bad file gets exactly one line naming it, what is wrong and what to do; every good file is
indexed with its text intact (encodings decoded, invisible characters removed); the summary counts
both; and nothing indexed before is lost when a later build meets bad files.
"""

from __future__ import annotations

import io
import os
import random
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import GOTLAND, TIBRO, VASTERAS, pdf_bytes
from corpus_states import make_pdf

from rag.build import build_index
from rag.config import Settings
from rag.embed import FakeEmbedder
from rag.store.embedded import load_index

LIMIT = 1_000_000  # RAG_MAX_FILE_BYTES in these tests
ROOT = os.geteuid() == 0  # root reads files and folders without read permission
INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060\ufeff\u00ad\x00-\x08\x0b-\x1f\x7f-\x9f]")


def encrypted_pdf(user_password: str) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=io.BytesIO(make_pdf([["Riktlinje for AI i skolan."]])))
    writer.encrypt(user_password=user_password, owner_password="agarens-losenord")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def blank_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def scanned_pdf() -> bytes:
    """A page that is only an image (a 2x2 grey scan), no text layer."""
    image = b"\x00\x80\x80\xff"
    content = b"q 500 0 0 700 50 50 cm /Im1 Do Q"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /XObject << /Im1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceGray /BitsPerComponent 8 "
        b"/Length %d >>\nstream\n" % len(image) + image + b"\nendstream",
    ]
    return pdf_bytes(objects)


def docx_bytes(*paragraphs: str) -> bytes:
    import docx

    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def zip_bomb() -> bytes:
    """A .docx of a few kilobytes whose document part unpacks to five times the file limit."""
    document = docx_bytes("Kort text.")
    with zipfile.ZipFile(io.BytesIO(document)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["word/document.xml"] = members["word/document.xml"].replace(b"Kort text.", b" " * (5 * LIMIT))
    return zip_bytes(members)


ANY = r"[^\n]+"


def bad_files() -> dict[str | bytes, tuple[bytes, str]]:
    """Name -> (content, the one line it must get, as a regular expression). A name is bytes when
    it is not valid UTF-8."""
    return {
        "tom.txt": (b"", re.escape("tom.txt: the file has no text. Remove it or add its content.")),
        "blanksteg.txt": (
            b" \t\r\n  \r\n\n",
            re.escape("blanksteg.txt: the file has no text. Remove it or add its content."),
        ),
        "osynligt.md": (
            "\u00a0\u200b\u200d\ufeff \n".encode(),
            re.escape("osynligt.md: the file has no text. Remove it or add its content."),
        ),
        "kontrolltecken.txt": (
            b"\x01\x02\n",
            re.escape("kontrolltecken.txt: the file has no text. Remove it or add its content."),
        ),
        "skrap.txt": (
            b"AB" + random.Random(6).randbytes(4096).replace(b"\x00", b"\x01"),
            re.escape("skrap.txt: looks like a binary file, not text. Remove it or convert it to UTF-8 text."),
        ),
        "nollor.txt": (
            b"\x00" * 300,
            re.escape("nollor.txt: looks like a binary file, not text. Remove it or convert it to UTF-8 text."),
        ),
        "bild.txt": (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64),
            re.escape("bild.txt: is a PNG image, not text. Remove it or give it the right file extension."),
        ),
        "arkiv.md": (
            zip_bytes({"a.txt": b"x" * 100}),
            re.escape("arkiv.md: is a zip archive, not text. Remove it or give it the right file extension."),
        ),
        "halv-utf16.txt": (
            b"\xff\xfeA\x00B",
            re.escape("halv-utf16.txt: looks like a binary file, not text. Remove it or convert it to UTF-8 text."),
        ),
        "trunkerad.pdf": (
            make_pdf([["Kommunstyrelsen beslutar om AI."] * 40])[:700],
            re.escape(
                "trunkerad.pdf: the PDF is truncated (it has no end-of-file marker). Copy the complete file again."
            ),
        ),
        "krypterad.pdf": (
            encrypted_pdf("hemligt"),
            re.escape("krypterad.pdf: the PDF is encrypted. Save an unencrypted copy and index that."),
        ),
        "skannad.pdf": (
            scanned_pdf(),
            re.escape(
                "skannad.pdf: the PDF is a scan (its pages are images without a text layer). "
                "It needs OCR: run e.g. ocrmypdf on it and index the result."
            ),
        ),
        "tom-sida.pdf": (
            blank_pdf(),
            re.escape(
                "tom-sida.pdf: the PDF has no text layer (a scan?). Run OCR on it (e.g. ocrmypdf) and index the result."
            ),
        ),
        "felsida.pdf": (
            b"<!DOCTYPE html><html><head><title>404</title></head><body>Sidan finns inte</body></html>",
            re.escape(
                "felsida.pdf: is not a PDF but an HTML page (a download that saved an error page?). "
                "Download or export the PDF again."
            ),
        ),
        "text.pdf": (
            b"Det har ar bara text.",
            re.escape("text.pdf: is not a PDF but something else. Download or export the PDF again."),
        ),
        "trasig.pdf": (
            b"%PDF-1.4\nhar finns inga objekt\n%%EOF\n",
            r"trasig\.pdf: cannot read the PDF \(" + ANY + r"\)\. Check that the file is complete\.",
        ),
        "for-stor.txt": (
            b"Protokoll. " * (LIMIT // 10),
            re.escape(
                f"for-stor.txt: {LIMIT // 10 * 11} bytes is over the limit of {LIMIT}. "
                "Split the file or raise RAG_MAX_FILE_BYTES."
            ),
        ),
        "zipbomb.docx": (
            zip_bomb(),
            r"zipbomb\.docx: unpacks to \d+ bytes in \d+ parts, over the limit of 1000000 \(a zip bomb\?\)\. "
            r"Remove it, or raise RAG_MAX_FILE_BYTES if it is a real document\.",
        ),
        "manga-delar.docx": (
            zip_bytes({str(i): b"" for i in range(10_001)}),
            r"manga-delar\.docx: unpacks to 0 bytes in 10001 parts, over the limit of 1000000 \(a zip bomb\?\)\. "
            r"Remove it, or raise RAG_MAX_FILE_BYTES if it is a real document\.",
        ),
        "inte-zip.docx": (
            b"Detta ar inget Word-dokument.",
            re.escape("inte-zip.docx: not a readable .docx file (it is not a zip archive). Re-save it from Word."),
        ),
        "gammal.docx": (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512),
            re.escape(
                "gammal.docx: not a readable .docx file (it is an old Word (.doc) file or a password-protected "
                "Office file). Save it as .docx from Word."
            ),
        ),
        "fel-zip.docx": (
            zip_bytes({"readme.txt": b"inte word"}),
            r"fel-zip\.docx: not a readable \.docx file \(" + ANY + r"\)\. Re-save it from Word\.",
        ),
        "trasig-zip.docx": (
            b"PK\x03\x04" + bytes(100),
            r"trasig-zip\.docx: not a readable \.docx file \(" + ANY + r"\)\. Re-save it from Word\.",
        ),
        "tom.docx": (
            docx_bytes(),
            re.escape("tom.docx: the file has no text. Remove it or add its content."),
        ),
        "bara-skript.html": (
            b"<html><head><script>document.write('hemligt')</script><style>p{}</style></head>"
            b"<body><script>alert(1)</script><nav>Meny</nav></body></html>",
            re.escape("bara-skript.html: the file has no text. Remove it or add its content."),
        ),
        "tom.htm": (b"<html></html>", re.escape("tom.htm: the file has no text. Remove it or add its content.")),
        "gzip.md": (
            b"\x1f\x8b\x08\x00" + bytes(20),
            re.escape("gzip.md: is a gzip archive, not text. Remove it or give it the right file extension."),
        ),
        b"latin1-namn-\xe5.txt": (
            b"Ett protokoll om AI.",
            re.escape(
                "latin1-namn-\\xe5.txt: the file name has characters that are not valid UTF-8 text or are control "
                "characters. Rename the file."
            ),
        ),
        "rad\nbrytning.txt": (
            b"Ett protokoll om AI.",
            re.escape(
                "rad\\nbrytning.txt: the file name has characters that are not valid UTF-8 text or are control "
                "characters. Rename the file."
            ),
        ),
    }


def special_files() -> dict[str, str]:
    """Files the corpus maker makes itself (links, a pipe, a duplicate, unreadable ones) -> their lines."""
    special = {
        "slinga-a.txt": re.escape(
            "slinga-a.txt: is a symbolic link that leads back to itself (a loop). Remove the link or point it at a file."
        ),
        "slinga-b.txt": re.escape(
            "slinga-b.txt: is a symbolic link that leads back to itself (a loop). Remove the link or point it at a file."
        ),
        "trasig-lank.txt": re.escape(
            "trasig-lank.txt: is a symbolic link to finns-inte.txt, which does not exist. Remove the link or restore the file."
        ),
        "ror.txt": re.escape("ror.txt: is not a regular file (a named pipe or a device). Remove it from the corpus."),
        "dubblett/" + TIBRO.name: re.escape(TIBRO.name + ": another file of the same name is already indexed (")
        + ANY
        + re.escape("). Rename one of them."),
    }
    if not ROOT:
        special["olasbar.txt"] = re.escape(
            "olasbar.txt: no permission to read it. Give the user running rag read access (chmod a+r) or remove it."
        )
        special["stangd-mapp"] = re.escape(
            "stangd-mapp/: cannot list the folder (Permission denied). Give the user running rag access to it or remove it."
        )
    return special


def good_files() -> dict[str, tuple[bytes, str]]:
    """Name -> (content, text that must be in the indexed document)."""
    return {
        "cp1252.txt": ("Västerås kommunstyrelse beslutade om en AI-strategi för skolan.".encode("cp1252"), "Västerås"),
        # 0x81 is not cp1252, so this is read as latin-1; the C1 control character it becomes is removed
        "latin1.txt": (
            "Åtgärder för AI i Örebro, även i förskolan.".encode("latin-1") + b" \x81",
            "Åtgärder för AI i Örebro",
        ),
        "utf16.txt": ("Umeå kommun antar riktlinjer för generativ AI.".encode("utf-16"), "Umeå kommun antar"),
        "utf16le-utan-bom.txt": ("Luleå nämnd om AI-tjänster i vården.".encode("utf-16-le"), "Luleå nämnd"),
        "utf32.txt": ("Kiruna om AI och rennäring.".encode("utf-32"), "Kiruna om AI"),
        "utf8-bom.md": ("\ufeff# Gävle\n\nGävle beslutar om AI-policy.".encode(), "# Gävle\n\nGävle beslutar"),
        "osynliga-tecken.txt": (
            "AI\u200b-strategi\u200d för\u00ad skolan,\u202e Tibro\x07 kommun\u2060.".encode(),
            "AI-strategi för skolan, Tibro kommun.",
        ),
        "radslut.txt": (
            b"Rad ett\r\nRad tv\xc3\xa5\rRad tre\nRad fyra\x0cRad fem",
            "Rad ett\nRad två\nRad tre\nRad fyra\nRad fem",
        ),
        "nfd.txt": ("Va\u0308stera\u030as stad om AI.".encode(), "Västerås stad om AI."),
        "Protokoll KS 2024-03-06 – Västerås § 87 (justerat).txt": (
            "Kommunstyrelsen i Västerås, § 87, om AI.".encode(),
            "§ 87, om AI",
        ),
        "  mellanslag  först och sist .md": (b"Sala kommun om AI.", "Sala kommun"),
        "riktlinje.docx": (
            docx_bytes("Riktlinje för generativ AI", "Sekretess får inte matas in."),
            "Riktlinje för generativ AI",
        ),
        "sida.html": (
            b"<html><head><script>var hemligt = 'skript-text';</script></head><body><h1>AI i skolan</h1>"
            b"<p>N\xc3\xa4mnden beslutade.</p><script>alert('mer-skript')</script><!-- kommentar --></body></html>",
            "AI i skolan\nNämnden beslutade.",
        ),
        "protokoll.pdf": (
            make_pdf([["KS § 12 Riktlinje for AI", "Kommunstyrelsen antar riktlinjen."]]),
            "Kommunstyrelsen antar",
        ),
        "agarlosen.pdf": (encrypted_pdf(""), "Riktlinje for AI i skolan."),  # only an owner password: readable
        "mapp.txt/inne.md": (b"# Inne i en mapp som heter mapp.txt\n\nText om AI.", "Text om AI."),
    }


def make_corpus(folder: Path) -> tuple[set[str], dict[str, str]]:
    """Write the corpus; return the ids of the good documents and the bad files' shown name -> line pattern."""
    folder.mkdir()
    for source in (TIBRO, VASTERAS, GOTLAND):
        shutil.copy(source, folder / source.name)
    for name, (content, _) in good_files().items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    expected = {}
    for name, (content, pattern) in bad_files().items():
        path = os.path.join(os.fsencode(folder), name) if isinstance(name, bytes) else folder / name
        with open(path, "wb") as fh:
            fh.write(content or b"")
        expected[name.decode("latin-1") if isinstance(name, bytes) else name] = pattern
    os.symlink("slinga-b.txt", folder / "slinga-a.txt")
    os.symlink("slinga-a.txt", folder / "slinga-b.txt")
    os.symlink("finns-inte.txt", folder / "trasig-lank.txt")
    os.mkfifo(folder / "ror.txt")
    (folder / "dubblett").mkdir()
    shutil.copy(TIBRO, folder / "dubblett" / TIBRO.name)
    if not ROOT:
        (folder / "olasbar.txt").write_text("Hemligt protokoll.", encoding="utf-8")
        (folder / "olasbar.txt").chmod(0)
        (folder / "stangd-mapp").mkdir()
        (folder / "stangd-mapp" / "inne.txt").write_text("Text.", encoding="utf-8")
        (folder / "stangd-mapp").chmod(0)
    expected.update(special_files())
    good = {TIBRO.name, VASTERAS.name, GOTLAND.name} | {Path(name).name for name in good_files()}
    return good, expected


@pytest.fixture
def bad_corpus(tmp_path):
    good, expected = make_corpus(tmp_path / "corpus")
    yield tmp_path / "corpus", good, expected
    for folder in (tmp_path / "corpus" / "stangd-mapp",):  # let pytest clean up
        if folder.exists():
            folder.chmod(0o755)


@pytest.fixture
def limited(tmp_path):
    return Settings(index_dir=tmp_path / "index", embedder="fake", max_file_bytes=LIMIT)


def check_lines(lines: list[str], expected: dict[str, str]) -> None:
    """Exactly one line per bad file, each matching what that file must say."""
    assert len(lines) == len(expected), "\n".join(lines)
    unmatched = dict(expected)
    for line in lines:
        assert "\n" not in line
        matching = [name for name, pattern in unmatched.items() if re.fullmatch(pattern, line)]
        assert len(matching) == 1, f"{line!r} matches {matching}"
        del unmatched[matching[0]]
    assert not unmatched


def test_bad_files_get_one_line_each_and_the_good_ones_are_all_indexed(bad_corpus, limited):
    corpus, good, expected = bad_corpus
    assert len(expected) >= 30
    lines: list[str] = []
    report = build_index([corpus], limited.index_dir, FakeEmbedder(), limited, on_file=lines.append)
    assert all(line.startswith("skipped ") for line in lines)
    check_lines([line.removeprefix("skipped ") for line in lines], expected)
    assert [message for _, message in report.failed] == [line.removeprefix("skipped ") for line in lines]
    assert report.documents == len(good)

    index = load_index(limited.index_dir)
    try:
        assert set(index.documents()) == good
        for name, (_, must_read) in good_files().items():
            text = index.documents()[Path(name).name].text
            assert must_read in text, (name, text)
            assert not INVISIBLE.search(text), (name, text)
            assert "\r" not in text
        html = index.documents()["sida.html"].text
        assert "skript" not in html and "alert" not in html and "kommentar" not in html
        for chunk in index.chunks():
            assert chunk.text == index.documents()[chunk.doc].text[chunk.start : chunk.end]
    finally:
        index.close()


def test_nothing_indexed_before_is_lost_when_its_file_turns_bad(tmp_path, limited):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for source in (TIBRO, VASTERAS, GOTLAND):
        shutil.copy(source, corpus / source.name)
    (corpus / "riktlinje.docx").write_bytes(docx_bytes("Riktlinje för generativ AI."))
    (corpus / "protokoll.pdf").write_bytes(make_pdf([["KS § 12 Riktlinje for AI"] * 30]))
    build_index([corpus], limited.index_dir, FakeEmbedder(), limited)
    before = load_index(limited.index_dir)
    texts = {doc: stored.text for doc, stored in before.documents().items()}
    before.close()

    # the files break: binary junk, a zip bomb, a cut PDF; and bad new files arrive
    (corpus / TIBRO.name).write_bytes(bytes(range(256)) * 4)
    (corpus / "riktlinje.docx").write_bytes(zip_bomb())
    pdf = (corpus / "protokoll.pdf").read_bytes()
    (corpus / "protokoll.pdf").write_bytes(pdf[: len(pdf) // 2])
    (corpus / "tom.txt").write_bytes(b"")
    lines: list[str] = []
    report = build_index([corpus], limited.index_dir, FakeEmbedder(), limited, on_file=lines.append)
    assert sorted(report.kept) == sorted([TIBRO.name, "riktlinje.docx", "protokoll.pdf"])
    assert len(lines) == len(report.failed) == 4
    assert report.removed == [] and report.documents == 5
    after = load_index(limited.index_dir)
    try:
        assert {doc: stored.text for doc, stored in after.documents().items()} == texts
    finally:
        after.close()

    # once the file is good again it is read again; once it is gone, it is removed
    shutil.copy(TIBRO, corpus / TIBRO.name)
    (corpus / "protokoll.pdf").unlink()
    report = build_index([corpus], limited.index_dir, FakeEmbedder(), limited)
    assert report.kept == ["riktlinje.docx"] and report.removed == ["protokoll.pdf"]


def test_rag_index_prints_one_line_per_bad_file_and_a_summary_counting_both(bad_corpus, tmp_path):
    corpus, good, expected = bad_corpus
    env = {**os.environ, "RAG_EMBEDDER": "fake", "RAG_MAX_FILE_BYTES": str(LIMIT)}
    command = [str(Path(sys.executable).parent / "rag"), "index", str(corpus), "--index", str(tmp_path / "index")]

    def rag_index() -> subprocess.CompletedProcess[str]:
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)

    result = rag_index()
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert all(line.startswith("skipped ") for line in lines), result.stderr
    check_lines([line.removeprefix("skipped ") for line in lines], expected)
    summary = result.stdout.splitlines()
    assert summary[0].startswith(f"Indexed {len(good)} documents (")
    assert f"added {len(good)}, changed 0, removed 0, failed {len(expected)}." in summary[0]
    assert summary[1] == f"{len(expected)} files skipped (one line each above); the other documents are indexed."

    # a file indexed before breaks: one more line, and the summary says its indexed text is kept
    (corpus / "protokoll.pdf").write_bytes(b"%PDF-1.4\ncut")
    expected["protokoll.pdf"] = re.escape(
        "protokoll.pdf: the PDF is truncated (it has no end-of-file marker). Copy the complete file again."
    )
    result = rag_index()
    assert result.returncode == 0, result.stderr
    check_lines([line.removeprefix("skipped ") for line in result.stderr.splitlines()], expected)
    summary = result.stdout.splitlines()
    assert f"added 0, changed 0, removed 0, failed {len(expected)}." in summary[0]
    assert summary[1] == (
        f"{len(expected)} files skipped (one line each above); the other documents are indexed. "
        "1 of them were indexed before: their indexed text is kept."
    )
