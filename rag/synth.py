"""A synthetic corpus for scale benchmarks: protocols with the structure and vocabulary of the real
ones (items with §, Dnr, sections, outcomes, persons), written from the real documents' sentences,
and dense vectors derived from real embeddings.

Embedding 100k chunks with the real model takes hours on 2 cores, so ``DerivedEmbedder`` gives a
synthetic chunk the mean of the real-model vectors of the real sentences it is made of, plus
Gaussian noise, L2-normalised; queries are embedded by the real model. What the vectors are is
stated in ``DerivedEmbedder.description`` and printed by ``rag bench``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rag.embed import Embedder
from rag.normalise import repair
from rag.sentences import quotable, sentence_spans
from rag.store.base import ReadStore
from rag.vocab import BODY_ABBREVIATIONS, MUNICIPALITIES

_SPLIT = re.compile(r"(?<=[.!?:])\s+")
_BODIES = [(abbr, name) for abbr, name in BODY_ABBREVIATIONS.items() if " " not in abbr and abbr != "AU"]
_DECISIONS = {
    "bifall": "{body} beslutar att bifalla motionen.",
    "avslag": "{body} beslutar att avslå motionen.",
    "besvarad": "{body} beslutar att anse motionen besvarad.",
    "återremiss": "{body} beslutar att återremittera ärendet till förvaltningen.",
    "ingen åtgärd": "Motionen föranleder ingen ytterligare åtgärd.",
    "uppdrag": "{body} ger förvaltningen i uppdrag att utreda användningen av AI och återrapportera halvårsvis.",
}
_PEOPLE = ["Anna Lind (S)", "Erik Berg (M)", "Sara Holm (KD)", "Johan Ek (SD)", "Maria Falk (C)", "Lars Nyström (V)"]


def _key(sentence: str) -> str:
    return " ".join(repair(sentence).split())


@dataclass
class SentenceBank:
    """Real sentences by the section heading they stood under, with their real-model vectors."""

    by_section: dict[str, list[str]] = field(default_factory=dict)
    titles: list[str] = field(default_factory=list)
    vectors: dict[str, np.ndarray] = field(default_factory=dict)

    def vector_of(self, sentence: str) -> np.ndarray | None:
        return self.vectors.get(_key(sentence))


def sentence_bank(index: ReadStore, embedder: Embedder) -> SentenceBank:
    """Every quotable sentence of the real documents, grouped by section, embedded once."""
    bank = SentenceBank()
    for doc in index.documents().values():
        for item in doc.structure.get("items", []):
            if item.get("title"):
                bank.titles.append(" ".join(item["title"].split()))
            sections = item.get("sections") or [{"heading": "", "start": item["start"], "end": item["end"]}]
            for section in sections:
                for s, e in sentence_spans(doc.text, section["start"], section["end"]):
                    sentence = " ".join(doc.text[s:e].split())
                    if quotable(sentence) and len(sentence) < 600:
                        bank.by_section.setdefault(section["heading"], []).append(sentence)
    texts = sorted({*(s for group in bank.by_section.values() for s in group), *_templates()})
    vectors = embedder.embed_passages([repair(t) for t in texts], batch_size=32)
    bank.vectors = {_key(t): v for t, v in zip(texts, vectors, strict=True)}
    return bank


def _templates() -> list[str]:
    names = {name for _, name in _BODIES}
    return [template.format(body=name) for template in _DECISIONS.values() for name in names]


def generate(bank: SentenceBank, chunks: int, out: Path, seed: int = 0, chunk_chars: int = 900) -> int:
    """Write synthetic protocols into ``out`` until they hold about ``chunks`` chunks (each section is
    one chunk or more, a long one one per ``chunk_chars``); returns the number of documents written."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    plain = [s for heading, group in bank.by_section.items() if heading not in ("Beslut",) for s in group]
    titles = bank.titles or ["Svar på motion om AI"]
    expected = documents = 0
    while expected < chunks:
        place = MUNICIPALITIES[int(rng.integers(len(MUNICIPALITIES)))]
        abbr, body = _BODIES[int(rng.integers(len(_BODIES)))]
        year = int(rng.integers(2019, 2026))
        date = f"{year}-{int(rng.integers(1, 13)):02d}-{int(rng.integers(1, 29)):02d}"
        parts = [f"{place} kommun\nSAMMANTRÄDESPROTOKOLL\n{body}\nSammanträdesdatum {date}\n"]
        for number in range(int(rng.integers(3, 9))):
            outcome = list(_DECISIONS)[int(rng.integers(len(_DECISIONS)))]
            title = titles[int(rng.integers(len(titles)))]
            paragraph = int(rng.integers(1, 300)) + number
            sentences = [plain[int(i)] for i in rng.integers(len(plain), size=int(rng.integers(4, 16)))]
            expected += 3 + -(-len(" ".join(sentences)) // chunk_chars)  # title, Beslut, Yrkanden, Ärendet
            parts.append(
                f"{abbr} § {paragraph} {title}\n\nDnr {abbr} {year}/{int(rng.integers(1, 3000)):05d}\n\n"
                f"Beslut\n\n{_DECISIONS[outcome].format(body=body)}\n\n"
                f"Ärendet\n\n{' '.join(sentences)}\n\n"
                f"Yrkanden\n\n{_PEOPLE[int(rng.integers(len(_PEOPLE)))]} yrkar bifall till förslaget.\n"
            )
        text = "\n".join(parts)
        (out / f"synt-{documents:06d}.txt").write_text(text, encoding="utf-8")
        documents += 1
    return documents


class DerivedEmbedder:
    """Passage vectors derived from real ones (mean of the real vectors of the sentences a chunk is
    made of, plus noise); queries and token counts from the real model."""

    def __init__(self, real: Embedder, bank: SentenceBank, noise: float = 0.01, seed: int = 0) -> None:
        self.real = real
        self.bank = bank
        self.noise = noise
        self.dim = real.dim
        self.identity: dict[str, str | int] = {
            "name": f"derived-from-{real.identity.get('name')}",
            "dim": real.dim,
            "noise": str(noise),
        }
        self._rng = np.random.default_rng(seed)
        self._fallback = np.stack(list(bank.vectors.values()))
        self.description = (
            f"synthetic chunks' vectors: the mean of the {real.identity.get('name')} vectors of the "
            f"{len(bank.vectors)} real sentences they are made of, plus Gaussian noise (sigma {noise} per "
            "dimension), L2-normalised; a chunk with no whole real sentence takes a random real sentence's "
            "vector. Queries are embedded by the real model."
        )

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.real.embed_queries(texts)

    def embed_passages(
        self, texts: Sequence[str], *, batch_size: int = 16, progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            found = [v for s in _SPLIT.split(text) if (v := self.bank.vector_of(s)) is not None]
            base = np.mean(found, axis=0) if found else self._fallback[self._rng.integers(len(self._fallback))]
            vector = base + self._rng.normal(0.0, self.noise, self.dim)
            out[i] = vector / np.linalg.norm(vector)
            if progress and (i + 1) % batch_size == 0:
                progress(i + 1)
        return out

    def count_tokens(self, text: str) -> int:
        return self.real.count_tokens(text)
