"""Calibration of abstention: the confidence threshold below which an answer abstains, measured on
labelled answerable and unanswerable questions rather than set by hand.

The threshold maximises Youden's J (share of unanswerable questions that abstain minus share of
answerable ones that do). Where several thresholds tie, the middle of the first tied run is taken,
so the threshold sits between the two classes rather than against either. ``rag calibrate`` writes
the result to ``rag/calibration.json``; ``Assistant`` reads it unless ``RAG_ABSTAIN_THRESHOLD`` is set.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

CALIBRATION_FILE = Path(__file__).with_name("calibration.json")


@dataclass(frozen=True)
class Calibration:
    threshold: float
    youden_j: float
    unanswerable_abstained: float  # share of unanswerable questions that abstain at the threshold
    answerable_abstained: float
    answerable: dict[str, float]  # quantiles of the answerable questions' confidence
    unanswerable: dict[str, float]
    n_answerable: int
    n_unanswerable: int


def _quantiles(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {}
    q = np.quantile(np.asarray(values, dtype=float), [0.0, 0.1, 0.5, 0.9, 1.0])
    return {name: round(float(v), 4) for name, v in zip(("min", "p10", "p50", "p90", "max"), q, strict=True)}


def choose_threshold(
    answerable: Sequence[float], unanswerable: Sequence[float], max_answerable_abstained: float | None = None
) -> Calibration:
    """The threshold (abstain when confidence < threshold) that best separates the two classes; with
    ``max_answerable_abstained``, the one that abstains on most unanswerable questions while
    abstaining on at most that share of answerable ones (the product's target is 0.05)."""
    if not answerable or not unanswerable:
        raise ValueError("calibration needs both answerable and unanswerable questions")
    values = sorted(set(answerable) | set(unanswerable))
    # candidates: below everything, between each pair of neighbouring values, above everything
    candidates = [values[0] - 1e-3] + [(a + b) / 2 for a, b in pairwise(values)]
    candidates.append(values[-1] + 1e-3)

    def rates(t: float) -> tuple[float, float]:
        return (
            sum(u < t for u in unanswerable) / len(unanswerable),
            sum(a < t for a in answerable) / len(answerable),
        )

    scores = [rates(t) for t in candidates]
    js = [u - a for u, a in scores]
    if max_answerable_abstained is not None:
        # within the allowed false abstention, most unanswerable abstentions (ties: Youden's J)
        js = [u + 1e-6 * (u - a) if a <= max_answerable_abstained else -1.0 for u, a in scores]
    best = max(js)
    first = js.index(best)
    last = first
    while last + 1 < len(js) and js[last + 1] == best:
        last += 1
    threshold = round(max(0.0, (candidates[first] + candidates[last]) / 2), 4)
    u_rate, a_rate = rates(threshold)
    return Calibration(
        threshold=threshold,
        youden_j=round(u_rate - a_rate, 4),
        unanswerable_abstained=round(u_rate, 4),
        answerable_abstained=round(a_rate, 4),
        answerable=_quantiles(answerable),
        unanswerable=_quantiles(unanswerable),
        n_answerable=len(answerable),
        n_unanswerable=len(unanswerable),
    )


def save(calibration: Calibration, sources: Sequence[str], path: Path = CALIBRATION_FILE) -> None:
    record = asdict(calibration) | {
        "sources": list(sources),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "rag calibrate " + " ".join(sources) + " --index INDEX --write",
    }
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def load(path: Path = CALIBRATION_FILE) -> dict[str, Any]:
    """The stored calibration; a missing file means no abstention threshold (0.0) and says so."""
    if not path.exists():
        return {"threshold": 0.0, "sources": [], "measured_at": None}
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class CurvePoint:
    """At ``threshold``: the share of unanswerable questions that abstain, and of answerable ones."""

    threshold: float
    unanswerable_abstained: float
    answerable_abstained: float


def curve(answerable: Sequence[float], unanswerable: Sequence[float], steps: int = 20) -> list[CurvePoint]:
    """Abstention rates of both classes at evenly spaced thresholds from 0 to the highest confidence."""
    top = max([*answerable, *unanswerable, 1e-9])
    points = []
    for i in range(steps + 1):
        t = round(top * i / steps, 4)
        points.append(
            CurvePoint(
                t,
                round(sum(u < t for u in unanswerable) / len(unanswerable), 4) if unanswerable else 0.0,
                round(sum(a < t for a in answerable) / len(answerable), 4) if answerable else 0.0,
            )
        )
    return points


def held_apart(question_id: str, share: float = 0.5) -> bool:
    """Whether a question belongs to the held-out half (stable across runs: a hash of its id)."""
    digest = hashlib.sha256(question_id.encode("utf-8")).digest()
    return digest[0] / 256 < share


def swap_organisation(question: str, organisations: Sequence[str]) -> str | None:
    """A near miss made from an answerable question: the one organisation it names replaced by
    another organisation of the index ('Vad beslutade Tibro ...' -> 'Vad beslutade Umeå ...').
    None when the question names no organisation, or several."""
    from rag.query import named_places, place_key

    places = named_places(question)
    if len(places) != 1:
        return None
    keys = sorted({place_key(o) for o in organisations if place_key(o)})
    own = place_key(places[0])
    others = [k for k in keys if k.split()[0].rstrip("s") != own.split()[0].rstrip("s")]
    by_key = {place_key(o): o for o in organisations}
    if not others:
        return None
    pick = others[int(hashlib.sha256(question.encode("utf-8")).hexdigest(), 16) % len(others)]
    target = by_key[pick]
    name = target if target.startswith("Region") else target.split()[0].removesuffix("s")
    return re.sub(rf"\b(?:[Rr]egion(?:en)?\s+)?{re.escape(places[0])}s?\b", name, question, count=1)


def threshold_for_each(
    answerable: Mapping[str, Sequence[float]], unanswerable: Sequence[float], max_answerable_abstained: float = 0.05
) -> Calibration:
    """The highest threshold at which every set of answerable questions (realdocs, devset, ...: keyed
    by name) abstains on at most ``max_answerable_abstained`` of its questions, so no one set pays
    for another's gain; the rates are those of all questions pooled at that threshold."""
    pooled = [a for values in answerable.values() for a in values]
    if not pooled or not unanswerable:
        raise ValueError("calibration needs both answerable and unanswerable questions")
    best = 0.0
    for t in sorted({0.0, *pooled, *unanswerable}):
        if all(sum(a < t for a in v) <= max_answerable_abstained * len(v) for v in answerable.values() if v):
            best = t
    u_rate = sum(u < best for u in unanswerable) / len(unanswerable)
    a_rate = sum(a < best for a in pooled) / len(pooled)
    return Calibration(
        threshold=round(best, 4),
        youden_j=round(u_rate - a_rate, 4),
        unanswerable_abstained=round(u_rate, 4),
        answerable_abstained=round(a_rate, 4),
        answerable=_quantiles(pooled),
        unanswerable=_quantiles(unanswerable),
        n_answerable=len(pooled),
        n_unanswerable=len(unanswerable),
    )


@dataclass(frozen=True)
class NearMisses:
    """Unanswerable questions made from answerable ones (``swap_organisation``), split in two halves
    by id: the threshold is chosen on the labelled unanswerable questions plus the tuning half, and
    judged on the held-out half, which it never saw."""

    made: int
    held_out: int
    held_out_abstained: float  # at the configured threshold, as the product answers
    curve: list[CurvePoint]  # answerable vs labelled unanswerable + the tuning half
    chosen: Calibration  # the highest threshold keeping false abstention <= 0.05
    held_out_abstained_at_chosen: float


def make_near_misses(questions: Sequence[Any], organisations: Sequence[str]) -> list[Any]:
    """One near miss per answerable question that names one organisation: the same question of
    another organisation of the index, labelled unanswerable (``doc`` None)."""
    from dataclasses import replace

    made = []
    for q in questions:
        if not q.doc or not q.answer_quote:
            continue
        swapped = swap_organisation(q.question, organisations)
        if swapped and swapped != q.question:
            made.append(replace(q, id=f"{q.id}~org", question=swapped, doc=None, answer_quote=None))
    return made


def near_miss_report(
    answerable: Sequence[float],
    unanswerable: Sequence[float],
    near_misses: Sequence[tuple[str, float, bool]],
    max_answerable_abstained: float = 0.05,
) -> NearMisses:
    """The curve and the chosen threshold from the answerable and labelled unanswerable
    confidences and the tuning half of ``near_misses`` ((id, confidence, abstained) each), and how
    the held-out half fares, at the configured threshold and at the chosen one."""
    tune = [c for qid, c, _ in near_misses if not held_apart(qid)]
    held = [(c, abstained) for qid, c, abstained in near_misses if held_apart(qid)]
    negatives = [*unanswerable, *tune]
    chosen = choose_threshold(answerable, negatives or [0.0], max_answerable_abstained)
    return NearMisses(
        made=len(near_misses),
        held_out=len(held),
        held_out_abstained=round(sum(a for _, a in held) / len(held), 4) if held else 1.0,
        curve=curve(answerable, negatives),
        chosen=chosen,
        held_out_abstained_at_chosen=round(sum(c < chosen.threshold for c, _ in held) / len(held), 4) if held else 1.0,
    )


def held_out_calibration(
    answerable: Mapping[str, Sequence[tuple[str, float]]],
    unanswerable: Sequence[tuple[str, float]],
    max_answerable_abstained: float = 0.05,
) -> tuple[Calibration, dict[str, float]]:
    """The threshold from the tuning half only (``held_apart`` false) of each set's answerable
    questions ((id, confidence), keyed by set) and of the unanswerable ones, labelled and near
    misses together (``threshold_for_each``), and the abstention rates of the held-out half at it:
    '<set> answerable abstained' per set and 'unanswerable abstained'; with too few questions to
    halve, the threshold of all of them and no held-out rates."""
    tune = {name: [c for i, c in rows if not held_apart(i)] for name, rows in answerable.items()}
    negatives = [c for i, c in unanswerable if not held_apart(i)]
    if not any(tune.values()) or not negatives:  # too few questions to halve: fitted on all, nothing held out
        everything = {name: [c for _, c in rows] for name, rows in answerable.items()}
        return threshold_for_each(everything, [c for _, c in unanswerable], max_answerable_abstained), {}
    calibration = threshold_for_each(tune, negatives, max_answerable_abstained)
    t = calibration.threshold

    def rate(values: Sequence[float]) -> float:
        return round(sum(v < t for v in values) / len(values), 4) if values else 0.0

    held = {
        f"{name} answerable abstained": rate([c for i, c in rows if held_apart(i)]) for name, rows in answerable.items()
    }
    held["unanswerable abstained"] = rate([c for i, c in unanswerable if held_apart(i)])
    return calibration, held
