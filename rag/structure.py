"""Protocol structure as pure functions: items (§), sections, metadata, outcome, persons, furniture.

``parse_structure(text)`` reads a protocol or guideline and returns a ``Structure`` whose spans are
offsets into ``text``. Matching is done on folded, OCR-repaired copies of short pieces of text, so
"Arendebeskrivning", "Forslag till kommunfullmiktige" and "VASTERAS STAD" are understood; all
spans and names point back at the text as written.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from rag.normalise import fold, repair
from rag.types import Item, Person, Section, Structure
from rag.vocab import (
    BODY_ABBREVIATIONS,
    BODY_NAMES,
    DECISION_SECTIONS,
    NOT_PLACE_NAMES,
    PARTIES,
    SECTION_HEADINGS,
)

# An item heading: "§ 87", "KF § 100 Svar på motion ...", "SON AU § 58 ...". A line that starts
# with a § reference inside running text ("§ 12 i reglementet ...") goes on in lower case: not one.
_ITEM = re.compile(
    r"^[ \t#*]*(?:(?P<abbr>[A-ZÅÄÖ]{1,5}(?:[ \t]+[A-ZÅÄÖ]{2,4})?)[ \t]+)?§[ \t]*(?P<num>\d{1,4})\b"
    r"(?![ \t]*[a-zåäö])(?P<rest>[^\n]*)$",
    re.MULTILINE,
)
_DNR = re.compile(
    r"(?:\bDnr|\bDiarienr|\bDiarienummer|rendenummer|rendenr)\.?:?[ \t]*"
    r"(?P<dnr>(?:[A-ZÅÄÖ]{1,6}[ \t]?)?\d{4}[/-]\d{1,6})(?:[ \t]?-[ \t]?[\d.]+)?",
    re.IGNORECASE,
)
_DATE = re.compile(r"\b(20\d\d|19\d\d)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])\b")
_MONTHS = (
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
)
_WORD_DATE = re.compile(r"\b([12]?\d|3[01])\s+(" + "|".join(_MONTHS) + r")\s+((?:19|20)\d\d)\b", re.IGNORECASE)
_SOURCE_HEADER = re.compile(r"\ASOURCE-HEADER\n(?P<body>.*?)\nEND-SOURCE-HEADER\n", re.DOTALL)
_FURNITURE_LINE = re.compile(
    r"^(justerandes?( signatur| sign\.?)?|utdragsbestyrkande|ordforandes signatur|sekreterarens? signatur|"
    r"datum diarienr sida|sida \d+( ?\(\d+\))?|\d+ ?\(\d+\)|\**sammantradesprotokoll\**)$"
)
_PERSON = re.compile(
    r"(?P<name>[A-ZÅÄÖÉ][a-zåäöéü]+(?:-[A-ZÅÄÖ][a-zåäöéü]+)?"
    r"(?:[ ](?:af|von|de|van|der|[A-ZÅÄÖÉ][a-zåäöéü]+(?:-[A-ZÅÄÖ][a-zåäöéü]+)?)){1,3})"
    r"[ ]?\((?P<party>[A-ZÅÄÖ]{1,4})\)"
)
_ROLE_WORDS = ("ordförande", "ordföranden", "ledamoten", "ledamot", "ersättaren", "motionären", "motionärerna")
_ORG_NAME = re.compile(
    r"\b(?:(?P<region>Region)[ ](?P<rname>[A-ZÅÄÖ][a-zåäö]+)|"
    r"(?P<name>[A-ZÅÄÖ][a-zåäöé]+(?:[- ][A-ZÅÄÖ][a-zåäö]+)?)[ ](?P<kind>kommun|stad|Stad)\b|"
    r"(?P<uname>[A-ZÅÄÖ]{2,}(?:[- ][A-ZÅÄÖ]{2,})?)[ ](?P<ukind>KOMMUN|STAD)\b)"
)


def _lines(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int, str]]:
    """(start, end, line) of each line in ``text[start:end]``, ends excluding the newline."""
    end = len(text) if end is None else end
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        stop = end if nl == -1 else nl
        yield pos, stop, text[pos:stop]
        pos = stop + 1


def _key(line: str) -> str:
    """A heading or furniture line in comparable form: markup stripped, OCR-repaired, folded."""
    line = line.strip().strip("#*_ \t:").strip()
    return re.sub(r"\s+", " ", fold(repair(line)))


def source_header(text: str) -> tuple[dict[str, str], tuple[int, int] | None]:
    """The ``SOURCE-HEADER … END-SOURCE-HEADER`` fields of an archived web text, and its span."""
    m = _SOURCE_HEADER.match(text)
    if not m:
        return {}, None
    fields = {}
    for line in m.group("body").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip().lower()] = value.strip()
    return fields, (m.start(), m.end())


def find_furniture(text: str) -> list[tuple[int, int]]:
    """Spans of page furniture: signature and attestation lines, page numbers, repeated page headers."""
    lines = [(s, e, line) for s, e, line in _lines(text) if line.strip()]
    counts = Counter(line.strip() for _, _, line in lines)
    spans = []
    for s, e, line in lines:
        stripped = line.strip()
        key = _key(line)
        repeated_header = (
            counts[stripped] >= 2
            and len(stripped) <= 80
            and not stripped.endswith((".", ":", ","))
            and not stripped.startswith(("-", "•", "*"))
            and key not in SECTION_HEADINGS
            and (stripped.isupper() or _DATE.search(stripped) or "protokoll" in key)
        )
        if _FURNITURE_LINE.match(key) or repeated_header or "sammantradesprotokoll" in key.replace(" ", ""):
            spans.append((s, e))
    return spans


# Headings that are also the first word of ordinary titles ("Motion om AI i skolan").
_EXACT_ONLY = frozenset({"motion"})
_HEADINGS_LONGEST_FIRST = sorted(SECTION_HEADINGS.items(), key=lambda kv: -len(kv[0]))


def _heading(line: str) -> str | None:
    """The canonical section heading a line is, or None."""
    stripped = line.strip()
    if stripped.startswith("#"):
        return stripped.lstrip("#").strip() or None
    if not stripped or len(stripped) > 70 or stripped.endswith((".", ",", ";")):
        return None
    first_letter = next((ch for ch in stripped if ch.isalpha()), "")
    if not first_letter.isupper():
        return None
    key = _key(stripped)
    for known, display in _HEADINGS_LONGEST_FIRST:
        if key == known or (known not in _EXACT_ONLY and key.startswith(known + " ") and len(key) - len(known) <= 40):
            # "Beslut - Svar på motion ..." is a title, not the Beslut section
            if key.startswith(known + " -"):
                return None
            return display
    return None


def is_heading(line: str) -> bool:
    """Whether a line is a section heading (Beslut, Yrkanden, Ärendet ...)."""
    return _heading(line) is not None


def _sections(text: str, start: int, end: int) -> tuple[Section, ...]:
    heads = [(s, h) for s, _, line in _lines(text, start, end) if (h := _heading(line))]
    return tuple(Section(h, s, heads[i + 1][0] if i + 1 < len(heads) else end) for i, (s, h) in enumerate(heads))


def _body(abbr: str | None, text: str) -> str | None:
    if abbr:
        key = re.sub(r"\s+", " ", abbr.strip())
        if key in BODY_ABBREVIATIONS:
            return BODY_ABBREVIATIONS[key]
    for _, _, line in _lines(text):
        for name in BODY_NAMES:
            if _key(line).startswith(fold(name)) and len(line.strip()) <= len(name) + 14:
                return name
        m = re.match(r"^\s*([A-ZÅÄÖ][a-zåäö-]*nämnden(?:s arbetsutskott)?)\b", line)
        if m and len(line.strip()) <= len(m.group(1)) + 14:
            return m.group(1)
    return None


def _first_date(text: str) -> str | None:
    """The first date in ``text`` as ISO: '2024-09-30' or '12 mars 2025' -> '2025-03-12'."""
    iso = _DATE.search(text)
    word = _WORD_DATE.search(text)
    if word and (not iso or word.start() < iso.start()):
        day, month, year = word.groups()
        return f"{year}-{_MONTHS.index(month.lower()) + 1:02d}-{int(day):02d}"
    return iso.group() if iso else None


def meeting_date(text: str) -> str | None:
    """The meeting date: a 'Sammanträdesdatum' line, else a date on a header line of the first page."""
    for _, _, line in _lines(text):
        folded = fold(line)
        if ("sammantradesdatum" in folded or "datum for sammantrade" in folded) and (d := _first_date(line)):
            return d
    head = text[:600]
    for _, _, line in _lines(head):
        if len(line.strip()) <= 60 and (d := _first_date(line)) and not _DNR.search(line):
            return d
    return None


def organisation(text: str) -> str | None:
    """The municipality or region a text is from: the most frequent 'X kommun', 'X stad' or 'Region X'."""
    counts: Counter[str] = Counter()
    for m in _ORG_NAME.finditer(text):
        if m.group("region"):
            name = "Region " + m.group("rname")
        elif m.group("uname"):  # a page header in capitals: "LUNDS KOMMUN"
            name = f"{m.group('uname').title()} {m.group('ukind').lower()}"
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


_MOTION = "(motionen|medborgarforslaget)"


def outcome(decision_text: str) -> str:
    """The decision outcome stated in a decision text (one of ``rag.vocab.OUTCOMES``)."""
    t = fold(repair(decision_text))
    rules = (
        ("återremiss", r"aterremi"),
        ("ingen åtgärd", r"ingen (ytterligare )?atgard"),
        ("avslag", rf"avsla(s|r)? ({_MOTION}|forslaget)\b(?! om)|{_MOTION} avslas"),
        ("besvarad", r"besvarad"),
        ("bifall", rf"bifalla {_MOTION}|{_MOTION} bifalls|bifall till {_MOTION}"),
        ("uppdrag", r"i uppdrag|uppdrar (at|till)|uppdras"),
        ("avslag", r"\bavsla|\bavslag"),
        ("bifall", r"\bbifall|\bgodkann|\banta(r|s)?\b|\bfaststall"),
    )
    for name, pattern in rules:
        if re.search(pattern, t):
            return name
    return "other"


def persons(text: str, sections: tuple[Section, ...], offset: int) -> tuple[Person, ...]:
    """Named persons with party and role (motionär, yrkande, reservation) in an item's text."""
    found: dict[tuple[str, str], Person] = {}
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
        elif re.search(r"\b(en|sin|i) motion\b|motion (inkom|fran|av)\b|\bmotionar", sentence):
            role = "motionär"
        else:
            continue
        if name.endswith("s") and any(p.name == name[:-1] for p in found.values()):
            continue
        found.setdefault((name, role), Person(name, party, role))
    return tuple(found.values())


def _title_block_end(text: str, heading: re.Match[str], end: int) -> int:
    """Where an item's heading block ends: its § line, then title and Dnr lines up to a blank line.

    Section headings are looked for only after it, so a title such as "Motion om AI i skolan" is
    not taken for the heading "Motion".
    """
    pos = heading.end() + 1
    if _DNR.sub("", heading.group("rest")).strip(" \t-–:*#"):
        return min(pos, end)  # the title is on the § line itself
    seen_text = False
    for s, _, line in _lines(text, pos, end):
        if not line.strip():
            if seen_text:
                return s
            continue
        if not seen_text and _key(line) in SECTION_HEADINGS:
            return s  # no title: the item starts with a section such as "Beslut"
        seen_text = True
    return end


def _item_title(text: str, heading_rest: str, start: int, end: int) -> str | None:
    rest = _DNR.sub("", heading_rest).strip(" \t-–:*#")
    if not rest:
        lines: list[str] = []
        for _, _, line in _lines(text, start, end):
            if not line.strip():
                if lines:
                    break
                continue
            if _DNR.search(line):
                if lines:
                    break
                continue
            lines.append(line.strip())
            if len(lines) == 3:
                break
        rest = " ".join(lines)
    rest = re.sub(r"^(Beslut|Beslutsärende|Ärende)\s*[-–:]\s*", "", rest.strip(" *#"))
    return rest or None


def _doc_type(fields: dict[str, str], text: str, has_items: bool) -> str:
    if has_items:
        return "protokoll"
    if fields.get("typ"):
        return fields["typ"].lower()
    head = fold(repair(text[:400]))
    for needle, kind in (
        ("riktlinje", "riktlinje"),
        ("policy", "policy"),
        ("vagledning", "riktlinje"),
        ("strategi", "strategi"),
        ("tjansteskrivelse", "tjänsteskrivelse"),
        ("motion", "motion"),
        ("protokoll", "protokoll"),
    ):
        if needle in head:
            return kind
    return "dokument"


def parse_structure(text: str) -> Structure:
    """Split a document into items (§) with metadata; a document without § is one item."""
    fields, header_span = source_header(text)
    body_start = header_span[1] if header_span else 0
    furniture = find_furniture(text[body_start:])
    furniture = [(s + body_start, e + body_start) for s, e in furniture]
    if header_span:
        furniture.insert(0, header_span)

    org = fields.get("utgivare", "").split("/")[0].strip() or organisation(text[body_start:])
    doc_date = meeting_date(text[body_start:])
    if fields.get("datum"):
        doc_date = fields["datum"].split(" ")[0]
    heads = list(_ITEM.finditer(text, body_start))
    items: list[Item] = []
    doc_body = _body(None, text[body_start : heads[0].start() if heads else min(len(text), body_start + 600)])
    preamble = text[body_start : heads[0].start()] if heads else ""
    for fs, fe in furniture:
        if heads and body_start <= fs and fe <= heads[0].start():
            preamble = preamble.replace(text[fs:fe], "", 1)
    if heads and len(_DNR.sub("", preamble).strip()) < 40:
        preamble = ""  # a Dnr line or nothing: it belongs to the first item
    if preamble.strip():
        preamble_end = heads[0].start()
        items.append(
            Item(
                start=body_start,
                end=preamble_end,
                body=doc_body,
                date=doc_date,
                sections=_sections(text, body_start, preamble_end),
            )
        )
    for i, m in enumerate(heads):
        start, end = m.start(), heads[i + 1].start() if i + 1 < len(heads) else len(text)
        if i == 0 and not preamble.strip():
            start = body_start
        item_text = text[start:end]
        dnr_match = _DNR.search(item_text[:400]) or (_DNR.search(text[body_start:start]) if i == 0 else None)
        sections = _sections(text, _title_block_end(text, m, end), end)
        decision = " ".join(text[s.start : s.end] for s in sections if s.heading in DECISION_SECTIONS)
        items.append(
            Item(
                start=start,
                end=end,
                paragraph=f"§ {int(m.group('num'))}",
                number=int(m.group("num")),
                title=_item_title(text, m.group("rest"), m.end() + 1, end),
                dnr=re.sub(r"\s+", " ", dnr_match.group("dnr")) if dnr_match else None,
                body=_body(m.group("abbr"), "") or doc_body,
                date=doc_date,
                outcome=outcome(decision or item_text[:1500]),
                sections=sections,
                persons=persons(item_text, sections, start),
            )
        )
    if not heads:
        sections = _sections(text, body_start, len(text))
        items.append(Item(start=body_start, end=len(text), body=doc_body, date=doc_date, sections=sections))
    numbered = [it for it in items if it.paragraph]
    title: str | None
    if len(numbered) > 1:  # a protocol of several items is named by its meeting
        title = " ".join(x for x in ("Protokoll", doc_body, doc_date) if x)
    else:
        title = fields.get("titel") or next((it.title for it in items if it.title), None)
    title = title or _first_line(text, body_start)
    return Structure(
        doc_type=_doc_type(fields, text[body_start:], bool(heads)),
        title=title,
        organisation=org,
        body=doc_body or next((it.body for it in items if it.body), None),
        date=doc_date,
        items=tuple(items),
        furniture=tuple(sorted(furniture)),
    )


def _first_line(text: str, start: int) -> str | None:
    for _, _, line in _lines(text, start):
        if line.strip():
            return line.strip().lstrip("#").strip()[:200]
    return None
