"""Document paths as clients see them, the same from the API and from ``rag ... --json``: named
relative to the corpus folder they lie in (never the server's absolute path)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rag.config import Settings


def roots(settings: Settings) -> list[Path]:
    """The folders documents are named relative to: the corpus folders and the upload folder."""
    return [folder.resolve() for folder in (*settings.corpus, settings.upload_dir)]


def relative_path(path: str, roots: Sequence[Path]) -> str:
    """A document's path as clients see it: relative to the corpus root (or upload folder) it lies
    under, else its file name; never the server's absolute path."""
    file = Path(path)
    for root in roots:
        if file.is_relative_to(root):
            return file.relative_to(root).as_posix()
    return file.name
