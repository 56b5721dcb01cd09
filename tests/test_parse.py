from __future__ import annotations

import os

import pytest
from conftest import TIBRO, pdf_bytes

from rag.errors import ParseError
from rag.parse import decode_text, discover, read_document


def make_pdf(lines: list[str]) -> bytes:
    """A minimal one-page PDF whose text layer holds ``lines`` (Helvetica, WinAnsi)."""
    ops = "BT /F1 12 Tf 72 720 Td " + " ".join(f"({line}) Tj 0 -16 Td" for line in lines) + " ET"
    stream = ops.encode("cp1252")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    return pdf_bytes(objects)


def test_txt_text_is_exactly_the_decoded_file():
    doc = read_document(TIBRO)
    assert doc.text == TIBRO.read_text(encoding="utf-8")
    assert (doc.id, doc.format, doc.internal) == (TIBRO.name, "txt", False)
    assert len(doc.sha256) == 64


def test_encodings():
    assert decode_text("Västerås".encode("cp1252"), "x") == "Västerås"
    assert decode_text("Västerås".encode("utf-16"), "x") == "Västerås"
    assert decode_text("\ufeffVästerås".encode(), "x") == "Västerås"
    assert decode_text(b"caf\xe9 \x81", "x") == "café \x81"  # not cp1252-decodable: latin-1


def test_pdf_docx_and_html(tmp_path):
    pdf = tmp_path / "protokoll.pdf"
    pdf.write_bytes(make_pdf(["KS § 12 Riktlinje för AI", "Beslut", "Kommunstyrelsen antar riktlinjen."]))
    text = read_document(pdf).text
    assert "KS § 12 Riktlinje för AI" in text and "Kommunstyrelsen antar riktlinjen." in text

    import docx

    document = docx.Document()
    document.add_paragraph("Riktlinje för generativ AI")
    document.add_paragraph("Sekretessuppgifter får inte matas in.")
    document.save(tmp_path / "riktlinje.docx")
    assert (
        read_document(tmp_path / "riktlinje.docx").text
        == "Riktlinje för generativ AI\n\nSekretessuppgifter får inte matas in."
    )

    (tmp_path / "sida.html").write_text(
        "<html><head><script>alert(1)</script><style>p{}</style></head>"
        "<body><h1>AI i skolan</h1><p>Nämnden beslutade.</p></body></html>",
        encoding="utf-8",
    )
    assert read_document(tmp_path / "sida.html").text == "AI i skolan\nNämnden beslutade."


def test_errors_name_the_file_and_the_fix(tmp_path):
    cases = {
        "empty.txt": (b"", "empty.txt: the file has no text. Remove it or add its content."),
        "scan.pdf": (
            make_pdf([]),
            "scan.pdf: the PDF has no text layer (a scan?). Run OCR on it (e.g. ocrmypdf) and index the result.",
        ),
        "cut.pdf": (make_pdf(["x"])[:60], None),
        "bad.docx": (
            b"not a zip",
            "bad.docx: not a readable .docx file (it is not a zip archive). Re-save it from Word.",
        ),
        "image.png": (
            b"\x89PNG",
            "image.png: unsupported file type '.png'. Supported: .txt, .md, .pdf, .docx, .html, .htm.",
        ),
    }
    for name, (data, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(ParseError) as info:
            read_document(tmp_path / name)
        assert str(info.value).startswith(name + ": ")
        if message:
            assert str(info.value) == message
    with pytest.raises(
        ParseError, match=r"^big.txt: 11 bytes is over the limit of 10. Split the file or raise RAG_MAX_FILE_BYTES.$"
    ):
        (tmp_path / "big.txt").write_text("x" * 11)
        read_document(tmp_path / "big.txt", max_bytes=10)


def test_discover_walks_folders_skips_hidden_and_readme_and_survives_symlink_loops(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.txt").write_text("ett")
    (tmp_path / "a" / ".hidden.txt").write_text("dold")
    (tmp_path / "README.md").write_text("om korpusen")
    (tmp_path / "internal").mkdir()
    (tmp_path / "internal" / "staff.md").write_text("intern")
    os.symlink(tmp_path, tmp_path / "a" / "loop")
    found = [(f.relative_to(tmp_path).as_posix()) for f, _ in discover([tmp_path])]
    assert found == ["a/one.txt", "internal/staff.md"]
    doc = read_document(tmp_path / "internal" / "staff.md", root=tmp_path)
    assert doc.internal
    with pytest.raises(ParseError, match=r"/nowhere: no such file or folder. Check the path.$"):
        list(discover([tmp_path / "nowhere"]))
