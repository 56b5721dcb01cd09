"""Snippets for result lists: a window of a passage around the words that match the query, with the
matched words' spans. Spans are character offsets into the document text, never HTML: the page
marks them up itself (inserting text, not markup)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from rag.normalise import analyse, tokenize

SNIPPET_CHARS = 320


@dataclass(frozen=True)
class Snippet:
    text: str  # == document text[start:end]
    start: int
    end: int
    highlights: tuple[tuple[int, int], ...]  # spans of matched words, within [start, end)


def matches(text: str, offset: int, keys: Collection[str]) -> list[tuple[int, int]]:
    """Spans (offset by ``offset``) of the words of ``text`` whose index key is one of ``keys``;
    OCR-damaged and inflected forms match as they do in search ('anvindningsomraden')."""
    spans = []
    for token in tokenize(text):
        token_keys = analyse(token.word)
        if token_keys and any(k in keys for k in token_keys):
            spans.append((offset + token.start, offset + token.end))
    return spans


def snippet(text: str, start: int, end: int, keys: Collection[str], width: int = SNIPPET_CHARS) -> Snippet:
    """The ``width``-character window of ``text[start:end]`` holding the most matches, cut at word
    boundaries."""
    found = matches(text[start:end], start, keys)
    if end - start <= width:
        return Snippet(text[start:end], start, end, tuple(found))
    best_from, best_count = start, -1
    for s, _ in found or [(start, start)]:
        window_from = max(start, min(s - width // 4, end - width))
        count = sum(1 for a, b in found if a >= window_from and b <= window_from + width)
        if count > best_count:
            best_from, best_count = window_from, count
    lo, hi = best_from, min(end, best_from + width)
    # cut at whitespace so no word is halved
    while lo > start and not text[lo - 1].isspace() and lo > best_from - 20:
        lo -= 1
    while hi < end and not text[hi].isspace() and hi < best_from + width + 20:
        hi += 1
    while lo < hi and text[lo].isspace():
        lo += 1
    while hi > lo and text[hi - 1].isspace():
        hi -= 1
    return Snippet(text[lo:hi], lo, hi, tuple((a, b) for a, b in found if a >= lo and b <= hi))
