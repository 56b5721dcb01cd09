"""A line of a layout as the structure compares it: its columns, and its folded, OCR-repaired key."""

from __future__ import annotations

import re

from rag.normalise import fold, repair


def _key(line: str) -> str:
    """A heading or furniture line in comparable form: markup stripped, OCR-repaired, folded."""
    line = line.strip().strip("#*_ \t:").strip()
    return re.sub(r"\s+", " ", fold(repair(line)))


def fields(line: str) -> list[str]:
    """The columns of a layout line: text split at tabs and runs of two or more spaces."""
    return [f for f in re.split(r"\t+|[ ]{2,}", line.strip()) if f.strip()]
