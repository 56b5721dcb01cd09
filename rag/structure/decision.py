"""Decisions of protocol items as pure functions: the outcome a decision text states (one att-sats
at a time, in the closed vocabulary ``rag.vocab.OUTCOMES``), the higher body it only proposes to,
and the span of its decisive sentence(s).

Used by ``rag.structure.document``; matching is on folded, OCR-repaired copies of short texts, and
every span is a pair of offsets into the document text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.normalise import fold, repair
from rag.structure.lines import line_spans
from rag.types import Section
from rag.vocab import BODY_NAMES

_MOTION = "(motionen|medborgarforslaget|interpellationen|forslaget|ansokan|begaran|framstallan|skrivelsen)"
# Outcome rules on folded, OCR-repaired decision text. The specific ones are tried in order; of the
# general ones the earliest in the text wins ("antar riktlinjen och ger ... i uppdrag" is bifall).
_SPECIFIC_RULES: tuple[tuple[str, str], ...] = (
    ("återremiss", r"aterremitt|aterremiss|\bremitteras tillbaka"),
    ("bordlagd", r"bordlagg|bordlags|bordlagt|bordlade"),
    (
        "ingen åtgärd",
        r"ingen (?:ytterligare )?atgard|foranleder ingen|utan (?:vidare )?atgard|\binte (?:bereda|vidta|ga vidare)\b"
        r"|\binte (?:ska )?genomforas\b|\bska inte genomforas\b|\barendet utgar\b"
        r"|\binte (?:yttra sig|lamna (?:nagot )?yttrande)|\bavstar fran att yttra sig",
    ),
    ("avslag", rf"avsla(?:s|r)? {_MOTION}\b(?! om)|{_MOTION} avslas|avslag (?:pa|till) {_MOTION}"),
    ("besvarad", r"besvara[dt]|besvaras\b"),
    ("bifall", rf"bifalla {_MOTION}|{_MOTION} bifalls|bifall till {_MOTION}"),
    (
        "val",
        r"\butse[rs]?\b|\butses\b|\bvalj(?:s|er)\b|\bvaldes?\b|\bval av\b|\btill (?:ny )?(?:ledamot|ersattare)\b"
        r"|justeras av|\bjusterar (?:dagens )?protokoll|\bentledig|\bforordna|fyllnadsval|\bbefrias\b",
    ),
)
_GENERAL_RULES: tuple[tuple[str, str], ...] = (
    (
        "noterad",
        r"\bnoter(?:ar|as|a|at)\b|\banteckna(?:s|r|t)?\b|till ?handlingarna|tas till protokollet"
        r"|\btar del av|\btagit del av"
        r"|informationen (?:tas emot|mottas)|tar emot (?:informationen|redovisningen|rapporten)"
        r"|forklara(?:s|r)? (?:uppdraget )?fullgjor|ansag sig (?:inte )?forhindrad|inga jav"
        r"|anmal(?:er|de|s) jav|jav anmal"
        r"|\binga [a-z]+ (?:anmalda|anmalts|inkomna|har inkommit|forekom|forelag)|\bremitteras\b(?! tillbaka)",
    ),
    ("uppdrag", r"i uppdrag\b|\buppdra(?:r|s)?\b (?:at|till)|\buppdras\b|\bfar uppdraget\b|ges uppdraget"),
    ("avslag", r"\bavsla(?:s|r)?\b|\bavslogs\b|\bavslag\b"),
    (
        "bifall",
        r"\bbifall|\bbifaller\b|\bbifalls\b|\bgodkann|\bgodkand|\banta(?:r|s|ga|gen|git)?\b|\bantagen\b|\bfaststall"
        r"|\bbevilja|\bforlang(?:s|a|er)\b|\bfinansiera|\btilldela|\binrattas?\b|\bgenomfora\b",
    ),
)
# Approval that a clause states only as a manner ("i enlighet med", "enligt förslaget"): used
# when the clause has no verb of its own from the rules above.
_WEAK_BIFALL = re.compile(
    r"\btillstyrk|enligt (?:[\w-]+ ){0,4}forslag|staller sig bakom|i enlighet med|\boversand|\byttrande\b|\bavge\b"
)
# An återremiss that was moved and refused, and "decided today": not the outcome.
_REFUSED_REMISS = re.compile(
    r"(?:yrkande[nt]?|forslag(?:et)?|krav(?:et)?)? ?(?:om )?aterremiss\w*[^.]{0,80}?"
    r"(?:avslas|avslogs|faller|foll|avslag)"
    r"|(?:att )?(?:arendet ska )?avgora(?:s)? (?:arendet )?(?:i ?dag|vid dagens sammantrade)"
)
_PROPOSES = re.compile(
    r"\b(?:foreslar|foreslas|foreslogs|hemstaller hos|overlamnar (?:arendet )?till|foresla) (?:att )?"
    r"(?P<body>kommunfullmaktige|regionfullmaktige|landstingsfullmaktige|fullmaktige|kommunstyrelsen|regionstyrelsen"
    r"|[a-z]+-? ?(?:och [a-z]+)?namnden)\b(?: att)?(?: besluta| fatta| anta| godkanna| att| bifalla| avsla| anse)"
)
_PROPOSED_TO = re.compile(
    r"\b(?P<body>kommunfullmaktige|regionfullmaktige|fullmaktige|kommunstyrelsen|regionstyrelsen) foreslas besluta"
)
_PROPOSAL_HEADING = re.compile(
    r"forslag till (?P<body>[a-z]*fullmaktige|[a-z]*styrelsen|(?:[a-z]+- och )?[a-z]+namnden)\b"
)


def _classify(text: str) -> str | None:
    """The outcome one decision clause states, or None."""
    t = _REFUSED_REMISS.sub(" ", re.sub(r"\s+", " ", fold(repair(text))))
    for name, pattern in _SPECIFIC_RULES:
        if re.search(pattern, t):
            return name
    best: tuple[int, str] | None = None
    for name, pattern in _GENERAL_RULES:
        m = re.search(pattern, t)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), name)
    if best:
        return best[1]
    return "bifall" if _WEAK_BIFALL.search(t) else None


def _clauses(text: str) -> list[str]:
    """A decision text cut into its att-satser (numbered, bulleted or lines starting 'att')."""
    starts = [m.start() for m in re.finditer(r"(?m)^[ \t]*(?:(?:\d{1,2}|[a-z])[.)][ \t]*|[-–•][ \t]+)?att\b", text)]
    numbered = [m.start() for m in re.finditer(r"(?m)^[ \t]*\d{1,2}[.)][ \t]+", text)]
    cuts = sorted(set(starts) | set(numbered))
    if not cuts:
        return [text]
    pieces = [text[: cuts[0]]] if text[: cuts[0]].strip() else []
    pieces += [text[a:b] for a, b in zip(cuts, [*cuts[1:], len(text)], strict=True)]
    return pieces


def outcomes(decision_text: str, title: str | None = None) -> tuple[str, tuple[str, ...]]:
    """The main outcome of a decision text and those of its further att-satser.

    Each att-sats is classified on its own (``rag.vocab.OUTCOMES``); the main outcome is the first
    one found after a lead-in ("Enligt <förvaltningens> förslag:"). A decision of no
    recognisable kind is 'bifall'; no decision text at all is 'other'. In an election item (its
    title names a 'val') an election among the att-satser is the main outcome.
    """
    lead_in, body = _split_lead_in(decision_text)
    found: list[str] = []
    for clause in _clauses(body):
        kind = _classify(clause)
        if kind and kind not in found:
            found.append(kind)
    if not found and lead_in:
        found = [kind] if (kind := _classify(lead_in)) else []
    if not found:
        return ("bifall" if decision_text.strip() else "other"), ()
    if "val" in found and re.search(r"\bval\b|\bvalberedning", fold(title or "")):
        found.remove("val")
        found.insert(0, "val")  # an election item: its main outcome is the election
    return found[0], tuple(found[1:])


def _split_lead_in(text: str) -> tuple[str, str]:
    """('Enligt <förvaltningens> förslag:', what follows) when a decision opens with a lead-in
    line that introduces it; else ('', text)."""
    m = re.match(r"\s*(?P<lead>[^:]{0,300}?(?::|\bbesluta[rt]?|\bfoljande))[ \t]*\n(?P<rest>.*\S.*)$", text, re.S)
    if m and (":" in m.group("lead") or re.search(r"besluta[rt]?\s*$|foljande\s*$", fold(m.group("lead")))):
        return m.group("lead"), m.group("rest")
    m = re.match(r"\s*(?P<lead>[^\n]{0,300}?:)[ \t]*(?P<rest>\S.*)$", text, re.S)
    if m:
        return m.group("lead"), m.group("rest")
    return "", text


def outcome(decision_text: str) -> str:
    """The decision outcome stated in a decision text (one of ``rag.vocab.OUTCOMES``)."""
    return outcomes(decision_text)[0]


def proposal_to(decision_text: str, heading: str = "") -> str | None:
    """The higher body a decision only proposes to ("föreslår kommunfullmäktige besluta ..."), or None."""
    folded = re.sub(r"\s+", " ", fold(decision_text))
    if m := _PROPOSES.search(folded) or _PROPOSED_TO.search(folded):
        return as_written(decision_text, m.group("body"))
    heading = heading + " " + _split_lead_in(decision_text)[0]
    if heading.strip() and (m := _PROPOSAL_HEADING.search(fold(repair(heading)))):
        return as_written(heading, m.group("body"))
    return None


def as_written(text: str, folded: str) -> str:
    """A folded name as ``text`` writes it ('kommunfullmaktige' -> 'Kommunfullmäktige')."""
    chars = {"a": "[aåä]", "o": "[oö]", "u": "[uü]", " ": r"\s+"}
    pattern = "".join(chars.get(ch, re.escape(ch)) for ch in folded)
    m = re.search(pattern, text, re.IGNORECASE)
    canonical = next((name for name in BODY_NAMES if fold(name) == folded), folded)
    words = m.group() if m else canonical
    words = re.sub(r"\s+", " ", words)
    return words[:1].upper() + words[1:]


_LEAD_IN = re.compile(r"(?:[:]|\bbesluta|\bbeslutar|\bbeslutade|\bfoljande|\bforeslas besluta)\s*$")
_LIST_LINE = re.compile(r"^\s*(?:(?:\d{1,2}|[a-z])[.)]\s*|[-–•*]\s+)?att\b|^\s*(?:\d{1,2}[.)]|[-–•*])\s+\S")


def paragraphs(text: str, start: int, end: int, furniture: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Paragraphs of ``text[start:end]`` (split at blank lines and at page furniture), trimmed: a
    span never holds a page header."""
    blocks: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    for s, _, line in line_spans(text, start, end):
        if not line.strip() or any(fs <= s < fe for fs, fe in furniture):
            if current:
                blocks.append(current)
            current = None
            continue
        lead = len(line) - len(line.lstrip())
        trail = len(line.rstrip())
        current = (current[0], s + trail) if current else (s + lead, s + trail)
    if current:
        blocks.append(current)
    return blocks


def decisive_span(text: str, start: int, end: int, furniture: Sequence[tuple[int, int]] = ()) -> tuple[int, int] | None:
    """The decisive sentence(s) at the head of a decision section ``text[start:end]`` (its heading
    line excluded): the first paragraph, joined with what a lead-in ("På förslag av X:",
    "Kommunstyrelsen beslutar") introduces and with the att-satser that follow as paragraphs."""
    body = text.find("\n", start, end)
    if body < 0:
        return None
    blocks = paragraphs(text, body + 1, end, furniture)
    if not blocks:
        return None
    first, last = blocks[0]
    for s, e in blocks[1:]:
        if _LEAD_IN.search(fold(text[first:last])) or (
            _LIST_LINE.match(text[s:e]) and _LIST_LINE.match(text[first:last].split("\n")[-1])
        ):
            last = e
            continue
        break
    return (first, last) if last > first else None


def item_decision(
    text: str, sections: Sequence[Section], start: int, end: int, furniture: Sequence[tuple[int, int]]
) -> tuple[tuple[int, int] | None, str, str]:
    """(decisive span, decision text, heading) of an item: its Beslut section, else its Förslag till
    beslut section, else the first paragraph of the item that decides."""
    for wanted in ("Beslut", "Förslag till beslut"):
        for sec in sections:
            if sec.heading != wanted:
                continue
            span = decisive_span(text, sec.start, sec.end, furniture)
            if span:
                return span, text[span[0] : span[1]], text[sec.start : span[0]]
    skip = {"Yrkanden", "Proposition", "Omröstning", "Reservation", "Särskilt yttrande", "Protokollsanteckning"}
    for s, e in paragraphs(text, start, end, furniture):
        if any(sec.start <= s < sec.end and sec.heading in skip for sec in sections):
            continue
        piece = fold(text[s:e])
        if re.search(
            r"\bbeslut(?:ar|ade)\b|^pa forslag av|^enligt [\w ]{0,60}forslag|bordlaggs|antecknas|till handlingarna"
            r"|\butses\b|\bvaljs\b|besvarad",
            piece,
        ) and not re.search(r"\byrka", piece):
            return (s, e), text[s:e], ""
    return None, "", ""


_VOTE_RESULT = re.compile(
    r"\bmed \d+ [^.]{0,40}?röster mot \d+[^.]{0,200}?(?:beslut\w*|bifall\w*|antag\w*)[^.]*\.",
    re.IGNORECASE,
)
_MOVER = re.compile(
    r"(?P<name>[A-ZÅÄÖ][\w-]*?)s?\s*(?:\([A-ZÅÄÖ]{1,4}\)\s*)?(?:ändrings|tilläggs|avslags|eget\s)?yrkande"
)


def vote_result(text: str, start: int, end: int) -> tuple[tuple[int, int], str] | None:
    """The result of the last vote in an item ("Med 6 nej-röster mot 5 ja-röster har nämnden
    bifallit Per Nyströms (M) ändringsyrkande."): its span and the text that states what it decided,
    the yrkande it names when it names one."""
    results = list(_VOTE_RESULT.finditer(text, start, end))
    if not results:
        return None
    result = results[-1]
    sentence = result.group()
    if re.search(r"\bforslag", fold(sentence)) and not re.search(r"yrkande", sentence):
        return None  # the proposition won: the decision is the proposal as written
    return (result.start(), result.end()), _named_yrkande(text, start, result.start(), sentence) or sentence


def _named_yrkande(text: str, start: int, end: int, sentence: str) -> str | None:
    """What the yrkande a sentence names ("bifalla Per Nyströms (M) ändringsyrkande") asks for, as its
    mover put it in ``text[start:end]`` ("Per Nyström (M) yrkar att ..."), or None."""
    mover = _MOVER.search(sentence)
    if not mover or "forslag" in fold(sentence[: mover.start()])[-30:]:
        return None
    surname = mover.group("name")
    for s, e in paragraphs(text, start, end, ()):
        block = text[s:e]
        at = block.find(surname)
        if at >= 0 and (m := re.search(r"\byrkar\b", block[at:])):
            asked = block[at + m.end() :].split(".")[0]
            return "avslå " + asked if "avslagsyrkande" in fold(sentence) else asked
    return None


_BY_REFERENCE = re.compile(
    r"(?:enligt|i enlighet med|bifaller|bifalla|bifall till) [\w ()-]{0,60}?(?:forslag(?:et)?|yrkande)\b"
)


def referred_text(text: str, start: int, end: int, decision: str, sections: Sequence[Section]) -> str | None:
    """A decision that only refers to a proposal or a yrkande ("Kommunstyrelsen beslutar i enlighet
    med arbetsutskottets förslag"): the text it refers to, the item's Förslag till beslut section
    or the named yrkande, else None."""
    folded = re.sub(r"\s+", " ", fold(decision))
    m = _BY_REFERENCE.search(folded)
    if not m or len(folded) > 200 or _classify(folded[: m.start()] + folded[m.end() :]):
        return None
    if "yrkande" in m.group():
        return _named_yrkande(text, start, end, decision)
    proposals = [x for x in sections if x.heading == "Förslag till beslut" and decision not in text[x.start : x.end]]
    return text[proposals[0].start : proposals[0].end] if proposals else None


def higher_body(proposed: str | None, body: str | None) -> str | None:
    """The body proposed to, unless it is the deciding body itself (its own 'föreslås besluta')."""
    return None if proposed and body and fold(proposed) == fold(body) else proposed
