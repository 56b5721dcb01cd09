"""Query understanding: language, and the organisation, body, year, § and Dnr a question names.

Pure functions over the question text and the organisations and bodies the index knows.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from functools import lru_cache

from rag.compounds import compound_parts
from rag.glossary import translate_terms
from rag.normalise import analyse, fold, tokenize
from rag.types import QueryInfo
from rag.vocab import AMBIGUOUS_PLACES, BODY_ABBREVIATIONS, MUNICIPALITIES, PLACE_ALIASES, REGIONS

_YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")
_PARAGRAPH = re.compile(r"(?:§|\bparagraf|\bparagraph)\s*(\d{1,4})\b", re.IGNORECASE)
_DNR = re.compile(r"\b(?:([A-ZÅÄÖ]{1,6})\s?)?(\d{4})\s?[/-]\s?(\d{1,6})\b")
_SWEDISH_LETTERS = re.compile(r"[åäöÅÄÖ]")
# What a question asks for, recognised from its words (folded), and the sections that state it.
# The specific asks (who proposed, who dissented, how the vote went) come first: when one matches,
# the general "what was decided" does not also apply.
_INTENTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"\breserv|\bdissent", ("Reservation",)),
    (r"\bomrostning|\brostade|\bvoter|\bvote", ("Omröstning", "Proposition")),
    (r"\byrka|\byrkande|\bforeslog\b|\bproposed\b|\bmoved\b", ("Yrkanden", "Förslag till beslut", "Proposition")),
    (
        r"\bbeslut|\bavgjord|\bavslo|\bbifoll|\bsagt? (nej|ja)\b|\bblev (det|resultatet|utfallet|forslaget)"
        r"|\bvad blev\b|\bdecide|\bdecision|\boutcome|\breject|\bapprove|\bturned down",
        DECISION_INTENT := ("Beslut", "Förslag till beslut"),
    ),
)


# What kind of thing a question asks for, recognised from its words (folded).
_ANSWER_TYPES: tuple[tuple[str, str], ...] = (
    (r"\bhur ofta\b|\bhow often\b", "frequency"),
    (
        r"^\W*(?:och |men )?nar\b|\b(?:fran|sedan|till) nar\b|\bvilket \w*datum\b|\b(?:start|slut)datum"
        r"|\bvilken dag\b|\bvilket ar\b"
        r"|\bhur snart\b|\bnar i tiden\b|\bvilka ganger\b"
        r"|^\W*(?:and |but )?when\b|\b(?:since|from|until) when\b|\bwhat date\b|\bwhich year\b|\bhow soon\b",
        "date",
    ),
    (
        r"\bvad (?:kostar|kostade)\b|\bkosta\b|\bkostnad(?:en|er|erna)?\b|\bhur mycket pengar\b|\bkronor\b"
        r"|\bpris(?:et)?\b|\b(?:max)?belopp(?:et)?\b|\blana\b|\blanetak\w*"
        r"|\bhow much money\b|\bcosts?\b|\bspen[dt]\b|\ballocated?\b",
        "money",
    ),
    # a vote's figures are asked as "hur jämnt", "röstetalet": "40 Ja mot 41 Nej"
    (r"\bhur (?:manga|mycket|stor|jamn)|\brostetal|\brostsiffr|\bhow (?:many|much|close)\b|\bvote count", "number"),
    (
        r"^\W*(?:och |men )?vem\b|\bvilk(?:a|en) (?:ledamot\w*|person\w*|politiker\w*)"
        r"|^\W*(?:och |men )?vilka (?:i|inom)\b|^\W*(?:and |but )?who\b|\bwhom\b",  # "Vilka i nämnden ..."
        "person",
    ),
    (
        r"\bvilket (?:foretag|bolag)|\bvilken leverantor|\bvilka leverantorer|\bvem (?:vann|levererar|fick avtalet)"
        r"|\bwhich (?:company|supplier|vendor)|\bwho won\b",
        "company",
    ),
    (r"\bvarfor\b|\bwhy\b", "reason"),
)
# A question that asks what was decided, by its words or as a yes/no question about an action
# ("Får hemtjänsten ...?", "Blev det något av förslaget?"), folded; not one about what the asker
# may do ("Får jag ...?", a rule) or what an organisation has ("Har kommunen en AI-strategi?").
_DECISION_QUESTION = re.compile(
    r"\bbeslut|\bbestam|\bbifol|\bavslo|\bsa(?:gt)? (?:ja|nej)\b|\bgick .{0,60}igenom|\bfick .{0,60}igenom"
    r"|\bblev (?:det|beslutet|utfallet|resultatet|svaret)\b|\bhur (?:slutade|gick|blev|stallde|ställde)"
    r"|\bvad vill\b.{0,60}\b(?:svara|besluta|gora med)|\bblir det\b|\bhanterade\b"
    r"|\bskickade .{0,40}svar|\bvad ska .{0,60}svara"
    r"|\bvad (?:hande|gjorde|tyckte|tycker|rekommenderade|ville|svarade|blev|sa|sade)\b"
    r"|\bantog|\bantagit|\bgodkan|\bbevilj|\bforbj[ou]d"
    r"|\bklubba|\butfall|\bavgjord|\bsvar pa motion|\bdecide|\bdecision|\bvalde\b|\bchose\b"
    r"|\bapprov|\breject|\boutcome|\badopt|\bturn(?:ed)? down|\bwhat happened"
    r"|\bja eller nej\b|^\W*(?:och |men )?(?:far|ska|blir|kommer|fick|blev|tog|gick|sa|did)\b(?!\s+(?:jag|vi|du|man)\b)"
)


def names_decision(text: str) -> bool:
    """Whether a question speaks of a decision at all, also when it asks when or how much."""
    return bool(_DECISION_QUESTION.search(fold(text)))


# "hur många <adjektiv> <substantiv>", "antalet <substantiv>", "how many <nouns>": the words counted
_COUNTED = re.compile(
    r"\b(?:hur manga|antal(?:et)?|how many|the number of)\s+(?:(?:av|of|de|the)\s+)*(\w+)(?:\s+(\w+))?"
)

# "utöka antalet licenser", "minska antalet platser": a number changed, not a count asked (folded)
_CHANGED_COUNT = re.compile(
    r"\b(?:utoka|oka|minska|begransa|halvera|fordubbla|hoja|sanka|behalla|increase|reduce|raise|cut|limit)\w*\s+$"
)


def counted_terms(text: str) -> tuple[str, ...]:
    """The keys of what a question counts ("hur många elever" -> elev), the word after the
    question word and the one after it (the first may be an adjective); for an English question
    their Swedish glossary terms, or nothing when the glossary does not know them: a count of
    something unnamed cannot be checked."""
    from rag.glossary import GLOSSARY

    folded = fold(text)
    match = _COUNTED.search(folded)
    if not match or _CHANGED_COUNT.search(folded[: match.start()]):
        return ()
    words = [w for w in match.groups() if w]
    if re.match(r"\W*(?:how|the)\b", match.group(0)):
        words = [GLOSSARY[w] for w in words if w in GLOSSARY]
    return tuple(dict.fromkeys(k for w in words for k in analyse(w) if len(k) >= 3))


# "Finns det andra kommuner som ...", "Vilka regioner har ...", "Har någon annan kommun ...": the
# question asks what several organisations did, folded
_ACROSS = re.compile(
    r"\b(?:andra|nagon annan|nagra andra|vilka|fler|finns det|nagon) (?:kommuner|regioner|kommun|region|stader)\b"
    r"|\bhur har andra\b|\bother (?:municipalities|regions|councils|cities)\b"
    r"|\b(?:which|what|any) (?:other )?(?:municipalities|regions|councils|cities)\b"
)


def asks_across_organisations(text: str) -> bool:
    """Whether a question asks what other or several organisations did (precedent), not one."""
    return bool(_ACROSS.search(fold(text)))


def asks_for_decision(text: str) -> bool:
    """Whether a question asks what was decided (not who, when, how much or why)."""
    folded = fold(text)
    if answer_type(text) is not None or re.search(r"\breserv|\byrka|\bdissent|\brostade|\bvote", folded):
        return False
    return bool(_DECISION_QUESTION.search(folded))


# Words that ask something without naming what it is about: a question of only these has no matter.
QUESTION_WORDS = frozenset(
    analyse(
        "vad vem vilka vilken vilket hur när varför beslutade beslutat beslut besluta blev gick sa sade tyckte "
        "yrkade yrkande yrkanden bifall avslag avslog reserverade reservation reserverat röstade omröstning "
        "svarade kommunen regionen staden kommun region stad själva sedan också samma fråga frågan ärendet där "
        "gjorde hände handlar finns gäller säga säger veta vill undrar "
        # the frame of a who-question: the person asked for and the part played, not the matter
        "ledamot ledamöter ledamoten politiker politikerna person personer lämnade väckte skrev stod bakom "
        "informerade ledde "
        # ... and of a question for a date, a sum or a count: what kind of answer, not what it is about
        "datum startdatum slutdatum belopp beloppet maxbelopp maxbeloppet summa summan antal antalet "
        "what who which when why how did does do decide decided decision vote voted proposed about they there "
        "same matter question municipality region city also then happened tell know"
    )
)
# Markup a question can carry (pasted HTML, an injection attempt): a script or style element is
# dropped with its content, any other tag without it.
_SCRIPT = re.compile(r"<\s*(script|style)\b[^>]*>.*?(?:<\s*/\s*\1\s*>|\Z)", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"</?[A-Za-z!][^<>]*>|</?[A-Za-z][^<>]*$")


def strip_markup(text: str) -> str:
    """The question without HTML markup: script and style elements with their content, other tags
    without theirs, entities decoded, whitespace collapsed. '<b>Tibro</b>?' -> 'Tibro ?'."""
    text = html.unescape(_TAG.sub(" ", _SCRIPT.sub(" ", text)))
    text = _TAG.sub(" ", _SCRIPT.sub(" ", text))
    return " ".join(text.split())


def content_keys(text: str) -> list[str]:
    """The words of a question that name what it is about (no stopwords, no bare question words,
    no markup); empty for 'Vad är det?' or '<script>alert(1)</script>'."""
    return [k for k in analyse(strip_markup(text)) if k not in QUESTION_WORDS and not k.isdigit()]


def answer_type(text: str) -> str | None:
    """'person', 'date', 'money', 'number', 'frequency' or 'reason' when the question asks for one, else None."""
    folded = fold(text)
    return next((kind for pattern, kind in _ANSWER_TYPES if re.search(pattern, folded)), None)


@lru_cache(maxsize=50_000)
def _zipf(word: str, lang: str) -> float:
    import wordfreq

    return float(wordfreq.zipf_frequency(word, lang))


# A word this frequent in the language (Zipf scale: 5.6 is about once in 2,500 words) names no
# matter: "ska", "nya", "alla", "finns", "inom"; "regler", "köpa", "kommun" are below it.
COMMON_ZIPF = 5.6


@lru_cache(maxsize=4096)
def common_keys(text: str, lang: str) -> frozenset[str]:
    """The keys of the words of ``text`` that are among the commonest of its language."""
    words = {t.word.lower() for t in tokenize(text) if not t.word.isdigit()}
    return frozenset(k for w in words if _zipf(w, "en" if lang == "en" else "sv") >= COMMON_ZIPF for k in analyse(w))


def detect_language(text: str) -> str:
    """'sv' or 'en': Swedish letters decide (outside place names: 'Trollhättan' is a name in English
    too); otherwise which language's word frequencies fit better."""
    for place in named_places(text):
        text = text.replace(place, " ")
    if _SWEDISH_LETTERS.search(text):
        return "sv"
    sv = en = 0.0
    for token in tokenize(text):
        word = token.word.lower()
        if len(word) < 2 or word.isdigit():
            continue
        zs, ze = _zipf(word, "sv"), _zipf(word, "en")
        if ze > zs + 0.5:
            en += ze - zs
        elif zs > ze + 0.5:
            sv += zs - ze
    return "en" if en > sv else "sv"


@lru_cache(maxsize=1)
def _place_pattern() -> re.Pattern[str]:
    names = sorted({*MUNICIPALITIES, *REGIONS, *PLACE_ALIASES}, key=len, reverse=True)
    alternatives = "|".join(re.escape(n) for n in names)
    return re.compile(
        rf"(?<![\w-])(?P<region>[Rr]egion(?:en)?\s+)?(?P<name>{alternatives})(?:s|'s)?"
        rf"(?P<kind>\s+(?:kommuns?|stads?|municipality|city|county|region))?(?![\w-])"
    )


def named_places(text: str, *, as_organisation: bool = False) -> tuple[str, ...]:
    """The Swedish municipalities and regions a text names: 'Göteborgs stad', 'Malmö', 'Region Skåne',
    'Gothenburg'. A place name that is also an everyday word ('Mark', 'Vara') counts only with
    'kommun' or 'Region' beside it; ``as_organisation`` keeps only names written that way
    ('Linköpings kommun', not 'Linköpings universitet')."""
    found = []
    for m in _place_pattern().finditer(text):
        name = PLACE_ALIASES.get(m.group("name"), m.group("name"))
        as_org = bool(m.group("region") or m.group("kind") or m.group("name") == "Västra Götalandsregionen")
        if (name in AMBIGUOUS_PLACES or as_organisation) and not as_org:
            continue
        found.append(name)
    return tuple(dict.fromkeys(found))


@lru_cache(maxsize=100_000)
def place_key(organisation: str) -> str:
    """'Tibro kommun' -> 'tibro', 'Region Gotland' -> 'gotland', 'Västerås stad' -> 'vasteras'."""
    words = fold(organisation).split()
    words = [w for w in words if w not in ("kommun", "stad", "region", "regionen", "landsting", "lan", "lans")]
    return " ".join(words)


def normalise_dnr(dnr: str) -> str:
    """'KS 2023/01222-2.3.0' and 'ks 2023-1222' both become 'KS 2023/1222' for comparison."""
    m = _DNR.search(dnr.upper())
    if not m:
        return dnr.strip().upper()
    prefix, year, number = m.groups()
    if prefix in ("DNR", "DIARIENR", "NR"):
        prefix = None
    core = f"{year}/{int(number)}"
    return f"{prefix} {core}" if prefix else core


def parse_query(text: str, organisations: Iterable[str] = (), bodies: Iterable[str] = ()) -> QueryInfo:
    """What a question names, matched against the organisations and bodies in the index."""
    folded = " " + re.sub(r"[^\w§/ -]+", " ", fold(text)) + " "
    found_orgs = []
    for org in organisations:
        key = place_key(org)
        # "Västerås", "Västerås stad", "Västerås kommunstyrelse", genitive "Tibros"; an organisation
        # named in the genitive ("Karlstads kommun") is asked about as "Karlstad"
        # the substring test first: a regex per organisation is most of a query's parsing at 100k chunks
        stem = key.removesuffix("s") if len(key) > 4 else key
        if stem and stem in folded and re.search(rf"(?<![\w]){re.escape(stem)}s?(?![\w])", folded):
            found_orgs.append(org)
    found_bodies = []
    words = set(re.findall(r"\b[A-ZÅÄÖ]{2,5}\b", text))
    expansions = []
    for abbr, name in BODY_ABBREVIATIONS.items():
        if " " not in abbr and abbr in words:
            found_bodies.append(name)
            expansions.append(name)
    for body in set(bodies) | set(BODY_ABBREVIATIONS.values()):
        stem = fold(body).split()[0]
        stem = stem[:-2] if stem.endswith("en") else stem  # kommunstyrelsen -> kommunstyrels(e)
        stem = stem.rstrip("e")
        if len(stem) >= 6 and stem in folded and re.search(rf"\b{re.escape(stem)}", folded):
            found_bodies.append(body)
            expansions.extend(a for a, n in BODY_ABBREVIATIONS.items() if n == body and " " not in a)
    dnrs = tuple(
        normalise_dnr(m.group()) for m in _DNR.finditer(text) if m.group(1) or "/" in m.group() or len(m.group(3)) >= 3
    )
    sections = next((secs for pattern, secs in _INTENTS if re.search(pattern, folded)), ())
    if not sections and asks_for_decision(text):  # "Gick förslaget igenom?", "Har regionen bestämt sig?"
        sections = DECISION_INTENT
    return QueryInfo(
        text=text,
        sections=sections,
        language=detect_language(text),
        organisations=tuple(dict.fromkeys(found_orgs)),
        bodies=tuple(dict.fromkeys(found_bodies)),
        years=tuple(dict.fromkeys(y for y in _YEAR.findall(text) if not any(y in d for d in dnrs))),
        paragraphs=tuple(int(n) for n in _PARAGRAPH.findall(text)),
        dnrs=dnrs,
        expansions=tuple(dict.fromkeys(expansions)),
        places=named_places(text),
        answer_type=answer_type(text),
    )


def query_keys(info: QueryInfo, known: Callable[[str], bool] | None = None, *, expand: bool = True) -> list[str]:
    """The analysed keys a question is matched by, each once: its words, and for a question not in
    Swedish the glossary's Swedish terms for it ("guidelines" -> riktlinjer).

    Search and highlighting take the default: with ``expand``, the body names the question's
    abbreviations stand for (KS -> kommunstyrelsen). Answers weigh the question's own terms by
    rarity, so they pass ``expand=False`` and ``known`` (whether the index has a key): of a foreign
    question's words only those the index knows are kept (names, 'AI'), since its other words can
    never occur in Swedish text."""
    keys = analyse(info.text)
    if info.language != "sv" and known is not None:
        keys = [k for k in keys if known(k)]
    extra = list(info.expansions) if expand else []
    if info.language != "sv":
        extra.append(translate_terms(info.text))
    return list(dict.fromkeys(keys + analyse(" ".join(extra))))


def answer_keys(info: QueryInfo, known: Callable[[str], bool]) -> list[str]:
    """The keys an answer weighs a question's terms by (``query_keys`` without expansions), with an
    unseen compound replaced by the two known keys it is made of ("sekretessuppgifterna" ->
    sekretess, uppgift; ``rag.compounds``): the whole can never occur in a passage, and as the
    rarest key it would outweigh every key that can."""
    out: dict[str, None] = {}
    for key in query_keys(info, known, expand=False):
        out.update(dict.fromkeys(compound_parts(key, known) or (key,)))
    return list(out)
