"""The lines of a text as the structure reads them: their spans, a layout line's columns, and its folded,
OCR-repaired key."""

from __future__ import annotations

import re
from collections.abc import Iterator

from rag.normalise import fold, repair


def _key(line: str) -> str:
    """A heading or furniture line in comparable form: markup stripped, OCR-repaired, folded."""
    line = line.strip().strip("#*_ \t:").strip()
    return re.sub(r"\s+", " ", fold(repair(line)))


def fields(line: str) -> list[str]:
    """The columns of a layout line: text split at tabs and runs of two or more spaces."""
    return [f for f in re.split(r"\t+|[ ]{2,}", line.strip()) if f.strip()]


def line_spans(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int, str]]:
    """(start, end, line) of each line in ``text[start:end]``, ends excluding the newline."""
    end = len(text) if end is None else end
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        stop = end if nl == -1 else nl
        yield pos, stop, text[pos:stop]
        pos = stop + 1
