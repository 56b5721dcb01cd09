"""Snippets for result lists: a window of a passage around the words that match the query, with the
matched words' spans. Spans are character offsets into the document text, never HTML: the page
marks them up itself (inserting text, not markup)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache

from rag.normalise import analyse, tokenize

SNIPPET_CHARS = 320


@dataclass(frozen=True)
class Snippet:
    text: str  # == document text[start:end]
    start: int
    end: int
    highlights: tuple[tuple[int, int], ...]  # spans of matched words, within [start, end)


@lru_cache(maxsize=100_000)
def _word_keys(word: str) -> tuple[str, ...]:
    """A word's index keys; cached, since analysing every word of ten hits was most of a search request."""
    return tuple(analyse(word))


@lru_cache(maxsize=4096)
def _keyed_tokens(text: str) -> tuple[tuple[int, int, tuple[str, ...]], ...]:
    """Each word of ``text``: its span and keys. Cached per passage text: the same hits come back."""
    return tuple((t.start, t.end, keys) for t in tokenize(text) if (keys := _word_keys(t.word)))


def matches(text: str, offset: int, keys: Collection[str]) -> list[tuple[int, int]]:
    """Spans (offset by ``offset``) of the words of ``text`` whose index key is one of ``keys``;
    OCR-damaged and inflected forms match as they do in search ('anvindningsomraden')."""
    return [
        (offset + start, offset + end) for start, end, found in _keyed_tokens(text) if any(k in keys for k in found)
    ]


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
