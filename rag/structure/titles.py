"""Titles: an item's from its § line or heading block, a document's without items from its first
line that is not letterhead, columns or metadata."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.normalise import fold
from rag.structure.bodies import _body_name
from rag.structure.dates import _DATE
from rag.structure.dnr import _DNR, _strip_dnr
from rag.structure.headers import _PAGE_MARK
from rag.structure.items import _in
from rag.structure.lines import fields, line_spans
from rag.structure.sections import is_heading


def _item_title(
    text: str, heading: re.Match[str], end: int, furniture: Sequence[tuple[int, int]], dnr: str | None
) -> str | None:
    rest = _strip_dnr(heading.group("rest"), dnr)
    if not rest:
        lines: list[str] = []
        for s, _, line in line_spans(text, heading.end() + 1, end):
            if _in(s, furniture):
                continue
            if not line.strip():
                if lines:
                    break
                continue
            if is_heading(line) or re.match(r"^\s*(?:ärende|arende)\s*(?:nr\.?)?\s*\d+\s*$", line, re.IGNORECASE):
                if lines:
                    break
                continue
            stripped = _strip_dnr(line, dnr)
            if not stripped or (_DNR.search(line) and len(stripped) < 4):
                if lines:
                    break
                continue
            lines.append(stripped)
            if len(lines) == 3:
                break
        rest = " ".join(lines)
    rest = re.sub(r"^(Beslut|Beslutsärende|Ärende)\s*[-–:]\s*", "", rest.strip(" *#"))
    return rest or None


_TITLE_SKIP = re.compile(
    r"^(?:dnr|diarienummer|diarienr|inkom|datum|handlaggare|dokumenttyp|beslutad|antagen|faststalld|version"
    r"|dokumentagare|dokumentansvarig|sektor|avdelning|enhet|innehall|sida|till|fran|motion till|gäller)\b"
)


def _document_title(text: str, start: int) -> str | None:
    """The title of a document without items: the first line of several words that is not its
    letterhead (capitals), a header of columns or a metadata line."""
    for _, _, line in list(line_spans(text, start))[:25]:
        stripped = re.sub(
            r"^(?:dokumentnamn|dokumentets namn|titel|rubrik)\s*:\s*", "", line.strip().lstrip("#").strip(), flags=re.I
        )
        parts = fields(line)
        if len(parts) != 1 or len(stripped) < 8 or stripped.isupper() or _PAGE_MARK.search(stripped):
            continue
        if _TITLE_SKIP.match(fold(stripped)) or _body_name(stripped) or len(stripped.split()) < 2:
            continue
        if is_heading(stripped) and not line.lstrip().startswith("#"):
            continue
        if _DATE.search(stripped) and len(stripped) < 40:
            continue
        return stripped[:200]
    return None


def _first_line(text: str, start: int) -> str | None:
    for _, _, line in line_spans(text, start):
        if line.strip():
            return line.strip().lstrip("#").strip()[:200]
    return None
