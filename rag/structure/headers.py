"""Page furniture and source headers: what is kept out of items and chunks.

A line repeated on several pages once its page number is masked ("1 (3)", "Sida 2 av 5", "1[5]") is
a page header, and so is a recurring body name beside it; signature and attestation lines are
furniture wherever they stand. An archived web text opens with a ``SOURCE-HEADER`` block of fields.
"""

from __future__ import annotations

import re
from collections import Counter

from rag.structure.bodies import _ORG_NAME, _body_name
from rag.structure.dates import _DATE
from rag.structure.items import _ITEM
from rag.structure.lines import _key, fields, line_spans
from rag.vocab import SECTION_HEADINGS

_SOURCE_HEADER = re.compile(r"\ASOURCE-HEADER\n(?P<body>.*?)\nEND-SOURCE-HEADER\n", re.DOTALL)
# Page numbers in their common forms: "1 (3)", "Sida 2 av 5", "Sida 1(5)", "1[5]", "2 (av 2)", "3/7".
_PAGE_MARK = re.compile(
    r"(?:sida[ \t]*)?\b\d{1,3}[ \t]*(?:\([ \t]*(?:av[ \t]*)?\d{1,3}[ \t]*\)|\[\d{1,3}\]|av[ \t]+\d{1,3}\b)"
    r"|\bsida[ \t]+\d{1,3}\b|<!--[ \t]*sida[ \t]*\d+[ \t]*-->",
    re.IGNORECASE,
)
_FURNITURE_FIELD = re.compile(
    r"^(justerandes?( signatur| sign\.?)?|justerare|utdragsbestyrkande|ordforandes signatur|"
    r"sekreterarens? signatur|datum diarienr sida|sida|#|\**sammantradesprotokoll\**|protokoll|"
    r"protokollsutdrag|sammantradesdatum|datum)$"
)


def source_header(text: str) -> tuple[dict[str, str], tuple[int, int] | None]:
    """The ``SOURCE-HEADER … END-SOURCE-HEADER`` fields of an archived web text, and its span."""
    m = _SOURCE_HEADER.match(text)
    if not m:
        return {}, None
    values = {}
    for line in m.group("body").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            values[key.strip().lower()] = value.strip()
    return values, (m.start(), m.end())


def _masked(line: str) -> str:
    """A line with its page number masked and spacing collapsed: the same on every page."""
    return re.sub(r"\s+", " ", _PAGE_MARK.sub("#", line)).strip()


def _is_furniture_line(line: str) -> bool:
    """A line of only signature labels, page numbers and the word 'protokoll' in some form."""
    if len(line.strip()) > 120:
        return False
    keys = [_key(p) for p in fields(_PAGE_MARK.sub("#", line))]
    words = {"protokoll", "protokollsutdrag", "sammantradesdatum", "datum"}
    return bool(keys) and all(not k or _FURNITURE_FIELD.match(k) for k in keys) and not set(keys) <= words


def find_furniture(text: str) -> list[tuple[int, int]]:
    """Spans of page furniture: signature and attestation lines, page numbers, repeated page headers.

    A page header is a short line that recurs on several pages once its page number is masked and
    that carries a date, a page number, the word 'protokoll' or capitals; a short recurring line
    next to one that names a body or the organisation (the body above "Protokoll nr 12") belongs to
    the same header.
    """
    lines = [(s, e, line) for s, e, line in line_spans(text) if line.strip()]
    counts = Counter(_masked(line) for _, _, line in lines)
    marks = [False] * len(lines)
    for i, (_, _, line) in enumerate(lines):
        masked = _masked(line)
        key = _key(line) if len(line) <= 160 else ""
        repeated_header = (
            counts[masked] >= 2
            and len(masked) <= 160
            and not masked.endswith((".", ":", ","))
            and not masked.startswith(("-", "•", "*", "§"))
            and key not in SECTION_HEADINGS
            and not _ITEM.match(line)
            and ((masked.isupper() and len(masked) >= 4) or _DATE.search(masked) or "#" in masked or "protokoll" in key)
        )
        marks[i] = bool(repeated_header) or _is_furniture_line(line) or "sammantradesprotokoll" in key.replace(" ", "")
    first = marks[:]  # a line beside a header line, not beside one so marked itself
    for i, (_, _, line) in enumerate(lines):
        masked = _masked(line)
        named = _body_name(line) or _ORG_NAME.fullmatch(line.strip())
        beside = (i > 0 and first[i - 1]) or (i + 1 < len(lines) and first[i + 1])
        short = counts[masked] >= 3 and len(masked) <= 60 and not masked.endswith(".")
        if not marks[i] and beside and short and named and _key(line) not in SECTION_HEADINGS:
            marks[i] = True
    return [(s, e) for (s, e, _), marked in zip(lines, marks, strict=True) if marked]
