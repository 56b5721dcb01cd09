"""Hybrid search: BM25 and dense results fused (normalised scores, or reciprocal ranks), with soft
boosts for what the question names, hard filters, and per-document diversification.

It reads the index through ``rag.store.base.ReadStore`` only: the store answers the keyword and
dense candidates with the filters applied, and the vocabularies a question is parsed against."""

from __future__ import annotations

import heapq
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rag.compounds import with_parts
from rag.config import Settings
from rag.errors import InputError
from rag.query import normalise_dnr, parse_query, query_keys
from rag.store.base import ReadStore
from rag.store.filters import body_matches, matches, type_matches
from rag.types import Filters, Hit, QueryInfo
from rag.vocab import OUTCOMES

if TYPE_CHECKING:
    from rag.embed import Embedder

logger = logging.getLogger(__name__)

MODES = ("hybrid", "lexical", "dense")


@dataclass(frozen=True)
class Boosts:
    """Multipliers on the fused score when a chunk matches what the question names."""

    organisation: float = 1.6
    body: float = 1.15
    year: float = 1.15
    exact: float = 4.0  # the § or Dnr the question names
    section: float = 1.3  # the section that states what the question asks for

    @classmethod
    def from_settings(cls, settings: Settings) -> Boosts:
        return cls(
            organisation=settings.boost_organisation,
            body=settings.boost_body,
            year=settings.boost_year,
            exact=settings.boost_exact,
            section=settings.boost_section,
        )


def validate_filters(filters: Filters) -> None:
    """Raise ``InputError`` naming the field for a filter value that can never be valid."""
    if filters.outcome is not None and filters.outcome not in OUTCOMES:
        raise InputError(
            f"outcome: unknown value '{filters.outcome}'. Use one of: {', '.join(OUTCOMES)}.", field="outcome"
        )
    for name, value in (("from", filters.date_from), ("to", filters.date_to)):
        if value is not None and not _valid_date(value):
            raise InputError(f"{name}: '{value}' is not a date. Use YYYY, YYYY-MM or YYYY-MM-DD.", field=name)


def _valid_date(value: str) -> bool:
    return re.fullmatch(r"\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?", value) is not None


def rrf(rankings: Sequence[tuple[Sequence[int], float]], k: int) -> dict[int, float]:
    """Weighted reciprocal rank fusion: sum of ``weight / (k + rank)`` over the rankings (1-based)."""
    fused: dict[int, float] = {}
    for ids, weight in rankings:
        for rank, cid in enumerate(ids, start=1):
            fused[cid] = fused.get(cid, 0.0) + weight / (k + rank)
    return fused


def score_fusion(rankings: Sequence[tuple[Sequence[tuple[int, float]], float]]) -> dict[int, float]:
    """Weighted sum of scores min-max normalised within each ranking's candidates (absent = 0)."""
    fused: dict[int, float] = {}
    for ranked, weight in rankings:
        if not ranked:
            continue
        scores = [s for _, s in ranked]
        low, high = min(scores), max(scores)
        span = high - low or 1.0
        for cid, s in ranked:
            fused[cid] = fused.get(cid, 0.0) + weight * ((s - low) / span if high > low else 1.0)
    return fused


def blend_groups(scored: dict[int, float], group_of: Sequence[int], weight: float) -> dict[int, float]:
    """Each score plus ``weight`` times the best score of its group (its item or its document)
    among the candidates: a passage of the item that answers best rises above lone look-alikes."""
    if not weight:
        return scored
    best: dict[int, float] = {}
    for cid, score in scored.items():
        group = group_of[cid]
        best[group] = max(best.get(group, score), score)
    return {cid: score + weight * best[group_of[cid]] for cid, score in scored.items()}


def groups(keys: Sequence[object]) -> list[int]:
    """Consecutive equal keys as one group id: chunks of one item (or document) are adjacent."""
    ids: list[int] = []
    for i, key in enumerate(keys):
        if not i:
            ids.append(0)
        else:
            ids.append(ids[-1] if key == keys[i - 1] else ids[-1] + 1)
    return ids


def diversify(scored: dict[int, float], doc_of: Sequence[str], decay: float, k: int, free: int = 1) -> list[int]:
    """The ``k`` best ids, each chunk of a document beyond its first ``free`` scored down by ``decay``.

    Greedy: a document's n-th pick (n > free) counts ``score * decay**(n - free)``, so one document
    fills the list only when its passages are far better than any other's.
    """
    order = sorted(scored, key=lambda cid: -scored[cid])
    per_doc: dict[str, int] = {}
    if decay > 1:  # a boost, not a decay: no shortcut, every pick looks at every candidate
        picked: list[int] = []
        while order and len(picked) < k:
            best = max(order, key=lambda cid: scored[cid] * decay ** max(0, per_doc.get(doc_of[cid], 0) - free + 1))
            order.remove(best)
            picked.append(best)
            per_doc[doc_of[best]] = per_doc.get(doc_of[best], 0) + 1
        return picked
    # Lazy greedy: a candidate's discounted score only falls as its document gains picks, so a heap
    # entry computed with an older count is re-scored when it reaches the top, and picked if it stays
    # there. Ties go to the better raw score, as in a scan of the sorted list.
    heap = [(-scored[cid] * decay ** max(0, 1 - free), rank, cid, 0) for rank, cid in enumerate(order)]
    picked = []
    while heap and len(picked) < k:
        _, rank, cid, seen = heapq.heappop(heap)
        count = per_doc.get(doc_of[cid], 0)
        if count != seen:
            heapq.heappush(heap, (-scored[cid] * decay ** max(0, count - free + 1), rank, cid, count))
            continue
        picked.append(cid)
        per_doc[doc_of[cid]] = count + 1
    return picked


class Searcher:
    """Search over a loaded index with an embedder; load once, query many times."""

    def __init__(self, index: ReadStore, embedder: Embedder, settings: Settings, boosts: Boosts | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self.boosts = boosts or Boosts.from_settings(settings)
        chunks = index.chunks()
        # what fusion groups by: a chunk's document, its item (adjacent chunks of one §) and document
        self._doc_of = [c.doc for c in chunks]
        self._item_of = groups([(c.doc, c.paragraph, c.title) for c in chunks])
        self._document_of = groups(self._doc_of)
        self.organisations = index.values("organisation")
        self.bodies = index.values("body")
        self.doc_types = index.values("doc_type")
        self._dnr = {dnr: normalise_dnr(dnr) for dnr in index.values("dnr")}  # once per Dnr, not per chunk
        self._query_vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        # A later stage that orders the best passages by what they answer: the assistant built over
        # this search installs its own (rag.answer.SentenceChoice.order_passages); None: fused order.
        self.reorder: Callable[[QueryInfo, list[Hit]], list[Hit]] | None = None

    def query_vector(self, text: str) -> np.ndarray:
        """The query's embedding; the last few hundred are cached (a chat asks, then searches, the same)."""
        with self._cache_lock:
            vector = self._query_vectors.get(text)
            if vector is not None:
                self._query_vectors.move_to_end(text)
                return vector
        vector = self.embedder.embed_queries([text])[0]
        with self._cache_lock:
            self._query_vectors[text] = vector
            if len(self._query_vectors) > 512:
                self._query_vectors.popitem(last=False)
        return vector

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None, *, include_internal: bool = True) -> Searcher:
        """Load the index at ``settings.index_dir`` and the model (unless given), refusing a mismatch;
        ``include_internal=False`` searches its public documents only (``public``)."""
        from rag.embed import load_embedder
        from rag.store import open_index
        from rag.store.manifest import check_compatible

        index = open_index(settings)
        embedder = embedder or load_embedder(settings)
        check_compatible(index.manifest, embedder, settings, settings.index_dir)
        searcher = cls(index, embedder, settings)
        searcher.understand(
            "what does the plan say"
        )  # loads the word frequency lists (~0.3 s) now, not on a first query
        return searcher if include_internal else searcher.public()

    def public(self) -> Searcher:
        """This search over the index's public documents only, or itself when none is internal: what a
        request without a staff token searches. Internal chunks are not filtered out of results but
        absent from the start (``ReadStore.public``), so they take no part in ranking, term
        statistics, facets, the organisations a question is parsed against or error messages."""
        view = self.index.public()
        return self if view is self.index else Searcher(view, self.embedder, self.settings, self.boosts)

    def understand(self, query: str) -> QueryInfo:
        return parse_query(query, self.organisations, self.bodies)

    def check_filters(self, filters: Filters) -> None:
        """Raise ``InputError`` naming the field for a bad value, or one that matches nothing indexed
        (listing the values that exist)."""
        validate_filters(filters)
        known = {
            "organisation": (filters.organisation, self.organisations, matches),
            "body": (filters.body, self.bodies, body_matches),
            "type": (filters.doc_type, self.doc_types, type_matches),
        }
        for name, (wanted, values, match) in known.items():
            if wanted is not None and not any(match(v, wanted) for v in values):
                raise InputError(
                    f"{name}: no indexed document has '{wanted}'. Use one of: {', '.join(values) or '(none)'}.",
                    field=name,
                )

    def _boost(self, cid: int, info: QueryInfo) -> float:
        chunk = self.index.chunk(cid)
        factor = 1.0
        b = self.boosts
        if info.organisations and chunk.organisation in info.organisations:
            factor *= b.organisation
        if info.bodies and any(body_matches(chunk.body, body) for body in info.bodies):
            factor *= b.body
        if info.sections and chunk.section in info.sections:
            factor *= b.section
        if info.years and chunk.date and chunk.date[:4] in info.years:
            factor *= b.year
        dnr = self._dnr[chunk.dnr] if chunk.dnr else None
        if info.dnrs and dnr and any(dnr == d or dnr.endswith(" " + d) for d in info.dnrs):
            factor *= b.exact
        if info.paragraphs and chunk.paragraph and int(chunk.paragraph.split()[-1]) in info.paragraphs:
            factor *= b.exact
        return factor

    def search(
        self, query: str, k: int = 10, filters: Filters | None = None, mode: str = "hybrid", reorder: bool = True
    ) -> list[Hit]:
        """The ``k`` best passages for ``query``: fused, boosted, filtered and diversified, and with
        ``reorder`` (hybrid only) the best ones ordered by what they answer (``self.reorder``)."""
        if not 1 <= k <= 1000:
            raise InputError(f"k: {k} is out of range. Use a number from 1 to 1000.", field="k")
        return self.rank(query, limit=k, filters=filters, mode=mode, reorder=reorder)

    def results(
        self, query: str, filters: Filters | None = None, mode: str = "hybrid", relative_floor: float = 0.25
    ) -> list[Hit]:
        """Every passage that answers ``query`` well enough to list, best first (a search page's result
        set, which pages and facet counts are taken from): the fused candidates scoring at least
        ``relative_floor`` of the best one, at most twice ``settings.candidates``."""
        hits = self.rank(query, limit=2 * self.settings.candidates, filters=filters, mode=mode)
        if not hits:
            return []
        floor = max(h.score for h in hits) * relative_floor  # the first may be reordered
        return [h for h in hits if h.score >= floor]

    def rank(
        self, query: str, limit: int, filters: Filters | None = None, mode: str = "hybrid", reorder: bool = True
    ) -> list[Hit]:
        if not query.strip():
            raise InputError("query: the query is empty. Give a question or some words to search for.", field="q")
        if mode not in MODES:
            raise InputError(f"mode: unknown mode '{mode}'. Use one of: {', '.join(MODES)}.", field="mode")
        info = self.understand(query)
        if filters is not None and not filters.empty():
            self.check_filters(filters)
        else:
            filters = None
        n = max(self.settings.candidates, limit)
        keys = query_keys(info)
        if info.language == "sv":  # "sekretessuppgifter" also finds "sekretess" and "uppgift"
            keys = with_parts(keys, lambda key: self.index.document_frequency(key) > 0)
        lexical = self.index.lexical(keys, n, filters) if mode in ("hybrid", "lexical") else []
        dense = self.index.dense(self.query_vector(info.text), n, filters) if mode in ("hybrid", "dense") else []
        lexical_weight = self.settings.lexical_weight
        if info.language != "sv":
            lexical_weight *= self.settings.foreign_lexical_weight
        if self.settings.fusion == "rrf":
            fused = rrf(
                [([c for c, _ in lexical], lexical_weight), ([c for c, _ in dense], self.settings.dense_weight)],
                self.settings.rrf_k,
            )
        else:
            fused = score_fusion([(lexical, lexical_weight), (dense, self.settings.dense_weight)])
        scored = {cid: score * self._boost(cid, info) for cid, score in fused.items()}
        scored = blend_groups(scored, self._item_of, self.settings.item_weight)
        scored = blend_groups(scored, self._document_of, self.settings.document_weight)
        top = diversify(
            scored, self._doc_of, self.settings.same_document_decay, limit, self.settings.same_document_free
        )
        lex_rank = {cid: r for r, (cid, _) in enumerate(lexical, start=1)}
        dense_rank = {cid: r for r, (cid, _) in enumerate(dense, start=1)}
        hits = [self.hit(cid, round(scored[cid], 6), lex_rank.get(cid), dense_rank.get(cid)) for cid in top]
        if reorder and mode == "hybrid" and self.reorder is not None and self.settings.passage_order:
            hits = self.reorder(info, hits)
        return hits

    def hit(self, cid: int, score: float, lexical_rank: int | None = None, dense_rank: int | None = None) -> Hit:
        """Chunk ``cid`` as a hit, with its document's path."""
        chunk = self.index.chunk(cid)
        document = self.index.document(chunk.doc)
        path = document.path if document is not None else ""
        return Hit(cid, chunk, score, lexical_rank=lexical_rank, dense_rank=dense_rank, path=path)

    def query_keys(self, query: str) -> set[str]:
        """The keyword keys a query matches, for highlighting (with glossary terms for English)."""
        return set(query_keys(self.understand(query)))


FACETS = ("organisation", "body", "year", "doc_type", "outcome")


def facets(hits: Sequence[Hit]) -> dict[str, dict[str, int]]:
    """Counts per organisation, body, year, document type and outcome over a result set, most first."""
    counts: dict[str, dict[str, int]] = {name: {} for name in FACETS}
    for hit in hits:
        c = hit.chunk
        values = {
            "organisation": c.organisation,
            "body": c.body,
            "year": c.date[:4] if c.date else None,
            "doc_type": c.doc_type,
            "outcome": c.outcome,
        }
        for name, value in values.items():
            if value:
                counts[name][value] = counts[name].get(value, 0) + 1
    return {name: dict(sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))) for name, values in counts.items()}
