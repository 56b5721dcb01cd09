"""Text as people read it on a page: markdown markup removed, words hyphenated at a line end joined,
hard line breaks reflowed. Display text is a separate field beside the verbatim text: quotes and
offsets in the API stay those of the source, and highlights (source offsets) are carried over.

``markup_spans`` gives the markup's spans in the source, so a page showing the whole document can
hide them while every offset still refers to the source text.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

_HEADING = re.compile(r"^[ \t]{0,3}(#{1,6})[ \t]+", re.MULTILINE)
_HEADING_CLOSE = re.compile(r"[ \t]+#+[ \t]*$", re.MULTILINE)
_QUOTE = re.compile(r"^[ \t]{0,3}>[ \t]?", re.MULTILINE)
_RULE = re.compile(r"^[ \t]*([-*_])(?:[ \t]*\1){2,}[ \t]*$", re.MULTILINE)
_STRONG = re.compile(
    r"(\*\*)(?=\S)([^\n]+?)(?<=\S)\*\*"  # **fet**
    r"|(?<![^\s(])(__)(?=\S)([^\n_]+?)(?<=\S)__(?![^\s).,:;!?])"  # __fet__ between spaces, not window.__x
)
_EMPHASIS = re.compile(
    r"(?<![\w*])\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*(?![\w*])"  # *kursiv*
    r"|(?<![^\s(])_(?=\S)([^_\n]+?)(?<=\S)_(?![^\s).,:;!?])"  # _kursiv_ between spaces, not snake_case
)
_CODE = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"!?\[([^\]\n]*)\]\(([^)\s]*)(?:\s+\"[^\"]*\")?\)")
_LEFTOVER = re.compile(r"\*\*")
_LIST_LINE = re.compile(r"[-*•–][ \t]|\d{1,3}[.)][ \t]")
_WORD_BEFORE = re.compile(r"[a-zåäöéüæø]$")
_WORD_AFTER = re.compile(r"[a-zåäöéüæø]")


@dataclass(frozen=True)
class Display:
    """``text`` for showing, and ``highlights`` as offsets into it (half-open)."""

    text: str
    highlights: tuple[tuple[int, int], ...] = ()


def markup_spans(text: str) -> list[tuple[int, int]]:
    """The spans of markdown markup in ``text`` (heading marks, emphasis marks, code ticks, link
    brackets and targets, quote marks, rules), sorted and not overlapping."""
    spans: list[tuple[int, int]] = []
    for m in _HEADING.finditer(text):
        spans.append((m.start(), m.end()))
        line_end = text.find("\n", m.end())
        line = text[m.end() : len(text) if line_end < 0 else line_end]
        close = _HEADING_CLOSE.search(line)
        if close:
            spans.append((m.end() + close.start(), m.end() + close.end()))
    spans += [(m.start(), m.end()) for m in _QUOTE.finditer(text)]
    spans += [(m.start(), m.end()) for m in _RULE.finditer(text)]
    for m in _STRONG.finditer(text):
        inner = 2 if m.group(1) is not None else 4
        spans += [(m.start(), m.start(inner)), (m.end(inner), m.end())]
    for m in _EMPHASIS.finditer(text):
        inner = 1 if m.group(1) is not None else 2
        spans += [(m.start(), m.start(inner)), (m.end(inner), m.end())]
    for m in _CODE.finditer(text):
        spans += [(m.start(), m.start(1)), (m.end(1), m.end())]
    for m in _LINK.finditer(text):
        spans += [(m.start(), m.start(1)), (m.end(1), m.end())]
    spans += [(m.start(), m.end()) for m in _LEFTOVER.finditer(text)]  # a mark whose pair was cut off
    return _merge(spans)


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(s for s in spans if s[0] < s[1]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _kept(text: str, hidden: Sequence[tuple[int, int]]) -> list[tuple[str, int]]:
    """The characters of ``text`` outside ``hidden``, each with its source offset."""
    out: list[tuple[str, int]] = []
    at = 0
    for start, end in [*hidden, (len(text), len(text))]:
        out += [(text[i], i) for i in range(at, start)]
        at = max(at, end)
    return out


def _reflow(chars: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Line breaks within a paragraph become spaces (a line starting a list item keeps its break), a
    word hyphenated at a line end is joined, runs of spaces become one; blank lines stay a break."""
    out: list[tuple[str, int]] = []
    i, n = 0, len(chars)
    while i < n:
        ch, at = chars[i]
        if ch != "\n":
            if ch in " \t" and out and out[-1][0] in " \n":
                i += 1
                continue
            out.append((" " if ch == "\t" else ch, at))
            i += 1
            continue
        j = i
        breaks = 0
        while j < n and chars[j][0] in " \t\n":
            breaks += chars[j][0] == "\n"
            j += 1
        rest = "".join(c for c, _ in chars[j : j + 5])
        while out and out[-1][0] == " ":
            out.pop()
        before = "".join(c for c, _ in out[-2:])
        if breaks == 1 and before.endswith("-") and before[:-1].strip() and rest[:1].isalnum():
            if _WORD_BEFORE.search(before[:-1]) and _WORD_AFTER.match(rest):
                out.pop()  # "med-\narbetare" is one word; "AI-\nstrategi" keeps its hyphen
        elif breaks > 1:
            out += [("\n", at), ("\n", at)] if out and j < n else []
        elif _LIST_LINE.match(rest):
            out.append(("\n", at))
        elif out and j < n:
            out.append((" ", at))
        i = j
    while out and out[-1][0] in " \n":
        out.pop()
    return out


def display(text: str, highlights: Sequence[tuple[int, int]] = (), offset: int = 0) -> Display:
    """``text`` (which starts at source offset ``offset``) cleaned for showing, with the source
    ``highlights`` mapped into it; a highlight whose characters are all removed is dropped."""
    shown, sources = _cleaned(text)
    mapped = []
    for start, end in highlights:
        lo = bisect.bisect_left(sources, start - offset)
        hi = bisect.bisect_left(sources, end - offset)
        if lo < hi:
            mapped.append((lo, hi))
    return Display(shown, tuple(mapped))


@lru_cache(maxsize=4096)
def _cleaned(text: str) -> tuple[str, tuple[int, ...]]:
    """``text`` cleaned for showing and each shown character's offset in it; the last few thousand
    kept, since every page of hits and every answer shows the same passages and titles again."""
    chars = _reflow(_kept(text, markup_spans(text)))
    return "".join(c for c, _ in chars), tuple(at for _, at in chars)


def display_text(text: str | None) -> str | None:
    """A title or quote as shown: ``display(text).text``, or None for None."""
    return None if text is None else display(text).text


_WORDS = re.compile(r"\w+")


def repaired_reading(text: str | None) -> str | None:
    """The normaliser's repaired reading of an OCR-damaged ``text`` (rag.normalise.repair), when it
    reads any word differently; None when the text needs no repair."""
    if not text:
        return None
    from rag.normalise import repair

    fixed = repair(text)
    return fixed if _WORDS.findall(fixed) != _WORDS.findall(text) else None


def ocr_damage(text: str, sample: int = 6000) -> float:
    """The share of words the normaliser reads differently: above a few per cent a document is OCR
    text with misread letters ('anvandningsomraden'). A long text is judged by three slices of
    ``sample / 3`` characters (start, middle, end), so the first search that shows it stays fast."""
    from rag.normalise import repair

    if len(text) > sample:
        third = sample // 3
        middle = len(text) // 2 - third // 2
        text = "\n\n".join((text[:third], text[middle : middle + third], text[-third:]))
    words = _WORDS.findall(text)
    if not words:
        return 0.0
    fixed = _WORDS.findall(repair(text))
    if len(fixed) != len(words):
        changed = sum(1 for w in fixed if w not in set(words))
    else:
        changed = sum(1 for a, b in zip(words, fixed, strict=True) if a != b)
    return changed / len(words)
