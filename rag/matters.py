"""Matter history: the items of different documents that belong to one matter, in date order.

A matter (ärende) passes through several documents: a motion is filed, a committee proposes, the
council decides; a matter is tabled (bordlagd) at one meeting and decided at a later one. The
documents link the steps in two ways, and both are read here:

- the same case number (Dnr) in any of its spellings ("KS 2024/551", "KS-2024/00551",
  "SLK-2024-00392", "Dnr: 2024/551-1.2"), within one organisation;
- an item that answers a named motion ("Svar på motion om ...") and the motion document whose title
  it names, when neither carries a Dnr the other has.

Everything here is a pure function of the stored documents (``rag.types.StoredDocument``) and
their structure summaries; nothing reads files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from rag.normalise import fold
from rag.query import place_key

# A Dnr's parts: an optional series in letters ("KS", "SLK", "BUN"), a year and a serial number,
# separated by spaces, dashes, slashes or a colon. Two-digit years glued to letters ("XY24/01456")
# are read as 20xx. Trailing parts ("-1.2.3", ":58") are sub-numbers of the same matter.
_DNR_PARTS = re.compile(
    r"(?:(?P<series>[A-ZÅÄÖ]{1,8}(?:[ -][A-ZÅÄÖ]{1,4})?)[ \t]*[-:/. ]?[ \t]*)?"
    r"(?P<year>(?:19|20)\d\d)[ \t]*[-/.][ \t]*(?P<number>\d{1,6})\b"
    r"|(?P<series2>[A-ZÅÄÖ]{1,8})(?P<year2>\d\d)[ \t]*/[ \t]*(?P<number2>\d{1,6})\b"
)
_NOT_SERIES = frozenset({"DNR", "DIARIENR", "DIARIENUMMER", "NR", "ARENDENUMMER", "ARENDENR"})
# "Svar på motion (från X (M)) om <title>", "Motion om <title>", "Besvarande av motion ... om <title>"
_ANSWERS_MOTION = re.compile(r"\bmotion(?:en)?\b.*?\b(?:om|angaende|gallande|rorande)\b\s+(?P<title>.+)", re.DOTALL)
_WORD = re.compile(r"\w{3,}")
# Stages in the order a matter passes them on one day: a proposal comes before the decision on it.
_FINAL = ("kommunfullmaktige", "regionfullmaktige", "fullmaktige")


@dataclass(frozen=True)
class DnrKey:
    """A case number reduced to what identifies the matter: series (may be empty), year, number."""

    series: str
    year: int
    number: int

    def matches(self, other: DnrKey) -> bool:
        """Same matter: equal year and number, and equal series where both have one."""
        same = self.year == other.year and self.number == other.number
        return same and (not self.series or not other.series or self.series == other.series)

    def __str__(self) -> str:
        core = f"{self.year}/{self.number}"
        return f"{self.series} {core}" if self.series else core


def dnr_key(dnr: str) -> DnrKey | None:
    """The matter a case number names, or None when it names none.

    >>> str(dnr_key("KS-2024/00551")), str(dnr_key("ks 2024-551-1.2")), str(dnr_key("XY24/01456"))
    ('KS 2024/551', 'KS 2024/551', 'XY 2024/1456')
    """
    folded = fold(dnr).upper()
    m = _DNR_PARTS.search(folded)
    if not m:
        return None
    if m.group("year"):
        series = (m.group("series") or "").replace("-", " ").strip()
        year, number = int(m.group("year")), int(m.group("number"))
    else:
        series, year, number = m.group("series2"), 2000 + int(m.group("year2")), int(m.group("number2"))
    if series in _NOT_SERIES or series.split(" ")[0] in _NOT_SERIES:
        series = ""
    return DnrKey(series, year, number)


@dataclass(frozen=True)
class Step:
    """One item of a matter: where it stands, who handled it, and what they decided."""

    doc: str
    paragraph: str | None
    title: str | None
    dnr: str | None
    organisation: str | None
    body: str | None
    date: str | None
    doc_type: str
    outcome: str | None
    proposal_to: str | None
    decision: str | None  # the decisive sentence, verbatim
    decision_start: int | None
    decision_end: int | None
    link: str  # "dnr" | "motion": how this step was tied to the matter


@dataclass(frozen=True)
class Matter:
    """The steps of one organisation's matter in date order."""

    dnr: str
    organisation: str | None
    steps: tuple[Step, ...]

    @property
    def last(self) -> Step | None:
        return self.steps[-1] if self.steps else None


class _Doc(Protocol):
    """What is read of a stored document (``rag.types.StoredDocument``)."""

    @property
    def id(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def doc_type(self) -> str: ...
    @property
    def title(self) -> str | None: ...
    @property
    def organisation(self) -> str | None: ...
    @property
    def body(self) -> str | None: ...
    @property
    def date(self) -> str | None: ...
    @property
    def structure(self) -> dict[str, Any]: ...


def _step(doc: _Doc, item: Mapping[str, Any], link: str) -> Step:
    span = item.get("decision")
    start, end = (int(span[0]), int(span[1])) if span else (None, None)
    return Step(
        doc=doc.id,
        paragraph=item.get("paragraph"),
        title=item.get("title") or doc.title,
        dnr=item.get("dnr"),
        organisation=doc.organisation,
        body=item.get("body") or doc.body,
        date=item.get("date") or doc.date,
        doc_type=doc.doc_type,
        outcome=item.get("outcome"),
        proposal_to=item.get("proposal_to"),
        decision=doc.text[start:end] if start is not None and end is not None else None,
        decision_start=start,
        decision_end=end,
        link=link,
    )


# A case number label in the head of a document without items (a motion, a tjänsteskrivelse).
_DNR_LABEL = re.compile(r"\b(?:dnr|diarienr|diarienummer|arendenummer|arendenr)\b\.?:?[ \t]*(?P<dnr>[^\n]{4,40})", re.I)


def _items(doc: _Doc) -> list[Mapping[str, Any]]:
    """The stored items of a document; a document without § gets the Dnr its head names."""
    items = doc.structure.get("items", []) if isinstance(doc.structure, dict) else []
    items = [it for it in items if isinstance(it, Mapping)]
    if len(items) == 1 and not items[0].get("paragraph") and not items[0].get("dnr"):
        m = _DNR_LABEL.search(fold(doc.text[:1500]))
        if m and dnr_key(m.group("dnr")):
            start = m.start("dnr")
            items = [{**items[0], "dnr": doc.text[start : start + len(m.group("dnr"))].strip()}]
    return items


def _order(step: Step) -> tuple[str, int, str, str]:
    # undated steps last; on one day a proposal (or a lower body) comes before the council's decision
    final = any(f in fold(step.body or "") for f in _FINAL) and not step.proposal_to
    return (step.date or "9999", int(final), step.doc, step.paragraph or "")


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(fold(text))}


def _motion_title_of(item_title: str) -> str | None:
    m = _ANSWERS_MOTION.search(fold(item_title))
    return m.group("title") if m else None


def _similar_titles(a: str, b: str, threshold: float = 0.6) -> bool:
    wa, wb = _words(a), _words(b)
    if len(wa) < 3 or len(wb) < 3:
        return False
    return len(wa & wb) / min(len(wa), len(wb)) >= threshold


def matters(documents: Iterable[_Doc], dnr: str) -> list[Matter]:
    """The matters ``dnr`` names, one per organisation: every item whose Dnr names it, and the
    motions those items answer. Empty when ``dnr`` is no case number or nothing carries it."""
    wanted = dnr_key(dnr)
    if wanted is None:
        return []
    docs = list(documents)
    by_org: dict[str, list[Step]] = {}
    for doc in docs:
        for item in _items(doc):
            key = dnr_key(item["dnr"]) if item.get("dnr") else None
            if key is not None and key.matches(wanted):
                by_org.setdefault(place_key(doc.organisation or ""), []).append(_step(doc, item, "dnr"))
    out = []
    for org, steps in sorted(by_org.items()):
        steps.extend(_answered_motions(docs, steps, org))
        ordered = tuple(sorted(_unique(steps), key=_order))
        out.append(Matter(dnr=str(wanted), organisation=ordered[0].organisation, steps=ordered))
    return out


def _answered_motions(docs: Sequence[_Doc], steps: Sequence[Step], org: str) -> list[Step]:
    """Motion documents of the same organisation named by the title of a step ("Svar på motion om
    ...") that carry no Dnr of their own in the matter."""
    named = [t for s in steps if s.title and (t := _motion_title_of(s.title))]
    if not named:
        return []
    have = {s.doc for s in steps}
    found = []
    for doc in docs:
        if doc.id in have or fold(doc.doc_type) != "motion" or not doc.title:
            continue
        if org and doc.organisation and place_key(doc.organisation) != org:
            continue
        if any(_similar_titles(doc.title, title) for title in named):
            items = _items(doc)
            found.append(_step(doc, items[0] if items else {}, "motion"))
    return found


def _unique(steps: Iterable[Step]) -> list[Step]:
    seen: set[tuple[str, str | None]] = set()
    out = []
    for s in steps:
        if (s.doc, s.paragraph) not in seen:
            seen.add((s.doc, s.paragraph))
            out.append(s)
    return out


def matters_of(documents: Iterable[_Doc], doc_id: str) -> list[Matter]:
    """The matters the items of one document belong to that span more than this one document."""
    docs = list(documents)
    by_id = {d.id: d for d in docs}
    doc = by_id.get(doc_id)
    if doc is None:
        return []
    out: list[Matter] = []
    seen: set[str] = set()
    for item in _items(doc):
        key = dnr_key(item["dnr"]) if item.get("dnr") else None
        if key is None or str(key) in seen:
            continue
        seen.add(str(key))
        org = place_key(doc.organisation or "")
        out.extend(
            m
            for m in matters(docs, item["dnr"])
            if place_key(m.organisation or "") == org and len({s.doc for s in m.steps}) > 1
        )
    return out
