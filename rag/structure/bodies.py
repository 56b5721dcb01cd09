"""Who decides: the organisation (municipality or region) a text is from, and the body (nämnd,
styrelse, fullmäktige) named in header fields, by an item's abbreviation ("KS § 4"), as a
guideline's decider or addressee, or as the subject of a protocol's decisions."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from rag.normalise import fold, repair
from rag.structure.decision import as_written
from rag.structure.lines import fields, line_spans
from rag.types import Item
from rag.vocab import BODY_ABBREVIATIONS, BODY_NAMES, NOT_PLACE_NAMES

_ORG_NAME = re.compile(
    r"\b(?:(?P<region>Region)[ ](?P<rname>[A-ZÅÄÖ][a-zåäö]+(?:[ ]län\b)?)|"
    r"(?P<name>[A-ZÅÄÖ][a-zåäöé]+(?:[- ][A-ZÅÄÖ][a-zåäö]+)?)[ ](?P<kind>kommun|stad|Stad)\b|"
    r"(?P<uname>[A-ZÅÄÖ]{2,}(?:[- ][A-ZÅÄÖ]{2,})?)[ ](?P<ukind>KOMMUN|STAD)\b|"
    r"(?P<uregion>REGION)[ ](?P<urname>[A-ZÅÄÖ]{3,}(?:[ ]LÄN\b)?)|(?P<vgr>Västra Götalandsregionen)\b)"
)
# A body named in a header field: "<X>styrelsen", "<X>- och <Y>nämnden", "<X>nämnd",
# "Nämnd för <ämne>", "<X>styrelsens arbetsutskott", "<X>revisionen" (folded).
_BODY_FIELD = re.compile(
    r"^(?:(?:[a-z]+-[ ]och[ ])?[a-z]+(?:namnd(?:en)?|styrelsen|fullmaktige|utskottet|revisionen|ledningsgruppen)"
    r"(?:s arbetsutskott)?|[a-z]+a [a-z]*(?:namnden|styrelsen)|(?:namnd(?:en)?|styrelsen) for [a-z ,-]{3,50}"
    r"|[a-z]+(?:styrelsens|namndens) [a-z]*utskott)$"
)
_BODY_LABEL = re.compile(r"^(?:beslutande organ|organ|namnd|instans|beslutsinstans)\s*:?\s+", re.IGNORECASE)


def _body_name(field: str) -> str | None:
    """The body a header field names, as written (capitals title-cased, OCR repaired), or None."""
    value = field.strip(" \t:*#")
    value = _BODY_LABEL.sub("", value)
    # "<Body> <date>", "<Body> <date>, § <n>": the name before a date
    value = re.sub(r"[ \t,]+(?:(?:19|20)\d\d-\d\d-\d\d|\d{1,2} [a-zåäö]+ (?:19|20)\d\d|§).*$", "", value)
    if not value or len(value) > 60:
        return None
    folded = re.sub(r"\s+", " ", fold(value))
    for name in BODY_NAMES:
        if folded == fold(name):
            return name
    if not _BODY_FIELD.match(folded):
        folded = re.sub(r"\s+", " ", fold(repair(value)))
        if not _BODY_FIELD.match(folded):
            return None
        value = repair(value)
    if value.isupper():
        value = value.capitalize()
    value = value[0].upper() + value[1:]
    if folded.endswith("namnd"):  # "Valnämnd" in a header: the body is "Valnämnden"
        value += "en"
    return value


def _header_body(text: str) -> str | None:
    """The first body named as a field of a header line."""
    for _, _, line in line_spans(text):
        for part in fields(line.lstrip("#* ")):
            if name := _body_name(part):
                return name
            m = re.search(
                r"(?:\bsammanträde med|^protokoll för|^protokoll från)\s+(.+?)(?:\s+i\s+[A-ZÅÄÖ][\w-]+)?\s*$",
                part.strip(),
                re.IGNORECASE,
            )
            if m and (name := _body_name(m.group(1))):
                return name
    return None


def _frequent_body(text: str) -> str | None:
    """The body named most often, twice at least, as a field of the lines of ``text`` (the repeated
    page headers)."""
    counts = Counter(name for _, _, line in line_spans(text) for part in fields(line) if (name := _body_name(part)))
    best = counts.most_common(1)
    return best[0][0] if best and best[0][1] >= 2 else None


def organisation(text: str) -> str | None:
    """The municipality or region a text is from: the most frequent 'X kommun', 'X stad' or 'Region X'."""
    counts: Counter[str] = Counter()
    for m in _ORG_NAME.finditer(text):
        if m.group("region"):
            name = "Region " + m.group("rname")
        elif m.group("uname"):  # a page header in capitals: "LUNDS KOMMUN"
            name = f"{m.group('uname').title()} {m.group('ukind').lower()}"
        elif m.group("uregion"):  # "REGION YDRE", "REGION JÖNKÖPINGS LÄN"
            name = "Region " + m.group("urname").title().replace(" Län", " län")
        elif m.group("vgr"):
            name = m.group("vgr")
        else:
            place = m.group("name")
            if fold(place) in {fold(w) for w in NOT_PLACE_NAMES}:
                continue
            name = f"{place} {m.group('kind').lower()}"
        name = repair(name.title() if name.isupper() else name)
        counts[name] += 1 + (m.start() < 300)
    # "Region Gotlands" is the genitive of "Region Gotland"
    for name in list(counts):
        if name.endswith("s") and name[:-1] in counts:
            counts[name[:-1]] += counts.pop(name)
        elif name.endswith("s stad") and name.replace("s stad", " stad") in counts:
            counts[name.replace("s stad", " stad")] += counts.pop(name)
    if not counts:
        return None
    return counts.most_common(1)[0][0]


_ADDRESSEE = re.compile(
    r"^(?:motion|medborgarforslag|interpellation|fraga|skrivelse|tjansteskrivelse)\s+till\s+"
    r"(?P<body>kommunfullmaktige|regionfullmaktige|kommunstyrelsen|regionstyrelsen|[a-z-]+namnden)",
)


def _document_body(text: str, decided: str | None) -> str | None:
    """The body of a document without items: who decided it, else its addressee, else a header field."""
    if decided and (name := _body_name(decided.split(" 1")[0].split(" 2")[0])):
        return name
    for _, _, line in list(line_spans(text))[:15]:
        if m := _ADDRESSEE.match(fold(line.strip())):
            return as_written(line, m.group("body"))
    return _header_body(text[:1500])


_SUBJECT = re.compile(
    r"^\s*(?P<body>[A-ZÅÄÖ][\w-]+(?: och [\w-]+)?(?: arbetsutskott)?)\s+(?:har\s+)?"
    r"(?:beslutar|beslutade|tillstyrker|föreslår|antar|godkänner|ger|noterar|lägger|utser|avslår|anser|uppdrar)\b"
)


def _deciding_body(text: str, items: Sequence[Item]) -> str | None:
    """The body most of a protocol's decisions name as their subject ("Kommunstyrelsen tillstyrker ...")."""
    counts: Counter[str] = Counter()
    for item in items:
        m = _SUBJECT.match(text[item.decision[0] : item.decision[1]]) if item.decision else None
        if m and (name := _body_name(m.group("body"))):
            counts[name] += 1
    return counts.most_common(1)[0][0] if counts else None


def _abbreviated_body(abbr: str | None) -> str | None:
    if abbr:
        key = re.sub(r"\s+", " ", abbr.strip())
        return BODY_ABBREVIATIONS.get(key)
    return None
