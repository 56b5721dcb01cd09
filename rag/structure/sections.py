"""Section headings inside an item (Beslut, Ärendet, Yrkanden, Reservation ...) and the sections
they open."""

from __future__ import annotations

import re

from rag.structure.lines import _key, line_spans
from rag.types import Section
from rag.vocab import DECISION_SECTIONS, SECTION_HEADINGS

# Headings that are also the first word of ordinary titles or lines ("Motion om AI i skolan",
# "Beslutet gäller från ...").
_EXACT_ONLY = frozenset({"motion", "handling", "beslutet", "beredning", "skickas till"})
_HEADINGS_LONGEST_FIRST = sorted(SECTION_HEADINGS.items(), key=lambda kv: -len(kv[0]))
# "<Styrelsen>s beslut", "<X>- och <Y>nämndens beslut", "<Utskottet>s förslag",
# "<Styrelsen>s förslag till <fullmäktige>" (folded).
_OWN_DECISION = re.compile(r"^(?:[a-z]+- och |[a-z]+a )?[a-z]+(?:s|ens|ets) beslut$")
_OWN_PROPOSAL = re.compile(
    r"^(?:[a-z]+- och |[a-z]+a )?[a-z]+(?:s|ens|ets) forslag"
    r"(?: till (?:beslut|[a-z]*fullmaktige|[a-z]*styrelsen|[a-z-]*namnden))?$"
)


def _heading(line: str) -> str | None:
    """The canonical section heading a line is, or None."""
    stripped = line.strip()
    if stripped.startswith("#"):
        return stripped.lstrip("#").strip() or None
    if not stripped or len(stripped) > 70 or stripped.endswith((".", ",", ";")):
        return None
    first_letter = next((ch for ch in stripped if ch.isalpha()), "")
    if not first_letter.isupper():
        return None
    key = _key(stripped)
    for known, display in _HEADINGS_LONGEST_FIRST:
        if key == known or (known not in _EXACT_ONLY and key.startswith(known + " ") and len(key) - len(known) <= 40):
            # "Beslut - Svar på motion ..." is a title, not the Beslut section
            if key.startswith(known + " -"):
                return None
            return display
    if _OWN_DECISION.match(key):
        return "Beslut"
    if _OWN_PROPOSAL.match(key):
        return "Förslag till beslut"
    return None


def is_heading(line: str) -> bool:
    """Whether a line is a section heading (Beslut, Yrkanden, Ärendet ...)."""
    return _heading(line) is not None


def _sections(text: str, start: int, end: int) -> tuple[Section, ...]:
    heads: list[tuple[int, str]] = []
    for s, e, line in line_spans(text, start, end):
        if not (h := _heading(line)):
            continue
        # "Beslut" / "Förslag till kommunfullmäktige:" with nothing between: the second line is
        # the lead-in of the decision, not a section of its own
        lead_in = bool(heads) and h in DECISION_SECTIONS and line.rstrip().endswith(":")
        if lead_in and heads[-1][1] in DECISION_SECTIONS and not text[text.find("\n", heads[-1][0], e) + 1 : s].strip():
            continue
        heads.append((s, h))
    return tuple(Section(h, s, heads[i + 1][0] if i + 1 < len(heads) else end) for i, (s, h) in enumerate(heads))
