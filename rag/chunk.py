"""Chunking along the structure: item, then section, then sentence-aware splitting to a size.

Invariants (tested as properties): every chunk's ``text == document.text[start:end]``; chunks never
cross an item or section boundary or include page furniture; every non-blank stretch of text
outside furniture lies in some chunk; no chunk is longer than ``size`` characters.

A chunk is indexed by two texts made from it: ``embed_text`` for the model, ``lexical_text`` for
keyword search.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import cache

from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.config import Settings
from rag.normalise import repair
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


def _occurrences(piece: str, part: str) -> list[int]:
    found, at = [], piece.find(part)
    while at >= 0:
        found.append(at)
        at = piece.find(part, at + 1)
    return found


def _locate(piece: str, parts: list[str]) -> list[tuple[int, int]]:
    """Place each chunk string in ``piece``: starts never go back, no text is skipped between chunks.

    The splitter returns strings, and a phrase can occur several times, so this is a small
    depth-first search over the occurrences of each chunk for the placement that covers the piece.
    """
    occurrences = [_occurrences(piece, part) for part in parts]
    choice = [-1] * len(parts)  # index into occurrences[i] tried last
    placed: list[tuple[int, int, int]] = []  # (start, end, covered_to)
    i = 0
    while 0 <= i < len(parts):
        prev_start, covered = (placed[-1][0], placed[-1][2]) if placed else (0, 0)
        choice[i] += 1
        ok = False
        while choice[i] < len(occurrences[i]):
            at = occurrences[i][choice[i]]
            if at >= prev_start and not piece[covered:at].strip():
                ok = True
                break
            if at > covered:
                break  # later occurrences leave a gap too
            choice[i] += 1
        if ok:
            at = occurrences[i][choice[i]]
            placed.append((at, at + len(parts[i]), max(covered, at + len(parts[i]))))
            i += 1
            if i == len(parts) and piece[placed[-1][2] :].strip():
                i -= 1  # the last chunk does not reach the end: try other placements
                placed.pop()
        else:
            choice[i] = -1
            i -= 1
            if placed:
                placed.pop()
    if i < 0:
        raise ValueError("the splitter's chunks do not cover the text")
    return [(a, b) for a, b, _ in placed]


def _split(text: str, start: int, end: int, size: int, overlap: int) -> list[tuple[int, int]]:
    """Spans of the chunks of ``text[start:end]``, each located exactly in the text.

    A chunk that only repeats text of the chunk before it (the overlap) adds nothing and is dropped.
    """
    piece = text[start:end]
    spans: list[tuple[int, int]] = []
    for a, b in _locate(piece, _splitter(size, overlap).split_text(piece)):
        if spans and b <= spans[-1][1] - start:
            continue
        spans.append((start + a, start + b))
    return spans


def chunk_configured(
    doc: Document, structure: Structure, settings: Settings, count_tokens: Callable[[str], int] | None
) -> list[Chunk]:
    """``chunk_document`` with the chunking the settings name: what a build indexes."""
    return chunk_document(
        doc,
        structure,
        size=settings.chunk_size,
        overlap=settings.chunk_overlap,
        max_tokens=settings.max_chunk_tokens,
        count_tokens=count_tokens,
        structured=settings.structure_chunking,
        merge_sections=settings.merge_sections,
        drop_furniture=settings.drop_furniture,
    )


@cache
def _defaults() -> Settings:
    """The settings' defaults, environment not read: the text of callers that pass no settings."""
    return Settings.model_construct()


def embed_text(chunk: Chunk, settings: Settings | None = None) -> str:
    """What the model embeds for a chunk: its context line and its OCR-repaired text (either can be
    switched off: ``header_in_dense``, ``repair_dense``; a chunk under ``header_min_chars`` has no
    context line: a page-end fragment of a few words would match on its item's title alone)."""
    s = settings or _defaults()
    text = repair(chunk.text) if s.repair_dense else chunk.text
    if not s.header_in_dense or len(chunk.text) < s.header_min_chars:
        return text
    return f"{chunk.header()}\n\n{text}"


def lexical_text(chunk: Chunk, settings: Settings | None = None) -> str:
    """What keyword search matches for a chunk: its context line and its text (the line can be
    switched off: ``header_in_lexical``; a chunk under ``header_min_chars`` has none)."""
    s = settings or _defaults()
    if not s.header_in_lexical or len(chunk.text) < s.header_min_chars:
        return chunk.text
    return f"{chunk.header()}\n{chunk.text}"


def chunk_document(
    doc: Document,
    structure: Structure,
    *,
    size: int = 700,
    overlap: int = 120,
    max_tokens: int | None = None,
    count_tokens: Callable[[str], int] | None = None,
    structured: bool = True,
    merge_sections: bool = True,
    drop_furniture: bool = True,
) -> list[Chunk]:
    """Cut a document into chunks carrying their item's and section's metadata; ``structured=False``
    cuts the whole text as one piece (furniture included) with the document's metadata only;
    ``drop_furniture=False`` leaves page furniture inside the items' chunks.

    With ``merge_sections``, adjacent sections of an item (no furniture between them) that fit in
    ``size`` together share one chunk, labelled with the section that has most of its text: a real
    protocol's item is mostly short sections, and a chunk of a heading and two lines carries neither
    the matter nor the decision (median chunk 97 characters on real protocols without it)."""
    if not structured:
        structure = _unstructured(doc, structure)
    chunks = []
    for item in structure.items:
        furniture = structure.furniture if drop_furniture else ()
        pieces = [p for p in _segments(item, furniture) if doc.text[p[0] : p[1]].strip()]
        for start, end, heading in (
            _pack(doc.text, pieces, size, item.decision[0] if item.decision else None) if merge_sections else pieces
        ):
            spans = _split(doc.text, start, end, size, overlap)
            if max_tokens and count_tokens:
                spans = _fit_tokens(doc.text, spans, overlap, max_tokens, count_tokens)
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


def _pack(
    text: str, pieces: list[tuple[int, int, str | None]], size: int, decision: int | None = None
) -> list[tuple[int, int, str | None]]:
    """Runs of adjacent pieces whose stripped span fits in ``size``, greedily; each run keeps the
    heading of the piece where the item's decision starts (``decision``, an offset), else of the
    piece with the most text. Pieces with furniture between them are never joined."""
    runs: list[list[tuple[int, int, str | None]]] = []
    for piece in pieces:
        last = runs[-1][-1] if runs else None
        if last is not None and not text[last[1] : piece[0]].strip():
            joined = text[runs[-1][0][0] : piece[1]].strip()
            if len(joined) <= size:
                runs[-1].append(piece)
                continue
        runs.append([piece])
    out = []
    for run in runs:
        deciding = [p for p in run if decision is not None and p[0] <= decision < p[1]]
        heading = (deciding or [max(run, key=lambda p: len(text[p[0] : p[1]].strip()))])[0][2]
        out.append((run[0][0], run[-1][1], heading))
    return out


def _unstructured(doc: Document, structure: Structure) -> Structure:
    """The structure as one item over the whole text: no §, sections or furniture."""
    whole = Item(start=0, end=len(doc.text), title=structure.title, date=structure.date, body=structure.body)
    return replace(structure, items=(whole,) if doc.text.strip() else (), furniture=())


def _fit_tokens(
    text: str,
    spans: list[tuple[int, int]],
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
        out.extend(_fit_tokens(text, smaller, overlap, max_tokens, count_tokens))
    return out
