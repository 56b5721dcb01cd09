"""Chunking along the structure: item, then section, then sentence-aware splitting to a size.

Invariants (tested as properties): every chunk's ``text == document.text[start:end]``; chunks never
cross an item or section boundary or include page furniture; every non-blank stretch of text
outside furniture lies in some chunk; no chunk is longer than ``size`` characters.
"""

from __future__ import annotations

from collections.abc import Callable

from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.types import Chunk, Document, Item, Structure

# Paragraphs, lines, then sentence ends, then clause breaks, then words: every separator is a
# literal kept at the end of its piece, so pieces concatenate back to the original text.
_SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", ": ", "; ", ", ", " ", ""]


def _splitter(size: int, overlap: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        chunk_size=size,
        chunk_overlap=min(overlap, size // 2),
        separators=_SEPARATORS,
        keep_separator="end",
        strip_whitespace=True,
    )


def _segments(item: Item, furniture: tuple[tuple[int, int], ...]) -> list[tuple[int, int, str | None]]:
    """The item cut at its section boundaries and with furniture spans removed: (start, end, section)."""
    bounds: list[tuple[int, int, str | None]] = []
    first = item.sections[0].start if item.sections else item.end
    if first > item.start:
        bounds.append((item.start, first, None))
    bounds.extend((s.start, s.end, s.heading) for s in item.sections)
    pieces = []
    for start, end, heading in bounds:
        cursor = start
        for fs, fe in furniture:
            if fe <= cursor or fs >= end:
                continue
            if fs > cursor:
                pieces.append((cursor, fs, heading))
            cursor = max(cursor, fe)
        if cursor < end:
            pieces.append((cursor, end, heading))
    return pieces


def _split(text: str, start: int, end: int, size: int, overlap: int) -> list[tuple[int, int]]:
    """Spans of the chunks of ``text[start:end]``, each located exactly in the text.

    The splitter returns strings; each is located at or after the previous chunk's start minus the
    overlap, and must reach past the previous chunk's end (a chunk adds new text), which makes the
    location unambiguous even when phrases repeat.
    """
    piece = text[start:end]
    spans: list[tuple[int, int]] = []
    lower, prev_end = 0, 0
    for part in _splitter(size, overlap).split_text(piece):
        at = piece.find(part, lower)
        while at >= 0 and at + len(part) <= prev_end:
            at = piece.find(part, at + 1)
        if at < 0:  # cannot happen with literal separators; keep coverage rather than fail
            at = prev_end
            part = piece[at : at + len(part)]
        spans.append((start + at, start + at + len(part)))
        lower, prev_end = max(at + 1, at + len(part) - min(overlap, size // 2) - 1), at + len(part)
    return spans


def chunk_document(
    doc: Document,
    structure: Structure,
    *,
    size: int = 700,
    overlap: int = 120,
    max_tokens: int | None = None,
    count_tokens: Callable[[str], int] | None = None,
) -> list[Chunk]:
    """Cut a document into chunks carrying their item's and section's metadata."""
    chunks = []
    for item in structure.items:
        for start, end, heading in _segments(item, structure.furniture):
            if not doc.text[start:end].strip():
                continue
            spans = _split(doc.text, start, end, size, overlap)
            if max_tokens and count_tokens:
                spans = _fit_tokens(doc.text, spans, size, overlap, max_tokens, count_tokens)
            for s, e in spans:
                chunks.append(
                    Chunk(
                        doc=doc.id,
                        start=s,
                        end=e,
                        text=doc.text[s:e],
                        section=heading,
                        paragraph=item.paragraph,
                        dnr=item.dnr,
                        date=item.date or structure.date,
                        organisation=structure.organisation,
                        body=item.body or structure.body,
                        doc_type=structure.doc_type,
                        outcome=item.outcome,
                        title=item.title or structure.title,
                        internal=doc.internal,
                    )
                )
    return chunks


def _fit_tokens(
    text: str,
    spans: list[tuple[int, int]],
    size: int,
    overlap: int,
    max_tokens: int,
    count_tokens: Callable[[str], int],
) -> list[tuple[int, int]]:
    """Split again, smaller, any chunk over the model's token budget (OCR text has many tokens)."""
    out = []
    for s, e in spans:
        if count_tokens(text[s:e]) <= max_tokens or e - s < 50:
            out.append((s, e))
            continue
        smaller = _split(text, s, e, max(50, (e - s) // 2), overlap // 2)
        out.extend(_fit_tokens(text, smaller, size, overlap, max_tokens, count_tokens))
    return out
