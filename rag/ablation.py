"""Ablation: the product with each of its stages switched off in turn, measured side by side.

Every variant is the product's settings with one change (``Variant.changes``, field names of
``rag.config.Settings``). Variants that change the chunks or their text get their own index, built
in memory from the documents of the index being evaluated with this program's structure and
chunking; passage vectors come from that index and a ``VectorCache`` by text hash, so only texts
never seen before are embedded. Variants that change ranking only search the product's index.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.answer import Assistant
from rag.baseline import MODES, Baseline, VectorCache, text_hash
from rag.chunk import chunk_configured, embed_text, lexical_text
from rag.config import Settings
from rag.evaluate import Question, evaluate
from rag.search import Searcher
from rag.store.base import ReadStore
from rag.store.embedded import EmbeddedIndex
from rag.store.embedded.dense import DenseIndex
from rag.store.embedded.lexical import LexicalIndex
from rag.store.embedded.versions import vectors_by_hash
from rag.structure import parse_structure
from rag.types import Document, Hit

if TYPE_CHECKING:
    from rag.embed import Embedder

logger = logging.getLogger(__name__)

# Settings that change what is indexed (a variant with one of them needs its own index).
TEXT_SETTINGS = frozenset(
    {
        "structure_chunking",
        "merge_sections",
        "drop_furniture",
        "header_min_chars",
        "header_in_dense",
        "header_in_lexical",
        "repair_dense",
        "chunk_size",
        "chunk_overlap",
    }
)


@dataclass(frozen=True)
class Variant:
    """One row of the ablation: a name and the settings it changes."""

    name: str
    changes: Mapping[str, Any] = field(default_factory=dict)

    def settings(self, base: Settings) -> Settings:
        return base.model_copy(update=dict(self.changes))

    def text_key(self, base: Settings) -> tuple[Any, ...]:
        """What decides this variant's index: variants with the same key share one."""
        s = self.settings(base)
        return tuple(repr(getattr(s, name)) for name in sorted(TEXT_SETTINGS))


VARIANTS: tuple[Variant, ...] = (
    Variant("product"),
    Variant("no structure chunking (fixed chunks)", {"structure_chunking": False}),
    Variant("one section per chunk (no merging)", {"merge_sections": False}),
    Variant("page furniture inside chunks", {"drop_furniture": False}),
    Variant("chunks of 800 characters (overlap 100)", {"chunk_size": 800, "chunk_overlap": 100}),
    Variant("no header line", {"header_in_dense": False, "header_in_lexical": False}),
    Variant("no header in dense", {"header_in_dense": False}),
    Variant("no header in lexical", {"header_in_lexical": False}),
    Variant("header on short chunks too", {"header_min_chars": 0}),
    Variant("no OCR repair in dense", {"repair_dense": False}),
    Variant("no organisation boost", {"boost_organisation": 1.0}),
    Variant("no body boost", {"boost_body": 1.0}),
    Variant("no year boost", {"boost_year": 1.0}),
    Variant("no exact (§/Dnr) boost", {"boost_exact": 1.0}),
    Variant("no section boost", {"boost_section": 1.0}),
    Variant(
        "no boosts",
        {"boost_organisation": 1.0, "boost_body": 1.0, "boost_year": 1.0, "boost_exact": 1.0, "boost_section": 1.0},
    ),
    Variant("no diversification", {"same_document_decay": 1.0}),
    Variant("fused order (no passage order by answer signals)", {"passage_order": False}),
    Variant("item-level scoring (item weight 0.3)", {"item_weight": 0.3}),
    Variant("document-level scoring (document weight 0.3)", {"document_weight": 0.3}),
    Variant("fusion rrf", {"fusion": "rrf"}),
    Variant("lexical weight 0.5", {"lexical_weight": 0.5}),
    Variant("dense weight 0.5", {"dense_weight": 0.5}),
)


class QueryCache:
    """An embedder whose query vectors are kept, so every variant embeds each question once."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self._queries: dict[str, np.ndarray] = {}
        self.dim = embedder.dim
        self.identity = embedder.identity

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._queries]
        if missing:
            self._queries.update(zip(missing, self._embedder.embed_queries(missing), strict=True))
        return np.stack([self._queries[t] for t in texts]) if texts else self._embedder.embed_queries([])

    def embed_passages(self, texts: Sequence[str], **kwargs: Any) -> np.ndarray:
        return self._embedder.embed_passages(texts, **kwargs)

    def count_tokens(self, text: str) -> int:
        return self._embedder.count_tokens(text)


def index_vectors(index: ReadStore) -> dict[str, np.ndarray]:
    """An index's own passage vectors by embedding-text hash (empty if it keeps none: only a version
    folder keeps them with their hashes)."""
    if not isinstance(index, EmbeddedIndex) or not (index.path / "embed_hashes.json").exists():
        return {}
    return vectors_by_hash(index.path)


def variant_index(base: ReadStore, settings: Settings, embedder: Embedder, cache: VectorCache) -> EmbeddedIndex:
    """The documents of ``base`` indexed again in memory as ``settings`` say (this program's structure
    and chunking), embedding only texts that no cache holds."""
    chunks = []
    documents = base.documents()
    for doc_id in sorted(documents):
        stored = documents[doc_id]
        doc = Document(doc_id, stored.path, stored.text, stored.sha256, stored.format, stored.internal)
        chunks.extend(chunk_configured(doc, parse_structure(doc.text), settings, embedder.count_tokens))
    vectors = cache.passages([embed_text(c, settings) for c in chunks], batch_size=settings.embed_batch_size)
    dense = DenseIndex.build(vectors, "flat")
    lexical = LexicalIndex.build([lexical_text(c, settings) for c in chunks])
    path = Path(tempfile.gettempdir()) / f"rag-ablation-{text_hash(repr(settings))[:12]}"
    return EmbeddedIndex(path, base.manifest, chunks, dict(documents), dense, lexical)


Metrics = dict[str, dict[str, float]]  # set name -> {"recall@1", "recall@5", "mrr@10", "n"}


def _measure(
    search: Callable[[str, str], list[Any]], sets: Mapping[str, Sequence[Question]], index: ReadStore
) -> Metrics:
    def text(doc: str) -> str | None:
        document = index.document(doc)
        return document.text if document is not None else None

    out: Metrics = {}
    for name, questions in sets.items():
        report = evaluate(questions, search, text, modes=("hybrid",))
        out[name] = {k: v for k, v in report["hybrid"]["all"].items() if k != "misses"}
    return out


def ablate(
    base: ReadStore,
    embedder: Embedder,
    settings: Settings,
    sets: Mapping[str, Sequence[Question]],
    cache: VectorCache,
    variants: Sequence[Variant] = VARIANTS,
    progress: Callable[[str], None] | None = None,
) -> list[tuple[str, Metrics]]:
    """R@1, R@5 and MRR@10 of hybrid search for each variant on each question set apart, then the
    plain baseline's three rows on the same documents."""
    queries = QueryCache(embedder)
    cache.add(index_vectors(base))
    indexes: dict[tuple[Any, ...], ReadStore] = {}
    rows: list[tuple[str, Metrics]] = []
    for variant in variants:
        if progress:
            progress(variant.name)
        variant_settings = variant.settings(settings)
        key = variant.text_key(settings)
        if key not in indexes:
            indexes[key] = variant_index(base, variant_settings, queries, cache)
        searcher = Searcher(indexes[key], queries, variant_settings)
        Assistant(searcher)  # installs the passage order by answer signals, as the product's search has it
        rows.append((variant.name, _measure(_product(searcher), sets, indexes[key])))
        if progress:
            progress(f"  {summary(rows[-1][1])}")
    if progress:
        progress("baseline")
    baseline = Baseline.build({d: doc.text for d, doc in base.documents().items()}, cache)

    def vector(q: str) -> np.ndarray:
        return np.asarray(queries.embed_queries([q])[0])

    for mode in MODES:
        rows.append((mode, _measure(_plain(baseline, mode, vector), sets, base)))
    return rows


def _product(searcher: Searcher) -> Callable[[str, str], list[Hit]]:
    return lambda question, mode: searcher.search(question, k=10, mode=mode)


def _plain(baseline: Baseline, mode: str, vector: Callable[[str], np.ndarray]) -> Callable[[str, str], list[Hit]]:
    return lambda question, _mode: baseline.search(question, mode, vector)


def summary(metrics: Metrics) -> str:
    """One line: MRR@10 and R@5 per set."""
    return "; ".join(f"{name} MRR@10 {m['mrr@10']:.3f} R@5 {m['recall@5']:.3f}" for name, m in metrics.items())


def question_sets(paths: Sequence[Path], load: Callable[[Path], list[Question]]) -> dict[str, list[Question]]:
    """Question files grouped into material sets by their folder's name (a folder's files are one set)."""
    sets: dict[str, list[Question]] = {}
    for path in paths:
        sets.setdefault(path.resolve().parent.name, []).extend(load(path))
    return sets


def table(rows: Sequence[tuple[str, Metrics]]) -> tuple[list[str], list[list[str]]]:
    """Columns and rows for printing: one row per variant, R@1 / R@5 / MRR@10 per set."""
    names = list(rows[0][1]) if rows else []
    columns = ["variant"] + [f"{name} (n={rows[0][1][name]['n']}) R@1 / R@5 / MRR@10" for name in names]
    body = [
        [variant] + [f"{m[n]['recall@1']:.3f} / {m[n]['recall@5']:.3f} / {m[n]['mrr@10']:.3f}" for n in names]
        for variant, m in rows
    ]
    return columns, body
