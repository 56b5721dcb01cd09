"""A search page's results as people read them: one entry per item (§) or document, its best passage
first and the others kept behind it; facet counts of items and documents that are exactly what
selecting a value shows; and, when a query can find nothing real, why.

Pure functions over ranked hits; the server calls them (``GET /api/search?group=item``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from rag.query import _DNR, normalise_dnr
from rag.store.filters import chunk_passes
from rag.types import Chunk, Filters, Hit

FACET_FILTER = {"organisation": "organisation", "body": "body", "doc_type": "doc_type", "outcome": "outcome"}
FACETS = ("organisation", "body", "year", "doc_type", "outcome")


@dataclass(frozen=True)
class Group:
    """The passages of one item (§) of a document, or of a whole document without §, best first."""

    doc: str
    paragraph: str | None
    hits: tuple[Hit, ...]

    @property
    def best(self) -> Hit:
        return self.hits[0]


@dataclass(frozen=True)
class EmptyReason:
    """Why a query finds nothing: ``code`` is one of ``no_words`` (only stopwords or markup),
    ``unknown_words`` (no word of it occurs in any document), ``unknown_place`` (a municipality or
    region that no document is from or mentions) or ``unknown_dnr``; ``values`` are the words named."""

    code: str
    values: tuple[str, ...] = ()


def group_hits(hits: Iterable[Hit]) -> list[Group]:
    """Hits gathered per (document, §), groups in the order of their best hit."""
    order: dict[tuple[str, str | None], list[Hit]] = {}
    for hit in hits:
        order.setdefault((hit.chunk.doc, hit.chunk.paragraph), []).append(hit)
    return [Group(doc, paragraph, tuple(found)) for (doc, paragraph), found in order.items()]


def facet_value(chunk: Chunk, name: str) -> str | None:
    if name == "year":
        return chunk.date[:4] if chunk.date else None
    value = getattr(chunk, name)
    return value if isinstance(value, str) and value else None


def selected(groups: Sequence[Group], filters: Filters) -> list[Group]:
    """The groups whose best passage passes ``filters``."""
    return [g for g in groups if chunk_passes(g.best.chunk, filters)]


def facet_counts(
    groups: Sequence[Group], filters: Filters, passes: Callable[[Chunk, Filters], bool] = chunk_passes
) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    """Items and documents per facet value. The counts of a facet are taken over the groups passing
    every other selected filter, so a value's count is what selecting it (in place of the current
    selection of that facet) shows; most first."""
    items: dict[str, dict[str, int]] = {}
    documents: dict[str, dict[str, int]] = {}
    for name in FACETS:
        field = FACET_FILTER.get(name)
        others = replace(filters, **{field: None}) if field else filters
        count: dict[str, int] = {}
        docs: dict[str, set[str]] = {}
        for g in groups:
            value = facet_value(g.best.chunk, name)
            if value and passes(g.best.chunk, others):
                count[value] = count.get(value, 0) + 1
                docs.setdefault(value, set()).add(g.doc)
        ordered = sorted(count, key=lambda v: (-count[v], v))
        items[name] = {v: count[v] for v in ordered}
        documents[name] = {v: len(docs[v]) for v in ordered}
    return items, documents


def dnr_key(dnr: str) -> str:
    """The year/number part of a Dnr, for comparing 'KS 2023/01222' with '2023/1222'."""
    return normalise_dnr(dnr).split()[-1]


def unknown_dnrs(wanted: Sequence[str], dnrs: Iterable[str], texts: Callable[[], Iterable[str]]) -> list[str]:
    """The Dnr of ``wanted`` that no item has (``dnrs``: the items' Dnr, ``ReadStore.values("dnr")``)
    and no document text mentions (texts are read only when some Dnr is not an item's)."""
    if not wanted:
        return []
    known = {dnr_key(dnr) for dnr in dnrs if dnr}
    missing = [d for d in wanted if dnr_key(d) not in known]
    if missing:
        mentioned = {dnr_key(m.group()) for text in texts() for m in _DNR.finditer(text.upper())}
        missing = [d for d in missing if dnr_key(d) not in mentioned]
    return missing


def empty_reason(
    keys: Sequence[str],
    frequency: Callable[[str], int],
    unknown_places: Sequence[str],
    missing_dnrs: Sequence[str],
    words: Mapping[str, str] | None = None,
) -> EmptyReason | None:
    """Why the query can find nothing, or None when it has a word some document contains and names
    no unknown place or Dnr. ``keys`` are its analysed words, ``frequency`` the index's document
    frequency of a key, ``words`` the query's words by key (for naming the unknown ones)."""
    if not keys:
        return EmptyReason("no_words")
    if unknown_places:
        return EmptyReason("unknown_place", tuple(unknown_places))
    if missing_dnrs:
        return EmptyReason("unknown_dnr", tuple(missing_dnrs))
    if not any(frequency(k) > 0 for k in keys):
        shown = dict.fromkeys((words or {}).get(k, k) for k in keys)
        return EmptyReason("unknown_words", tuple(shown))
    return None
