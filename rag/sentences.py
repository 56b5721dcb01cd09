"""Sentences of a document as spans, and what they state: the units an answer quotes.

Sentence boundaries come from sentencex's Swedish rules (Wikimedia's segmenter); protocol layout
adds two of its own: a blank line always ends a sentence, and a heading line ("Beslut", "§ 100 ...")
is split off the sentence it runs into. Every span is a pair of offsets into the document text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from sentencex import segment

from rag.normalise import analyse, fold, key_set, repair
from rag.structure import is_heading
from rag.vocab import PARTIES

_MIN_SENTENCE_CHARS = 20
LEAD_IN_LIMIT = 500


def sentence_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans of ``text[start:end]`` as offsets into ``text``, whitespace trimmed.

    Sentences come from sentencex's Swedish rules; a blank line always ends one, and a heading line
    ("Beslut", "Yrkanden", "§ 100 ...") is split off the sentence it runs into.
    """
    return [(start + s, start + e) for s, e in _region_spans(text[start:end])]


@lru_cache(maxsize=4096)
def _region_spans(region: str) -> tuple[tuple[int, int], ...]:
    """``sentence_spans`` of a whole string, the last few thousand kept (answers read the same
    passages again)."""
    spans: list[tuple[int, int]] = []
    at = 0
    for piece in segment("sv", region):
        stripped = piece.strip()
        if not stripped:
            continue
        found = region.find(stripped, at)
        if found < 0:  # the segmenter normalised something; the paragraph split below still holds
            continue
        at = found + len(stripped)
        for block in re.finditer(r"\S(?:.*?\S)?(?=\s*\n\s*\n|\s*$)", region[found:at], re.DOTALL):
            spans.extend(_split_heading(region, found + block.start(), found + block.end()))
    return tuple(spans)


def join_lead_ins(text: str, spans: Sequence[tuple[int, int]], limit: int = LEAD_IN_LIMIT) -> list[tuple[int, int]]:
    """Spans with each lead-in ending in ':' ("De principer som är viktiga är:", "Förslag till
    kommunfullmäktige:") joined to what it introduces, up to ``limit`` characters: alone, a lead-in
    answers nothing. The sentences it introduces stay as spans of their own too."""
    out = list(spans)
    for i, (s, e) in enumerate(spans):
        if not text[s:e].rstrip().endswith(":"):
            continue
        end = e
        for k, (s2, e2) in enumerate(spans[i + 1 :]):
            bullet = text[s2:e2].lstrip().startswith(("-", "•", "*", "–"))
            if e2 - s > limit or (k and not bullet):
                break
            end = e2
            if not bullet:
                break  # one following sentence, or a whole list
        if end > e:
            out[i] = (s, end)
    return out


# Words a wrapped line of running text can end on but a heading cannot: the line goes on.
_CONTINUES = re.compile(
    r"(?:\b(?:att|och|eller|som|samt|om|för|till|i|med|av|på|från|vid|under|enligt|den|det|de|en|ett|är|har"
    r"|ska|får|kan|beslutar|besluta|föreslår|yrkar)|[-–,;:(])$",
    re.IGNORECASE,
)
_HEADING_LINE = re.compile(r"(?:\d{1,2}(?:\.\d{1,2})*\.?\s+)?[A-ZÅÄÖ]")


def _layout_heading(line: str, following: str) -> bool:
    """Whether a line that starts a sentence is a heading by layout alone: short, unpunctuated,
    capitalised or numbered ("5 Godkända verktyg", "Piloten i Öjebyn ..."), not ending on a word
    a wrapped line of running text ends on, and followed by a line that starts a sentence."""
    stripped = line.strip()
    if not stripped or len(stripped) > 60 or len(stripped.split()) > 8 or stripped[-1] in ".!?":
        return False
    return bool(_HEADING_LINE.match(stripped)) and not _CONTINUES.search(stripped) and following[:1].isupper()


def _split_heading(region: str, start: int, end: int) -> list[tuple[int, int]]:
    """The block ``region[start:end]`` with every heading line split off as its own span: a
    heading of the protocol vocabulary anywhere in it ("Beslut" after a title that runs over
    three lines), a § line, or a line that is a heading by layout where a sentence starts."""
    spans: list[tuple[int, int]] = []
    lines = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", region[start:end])]
    at = 0  # start of the span being built, relative to ``start``
    for i, (s, e) in enumerate(lines):
        line = region[start + s : start + e]
        following = region[start + lines[i + 1][0] : start + lines[i + 1][1]].lstrip() if i + 1 < len(lines) else ""
        starts_sentence = i == 0 or region[start + lines[i - 1][0] : start + lines[i - 1][1]].rstrip()[-1:] in ".!?:"
        heading = is_heading(line) or line.lstrip().startswith("§")
        heading = heading or (bool(following) and starts_sentence and _layout_heading(line, following))
        if not heading:
            continue
        if region[start + at : start + s].strip():
            spans.append(_trimmed(region, start + at, start + s))
        spans.append(_trimmed(region, start + s, start + e))
        at = e
    if region[start + at : end].strip():
        spans.append(_trimmed(region, start + at, end))
    return spans


def _trimmed(region: str, start: int, end: int) -> tuple[int, int]:
    piece = region[start:end]
    return start + len(piece) - len(piece.lstrip()), end - len(piece) + len(piece.rstrip())


# A list's enumerator ("1. ", "2) ") at the start of a line: not a count.
_ENUMERATOR = re.compile(r"(?m)^\s*\d{1,2}[.)]\s")
_COUNT_AFTER, _COUNT_BEFORE = 4, 2  # words after and before a figure in which the counted word stands


def same_key(a: str, b: str) -> bool:
    """Whether two index keys name the same thing, a compound holding its parts."""
    # a compound holds its parts: "återansökning" is an "ansökning", "oskrivn" speaks of "skriv"
    if min(len(a), len(b)) < 4:
        return a == b
    return a in b or b in a


def key_in(key: str, keys: frozenset[str]) -> bool:
    """Whether ``keys`` hold ``key`` or a key that names the same thing (``same_key``), without
    comparing it with every key: its own parts are looked up, and it is found inside longer keys."""
    if key in keys:
        return True
    if len(key) < 4:
        return False
    n = len(key)
    if any(key[i:j] in keys for i in range(n - 3) for j in range(i + 4, n + 1)):
        return True
    return key in _long_keys(keys)


@lru_cache(maxsize=1024)
def _long_keys(keys: frozenset[str]) -> str:
    """The keys that can hold another (four letters or more), one per line, to search in at once."""
    return "\n".join(k for k in keys if len(k) >= 4)


# A count: a figure that is not a year, a date's part or a § number, or a number word standing alone.
_COUNT = re.compile(
    r"(?<![\d/§-])(?<!§ )\b(?!(?:19|20)\d\d\b)\d[\d  ]*(?:[,.]\d+)?\b(?![/-]\d)"
    r"|\b(?:två|tre|fyra|fem|sex|sju|åtta|nio|tio|elva|tolv|tjugo|trettio|fyrtio|femtio|hundra|tusen"
    r"|hundratals|tusentals|miljon|miljoner)\b",
    re.IGNORECASE,
)


def counts(text: str, counted: Sequence[str], topical: Sequence[str] = ()) -> bool:
    """Whether a sentence states a count of one of the ``counted`` keys: a figure ("1 050", "tolv"),
    not a year or a list's enumerator, with the counted word near it ("omkring 1 050
    återansökningar", "licenser, 120 stycken"), in a sentence that also speaks of the question's
    matter (one of ``topical``, when given): "inom 72 timmar" of an incident report does not say
    how many hours a pilot saves."""
    text = _ENUMERATOR.sub(" ", text)
    if topical and not any(key_in(t, key_set(text)) for t in topical):
        return False
    for match in _COUNT.finditer(text):
        # the counted word just after the figure ("6 000 oskrivna diktat", "60 granskade svar
        # innehöll fel") or just before it ("licenser, 120 stycken")
        after = analyse(" ".join(text[match.end() :].split()[:_COUNT_AFTER]))
        before = analyse(" ".join(text[: match.start()].split()[-_COUNT_BEFORE:]))
        if any(same_key(k, c) for k in after + before for c in counted):
            return True
    return False


_PARTY = "|".join(sorted(PARTIES, key=len, reverse=True))
_MONTH_NAMES = "januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|november|december"
_SENTENCE_TYPES: dict[str, re.Pattern[str]] = {
    # who, by name: "Sara Holm (KD)", "digitaliseringsdirektör Antonios Arvanitidis", "professor Fredrik Heintz"
    "person": re.compile(
        rf"\b[A-ZÅÄÖ][a-zåäöéü]+(?:[ -][A-ZÅÄÖ][a-zåäöéü]+)*\s*\((?:{_PARTY})\)"
        r"|(?i:(?:direktör|ordförande|ordföranden|professor|minister|ministern|chef|samordnare|ledamot|ledamoten))"
        r"\s+[A-ZÅÄÖ][a-zåäöé]+\s+[A-ZÅÄÖ][a-zåäöé]+"
        r"|(?<=[a-zåäö,] )(?!Region\b|Regionen\b|Landstinget\b)[A-ZÅÄÖ][a-zåäöé]+\s+[A-ZÅÄÖ][a-zåäöé]+"
    ),
    # who, by role or body: "ordföranden", "motionärerna", "AI-kommissionen", "Regeringskansliet"
    "role": re.compile(
        r"(?i:(?:direktör|direktören|ordförande|ordföranden|professor|minister|ministern|chef|chefen|samordnare"
        r"|ledamot|ledamöter|ledamoten|motionär|motionären|motionärerna|ansvarig)\b"
        r"|\b\w*(?:nämnden|styrelsen|fullmäktige|kommissionen|kansliet|myndigheten|verket|kassan|utskottet)\b)"
        # the agent of a passive: "projektet leds av AI Sweden", "drivs av Inera"
        r"|\b(?:leds|drivs|ägs|samordnas|koordineras|finansieras|förvaltas|utförs|genomförs)\s+av\s+[A-ZÅÄÖ]"
    ),
    "date": re.compile(
        r"\b(?:19|20)\d\d-[01]\d-[0-3]\d\b|\b[0-3]?\d\s+(?:januari|februari|mars|april|maj|juni|juli|augusti"
        r"|september|oktober|november|december)(?:\s+(?:19|20)\d\d)?\b|\b(?:senast|från och med|till och med)\s+\S+"
        r"|\b(?:våren|hösten|sommaren|vintern|januari|februari|mars|april|maj|juni|juli|augusti|september|oktober"
        r"|november|december)\s+(?:19|20)\d\d\b|(?<![/\d-])\b(?:19|20)\d\d\b(?![/-]\d)",
        re.IGNORECASE,
    ),
    # a count or amount, not a year, date ("1 november"), week ("v.50"), § or case number, nor a
    # reference ("bilaga 5", "artikel 35")
    "number": re.compile(
        r"(?<![\d/§-])(?<!§ )(?<!\bv\.)(?<!\bv\. )(?<!\bvecka )(?<!bilaga )(?<!punkt )(?<!sidan )(?<!kapitel )"
        r"(?<!artikel )(?<!kap\. )(?<!art\. )\b(?!(?:19|20)\d\d\b)\d[\d  ]*(?:[,.]\d+)?\b(?![/-]\d)"
        rf"(?!\s*(?i:{_MONTH_NAMES})\b)"
        r"|\b(?:två|tre|fyra|fem|sex|sju|åtta|nio|tio|elva|tolv|tjugo|hundra|tusen|miljon|miljard)\w*\b",
        re.IGNORECASE,
    ),
    # an amount: a figure with its currency ("14,5 miljoner kronor", "540 mnkr", "4 000 kr")
    "money": re.compile(
        r"(?:\d[\d  ]*(?:[,.]\d+)?|\b(?:en|ett|två|tre|fyra|fem|sex|sju|åtta|nio|tio|hundra|tusen)\w*)\s*"
        r"(?:(?:miljon|miljoner|miljard|miljarder|tusen)\s+)?(?:kronor|kr|mnkr|tkr|mkr|msek|sek|euro|€)\b",
        re.IGNORECASE,
    ),
    "frequency": re.compile(
        r"\b(?:årligen|halvårsvis|kvartalsvis|månadsvis|veckovis|varje\s+(?:år|månad|vecka|kvartal)|gång(?:er)? per)",
        re.IGNORECASE,
    ),
    # a supplier or other company by name: "Tieto Sverige AB", "avtal med Microsoft", "tilldelas Atea"
    "company": re.compile(
        r"\b[A-ZÅÄÖ][\w&.-]+(?:\s+[A-ZÅÄÖ][\w&.-]+)*\s+(?:AB|Ab|Oy|AS|ASA|A/S|Inc|Ltd|GmbH|Corporation)\b"
        r"|\b(?:tilldela[st]?|[Ll]everantören|leverantör är|avtal med|avtalet med|levereras av)\s+[A-ZÅÄÖ]"
    ),
    "reason": re.compile(
        r"\b(?:eftersom|därför|då det|för att|på grund av|mot bakgrund av|syftet|ser inte|anledning)", re.IGNORECASE
    ),
    # how long: "i högst 30 dagar", "efter 12 månader", "senast"
    "duration": re.compile(
        r"\b\d+[\d  ]*(?:timmar|timme|dygn|dagar|dag|veckor|vecka|månader|månad|år|minuter|sekunder)\b|\bsenast\b",
        re.IGNORECASE,
    ),
    "percent": re.compile(r"\d\s*(?:procent|%)", re.IGNORECASE),
    # a change by an amount: "minskade från 12 till 7 minuter", "ökade med 12 procent"
    "change": re.compile(
        r"\b(?:minskade|minskat|minskar|ökade|ökat|ökar|sjönk|sjunkit|steg|stigit|halverades|halverats"
        r"|förkortades|förkortats|kortades|sänktes|sänkts|höjdes|höjts)\b.{0,60}?\b(?:från|med|till)\s+(?:omkring\s+|cirka\s+|ca\s+)?\d",
        re.IGNORECASE,
    ),
    # a rule: what one may, must or may not do ("... får inte användas för ...", "krävs tillstånd")
    "rule": re.compile(
        r"\b(?:får|ska|skall|måste|krävs|kräver|tillåt\w*|förbjud\w*|aldrig|endast|bara)\b", re.IGNORECASE
    ),
}


_ENUMERATOR = re.compile(r"(?m)^\s*(?:\d{1,2}|[a-z])[.)]\s+")
_OCR_ONE = re.compile(
    r"(?<=[a-zåäö]) 1 (?!(?:januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|november"
    r"|december)\b)(?=[a-zåäö])"
)


# A date as sentence_kinds reads one ("2024-09-30", "1 oktober 2025", "hösten 2024", "2025").
DATE = _SENTENCE_TYPES["date"]


@lru_cache(maxsize=8192)
def sentence_kinds(sentence: str) -> frozenset[str]:
    """What a sentence states: a person by name, a role or body, a date, a number, an amount, a
    frequency, a reason, a duration, a percentage, a rule."""
    # a list number ("1. Kommunstyrelsen beslutar") and an OCR "1" for "i" state no count
    sentence = _OCR_ONE.sub(" i ", _ENUMERATOR.sub("", sentence))
    return frozenset(kind for kind, pattern in _SENTENCE_TYPES.items() if pattern.search(sentence))


@lru_cache(maxsize=8192)
def quotable(sentence: str) -> bool:
    """Whether a sentence can stand as a quote: not a heading, a bare reference or page debris."""
    stripped = sentence.strip()
    if len(stripped) < _MIN_SENTENCE_CHARS or len(stripped.split()) < 3:
        return False
    if "\n" not in stripped and (is_heading(stripped) or stripped.startswith(("§", "#"))):
        return False
    letters = sum(ch.isalpha() for ch in stripped)
    return letters >= 0.6 * len(stripped.replace(" ", ""))


# A sentence that states a decision rather than a proposition, a yrkande or background: "Motionen
# avslås.", "Kommunstyrelsen beslutar att ...", "<styrelsen> föreslår <fullmäktige> besluta",
# "Ärendet återremitteras ...", "<informationen> läggs till handlingarna"
_DECISIVE = re.compile(
    r"\b(?:beslutar|beslöt|föreslår\b.{0,80}\bbesluta|avslås|avslår|bifalls|bifaller|antas|antar|godkänns"
    r"|godkänner|fastställs|fastställer|tillstyrks|tillstyrker|beviljas|beviljar|anses\s+(?:vara\s+)?besvarad"
    r"|är\s+besvarad|besvaras|återremitter\w*|bordläggs|bordlägger|läggs?\s+.{0,40}till\s+handlingarna"
    r"|lägger\s+.{0,60}till\s+handlingarna|antecknas|noteras|uppdrar|ger\s+.{0,80}\bi\s+uppdrag|får\s+i\s+uppdrag"
    r"|får\s+(?:genomföra|införa|använda|starta|påbörja|inleda|upphandla|teckna)|förlängs|förlänger|överlåter|genomförs|genomföras|inte\s+bereda|utses|utser|väljs|väljer|förklaras"
    r"|översänds|överlämnas|föranleder|avskrivs|upphävs|upphäver|ställer\s+sig\s+bakom)\b",
    re.IGNORECASE,
)
# ... and what only reports one: a yrkande, the chair's proposition, a vote, a reservation, a proposal
# someone else makes ("<styrelsen> föreslås besluta", "<förvaltningen> föreslår").
_REPORTED = re.compile(
    r"\b(?:yrka[rt]?|proposition\w*|röstar|röstade|votering\w*|reserver\w*|föreslås"
    r"|\w*förvaltningen\s+föreslår|\w*kontoret\s+föreslår|har\s+i\s+en\s+motion|motionärerna?)\b",
    re.IGNORECASE,
)
_NOT_DECIDING = frozenset(
    {
        "Yrkanden",
        "Proposition",
        "Omröstning",
        "Reservation",
        "Ärendebeskrivning",
        "Bakgrund",
        "Sammanfattning",
        "Överläggning",
        "Beslutsunderlag",
        "Beslut delges",
        "Protokollsanteckning",
        "Särskilt yttrande",
        "Ärendets behandling",
    }
)
_PROPOSES_TO = re.compile(
    r"\bföreslår\s+(?:att\s+)?(?P<body>[A-ZÅÄÖa-zåäö-]*(?:fullmäktige|styrelsen|nämnden))\b", re.IGNORECASE
)


_OCR_HINT = re.compile(r"[a-zåäö][0-9][a-zåäö]|rn[a-zåäö]|[éè]")


def decides(sentence: str) -> bool:
    """Whether a sentence states a decision (not a yrkande, proposition, vote or background)."""
    sentence = repair(sentence) if _OCR_HINT.search(sentence) else sentence
    return bool(_DECISIVE.search(sentence)) and not _REPORTED.search(sentence)


def proposes_to(sentence: str) -> str | None:
    """The higher body a decisive sentence only proposes to: 'Kommunstyrelsen föreslår
    kommunfullmäktige besluta ...' -> 'Kommunfullmäktige'."""
    m = _PROPOSES_TO.search(sentence)
    return m.group("body")[:1].upper() + m.group("body")[1:] if m else None


def decisive_spans(text: str, item: Mapping[str, Any]) -> list[tuple[int, int]]:
    """The span(s) stating what an item decided: the structure's ``decision`` span when it has one,
    else the first decisive sentence of its Beslut (or, failing that, Förslag till beslut) section,
    else the first decisive sentence of the item outside the sections that only report (Yrkanden,
    Proposition, Ärendebeskrivning ...). Empty when the item states no decision."""
    if item.get("decision"):
        s, e = item["decision"]
        return [(int(s), int(e))]
    sections = item.get("sections") or ()
    for wanted in ("Beslut", "Förslag till beslut"):
        for section in (x for x in sections if x["heading"] == wanted):
            spans = join_lead_ins(text, sentence_spans(text, section["start"], section["end"]))
            spans = [(s, e) for s, e in spans if quotable(text[s:e])]
            best = next(((s, e) for s, e in spans if decides(text[s:e])), None)
            if best is None and wanted == "Beslut":  # a Beslut section states the decision, however worded
                best = next(iter(spans), None)
            if best:
                return [best]
    if item.get("paragraph") is None and not item.get("outcome"):
        # a document without § and without a stated outcome (a guideline, a report, questions and
        # answers): its rules ("får använda ...") are not decisions of an item
        return []
    reporting = [(x["start"], x["end"]) for x in sections if x["heading"] in _NOT_DECIDING]
    title = fold(item.get("title") or "")
    for s, e in join_lead_ins(text, sentence_spans(text, item["start"], item["end"])):
        sentence = text[s:e]
        if any(a <= s < b for a, b in reporting) or not quotable(sentence) or (title and fold(sentence) == title):
            continue
        if decides(sentence):
            return [(s, e)]
    return []
