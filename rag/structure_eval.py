"""Structure evaluation: the parsed structure of documents against gold ``structure*.json`` files.

A gold file maps a file name to ``{"organisation": fragment, "body": lower case, "date": ISO,
"doc_type": ..., "items": count of distinct §, "paragraphs": {"§ 45": {"dnr": ..., "outcome":
[acceptable classes], "title": fragment}}}``. ``score(gold, structures)`` is the pure core: it
checks each field the gold states and reports the share right per field, overall (every check
counted once) and per document, with every miss listed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import InputError
from rag.normalise import fold
from rag.types import Item, Structure

DOCUMENT_FIELDS = ("organisation", "body", "date", "doc_type", "items")
PARAGRAPH_FIELDS = ("dnr", "outcome", "title")
FIELDS = DOCUMENT_FIELDS + PARAGRAPH_FIELDS


@dataclass(frozen=True)
class Miss:
    """One gold field the parsed structure got wrong: what the gold says and what was found."""

    doc: str
    field: str
    paragraph: str | None
    gold: Any
    found: Any


@dataclass(frozen=True)
class StructureReport:
    """Checks right and made per field and per document, and the misses."""

    right: dict[str, int]
    total: dict[str, int]
    documents: dict[str, tuple[int, int]]  # doc -> (right, total)
    misses: tuple[Miss, ...] = field(default=())

    def rate(self, name: str) -> float:
        return self.right.get(name, 0) / self.total[name] if self.total.get(name) else 1.0

    def overall(self) -> float:
        made = sum(self.total.values())
        return sum(self.right.values()) / made if made else 1.0

    def metrics(self) -> dict[str, float]:
        """``{"structure.overall": ..., "structure.<field>": ...}``, the names a floor file uses."""
        rates = {f"structure.{name}": round(self.rate(name), 4) for name in FIELDS if self.total.get(name)}
        return {"structure.overall": round(self.overall(), 4)} | rates

    def as_dict(self) -> dict[str, Any]:
        return {
            "metrics": self.metrics(),
            "fields": {name: {"right": self.right.get(name, 0), "total": n} for name, n in self.total.items()},
            "documents": {doc: {"right": r, "total": t} for doc, (r, t) in self.documents.items()},
            "misses": [vars(m) for m in self.misses],
        }


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", fold(text)).strip()


def _dnr_key(dnr: str | None) -> str | None:
    return re.sub(r"\s+", "", dnr).lower() if dnr else None


def paragraph_key(paragraph: str) -> str:
    """'§ 3 a', '§3a' -> '§3a': the form in which gold and parsed paragraphs are compared."""
    return re.sub(r"\s+", "", paragraph).lower()


def _document_checks(gold: Mapping[str, Any], s: Structure | None) -> Iterable[tuple[str, Any, Any, bool]]:
    """(field, gold, found, right) for each document-level field the gold states."""
    if s is None:
        for name in DOCUMENT_FIELDS:
            if gold.get(name) is not None:
                yield name, gold[name], None, False
        return
    for name in DOCUMENT_FIELDS:
        want = gold.get(name)
        if want is None:
            continue
        if name == "organisation":
            yield name, want, s.organisation, bool(s.organisation) and _norm(want) in _norm(s.organisation or "")
        elif name == "body":
            got = s.body or ""
            yield name, want, s.body, bool(got) and (_norm(want) == _norm(got) or _norm(want) in _norm(got))
        elif name == "date":
            yield name, want, s.date, want == s.date
        elif name == "doc_type":
            yield name, want, s.doc_type, want == s.doc_type
        else:
            count = len({paragraph_key(it.paragraph) for it in s.items if it.paragraph})
            yield name, want, count, want == count


def _paragraph_checks(gold: Mapping[str, Any], item: Item | None) -> Iterable[tuple[str, Any, Any, bool]]:
    if "dnr" in gold:
        found = item.dnr if item else None
        yield "dnr", gold["dnr"], found, item is not None and _dnr_key(gold["dnr"]) == _dnr_key(found)
    if gold.get("outcome"):
        found = item.outcome if item else None
        yield "outcome", gold["outcome"], found, found in gold["outcome"]
    if gold.get("title"):
        found = item.title if item else None
        yield "title", gold["title"], found, bool(found) and _norm(gold["title"]) in _norm(found or "")


def score(gold: Mapping[str, Mapping[str, Any]], structures: Mapping[str, Structure]) -> StructureReport:
    """Score parsed ``structures`` (by document id) against ``gold`` (by file name)."""
    right = dict.fromkeys(FIELDS, 0)
    total = dict.fromkeys(FIELDS, 0)
    documents: dict[str, tuple[int, int]] = {}
    misses: list[Miss] = []
    for doc, want in gold.items():
        s = structures.get(doc)
        checks = [(None, *c) for c in _document_checks(want, s)]
        items = {paragraph_key(it.paragraph): it for it in (s.items if s else ()) if it.paragraph}
        for paragraph, want_item in want.get("paragraphs", {}).items():
            item = items.get(paragraph_key(paragraph))
            checks += [(paragraph, *c) for c in _paragraph_checks(want_item, item)]
        for paragraph, name, want_value, found, ok in checks:
            total[name] += 1
            right[name] += ok
            if not ok:
                misses.append(Miss(doc, name, paragraph, want_value, found))
        documents[doc] = (sum(c[-1] for c in checks), len(checks))
    total = {k: v for k, v in total.items() if v}
    return StructureReport({k: right[k] for k in total}, total, documents, tuple(misses))


def load_gold(paths: Iterable[Path]) -> dict[str, dict[str, Any]]:
    """The gold of one or more structure files, merged by file name."""
    gold: dict[str, dict[str, Any]] = {}
    for path in paths:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"{path}: cannot read structure gold ({exc}). Give a structure*.json file.") from exc
        if not isinstance(data, dict):
            raise InputError(f"{path}: structure gold must be a JSON object of file name -> fields.")
        gold |= data
    return gold


def discover_gold(questions: Path) -> list[Path]:
    """The ``structure*.json`` files beside a question file."""
    return sorted(questions.resolve().parent.glob("structure*.json"))


def parse_texts(texts: Mapping[str, str], parse: Callable[[str], Structure]) -> dict[str, Structure]:
    """Each document's structure, parsed from its text as indexed."""
    return {doc: parse(text) for doc, text in texts.items()}


def evaluate_texts(
    gold_paths: Iterable[Path], texts: Mapping[str, str], parse: Callable[[str], Structure] | None = None
) -> tuple[StructureReport, list[str]]:
    """Score the structure ``parse`` (default ``rag.structure.parse_structure``) gives the texts of
    the gold's documents (``texts``: document id -> text as indexed); also the gold documents that
    ``texts`` lacks, which are left out of the scores."""
    if parse is None:
        from rag.structure import parse_structure

        parse = parse_structure
    gold = load_gold(gold_paths)
    missing = sorted(doc for doc in gold if doc not in texts)
    present = {doc: want for doc, want in gold.items() if doc in texts}
    return score(present, parse_texts({doc: texts[doc] for doc in present}, parse)), missing


def table_rows(report: StructureReport) -> list[tuple[str, str, str]]:
    """(field, right/total, rate) rows for the printed table, overall last."""
    rows = [(name, f"{report.right[name]}/{report.total[name]}", f"{report.rate(name):.3f}") for name in report.total]
    made = sum(report.total.values())
    rows.append(("overall", f"{sum(report.right.values())}/{made}", f"{report.overall():.3f}"))
    return rows


def miss_lines(report: StructureReport, limit: int = 40) -> list[str]:
    """One line per miss, at most ``limit``."""
    lines = [
        f"{m.doc} {m.paragraph or ''} {m.field}: gold {m.gold!r}, found {m.found!r}".replace("  ", " ")
        for m in report.misses[:limit]
    ]
    if len(report.misses) > limit:
        lines.append(f"... and {len(report.misses) - limit} more (see --json)")
    return lines
