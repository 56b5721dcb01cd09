"""Named persons in an item, with their party and their role (motionär, yrkande, reservation)."""

from __future__ import annotations

import re

from rag.normalise import fold, repair
from rag.types import Person, Section
from rag.vocab import PARTIES

_PERSON = re.compile(
    r"(?P<name>[A-ZÅÄÖÉ][a-zåäöéü]+(?:-[A-ZÅÄÖ][a-zåäöéü]+)?"
    r"(?:[ ](?:af|von|de|van|der|[A-ZÅÄÖÉ][a-zåäöéü]+(?:-[A-ZÅÄÖ][a-zåäöéü]+)?)){1,3})"
    r"[ ]?\((?P<party>[A-ZÅÄÖ]{1,4})\)"
)
_ROLE_WORDS = ("ordförande", "ordföranden", "ledamoten", "ledamot", "ersättaren", "motionären", "motionärerna")


# A line that holds only a place and a date, as above a motion's signatures ("Ödeby 2025-03-04")
_PLACE_DATE = re.compile(r"[A-ZÅÄÖ][\w -]*?,?\s*(?:den\s+)?(?:\d{4}-\d\d-\d\d|\d{1,2}\s+[a-zåäö]+\s+\d{4})")


def _signed(text: str) -> set[int]:
    """Where the signatures of a motion stand: the persons alone on their lines at the end of a text
    that opens as a motion ("Motion till kommunfullmäktige ... Karin Ås (C)"), below its last
    sentence; the offsets of their matches."""
    if not re.search(r"\bmotion", fold(text[:300])):
        return set()
    signed: set[int] = set()
    end = len(text)
    for line in reversed(text.splitlines(keepends=True)):
        start = end - len(line)
        stripped = line.strip()
        m = _PERSON.fullmatch(stripped)
        if m:
            signed.add(start + line.index(stripped))
        elif stripped and not _PLACE_DATE.fullmatch(stripped):
            break
        end = start
    return signed


def persons(text: str, sections: tuple[Section, ...], offset: int) -> tuple[Person, ...]:
    """Named persons with party and role (motionär, yrkande, reservation) in an item's text; a
    motion's signatures are its motionärer."""
    found: dict[tuple[str, str], Person] = {}
    signed = _signed(text)
    for m in _PERSON.finditer(text):
        party = m.group("party")
        if party not in PARTIES:
            continue
        words = m.group("name").split(" ")
        while words and words[0].lower() in _ROLE_WORDS:
            words = words[1:]
        if len(words) < 2:
            continue
        name = " ".join(words)
        sentence_start = max(text.rfind(". ", 0, m.start()), text.rfind("\n\n", 0, m.start())) + 1
        sentence_end = min(i for i in (text.find(". ", m.end()), text.find("\n\n", m.end()), len(text)) if i >= 0)
        sentence = fold(repair(text[sentence_start:sentence_end]))
        section = next((s.heading for s in sections if s.start <= m.start() + offset < s.end), None)
        if section == "Reservation" or "reserver" in sentence:
            role = "reservation"
        elif section in ("Yrkanden", "Proposition") or re.search(
            r"yrka|yrkande|foreslar (bifall|avslag|att)", sentence
        ):
            role = "yrkande"
        elif m.start() in signed or re.search(r"\b(en|sin|i) motion\b|motion (inkom|fran|av)\b|\bmotionar", sentence):
            role = "motionär"
        else:
            continue
        if name.endswith("s") and any(p.name == name[:-1] for p in found.values()):
            continue
        found.setdefault((name, role), Person(name, party, role))
    return tuple(found.values())
