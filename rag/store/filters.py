"""What a filter means, in one place: every backend applies filters below the store boundary with
these predicates, and a search page's facet counts (``rag.results``) apply the same ones to hits.

A store matches a filter against the distinct values of each field rather than chunk by chunk (an
index has a few hundred organisations, bodies and dates, and many thousand chunks), then keeps the
chunks whose value passed (``Columns``); the result is the chunks ``chunk_passes`` would keep.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rag.normalise import fold
from rag.types import Chunk, Filters
from rag.vocab import BODY_ABBREVIATIONS

# The chunk fields a store answers ``values`` for and looks chunks up by.
FIELDS = ("doc", "organisation", "body", "doc_type", "outcome", "date", "dnr")
# The fields a filter restricts, in the order ``chunk_passes`` tests them.
FILTERED = ("organisation", "body", "doc_type", "outcome", "date")


def matches(value: str | None, wanted: str) -> bool:
    """An organisation filter: the wanted name, folded, within the chunk's ('vasteras' in 'Västerås stad')."""
    return value is not None and fold(wanted) in fold(value)


def body_matches(value: str | None, wanted: str) -> bool:
    """A body filter: as ``matches``, an abbreviation standing for its body ('KS': kommunstyrelsen)."""
    wanted = BODY_ABBREVIATIONS.get(wanted.upper(), wanted)
    return matches(value, wanted)


def type_matches(value: str | None, wanted: str) -> bool:
    """A document type filter: equal when folded ('Protokoll' is 'protokoll')."""
    return fold(value or "") == fold(wanted)


def restricts(field: str, filters: Filters) -> bool:
    """Whether ``filters`` restrict ``field`` at all (an empty string restricts nothing)."""
    if field == "organisation":
        return bool(filters.organisation) or filters.exclude_organisations is not None
    if field == "date":
        return bool(filters.date_from or filters.date_to)
    return bool(getattr(filters, field))


def value_passes(field: str, value: str | None, filters: Filters) -> bool:
    """Whether a chunk whose ``field`` holds ``value`` passes what ``filters`` say of that field; a
    date filter excludes chunks without a date."""
    if field == "organisation":
        if filters.organisation and not matches(value, filters.organisation):
            return False
        return filters.exclude_organisations is None or value not in filters.exclude_organisations
    if field == "body":
        return not filters.body or body_matches(value, filters.body)
    if field == "doc_type":
        return not filters.doc_type or type_matches(value, filters.doc_type)
    if field == "outcome":
        return not filters.outcome or value == filters.outcome
    if field == "date":
        if filters.date_from and (not value or value[: len(filters.date_from)] < filters.date_from):
            return False
        return not (filters.date_to and (not value or value[: len(filters.date_to)] > filters.date_to))
    raise ValueError(f"no filter on '{field}'; filters restrict {', '.join(FILTERED)}")


def chunk_passes(chunk: Chunk, filters: Filters) -> bool:
    """Whether a chunk satisfies every filter; a date filter excludes chunks without a date."""
    return all(value_passes(name, getattr(chunk, name), filters) for name in FILTERED)


class Columns:
    """The chunks' metadata by field: each field's distinct values and, per chunk, the position of
    its value among them. Built once per loaded version; answers ``values``, the chunks of one
    document and the chunks passing a filter."""

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        self._count = len(chunks)
        self._distinct: dict[str, list[str | None]] = {}
        self._codes: dict[str, np.ndarray] = {}
        for name in FIELDS:
            position: dict[str | None, int] = {}
            codes = [position.setdefault(getattr(c, name), len(position)) for c in chunks]
            self._distinct[name] = list(position)
            self._codes[name] = np.array(codes, dtype=np.int32)

    def values(self, field: str) -> list[str]:
        """The distinct non-empty values of ``field``, sorted."""
        return sorted(v for v in self._distinct[field] if v)

    def ids(self, field: str, value: str | None) -> np.ndarray:
        """Ids of the chunks whose ``field`` is ``value``, ascending."""
        try:
            code = self._distinct[field].index(value)
        except ValueError:
            return np.empty(0, dtype=np.int64)
        return np.flatnonzero(self._codes[field] == code).astype(np.int64)

    def allowed(self, filters: Filters | None) -> np.ndarray | None:
        """Ids of the chunks passing ``filters``, ascending; None when there are no filters."""
        if filters is None or filters.empty():
            return None
        keep = np.ones(self._count, dtype=bool)
        for name in FILTERED:
            if restricts(name, filters):
                passing = np.array([value_passes(name, v, filters) for v in self._distinct[name]], dtype=bool)
                keep &= passing[self._codes[name]]
        return np.flatnonzero(keep).astype(np.int64)


def best(scores: np.ndarray, n: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
    """The ``n`` best-scoring ids among ``allowed`` (all when None), best first, ties by id; ids
    scoring 0 (no key matched) are left out."""
    if allowed is not None:
        mask = np.zeros(len(scores), dtype=bool)
        mask[allowed] = True
        scores = np.where(mask, scores, 0.0)
    matching = np.flatnonzero(scores > 0)
    if len(matching) > n:  # the n best without sorting every match
        matching = matching[np.argpartition(-scores[matching], n - 1)[:n]]
    top = matching[np.lexsort((matching, -scores[matching]))]
    return [(int(i), float(scores[i])) for i in top]
