"""What a question asks, read from its words: the role, stance or event a who- or when-question
wants, the bodies it asks about as the actor, a figure it states, whether it asks how a matter ended.
The patterns match folded text (``rag.normalise.fold``) unless they say otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.normalise import analyse, fold
from rag.query import QUESTION_WORDS
from rag.vocab import BODY_ABBREVIATIONS

# The role a who-question asks for, from its words (folded), as ``Person.role`` names it; a vote
# has no person role: its sentence names the side ("Nej: ...", "röstar nej").
_ASKED_ROLES: tuple[tuple[str, str], ...] = (
    (r"\breserv|\bdissent", "reservation"),
    (r"\brostade (?:emot|nej|mot)|\bvoted (?:against|no)", "nej"),
    (
        r"\bmotion(?:en|ar|arer|arerna)?\b.{0,40}\b(?:bakom|lamnade|skrev|vackte|stod)|\b(?:bakom|lamnade|skrev|vackte)\b.{0,40}\bmotion"
        r"|\bmotionar|\bwho (?:wrote|filed|submitted|proposed) the motion",
        "motionär",
    ),
    (
        r"\b(?:informerade|redovisade|presenterade|foredrog|gav .{0,30}(?:rapport|information|lagesrapport))\b"
        r"|\bwho (?:informed|presented|reported)",
        "informant",
    ),
    (r"\bvice (?:ordforande|chair)", "vice ordförande"),
    (r"\bledde\b|\bordforande\b|\bchair(?:ed|man|person)?\b", "ordförande"),
    (r"\bjuster", "justerare"),
    (r"\bhandlaggare\b|\bcase officer\b", "handläggare"),
    (r"\bsekreterare\b|\bsecretary\b", "sekreterare"),
    (r"\byrka|\bdrev\b|\bville att\b|\bkravde\b|\bforeslog\b|\bproposed\b|\bmoved\b", "yrkande"),
)
# Offices a who-question can ask about, as the protocol's head or signature writes them.
_OFFICES = {
    "ordförande": r"(?<!vice )\bordförande\b",  # who chaired, not "andre vice ordförande"
    "vice ordförande": r"\bvice ordförande\b",
    "justerare": r"juster",  # also "Protokolljusterare"
    "handläggare": r"\bhandläggare\b",
    "sekreterare": r"\bsekreterare\b",
}
# What a yrkande asks for, as a question wants it ("ville att den skulle skickas tillbaka") and as
# the protocol writes it ("yrkar att <ärendet> återremitteras", "yrkar avslag"), folded.
_ASKED_STANCES: tuple[tuple[str, str], ...] = (
    (r"\bskick\w* tillbaka|\baterremi|\bsend\w* back|\brefer\w* back", "återremiss"),
    (r"\bavvis|\bavsla|\bavslag|\bavstyrk|\binte\b|\bemot\b|\breject|\bagainst\b", "avslag"),
    (r"\bbifall|\btillstyrk|\bgodkan|\bapprov", "bifall"),
)
_STATED_STANCES: tuple[tuple[str, str], ...] = (
    (r"\baterremi", "återremiss"),
    (r"\bavslag|\bavsla|\bavstyrk|\binte\b|\bej\b", "avslag"),
    (r"\bbifall|\btillstyrk", "bifall"),
)


def asked_stance(question: str) -> str | None:
    """What a who-question about a yrkande asks the person to have wanted: återremiss, avslag or bifall."""
    folded = fold(question)
    return next((stance for pattern, stance in _ASKED_STANCES if re.search(pattern, folded)), None)


def _stances(sentence: str) -> set[str]:
    folded = fold(sentence)
    return {stance for pattern, stance in _STATED_STANCES if re.search(pattern, folded)}


_MONTHS = "januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|november|december"
# The event a when-question asks the date of, by its verb (folded), and how protocols and
# guidelines word that event: "När antogs policyn?" is dated by "Antagen av kommunfullmäktige ...".
_EVENTS: tuple[tuple[str, str], ...] = (
    (r"\bantogs?\b|\bantagits?\b|\bantas\b|\badopted\b", r"\bantag|\bantog|\bantas\b|\bfastställ|\bbeslutad av"),
    (r"\bkom\b.{0,40}\bin\b|\binkom|\blamnades in|\bsubmitted\b", r"\binkom|\bkom in\b|\blämnades in"),
    (
        r"\bborja\w*\b.{0,60}\bgall|\bgall(?:a|er) fran|\bi kraft\b|\btake effect|\bapply from|\bcome into force",
        r"\bi kraft\b|\bgälla från|\bgäller från|\bfrån och med",
    ),
    (r"\banmal|\brapporterade|\brapporterades|\breported\b", r"\banmäl|\brapporter"),
    # a matter put off: "Vilka gånger har ärendet skjutits upp?" is dated by "Bordlagt den <datum>, § <n>"
    (r"\bskjut\w* upp|\bskots upp|\bbordla|\bpostpone|\bdeferred\b|\btabled\b", r"\bbordl|\bskjuts upp|\buppskj"),
    (
        r"\bstartar\b|\bborjar\b|\bstarta\b|\binfors\b|\bstart\b|\bbegin",
        r"\bfrån och med|\bstart|\bbörja|\binför|\binförs",
    ),
    (r"\bsammantradde|\bmotet\b|\bsammantradet\b|\bmeeting\b", r"\bsammanträdesdatum|\bsammanträde"),
    # the start asked without its verb: "Från när ...?", "Från vilket datum ...?", "Vilket startdatum ...?"
    (
        r"\bfran (?:nar|vilket datum|vilken dag)\b|\bstartdatum|\bfrom (?:when|what date)\b|\bstart date",
        r"\bfrån och med|\bfrån den\b|\bgäll(?:a|er) från|\bgiltig från|\bi kraft\b|\bstart|\bbörja|\binförs",
    ),
    # "Sedan när ...?" is dated by "sedan <datum>", "från och med <datum>"
    (
        r"\bsedan nar\b|\bsince when\b",
        rf"\bsedan\s+(?:den\s+|år\s+|hösten\s+|våren\s+)?(?:\d|{_MONTHS})|\bfrån och med",
    ),
)


def event_words(question: str) -> str:
    """The words of a when-question that name its event ("antogs", "kom ... in", "bordlades"), folded:
    what is asked of the matter, not the matter."""
    folded = fold(question)
    m = next((m for pattern, _ in _EVENTS if (m := re.search(pattern, folded))), None)
    words = m.group().split() if m else []
    return " ".join(words[:1] + words[1:][-1:])  # "kom motionen om AI in": the verb's words, not the gap


def asked_event(question: str) -> str | None:
    """For a when-question, a pattern of the words that date the asked event in a document."""
    folded = fold(question)
    return next((words for pattern, words in _EVENTS if re.search(pattern, folded)), None)


# A yes/no question about what may, must or will be done ("Får jag använda ...?", "Kan nämnden
# ...?", "Must the board ...?"), answered by a sentence that states the rule (folded).
_ASKS_RULE = re.compile(
    r"^\W*(?:kan|far|fick|maste|behover|ska|skall|kommer|ar det (?:tillatet|ok)"
    r"|can|may|must|should|will|does|do|is|are)\b"
)
# A measure asked for (folded): how long, or how much as a share.
_ASKED_MEASURES: tuple[tuple[str, str], ...] = (
    (r"\bhur lange\b|\bhur snabbt\b|\bhur fort\b|\bhow long\b|\bhow (?:quickly|fast)\b", "duration"),
    # how much faster, shorter, fewer: by how much it changed
    (
        r"\b(?:hur mycket|how much)\b.{0,30}\b(?:snabbare|kortare|langre|fler|farre|mer|mindre|billigare|dyrare"
        r"|faster|shorter|less|more|fewer)\b|\b(?:snabbare|kortare|faster|shorter)\b.{0,60}\b(?:hur mycket|how much)\b",
        "change",
    ),
    (r"\bhur mycket\b|\bhur stor\b|\bhow much\b|\bprocent", "percent"),
)


def asks_rule(question: str) -> bool:
    """Whether a question asks yes or no about what may, must or will be done."""
    return bool(_ASKS_RULE.match(fold(question)))


def asked_measure(question: str) -> str | None:
    """'duration' for "hur länge", 'change' for "hur mycket snabbare/kortare", 'percent' for "hur
    mycket"/"hur stor" (the kinds of ``rag.sentences.sentence_kinds`` that answer them), else None."""
    folded = fold(question)
    return next((kind for pattern, kind in _ASKED_MEASURES if re.search(pattern, folded)), None)


# "Vilka principer ...", "Vilken licens ...", "Which tools ...": the thing a question asks to have named
_ASKED_THING = re.compile(
    r"^\W*(?:och |men |and |but )?"
    r"(?:vilk(?:a|en|et)\s+(?:[\w-]+[aet]\s+)?[\w-]+|(?:which|what)\s+(?:[\w-]+\s+)?[\w-]+)"
)
# verbs that end the asked thing: "Vilken licens ska ...", "Which tools are ..."
_AUXILIARY = re.compile(
    r"\s+(?:ska|skall|är|var|har|hade|kan|får|fick|blev|blir|finns|gäller|ingår|is|are|was|were|does|do|did|will|can|has|have)$"
)


# Words that name the kind of answer, which the answer names by its own name: "Vilken organisation
# ..." is answered "tillsammans med ABF", not by a sentence that says "organisation"
_CATEGORIES = frozenset(
    analyse(
        "organisation organisationer företag bolag leverantör leverantörer system kommun kommuner region "
        "regioner myndighet myndigheter nämnd nämnder aktör aktörer organization company supplier vendor"
    )
)


def asked_thing(question: str) -> tuple[str, ...]:
    """The keys of the words after "Vilka/Vilken/Vilket/Which" (the thing asked to be named, with an
    adjective before it: "Vilket nytt system"), without question words."""
    m = _ASKED_THING.match(question.lower())
    if m is None:
        return ()
    return tuple(k for k in analyse(_AUXILIARY.sub("", m.group())) if k not in QUESTION_WORDS | _CATEGORIES)


def asked_role(question: str) -> str | None:
    """'motionär', 'yrkande', 'reservation' or 'nej' (voted against) when a who-question asks for one."""
    folded = fold(question)
    return next((role for pattern, role in _ASKED_ROLES if re.search(pattern, folded)), None)


# Outcomes after which a matter has no later stage in the documents (asked "till slut", "efter
# återremissen"), and after which a proposal was not decided.
PENDING_OUTCOMES = frozenset({"återremiss", "bordlagd"})
NO_FINAL_OUTCOMES = PENDING_OUTCOMES | {"noterad"}
# "Vilket system valde ...", "Vilken leverantör beslutade ...": a decision question asking for the
# thing chosen, which an item tabled, sent back or only noted does not name (folded).
_ASKS_CHOICE = re.compile(
    r"\W*(?:och |men )?(?:vilken|vilket|vilka|which|what)\s+\w+.{0,80}?"
    r"\b(?:valde|valdes|beslutade|bestamde|chose|decided|selected)\b"
)
# A later stage of a matter asked for ("till slut", "efter återremissen"), and how a matter ended,
# which asks for its last stage too ("Hur slutade motionen?") (folded).
_LATER_STAGE = re.compile(
    r"\btill slut\b|\bslutligen\b|\bi slutandan\b|\bslutgiltig\w*|\befter (?:aterremiss\w*|utredning\w*|bordlagg\w*)"
    r"|\bsenare\b|\bin the end\b|\bfinally\b|\beventually\b|\bafter the (?:referral|investigation)\b"
)
_ENDING = re.compile(rf"\bhur (?:slutade|gick det|blev det)\b|\bhow did .{{0,60}}\bend\b|{_LATER_STAGE.pattern}")


_PROPOSAL = re.compile(r"\bforesl|\bforslag|\bpropos|\bville?\b.{0,80}\bbesluta")


def asks_about_proposal(question: str) -> bool:
    """Whether a question asks what was proposed ("Vilket datum föreslog förvaltningen?", "Vad ville
    styrelsen att fullmäktige skulle besluta?"), which a proposal answers though nothing was decided."""
    return bool(_PROPOSAL.search(fold(question)))


_VOTE = re.compile(r"\brostade|\bomrostning|\bvoter?d?\b")
# A yes/no question whose actor is an authority named by its acronym: "Har IMY gett Kiruna tillstånd?"
_ASKED_ACTOR = re.compile(
    r"\W*(?i:har|gav|fick|beviljade|godkände|avslog|did|has)\s+(?P<actor>[A-ZÅÄÖ]{2,6})\b(?!\s*(?:i|in)\b)"
)
# A figure the question states ("Copilot för 600 medarbetare"), not a year or a § number.
_FIGURE = re.compile(r"(?<![\d§/-])(?<!§ )\b(?!(?:19|20)\d\d\b)\d+(?:[,.]\d+)?\b(?![/-]\d)")


def asked_bodies(question: str, bodies: Sequence[str]) -> tuple[str, ...]:
    """The bodies a question asks about as the actor: not one in the genitive ("kommunstyrelsens
    förslag") or one only mentioned after "till", "åt", "som", "av" ("precis som kommunstyrelsen
    ville"); a bare "fullmäktige" is the council of a municipality or region."""
    folded = fold(question)
    words = set(re.findall(r"\b[A-ZÅÄÖ]{2,5}\b", question))
    asked = [name for abbr, name in BODY_ABBREVIATIONS.items() if abbr in words and name in bodies]
    for body in bodies:
        stem = fold(body).split()[-1].rstrip("n").rstrip("e")[:12]
        uses = list(re.finditer(rf"(\S+\s+)?\b(\w*{re.escape(stem)}\w*)", folded))
        if any(
            not m.group(2).endswith(("ens", "ets", "iges", "ges"))
            and (m.group(1) or "").strip() not in ("till", "at", "som", "av", "fran", "for", "att")
            for m in uses
        ):
            asked.append(body)
    if re.search(r"(?<![\w-])fullmaktige\b", folded):
        asked += ["Kommunfullmäktige", "Regionfullmäktige"]
    return tuple(dict.fromkeys(asked))
