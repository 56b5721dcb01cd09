"""Dates: the meeting or document date from its labelled header field, the page headers or the
first short header field, and the signature date of a motion; ISO and written-out Swedish forms."""

from __future__ import annotations

import re

from rag.normalise import fold
from rag.structure.dnr import _DNR
from rag.structure.lines import fields, line_spans

_DATE = re.compile(r"\b(20\d\d|19\d\d)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])\b")
_MONTHS = (
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
)
_WORD_DATE = re.compile(r"\b([12]?\d|3[01])\s+(" + "|".join(_MONTHS) + r")\s+((?:19|20)\d\d)\b", re.IGNORECASE)


def _first_date(text: str) -> str | None:
    """The first date in ``text`` as ISO: '2024-09-30' or '12 mars 2025' -> '2025-03-12'."""
    iso = _DATE.search(text)
    word = _WORD_DATE.search(text)
    if word and (not iso or word.start() < iso.start()):
        day, month, year = word.groups()
        return f"{year}-{_MONTHS.index(month.lower()) + 1:02d}-{int(day):02d}"
    return iso.group() if iso else None


_DATE_LABEL = re.compile(
    r"^(?:sammantradesdatum|datum for sammantrade(?:t)?|sammantradet den|motesdatum|beslutsdatum|datum|"
    r"protokoll|tid|tid och plats|dag och tid)\b"
)
_NOT_MEETING_DATE = re.compile(r"inkom|giltig|galler|justering|anslag|revideras|ersatter|upprattad|tas ned|satts upp")


def meeting_date(text: str, page_headers: str = "") -> str | None:
    """The meeting or document date: a field labelled 'Sammanträdesdatum', 'Datum' (the date in the
    same field, the next one or the line below) at the head of ``text``, else in the repeated page
    headers, else the first date of a short header field."""
    return _labelled_date(text) or _labelled_date(page_headers) or _header_date(text)


def _labelled_date(text: str) -> str | None:
    lines = list(line_spans(text))
    for i, (_, _, line) in enumerate(lines[:80]):
        parts = fields(line)
        for j, part in enumerate(parts):
            key = fold(part.strip(" \t*#"))
            if not _DATE_LABEL.match(key) or _NOT_MEETING_DATE.search(key):
                continue
            if key.startswith(("tid", "dag", "protokoll")) and not _first_date(part):
                continue
            if d := _first_date(part):
                return d
            if j + 1 < len(parts) and (d := _first_date(parts[j + 1])):
                return d
            for _, _, below in lines[i + 1 : i + 3]:
                first = fields(below)[:3]
                found = next((d for f in first if (d := _first_date(f)) and len(f) <= 30), None)
                if found:
                    return found
    return None


def _header_date(text: str) -> str | None:
    lines = list(line_spans(text))
    for _, _, line in lines[:40]:
        for part in fields(line):
            date = _first_date(part) if len(part) <= 60 else None
            if date and not _DNR.search(part) and not _NOT_MEETING_DATE.search(fold(part)):
                return date
    return None


def _signed_date(text: str) -> str | None:
    """The date of a signature line near the end ("Karlstad 2025-01-27", "Umeå den 23 september 2024")."""
    tail = text[-1500:]
    found = None
    for _, _, line in line_spans(tail):
        stripped = line.strip()
        if len(stripped) <= 50 and re.match(r"^[A-ZÅÄÖ][\wåäö-]+,?\s+(?:den\s+)?\d", stripped):
            found = _first_date(stripped) or found
    return found
