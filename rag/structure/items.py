"""Item headings (§): which § lines open an item, and which are agenda lines or references to
another §; an item's heading block.

Headings are any of ``§ 45``, ``§45``, ``KS § 4``, ``Paragraf 45``, ``§ 3 a``; an agenda line (the
same § again later, or a list under "Ärendelista") and a reference ("§ 924.", "§ 22, att ...") are
not items.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.structure.lines import _key, line_spans
from rag.structure.sections import is_heading

# An item heading: "§ 87", "§87", "KF § 100 Svar på motion ...", "SON AU § 58", "Paragraf 45",
# "§ 3 a", and "$ 87" as OCR reads a § now and then. What may follow the number is checked by ``_is_heading_rest``.
_ITEM = re.compile(
    r"^[ \t#*]*(?:(?P<abbr>[A-ZÅÄÖ]{1,5}(?:[ \t]+[A-ZÅÄÖ]{2,4})?)[ \t]+)?(?:§|\$|Paragraf\b)[ \t]*(?P<num>\d{1,4})"
    r"(?:[ \t]?(?P<suffix>[a-z])(?![\w]))?(?P<rest>[^\n]*)$",
    re.MULTILINE,
)


def _is_heading_rest(rest: str) -> bool:
    """Whether what follows '§ N' on a line can be a heading, not running text or a reference."""
    r = rest.strip()
    if not r:
        return True
    if r[0] in ",;)/":
        return False
    if r[0] == ".":
        return bool(re.match(r"^\.\s+[A-ZÅÄÖ]", r))
    if re.match(r"^[-–]\s*\d", r) or re.match(r"^(?:och|samt|i|p|st|kap|mom)\b", r):
        return False
    # "§ 45 (forts.)": the item goes on past a page break
    if re.match(r"^\(\s*forts|^forts(?:\.|\s*$)", r, re.IGNORECASE):
        return False
    return not r[0].islower()


_LIST_HEADING = re.compile(
    r"^(?:arendelista|arendeforteckning|foredragningslista|dagordning|innehall|innehallsforteckning|arenden"
    r"|forteckning over arenden|paragrafer|paragrafforteckning|narvarolista|narvaro|voteringslista|omrostningslista)$"
)
_DOT_LEADER = re.compile(r"(?:\.{3,}|…{2,}|(?:\. ){3,})\s*\d+\s*$")


def _candidates(text: str, body_start: int, furniture: Sequence[tuple[int, int]]) -> list[re.Match[str]]:
    """Item headings: § lines that are headings, with agenda lines and references left out. Numbers
    out of sequence stay: a compilation of extracts from several meetings has them."""
    found = [m for m in _ITEM.finditer(text, body_start) if _is_heading_rest(m.group("rest"))]
    found = [m for m in found if not _DOT_LEADER.search(m.group())]
    if not found:
        return []
    # a list under "Ärendelista", "Föredragningslista", "Innehåll": one line per § with nothing between
    list_lines: set[int] = set()
    in_list = False
    starts = [m.start() for m in found]
    nexts = [*starts[1:], len(text)]
    listed = {}
    for i, m in enumerate(found):
        segment = line_spans(text, m.end() + 1, nexts[i])
        between = [line for s, _, line in segment if line.strip() and not _in(s, furniture)]
        listed[i] = len(between) <= 1 and not any(is_heading(line) for line in between)
    heading_ends = [
        e for s, e, line in line_spans(text, body_start) if len(line) <= 40 and _LIST_HEADING.match(_key(line) or "-")
    ]
    for i, m in enumerate(found):
        before = [e for e in heading_ends if e <= m.start()]
        if before and not any(found[j].start() > before[-1] and not listed[j] for j in range(i)):
            in_list = listed[i]
        else:
            in_list = False
        if in_list:
            list_lines.add(i)
    kept = [m for i, m in enumerate(found) if i not in list_lines]
    # the same § more than once: an agenda line, the item, a line of a vote appendix. Those with
    # sections of their own are items (extracts of two meetings, each with its § 12); when none has,
    # the last one is.
    ends = [*(m.start() for m in kept[1:]), len(text)]
    sectioned = [
        any(is_heading(line) for _, _, line in line_spans(text, m.end() + 1, ends[i])) for i, m in enumerate(kept)
    ]
    groups: dict[tuple[int, str], list[int]] = {}
    for i, m in enumerate(kept):
        groups.setdefault(_number_key(m), []).append(i)
    chosen = {i for group in groups.values() for i in ([j for j in group if sectioned[j]] or group[-1:])}
    return [m for i, m in enumerate(kept) if i in chosen]


def _in(pos: int, spans: Sequence[tuple[int, int]]) -> bool:
    return any(s <= pos < e for s, e in spans)


def _number_key(m: re.Match[str]) -> tuple[int, str]:
    return int(m.group("num")), m.group("suffix") or ""


def _head_lines(text: str, heading: re.Match[str], end: int) -> list[tuple[int, int, str]]:
    """The lines of an item's heading block after the § line: up to its first section heading or
    the first paragraph of running text, at most four non-blank lines."""
    out: list[tuple[int, int, str]] = []
    for s, e, line in line_spans(text, heading.end() + 1, end):
        if not line.strip():
            continue
        if is_heading(line) or len(out) >= 4 or len(line.strip()) > 160:
            break
        out.append((s, e, line))
    return out
