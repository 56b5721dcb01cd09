"""Personal data in Swedish text: find and mask personnummer, samordningsnummer, e-mail addresses, phone numbers.

Pure functions over a string. The query log masks questions with them before writing, and indexed
document text can be masked with ``keep_length=True`` so that every other character offset stays valid.

What is left alone on purpose, because municipal protocols are full of it: ISO dates, diary numbers
(Dnr KS 2023/01222), § numbers, years, sums of money, organisation numbers (their month is 20 or
more, so they are never a date), times (kl. 13.00-16.30) and page counts.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import phonenumbers
from stdnum import luhn
from stdnum.exceptions import ValidationError
from stdnum.se import personnummer

# Ten or twelve digits, optionally with a separator before the last four. Hyphens that a word
# processor turned into an en dash, and non-breaking spaces, count as separators too. A digit on
# either side means this is part of a longer number, not an identity number.
_IDENTITY = re.compile(r"(?<!\d)((?:18|19|20)?\d{6})([-+ \u00a0\u2013]?)(\d{4})(?!\d)")
_EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]+@(?:[\w-]+\.)+[^\W\d_]{2,}(?![\w-])")
# The phone matcher reads a meeting's hours (08.30-12.00) as a Stockholm number, and a personnummer
# of someone born 2000-2009 that fails its check (050101-1235) as a Mariestad one. Neither is a phone.
_NOT_A_PHONE = re.compile(
    r"(?:[01]?\d|2[0-3])[.:][0-5]\d\s*[-\u2013\u2014]\s*(?:[01]?\d|2[0-3])[.:][0-5]\d"  # 08.30-12.00
    r"|(?:\d\d)?\d{6}[-+]\d{4}"  # YYMMDD-NNNN, never how a phone number is written
)
# Where a Swedish number may start and how far it may run: +46/0046, (0AC) or 0, then digits with
# single spaces or hyphens between them. Candidates for the second pass in _phone_spans.
_PHONE_SHAPE = re.compile(
    r"(?<![\w+/.,:-])(?:(?:\+|00)46[ \u00a0]?(?:\(0\)[ \u00a0]?)?\d|\(0\d{1,3}\)[ \u00a0]?\d|0\d)"
    r"(?:[ \u00a0-]?\d){5,12}"
)

# What a masked span becomes, per kind, in the default (readable) mode.
LABELS: dict[str, str] = {"personnummer": "[personnummer]", "email": "[e-post]", "phone": "[telefon]"}
# With keep_length every masked character becomes this: not a word character, so a tokeniser drops
# it and a search for "telefon" cannot match a masked number; one code point, so offsets hold.
FILL = "\u2588"  # █


@dataclass(frozen=True)
class PiiSpan:
    """Personal data at ``text[start:end]``; ``kind`` is "personnummer", "email" or "phone"."""

    start: int
    end: int
    kind: str


def _valid(date: str, separator: str, serial: str) -> bool:
    sign = "+" if separator == "+" else "-"
    if personnummer.is_valid(f"{date}{sign}{serial}"):
        return True
    day = int(date[-2:])
    if not 61 <= day <= 91:
        return False
    real_date = f"{date[:-2]}{day - 60:02d}"
    try:
        personnummer.get_birth_date(f"{real_date}{sign}{serial}")
    except ValidationError:
        return False
    return bool(luhn.is_valid(date[-6:] + serial))


def _identity_spans(text: str) -> list[PiiSpan]:
    return [PiiSpan(m.start(), m.end(), "personnummer") for m in _IDENTITY.finditer(text) if _valid(*m.groups())]


def _email_spans(text: str) -> list[PiiSpan]:
    return [PiiSpan(m.start(), m.end(), "email") for m in _EMAIL.finditer(text)]


def _phone_spans(text: str) -> list[PiiSpan]:
    """Phone numbers: phonenumbers' matcher, then a second pass for the numbers it cannot see.

    The matcher takes a run of numbers separated only by spaces as one candidate and, when the run
    is not one phone number, drops it whole: both numbers in "070-123 45 67 08-123 456 78", or the
    number in "sid 3 070-123 45 67". The second pass starts at every place a Swedish number can
    start and keeps the longest stretch that phonenumbers validates.
    """
    # max_tries bounds the candidates the matcher looks at (65535 by default); a long document must
    # not have its later numbers silently left unmasked, and there are never more candidates than characters.
    matcher = phonenumbers.PhoneNumberMatcher(
        text, "SE", leniency=phonenumbers.Leniency.VALID, max_tries=max(65535, len(text))
    )
    found = [(m.start, m.end) for m in matcher]
    position = 0
    while shape := _PHONE_SHAPE.search(text, position):
        end = _longest_phone(text, shape.start(), shape.end())
        if end is not None:
            found.append((shape.start(), end))
        position = end or shape.start() + 1
    merged: list[PiiSpan] = []  # where the two passes overlap, the union is masked
    for start, end in sorted(found):
        if _NOT_A_PHONE.fullmatch(text[start:end]):
            continue
        if merged and start < merged[-1].end:
            merged[-1] = PiiSpan(merged[-1].start, max(end, merged[-1].end), "phone")
        else:
            merged.append(PiiSpan(start, end, "phone"))
    return merged


def _longest_phone(text: str, start: int, end: int) -> int | None:
    """The end of the longest valid Swedish phone number in ``text[start:end]`` that starts at ``start``."""
    for stop in range(end, start, -1):
        if not text[stop - 1].isdigit() or (stop < len(text) and text[stop].isdigit()):
            continue
        try:
            number = phonenumbers.parse(text[start:stop], "SE")
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return stop
    return None


def find_pii(text: str) -> list[PiiSpan]:
    """Personal data in ``text``: sorted, non-overlapping spans.

    E-mail addresses are taken first (one may contain digits that look like the other kinds), then
    identity numbers, then phone numbers; a span that overlaps one already taken is dropped, so a
    personnummer is never also reported as a phone number.
    """
    taken: list[PiiSpan] = []
    for spans in (_email_spans(text), _identity_spans(text), _phone_spans(text)):
        earlier = list(taken)
        taken += [s for s in spans if not any(s.start < t.end and t.start < s.end for t in earlier)]
    return sorted(taken, key=lambda s: s.start)


def mask_pii(text: str, *, keep_length: bool = False) -> tuple[str, Counter[str]]:
    """``text`` with its personal data replaced, and how many spans of each kind were masked.

    By default a span becomes its label (``[personnummer]``, ``[e-post]``, ``[telefon]``), which
    reads well in a log. With ``keep_length=True`` each masked character becomes ``FILL`` instead,
    so the text keeps its length and every offset outside the masked spans stays valid.
    """
    counts: Counter[str] = Counter()
    parts: list[str] = []
    last = 0
    for span in find_pii(text):
        parts.append(text[last : span.start])
        parts.append(FILL * (span.end - span.start) if keep_length else LABELS[span.kind])
        counts[span.kind] += 1
        last = span.end
    parts.append(text[last:])
    return "".join(parts), counts
