"""Response bodies as clients see them, the same from the API and from ``rag ... --json``: documents
named by their path relative to the corpus folder they lie in (never the server's absolute path),
and display text beside the verbatim text."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.answer import Answer, answer_dict
from rag.config import Settings
from rag.display import display_text


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


def without_server_paths(value: Any, roots: Sequence[Path]) -> Any:
    """``value`` (a response body) with every ``path`` field made relative (``relative_path``)."""
    if isinstance(value, dict):
        return {
            k: relative_path(v, roots) if k == "path" and isinstance(v, str) else without_server_paths(v, roots)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [without_server_paths(v, roots) for v in value]
    return value


def with_display(body: dict[str, Any]) -> dict[str, Any]:
    """A hit, citation or decision with its display fields (``rag.display``) beside the verbatim ones."""
    out = body | {"display_title": display_text(body.get("title"))}
    if "quote" in body:
        out["display"] = display_text(body["quote"])
    if isinstance(body.get("citation"), dict):
        out["citation"] = with_display(body["citation"])
    return out


def ask_body(answer: Answer, roots: Sequence[Path]) -> dict[str, Any]:
    """The body of ``POST /api/ask`` (and of ``rag ask --json``) for an answer."""
    result: dict[str, Any] = without_server_paths(answer_dict(answer), roots)
    result["citations"] = [with_display(c) for c in result["citations"]]
    result["passages"] = [with_display(p) for p in result["passages"]]
    return result
