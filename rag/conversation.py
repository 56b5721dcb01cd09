"""Follow-up questions in a chat: "Och vad beslutade Västerås?" or "Vem yrkade bifall?" resolved
against the earlier turns into a question that can be searched on its own.

Rules, not a model: a follow-up that names no topic takes the previous question's topic; one that
names no municipality or region takes the previous turn's (from its question, else from the
organisations its answer cites) when it is short or refers back ("och ...", "beslutet", "de").
A place the follow-up names replaces the earlier one. A complete question is searched as written.
Only a turn that was itself a real question (words naming a matter, not markup or stopwords) lends
its topic or place, and markup never reaches the standalone question.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rag.normalise import analyse, fold
from rag.query import content_keys, named_places, parse_query, strip_markup
from rag.vocab import BODY_ABBREVIATIONS, BODY_NAMES

# Words that ask something about a matter without naming the matter.
_GENERIC = frozenset(
    analyse(
        "vad vem vilka vilken hur när varför beslutade beslutat beslut besluta blev gick sa sade tyckte yrkade "
        "yrkande yrkanden bifall avslag avslog reserverade reservation reserverat röstade omröstning svarade "
        "kommunen regionen staden kommun region stad själva sedan också samma fråga frågan ärendet där gjorde "
        "what who which when why how did does do decide decided decision vote voted proposed about they there "
        "same matter question municipality region city also then"
    )
)
_CONNECTIVE = re.compile(r"^\s*(?:och|men|samt|and|but|so|what about|hur är det med|vad gäller)\b[\s,]*", re.IGNORECASE)
_REFERS_BACK = re.compile(
    r"\b(?:de|dem|deras|den|dess|beslutet|motionen|förslaget|ärendet|uppdraget|frågan|strategin|riktlinjen"
    r"|they|them|their|it|its|that decision|the motion|the proposal)\b",
    re.IGNORECASE,
)
_BODIES = "|".join(
    re.escape(b.lower()) for b in sorted(set(BODY_ABBREVIATIONS.values()) | set(BODY_NAMES), key=len, reverse=True)
)
# The matter of a question usually follows one of these: "Vad beslutade Tibro om <en AI-strategi>?"
_TOPIC = re.compile(
    r"\b(?:om|kring|angående|gällande|rörande|about|on|regarding|concerning)\s+(?P<topic>.+?)\s*\??\s*$"
)


@dataclass(frozen=True)
class Turn:
    """An earlier turn of the conversation, as the client sends it back."""

    question: str
    answer: str | None = None
    standalone: str | None = None  # what that turn searched, when the client kept it


def _topic_keys(question: str) -> list[str]:
    places = {k for p in named_places(question) for k in analyse(p)}
    return [k for k in analyse(question) if k not in _GENERIC and k not in places]


def _topic_phrase(question: str) -> str | None:
    m = _TOPIC.search(question.strip())
    if not m:
        return None
    topic = m.group("topic")
    for place in named_places(topic):
        topic = re.sub(rf"\s*\b(?:i|in|för|for)\s+{re.escape(place)}s?\b", "", topic)
    return topic.strip(" ,?") or None


def _places(turn: Turn, organisations: Sequence[str]) -> list[str]:
    asked = turn.standalone or turn.question
    places = list(named_places(asked))
    if not places and turn.answer:
        known = parse_query(turn.answer, organisations).organisations
        places = [p for org in known for p in named_places(org)] or list(known)
    return places


def _real(turn: Turn) -> Turn | None:
    """The turn with markup removed, or None when it asked nothing (only markup or stopwords)."""
    asked = strip_markup(turn.standalone or turn.question)
    if not content_keys(asked):
        return None
    answer = strip_markup(turn.answer) if turn.answer else None
    return Turn(strip_markup(turn.question), answer, asked if turn.standalone else None)


def resolve(question: str, history: Iterable[Turn], organisations: Sequence[str] = ()) -> str:
    """The question to search: ``question`` itself (without markup), or completed from the most
    recent earlier turn that was a real question."""
    question = strip_markup(question)
    turns = [t for t in map(_real, history) if t is not None]
    if not turns or not question:
        return question
    previous = turns[-1]
    asked_before = previous.standalone or previous.question
    places_now = named_places(question)
    own_topic = _topic_keys(question)
    short = len(own_topic) <= 1
    connective = bool(_CONNECTIVE.match(question))
    if places_now and not short and not connective:
        return question  # a complete question: a place and a matter of its own
    if places_now and (short or connective):
        # "Och Västerås?" / "Och vad beslutade Västerås?": the same question about another place
        earlier = _places(previous, organisations)
        own = set(analyse(question)) - {k for p in places_now for k in analyse(p)}
        if earlier and own <= set(analyse(asked_before)):
            swapped = asked_before
            for place in earlier:
                # the body belonged to the earlier place: "kommunfullmäktige i Tibro" -> "Västerås"
                swapped = re.sub(rf"\b(?:{_BODIES})\s+(?:i|in|på)\s+(?={re.escape(place)})", "", swapped, flags=re.I)
                swapped = re.sub(rf"\b{re.escape(place)}(s?)\b", places_now[0] + r"\1", swapped)
            if swapped != asked_before:
                return swapped
    needs_topic = short or connective
    needs_place = not places_now and (short or connective or bool(_REFERS_BACK.search(question)))
    if not (needs_topic or needs_place):
        return question
    base = _CONNECTIVE.sub("", question).strip().rstrip("?").strip()
    base = base[:1].upper() + base[1:]
    language_en = bool(re.match(r"(?i)(what|who|which|when|why|how|did|does|and|but)\b", question.strip()))
    if needs_topic:
        topic = _topic_phrase(asked_before)
        if topic and not set(analyse(topic)) <= set(analyse(base)):
            base += (" about " if language_en else " om ") + topic
        elif not topic:
            base += f" ({asked_before.strip().rstrip('?')})"
    if needs_place:
        earlier = [p for p in _places(previous, organisations) if fold(p) not in fold(base)]
        if earlier:
            base += (" in " if language_en else " i ") + " och ".join(earlier)
    return base + "?"
