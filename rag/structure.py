"""Protocol structure as pure functions: items (§), sections, metadata, outcome, persons, furniture.

``parse_structure(text)`` reads a protocol or guideline and returns a ``Structure`` whose spans are
offsets into ``text``. Matching is done on folded, OCR-repaired copies of short pieces of text, so
"Arendebeskrivning", "Forslag till kommunfullmiktige" and "VASTERAS STAD" are understood; all
spans and names point back at the text as written.

Layouts differ between municipalities, so nothing depends on one of them:

- header lines are read as columns (a run of two or more spaces or a tab splits fields), so
  ``BORÅS STAD      SAMMANTRÄDESPROTOKOLL`` / ``Kommunstyrelsen   Sammanträdesdatum 2024-11-11``
  give organisation, body and date in any order and case;
- a line repeated on several pages once its page number is masked ("1 (3)", "Sida 2 av 5",
  "1[5]") is page furniture, and so is a recurring body name that stands beside it;
- item headings are any of ``§ 45``, ``§45``, ``KS § 4``, ``Paragraf 45``, ``§ 3 a``; an agenda
  line (the same § again later, or a list under "Ärendelista"), a reference to another §
  ("§ 924.", "§ 22, att ...") are not items;
- the Dnr is read in its common forms, labelled or bare on the heading lines;
- the outcome, the body proposed to and the decisive span come from the item's decision text
  (``rag.decision``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from rag.decision import (
    as_written,
    higher_body,
    item_decision,
    line_spans,
    outcomes,
    proposal_to,
    referred_text,
    vote_result,
)
from rag.decision import outcome as outcome  # re-exported: rag.structure.outcome predates rag.decision
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

# An item heading: "§ 87", "§87", "KF § 100 Svar på motion ...", "SON AU § 58", "Paragraf 45",
# "§ 3 a", and "$ 87" as OCR reads a § now and then. What may follow the number is checked by ``_is_heading_rest``.
_ITEM = re.compile(
    r"^[ \t#*]*(?:(?P<abbr>[A-ZÅÄÖ]{1,5}(?:[ \t]+[A-ZÅÄÖ]{2,4})?)[ \t]+)?(?:§|\$|Paragraf\b)[ \t]*(?P<num>\d{1,4})"
    r"(?:[ \t]?(?P<suffix>[a-z])(?![\w]))?(?P<rest>[^\n]*)$",
    re.MULTILINE,
)
# A Dnr: a label and a case number, or a bare case number of a recognisable shape.
_DNR_LABEL = r"(?i:\bdnr|\bdiarienr|\bdiarienummer|\bärendenummer|\bärendenr|\bärende nr|\bvårt dnr|\bdnr\.)"
_DNR_NUMBER = (
    r"(?:[A-ZÅÄÖ]{1,6}(?:[ \t]|[-/]?(?=\d)))?"  # "KS ", "SLK-", "XY", "KF/"
    r"\d[\d]*(?:[/.:\-_]\d[\d]*)+(?:[/.:\-]-?[\d.]+)*"  # 2024/145-1.2.3, 2024-00123, 2006.123, 00027:58
    r"(?:[ \t][A-ZÅÄÖ]{2,5}\b(?![ \t]?[a-zåäö]))?"  # a trailing unit: "2024.377 KS"
)
_DNR = re.compile(
    _DNR_LABEL + r"\.?[ \t]*:?[ \t]*(?P<dnr>" + _DNR_NUMBER + r"|\d{5,10}\b)",
)
# A bare case number on a heading line: it has a unit prefix ("BUN 2024/00123", "XY24/01456") or
# a year and a serial ("2024/145-1.2.3"); "Hulta 4:12", "2025–2027" and "Motion 2024:31" are not.
_BARE_DNR = re.compile(
    r"(?:(?<=\s)|(?<=\()|^)"
    r"(?P<dnr>(?:[A-ZÅÄÖ]{1,6}[ \t]?[-/]?[ \t]?\d{2,4}[/.:\-_]\d{1,6}|(?:19|20)\d\d[/.:\-_]\d{3,6})"
    r"(?:[/.:\-]-?[\d.]+)*(?:[ \t][A-ZÅÄÖ]{2,5})?)(?=\)|\s*$|[ \t]{2,}|,)"
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
# Page numbers in their common forms: "1 (3)", "Sida 2 av 5", "Sida 1(5)", "1[5]", "2 (av 2)", "3/7".
_PAGE_MARK = re.compile(
    r"(?:sida[ \t]*)?\b\d{1,3}[ \t]*(?:\([ \t]*(?:av[ \t]*)?\d{1,3}[ \t]*\)|\[\d{1,3}\]|av[ \t]+\d{1,3}\b)"
    r"|\bsida[ \t]+\d{1,3}\b|<!--[ \t]*sida[ \t]*\d+[ \t]*-->",
    re.IGNORECASE,
)
_FURNITURE_FIELD = re.compile(
    r"^(justerandes?( signatur| sign\.?)?|justerare|utdragsbestyrkande|ordforandes signatur|"
    r"sekreterarens? signatur|datum diarienr sida|sida|#|\**sammantradesprotokoll\**|protokoll|"
    r"protokollsutdrag|sammantradesdatum|datum)$"
)
_PERSON = re.compile(
    r"(?P<name>[A-ZÅÄÖÉ][a-zåäöéü]+(?:-[A-ZÅÄÖ][a-zåäöéü]+)?"
    r"(?:[ ](?:af|von|de|van|der|[A-ZÅÄÖÉ][a-zåäöéü]+(?:-[A-ZÅÄÖ][a-zåäöéü]+)?)){1,3})"
    r"[ ]?\((?P<party>[A-ZÅÄÖ]{1,4})\)"
)
_ROLE_WORDS = ("ordförande", "ordföranden", "ledamoten", "ledamot", "ersättaren", "motionären", "motionärerna")
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


def _key(line: str) -> str:
    """A heading or furniture line in comparable form: markup stripped, OCR-repaired, folded."""
    line = line.strip().strip("#*_ \t:").strip()
    return re.sub(r"\s+", " ", fold(repair(line)))


def fields(line: str) -> list[str]:
    """The columns of a layout line: text split at tabs and runs of two or more spaces."""
    return [f for f in re.split(r"\t+|[ ]{2,}", line.strip()) if f.strip()]


def source_header(text: str) -> tuple[dict[str, str], tuple[int, int] | None]:
    """The ``SOURCE-HEADER … END-SOURCE-HEADER`` fields of an archived web text, and its span."""
    m = _SOURCE_HEADER.match(text)
    if not m:
        return {}, None
    values = {}
    for line in m.group("body").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            values[key.strip().lower()] = value.strip()
    return values, (m.start(), m.end())


def _masked(line: str) -> str:
    """A line with its page number masked and spacing collapsed: the same on every page."""
    return re.sub(r"\s+", " ", _PAGE_MARK.sub("#", line)).strip()


def _is_furniture_line(line: str) -> bool:
    """A line of only signature labels, page numbers and the word 'protokoll' in some form."""
    if len(line.strip()) > 120:
        return False
    keys = [_key(p) for p in fields(_PAGE_MARK.sub("#", line))]
    words = {"protokoll", "protokollsutdrag", "sammantradesdatum", "datum"}
    return bool(keys) and all(not k or _FURNITURE_FIELD.match(k) for k in keys) and not set(keys) <= words


def find_furniture(text: str) -> list[tuple[int, int]]:
    """Spans of page furniture: signature and attestation lines, page numbers, repeated page headers.

    A page header is a short line that recurs on several pages once its page number is masked and
    that carries a date, a page number, the word 'protokoll' or capitals; a short recurring line
    next to one that names a body or the organisation (the body above "Protokoll nr 12") belongs to
    the same header.
    """
    lines = [(s, e, line) for s, e, line in line_spans(text) if line.strip()]
    counts = Counter(_masked(line) for _, _, line in lines)
    marks = [False] * len(lines)
    for i, (_, _, line) in enumerate(lines):
        masked = _masked(line)
        key = _key(line) if len(line) <= 160 else ""
        repeated_header = (
            counts[masked] >= 2
            and len(masked) <= 160
            and not masked.endswith((".", ":", ","))
            and not masked.startswith(("-", "•", "*", "§"))
            and key not in SECTION_HEADINGS
            and not _ITEM.match(line)
            and ((masked.isupper() and len(masked) >= 4) or _DATE.search(masked) or "#" in masked or "protokoll" in key)
        )
        marks[i] = bool(repeated_header) or _is_furniture_line(line) or "sammantradesprotokoll" in key.replace(" ", "")
    first = marks[:]  # a line beside a header line, not beside one so marked itself
    for i, (_, _, line) in enumerate(lines):
        masked = _masked(line)
        named = _body_name(line) or _ORG_NAME.fullmatch(line.strip())
        beside = (i > 0 and first[i - 1]) or (i + 1 < len(lines) and first[i + 1])
        short = counts[masked] >= 3 and len(masked) <= 60 and not masked.endswith(".")
        if not marks[i] and beside and short and named and _key(line) not in SECTION_HEADINGS:
            marks[i] = True
    return [(s, e) for (s, e, _), marked in zip(lines, marks, strict=True) if marked]


# Headings that are also the first word of ordinary titles or lines ("Motion om AI i skolan",
# "Beslutet gäller från ...").
_EXACT_ONLY = frozenset({"motion", "handling", "beslutet", "beredning", "skickas till"})
_HEADINGS_LONGEST_FIRST = sorted(SECTION_HEADINGS.items(), key=lambda kv: -len(kv[0]))
# "Kommunstyrelsens beslut", "<X>- och <Y>nämndens beslut", "Arbetsutskottets förslag",
# "Kommunstyrelsens förslag till kommunfullmäktige" (folded).
_OWN_DECISION = re.compile(r"^(?:[a-z]+- och |[a-z]+a )?[a-z]+(?:s|ens|ets) beslut$")
_OWN_PROPOSAL = re.compile(
    r"^(?:[a-z]+- och |[a-z]+a )?[a-z]+(?:s|ens|ets) forslag"
    r"(?: till (?:beslut|[a-z]*fullmaktige|[a-z]*styrelsen|[a-z-]*namnden))?$"
)


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
    if _OWN_DECISION.match(key):
        return "Beslut"
    if _OWN_PROPOSAL.match(key):
        return "Förslag till beslut"
    return None


def is_heading(line: str) -> bool:
    """Whether a line is a section heading (Beslut, Yrkanden, Ärendet ...)."""
    return _heading(line) is not None


def _sections(text: str, start: int, end: int) -> tuple[Section, ...]:
    heads: list[tuple[int, str]] = []
    for s, e, line in line_spans(text, start, end):
        if not (h := _heading(line)):
            continue
        # "Beslut" / "Förslag till kommunfullmäktige:" with nothing between: the second line is
        # the lead-in of the decision, not a section of its own
        lead_in = bool(heads) and h in DECISION_SECTIONS and line.rstrip().endswith(":")
        if lead_in and heads[-1][1] in DECISION_SECTIONS and not text[text.find("\n", heads[-1][0], e) + 1 : s].strip():
            continue
        heads.append((s, h))
    return tuple(Section(h, s, heads[i + 1][0] if i + 1 < len(heads) else end) for i, (s, h) in enumerate(heads))


def _body_name(field: str) -> str | None:
    """The body a header field names, as written (capitals title-cased, OCR repaired), or None."""
    value = field.strip(" \t:*#")
    value = _BODY_LABEL.sub("", value)
    # "Kommunstyrelsen 2024-03-06", "Kommunstyrelsen 2025-05-13, § 142": the name before a date
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


def _first_date(text: str) -> str | None:
    """The first date in ``text`` as ISO: '2024-09-30' or '12 mars 2025' -> '2025-03-12'."""
    iso = _DATE.search(text)
    word = _WORD_DATE.search(text)
    if word and (not iso or word.start() < iso.start()):
        day, month, year = word.groups()
        return f"{year}-{_MONTHS.index(month.lower()) + 1:02d}-{int(day):02d}"
    return iso.group() if iso else None


_DATE_LABEL = re.compile(
    r"^(?:sammantradesdatum|datum for sammantrade(?:t)?|sammantradet den|motesdatum|beslutsdatum|datum|"
    r"protokoll|tid|tid och plats|dag och tid)\b"
)
_NOT_MEETING_DATE = re.compile(r"inkom|giltig|galler|justering|anslag|revideras|ersatter|upprattad|tas ned|satts upp")


def meeting_date(text: str, page_headers: str = "") -> str | None:
    """The meeting or document date: a field labelled 'Sammanträdesdatum', 'Datum' (the date in the
    same field, the next one or the line below) at the head of ``text``, else in the repeated page
    headers, else the first date of a short header field."""
    return _labelled_date(text) or _labelled_date(page_headers) or _header_date(text)


def _labelled_date(text: str) -> str | None:
    lines = list(line_spans(text))
    for i, (_, _, line) in enumerate(lines[:80]):
        parts = fields(line)
        for j, part in enumerate(parts):
            key = fold(part.strip(" \t*#"))
            if not _DATE_LABEL.match(key) or _NOT_MEETING_DATE.search(key):
                continue
            if key.startswith(("tid", "dag", "protokoll")) and not _first_date(part):
                continue
            if d := _first_date(part):
                return d
            if j + 1 < len(parts) and (d := _first_date(parts[j + 1])):
                return d
            for _, _, below in lines[i + 1 : i + 3]:
                first = fields(below)[:3]
                found = next((d for f in first if (d := _first_date(f)) and len(f) <= 30), None)
                if found:
                    return found
    return None


def _header_date(text: str) -> str | None:
    lines = list(line_spans(text))
    for _, _, line in lines[:40]:
        for part in fields(line):
            date = _first_date(part) if len(part) <= 60 else None
            if date and not _DNR.search(part) and not _NOT_MEETING_DATE.search(fold(part)):
                return date
    return None


def _signed_date(text: str) -> str | None:
    """The date of a signature line near the end ("Karlstad 2025-01-27", "Umeå den 23 september 2024")."""
    tail = text[-1500:]
    found = None
    for _, _, line in line_spans(tail):
        stripped = line.strip()
        if len(stripped) <= 50 and re.match(r"^[A-ZÅÄÖ][\wåäö-]+,?\s+(?:den\s+)?\d", stripped):
            found = _first_date(stripped) or found
    return found


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


def _is_heading_rest(rest: str) -> bool:
    """Whether what follows '§ N' on a line can be a heading, not running text or a reference."""
    r = rest.strip()
    if not r:
        return True
    if r[0] in ",;)/":
        return False
    if r[0] == ".":
        return bool(re.match(r"^\.\s+[A-ZÅÄÖ]", r))
    if re.match(r"^[-–]\s*\d", r) or re.match(r"^(?:och|samt|i|p|st|kap|mom)\b", r):
        return False
    # "§ 45 (forts.)": the item goes on past a page break
    if re.match(r"^\(\s*forts|^forts(?:\.|\s*$)", r, re.IGNORECASE):
        return False
    return not r[0].islower()


_LIST_HEADING = re.compile(
    r"^(?:arendelista|arendeforteckning|foredragningslista|dagordning|innehall|innehallsforteckning|arenden"
    r"|forteckning over arenden|paragrafer|paragrafforteckning|narvarolista|narvaro|voteringslista|omrostningslista)$"
)
_DOT_LEADER = re.compile(r"(?:\.{3,}|…{2,}|(?:\. ){3,})\s*\d+\s*$")


def _candidates(text: str, body_start: int, furniture: Sequence[tuple[int, int]]) -> list[re.Match[str]]:
    """Item headings: § lines that are headings, with agenda lines and references left out. Numbers
    out of sequence stay: a compilation of extracts from several meetings has them."""
    found = [m for m in _ITEM.finditer(text, body_start) if _is_heading_rest(m.group("rest"))]
    found = [m for m in found if not _DOT_LEADER.search(m.group())]
    if not found:
        return []
    # a list under "Ärendelista", "Föredragningslista", "Innehåll": one line per § with nothing between
    list_lines: set[int] = set()
    in_list = False
    starts = [m.start() for m in found]
    nexts = [*starts[1:], len(text)]
    listed = {}
    for i, m in enumerate(found):
        segment = line_spans(text, m.end() + 1, nexts[i])
        between = [line for s, _, line in segment if line.strip() and not _in(s, furniture)]
        listed[i] = len(between) <= 1 and not any(is_heading(line) for line in between)
    heading_ends = [
        e for s, e, line in line_spans(text, body_start) if len(line) <= 40 and _LIST_HEADING.match(_key(line) or "-")
    ]
    for i, m in enumerate(found):
        before = [e for e in heading_ends if e <= m.start()]
        if before and not any(found[j].start() > before[-1] and not listed[j] for j in range(i)):
            in_list = listed[i]
        else:
            in_list = False
        if in_list:
            list_lines.add(i)
    kept = [m for i, m in enumerate(found) if i not in list_lines]
    # the same § more than once: an agenda line, the item, a line of a vote appendix. Those with
    # sections of their own are items (extracts of two meetings, each with its § 12); when none has,
    # the last one is.
    ends = [*(m.start() for m in kept[1:]), len(text)]
    sectioned = [
        any(is_heading(line) for _, _, line in line_spans(text, m.end() + 1, ends[i])) for i, m in enumerate(kept)
    ]
    groups: dict[tuple[int, str], list[int]] = {}
    for i, m in enumerate(kept):
        groups.setdefault(_number_key(m), []).append(i)
    chosen = {i for group in groups.values() for i in ([j for j in group if sectioned[j]] or group[-1:])}
    return [m for i, m in enumerate(kept) if i in chosen]


def _in(pos: int, spans: Sequence[tuple[int, int]]) -> bool:
    return any(s <= pos < e for s, e in spans)


def _number_key(m: re.Match[str]) -> tuple[int, str]:
    return int(m.group("num")), m.group("suffix") or ""


def _head_lines(text: str, heading: re.Match[str], end: int) -> list[tuple[int, int, str]]:
    """The lines of an item's heading block after the § line: up to its first section heading or
    the first paragraph of running text, at most four non-blank lines."""
    out: list[tuple[int, int, str]] = []
    for s, e, line in line_spans(text, heading.end() + 1, end):
        if not line.strip():
            continue
        if is_heading(line) or len(out) >= 4 or len(line.strip()) > 160:
            break
        out.append((s, e, line))
    return out


def _clean_dnr(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip(" ,.")


# A case number with a unit prefix opening the § line before the title: "§ 45 RS 2024/123 Ny strategi".
_LEADING_DNR = re.compile(
    r"^[ \t]*(?P<dnr>[A-ZÅÄÖ]{1,6}[ \t]?[-/]?[ \t]?\d{2,4}[/.:\-_]\d{1,6}(?:[/.:\-]-?[\d.]+)*)[ \t]+(?=[A-ZÅÄÖ])"
)


def _item_dnr(text: str, heading: re.Match[str], end: int, before: str) -> str | None:
    """The Dnr of an item: labelled or bare on its § line, else labelled or bare on its heading block."""
    if m := _LEADING_DNR.match(heading.group("rest")):
        return _clean_dnr(m.group("dnr"))
    lines = [heading.group("rest"), *(line for _, _, line in _head_lines(text, heading, end))]
    for line in lines:
        if m := _DNR.search(line):
            return _clean_dnr(m.group("dnr"))
        if (m := _BARE_DNR.search(line)) and len(line.strip()) <= 160:
            return _clean_dnr(m.group("dnr"))
    if before and (m := _DNR.search(before[-300:])):
        return _clean_dnr(m.group("dnr"))
    return None


def _strip_dnr(line: str, dnr: str | None = None) -> str:
    """A heading line without its Dnr: labelled ones, and the item's own when it stands bare."""
    line = _DNR.sub("", line)
    if dnr and (m := _LEADING_DNR.match(line)) and _clean_dnr(m.group("dnr")) == dnr:
        line = line[m.end() :]
    line = _BARE_DNR.sub(lambda m: "" if dnr is None or _clean_dnr(m.group("dnr")) == dnr else m.group(), line)
    line = re.sub(r"\(\s*\)", "", line)
    return re.sub(r"[ \t]{2,}", " ", line).strip(" \t-–:*#,").lstrip(". ")


def _item_title(
    text: str, heading: re.Match[str], end: int, furniture: Sequence[tuple[int, int]], dnr: str | None
) -> str | None:
    rest = _strip_dnr(heading.group("rest"), dnr)
    if not rest:
        lines: list[str] = []
        for s, _, line in line_spans(text, heading.end() + 1, end):
            if _in(s, furniture):
                continue
            if not line.strip():
                if lines:
                    break
                continue
            if is_heading(line) or re.match(r"^\s*(?:ärende|arende)\s*(?:nr\.?)?\s*\d+\s*$", line, re.IGNORECASE):
                if lines:
                    break
                continue
            stripped = _strip_dnr(line, dnr)
            if not stripped or (_DNR.search(line) and len(stripped) < 4):
                if lines:
                    break
                continue
            lines.append(stripped)
            if len(lines) == 3:
                break
        rest = " ".join(lines)
    rest = re.sub(r"^(Beslut|Beslutsärende|Ärende)\s*[-–:]\s*", "", rest.strip(" *#"))
    return rest or None


_DOC_TYPES = (
    ("tjansteskrivelse", "tjänsteskrivelse"),
    ("tjansteutlatande", "tjänsteskrivelse"),
    ("riktlinje", "riktlinje"),
    ("policy", "policy"),
    ("vagledning", "vägledning"),
    ("motion", "motion"),
    ("strategi", "strategi"),
    ("handlingsplan", "plan"),
    ("rapport", "rapport"),
    ("granskning", "rapport"),
    ("arsredovisning", "rapport"),
    ("protokoll", "protokoll"),
)


def _doc_type(source_fields: dict[str, str], text: str, has_items: bool) -> str:
    if has_items:
        return "protokoll"
    if source_fields.get("typ"):
        return source_fields["typ"].lower()
    head = fold(repair(text[:600]))
    if m := re.search(r"dokumenttyp:?\s+(\w+)", head):
        for needle, kind in _DOC_TYPES:
            if needle in m.group(1):
                return kind
    hits = [(i, kind) for needle, kind in _DOC_TYPES if (i := head.find(needle)) >= 0]
    return min(hits)[1] if hits else "dokument"


_DECIDED_BY = re.compile(
    r"^\s*(?:beslutad|antagen|antaget|faststalld|faststallt|beslutat|godkand)\s+(?:av|i)\s*:?\s*(?P<rest>.+)$"
    r"|^\s*(?:beslutsinstans|beslutande organ)\s*:?\s+(?P<rest2>.+)$"
    r"|^\s*(?:beslutsdatum|datum for beslut|antagandedatum)\s*:?\s+(?P<date>.+)$",
    re.IGNORECASE,
)


def decided_by(text: str) -> str | None:
    """A guideline's decision reference from its header: body, date and § ("Kommunstyrelsen
    2024-11-12, § 203"), from lines such as 'Beslutad av', 'Antagen av', 'Beslutsdatum'."""
    body: str | None = None
    date: str | None = None
    paragraph: str | None = None
    for _, _, line in list(line_spans(text))[:40]:
        joined = " ".join(fields(line))
        m = _DECIDED_BY.match(fold(joined))
        if not m:
            continue
        value = joined[
            m.start("rest") if m.group("rest") else m.start("rest2") if m.group("rest2") else m.start("date") :
        ]
        if not m.group("date") and body is None:
            words = re.split(r"[ ,]+\d|,", value, maxsplit=1)[0].strip()
            body = _body_name(words) or (words[:1].upper() + words[1:] if words else None)
        date = date or _first_date(value)
        if paragraph is None and (p := re.search(r"§\s*(\d+)", value)):
            paragraph = f"§ {p.group(1)}"
    if body is None and date is None:
        return None
    return " ".join(x for x in (body, date) if x) + (f", {paragraph}" if paragraph else "")


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


_TITLE_SKIP = re.compile(
    r"^(?:dnr|diarienummer|diarienr|inkom|datum|handlaggare|dokumenttyp|beslutad|antagen|faststalld|version"
    r"|dokumentagare|dokumentansvarig|sektor|avdelning|enhet|innehall|sida|till|fran|motion till|gäller)\b"
)


def _document_title(text: str, start: int) -> str | None:
    """The title of a document without items: the first line of several words that is not its
    letterhead (capitals), a header of columns or a metadata line."""
    for _, _, line in list(line_spans(text, start))[:25]:
        stripped = re.sub(
            r"^(?:dokumentnamn|dokumentets namn|titel|rubrik)\s*:\s*", "", line.strip().lstrip("#").strip(), flags=re.I
        )
        parts = fields(line)
        if len(parts) != 1 or len(stripped) < 8 or stripped.isupper() or _PAGE_MARK.search(stripped):
            continue
        if _TITLE_SKIP.match(fold(stripped)) or _body_name(stripped) or len(stripped.split()) < 2:
            continue
        if is_heading(stripped) and not line.lstrip().startswith("#"):
            continue
        if _DATE.search(stripped) and len(stripped) < 40:
            continue
        return stripped[:200]
    return None


def parse_structure(text: str) -> Structure:
    """Split a document into items (§) with metadata; a document without § is one item."""
    source_fields, header_span = source_header(text)
    body_start = header_span[1] if header_span else 0
    furniture = [(s + body_start, e + body_start) for s, e in find_furniture(text[body_start:])]
    if header_span:
        furniture.insert(0, header_span)

    org = source_fields.get("utgivare", "").split("/")[0].strip() or organisation(text[body_start:])
    heads = _candidates(text, body_start, furniture)
    head_text = text[body_start : heads[0].start() if heads else min(len(text), body_start + 1500)]
    doc_type = _doc_type(source_fields, text[body_start:], bool(heads))
    decided = None if heads else decided_by(text[body_start : body_start + 3000])
    page_headers = "\n".join(text[s:e] for s, e in furniture[:400] if e - s <= 160)
    if heads:
        doc_body = _header_body(head_text[:2500]) or _frequent_body(page_headers)
    else:
        doc_body = _document_body(text[body_start:], decided)
    doc_date = meeting_date(text[body_start:], page_headers)
    if decided and (d := _first_date(decided)):
        doc_date = d
    elif doc_type == "motion":
        doc_date = _signed_date(text) or doc_date
    if source_fields.get("datum"):
        doc_date = source_fields["datum"].split(" ")[0]
    items: list[Item] = []
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
        block = _head_lines(text, m, end)
        sections_start = block[-1][1] + 1 if block and not is_heading(block[-1][2]) else m.end() + 1
        if _strip_dnr(m.group("rest")):  # the title is on the § line: sections may start right below it
            sections_start = min(sections_start, m.end() + 1)
        sections = _sections(text, min(sections_start, end), end)
        span, decision_text, decision_heading = item_decision(text, sections, sections_start, end, furniture)
        in_beslut = span is not None and any(x.heading == "Beslut" and x.start <= span[0] < x.end for x in sections)
        if not in_beslut and (vote := vote_result(text, span[1] if span else sections_start, end)):
            span, decision_text = vote  # no Beslut section: the vote decided, not the proposition
        elif decision_text and (referred := referred_text(text, start, end, decision_text, sections)):
            decision_text = referred
        dnr = _item_dnr(text, m, end, text[body_start : m.start()] if i == 0 else "")
        item_title = _item_title(text, m, end, furniture, dnr)
        if decision_text:
            main, others = outcomes(decision_text, item_title)
        else:  # an item that records no decision: information given, a question put
            main, others = ("noterad" if item_text[m.end() - start :].strip() else "other"), ()
        suffix = f" {m.group('suffix')}" if m.group("suffix") else ""
        body = _abbreviated_body(m.group("abbr")) or doc_body
        items.append(
            Item(
                start=start,
                end=end,
                paragraph=f"§ {int(m.group('num'))}{suffix}",
                number=int(m.group("num")),
                title=item_title,
                dnr=dnr,
                body=body,
                date=doc_date,
                outcome=main,
                sections=sections,
                persons=persons(item_text, sections, start),
                decision=span,
                proposal_to=higher_body(proposal_to(decision_text, decision_heading) if decision_text else None, body),
                outcomes=others,
            )
        )
    if not heads:
        sections = _sections(text, body_start, len(text))
        items.append(Item(start=body_start, end=len(text), body=doc_body, date=doc_date, sections=sections))
    if heads and doc_body is None:
        doc_body = _deciding_body(text, items)
        items = [replace(it, body=it.body or doc_body) for it in items]
    numbered = [it for it in items if it.paragraph]
    title: str | None
    if len(numbered) > 1:  # a protocol of several items is named by its meeting
        title = " ".join(x for x in ("Protokoll", doc_body, doc_date) if x)
    elif numbered:
        title = source_fields.get("titel") or numbered[0].title
    else:
        title = source_fields.get("titel") or _document_title(text, body_start)
    title = title or _first_line(text, body_start)
    return Structure(
        doc_type=doc_type,
        title=title,
        organisation=org,
        body=doc_body or next((it.body for it in items if it.body), None),
        date=doc_date,
        items=tuple(items),
        furniture=tuple(sorted(furniture)),
        decided_by=decided,
    )


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


def _first_line(text: str, start: int) -> str | None:
    for _, _, line in line_spans(text, start):
        if line.strip():
            return line.strip().lstrip("#").strip()[:200]
    return None
