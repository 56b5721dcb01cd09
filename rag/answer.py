"""Answers a municipal officer can put their name to: sentences quoted from the best passages, each
cited to document, §, date and exact span, or an honest abstention when the evidence is too weak.

The answer is extractive, and chosen by what is asked. Candidate sentences come from the top
passages of the hybrid search; for a question about a decision ("vad beslutade", "sa ja eller nej",
"hur slutade") also the decisive sentence of each passage's item (§), never a yrkande, proposition
or motion, with a note when the item only proposes to a higher body. Each sentence is scored by
weights learned on labelled questions (``SENTENCE_WEIGHTS``): how much of the question's vocabulary
(weighted by rarity) it holds, its passage's score and rank, whether it is its item's decision, a
heading, or names a person in the asked role, and whether it states the kind of thing asked for (a
name for "vem", a date for "när"). The sentences are not embedded per query; only the chosen one is,
for the confidence. Every quote is checked against the document text before it is returned.

Confidence is a number in [0, 1] from measured signals (``Evidence``); it is 0 when the question
asks nothing (only markup or question words) or the best sentence does not meet its constraints:
the organisation and body named, a figure it names, the stage asked ("till slut"), an amount, date,
name or supplier asked for. Below the threshold that ``rag calibrate`` measured on labelled
answerable and unanswerable questions, the answer abstains and the passages are still returned as
related reading.
"""

from __future__ import annotations

import bisect
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.config import Settings
from rag.conversation import Turn, resolve
from rag.errors import InputError
from rag.matters import Matter, Step, matters_of
from rag.normalise import analyse, fold, repair
from rag.query import (
    QUESTION_WORDS,
    asks_across_organisations,
    asks_for_decision,
    content_keys,
    counted_terms,
    named_places,
    names_decision,
    place_key,
    query_keys,
)
from rag.search import Searcher, hit_dict
from rag.sentences import (
    counts,
    decides,
    decisive_spans,
    join_lead_ins,
    proposes_to,
    quotable,
    same_key,
    sentence_kinds,
    sentence_spans,
)
from rag.types import Filters, Hit, QueryInfo
from rag.vocab import BODY_ABBREVIATIONS, BODY_ENGLISH

if TYPE_CHECKING:
    from rag.embed import Embedder

logger = logging.getLogger(__name__)

# How many of the best passages candidate sentences are taken from; for a precedent question, which
# asks what several organisations did, more.
PASSAGES_FOR_SENTENCES = 5
PRECEDENT_PASSAGES = 10
# At most this many quoted sentences in an answer; more are quoted only when they score close to the best.
MAX_QUOTES = 3
QUOTE_MARGIN = 1.5  # in the units of the learned sentence score (a logit)
SENTENCE_CACHE = 5000  # sentence embeddings kept (384 floats each: about 8 MB)
MAX_K = 50  # most passages an answer returns as reading
# A key in a fifth or more of the passages does not pick out a matter: ln(1 + 0.8/0.2) in BM25's idf.
DISTINCTIVE_IDF = 1.6
# Below this idf-weighted share of the question's matter keys in the cited item, the item is about
# something else. All matter keys count, weighted, not only the rare ones: in a small index of AI
# motions "motion" and "AI" are common, and the rare keys left are the question's phrasing
# ("ledamöter", "lämnade"). Near misses made by swapping the organisation: devset 0.40 -> 0.50
# held out abstained; answerable questions abstaining did not rise in any set.
MATTER_MIN = 0.1
# Sentences offered to an LLM endpoint to word the answer from: the best, and those close to it.
LLM_SOURCES = 6
LLM_MARGIN = 3.0
# Confidence looks at the question terms found in this many best passages, and at whether one of
# this many best sentences states the kind of thing asked for.
COVERAGE_PASSAGES = 3
KIND_CANDIDATES = 5
# Kinds of answer whose absence from the best sentences means the documents do not say: asked for
# an amount, a date or a name, passages without one do not answer. ("Why" has no reliable marker.)
CHECKED_TYPES = frozenset({"person", "date", "money", "number", "frequency", "company"})
# Weights of a sentence's signals (Assistant.score): a logistic model of "this sentence holds the
# gold answer" over the candidates of the 225 answerable labelled questions (realdocs, devset A-C,
# eval/dev_questions), cross-validated with whole documents held out (rag.sentence_model: fit,
# held_out_first). Held out, the best sentence
# held the answer for realdocs 35/54, devset 92/145, dev 17/26: as well as with the sentence's
# embedding similarity to the question as a further signal (38/54, 89/145, 16/26 on fewer signals),
# so sentences are not embedded per query; only the chosen one is, for the confidence. A listwise
# (softmax) fit gave 34/54, 93/145, 18/26; sentence length, the sentence's own overlap and "in
# Beslut" as signals lowered the held-out figures and were left out. "decisive" counts only for a
# question about a decision, "reporting" (Yrkanden, Proposition, Ärendebeskrivning) only against
# one; "role" and "event" only for who- and when-questions.
SENTENCE_WEIGHTS = {
    "overlap": 2.42,
    "passage": 2.86,
    "rank": 2.17,
    "section": -0.31,
    "kind": 1.97,
    "decisive": 2.64,
    "title": -1.62,
    "role": 0.81,
    "reporting": -1.00,
    "event": 1.35,
}
_REPORTING_SECTIONS = frozenset({"Yrkanden", "Proposition", "Omröstning", "Ärendebeskrivning", "Bakgrund"})
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
    (r"\bledde\b|\bordforande\b|\bchair(?:ed|man|person)?\b", "ordförande"),
    (r"\bjuster", "justerare"),
    (r"\bhandlaggare\b|\bcase officer\b", "handläggare"),
    (r"\bsekreterare\b|\bsecretary\b", "sekreterare"),
    (r"\byrka|\bdrev\b|\bville att\b|\bkravde\b|\bforeslog\b|\bproposed\b|\bmoved\b", "yrkande"),
)
# Offices a who-question can ask about, as the protocol's head or signature writes them.
_OFFICES = {
    "ordförande": r"\bordförande\b",
    "justerare": r"juster",  # also "Protokolljusterare"
    "handläggare": r"\bhandläggare\b",
    "sekreterare": r"\bsekreterare\b",
}
_NAME = re.compile(r"\b[A-ZÅÄÖ][a-zåäöé]+\s+[A-ZÅÄÖ][a-zåäöé]+")
# What a yrkande asks for, as a question wants it ("ville att den skulle skickas tillbaka") and as
# the protocol writes it ("yrkar att ärendet återremitteras"), folded.
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


_INFORMS = re.compile(
    r"\b(?:informerar|redovisar|föredrar|presenterar|berättar|lämnar\s+(?:en\s+)?(?:lägesrapport|information))\b",
    re.IGNORECASE,
)
_NO_VOTE = re.compile(r"\bnej\b|\brösta[rd]e? nej\b|\bröstar emot\b", re.IGNORECASE)


# The event a when-question asks the date of, by its verb (folded), and how protocols and
# guidelines word that event: "När antogs policyn?" is dated by "Antagen av kommunfullmäktige ...".
_EVENTS: tuple[tuple[str, str], ...] = (
    (r"\bantogs?\b|\bantagits?\b|\bantas\b|\badopted\b", r"\bantag|\bantog|\bantas\b|\bfastställ|\bbeslutad av"),
    (r"\bkom\b.{0,40}\bin\b|\binkom|\blamnades in|\bsubmitted\b", r"\binkom|\bkom in\b|\blämnades in"),
    (
        r"\bborja gall|\bgall(?:a|er) fran|\bi kraft\b|\btake effect|\bapply from",
        r"\bi kraft\b|\bgälla från|\bgäller från|\bfrån och med",
    ),
    (r"\banmal|\brapporterade|\brapporterades|\breported\b", r"\banmäl|\brapporter"),
    (
        r"\bstartar\b|\bborjar\b|\bstarta\b|\binfors\b|\bstart\b|\bbegin",
        r"\bfrån och med|\bstart|\bbörja|\binför|\binförs",
    ),
    (r"\bsammantradde|\bmotet\b|\bsammantradet\b|\bmeeting\b", r"\bsammanträdesdatum|\bsammanträde"),
)


def asked_event(question: str) -> str | None:
    """For a when-question, a pattern of the words that date the asked event in a document."""
    folded = fold(question)
    return next((words for pattern, words in _EVENTS if re.search(pattern, folded)), None)


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
# "Hur slutade motionen?", "vad blev det till slut?": asked how a matter ended (folded).
_ENDING = re.compile(
    r"\bhur (?:slutade|gick det|blev det)\b|\btill slut\b|\bslutligen\b|\bi slutandan\b|\bsenare\b"
    r"|\bhow did .{0,60}\bend\b|\bin the end\b|\bfinally\b|\beventually\b"
)
_LATER_STAGE = re.compile(
    r"\btill slut\b|\bslutligen\b|\bi slutandan\b|\bslutgiltig\w*|\befter (?:aterremiss\w*|utredning\w*|bordlagg\w*)"
    r"|\bsenare\b|\bin the end\b|\bfinally\b|\beventually\b|\bafter the (?:referral|investigation)\b"
)


@dataclass(frozen=True)
class Citation:
    """One quoted span: ``quote == document text[start:end]``, checked before it is returned."""

    n: int
    doc: str
    path: str
    title: str | None
    organisation: str | None
    body: str | None
    date: str | None
    paragraph: str | None
    dnr: str | None
    section: str | None
    start: int
    end: int
    quote: str


@dataclass(frozen=True)
class Evidence:
    """The measured signals behind an answer's confidence."""

    similarity: float  # cosine between the question and the best sentence
    coverage: float  # rarity-weighted share of the question's terms found in the best passages
    answer_type: str | None = None  # what the question asks for: person, date, number, money ...
    answer_type_found: bool = True  # whether any candidate sentence states such a thing
    missing: tuple[str, ...] = ()  # question terms no indexed document contains at all
    unknown_places: tuple[str, ...] = ()  # municipalities/regions named that no document mentions
    # constraints of the question the best sentence does not meet: "words" (none of its words is in
    # any document), "organisation", "body", "stage", "undecided" (the sentence is a proposal that
    # was sent back or postponed)
    unmet: tuple[str, ...] = ()
    decision: bool = False  # the question asks what was decided


@dataclass(frozen=True)
class Answer:
    question: str
    standalone: str  # the question actually searched (a follow-up resolved against the history)
    language: str
    answer: str | None
    abstained: bool
    confidence: float
    reason: str | None
    citations: tuple[Citation, ...]
    passages: tuple[Hit, ...]
    evidence: Evidence
    generated: bool = False  # worded by the configured LLM endpoint rather than extractive


@dataclass(frozen=True)
class Candidate:
    """A sentence of a retrieved passage that could be quoted."""

    hit: Hit
    rank: int  # the passage's rank, 1-based
    start: int
    end: int
    text: str
    score: float = 0.0
    scores: dict[str, float] = field(default_factory=dict)
    decisive: bool = False  # the span states its item's decision
    section: str | None = None  # the section the span stands in, when it is known better than the hit's


def _kind_match(asked: str | None, stated: frozenset[str]) -> float:
    """1 when a sentence states the kind of thing asked for; a role or body half answers "who"."""
    if asked is None:
        return 0.0
    if asked in stated:
        return 1.0
    return 0.5 if asked == "person" and "role" in stated else 0.0


class Assistant:
    """Answers questions over a ``Searcher``: retrieval, sentence choice, citation, abstention."""

    def __init__(
        self,
        searcher: Searcher,
        threshold: float = 0.0,
        *,
        max_chars: int = 1000,
        weights: dict[str, float] | None = None,
    ) -> None:
        self.searcher = searcher
        self.max_chars = max_chars
        self._sentence_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        self.weights = weights or dict(SENTENCE_WEIGHTS)
        self.threshold = threshold
        self._place_keys = {place_key(o) for o in searcher.organisations}
        documents = searcher.index.documents().values()
        self._mentioned = {p for d in documents for p in d.structure.get("places", ())}
        self._mentioned_as_organisation = {p for d in documents for p in d.structure.get("organisations", ())}
        self._items = {d.id: sorted(d.structure.get("items", ()), key=lambda it: it["start"]) for d in documents}
        self._item_starts = {doc: [it["start"] for it in items] for doc, items in self._items.items()}
        self._bodies: dict[str, str | None] = {}  # a document's body when its structure has none, read lazily
        self._matters: dict[str, list[Matter]] = {}  # a document's matters across documents, read lazily
        self._place_stems = {k.split()[0].rstrip("s") for k in self._place_keys if k}

    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None) -> Assistant:
        """Load the index and model (``Searcher.open``) with the configured or calibrated threshold."""
        from rag.calibrate import load

        threshold = settings.abstain_threshold
        if threshold is None:
            threshold = float(load()["threshold"])
        return cls(Searcher.open(settings, embedder), threshold, max_chars=settings.max_question_chars)

    def public(self) -> Assistant:
        """This assistant over the public documents only (``Searcher.public``), or itself when none is
        internal. Its caches are its own, so nothing asked by staff is remembered for citizens."""
        searcher = self.searcher.public()
        if searcher is self.searcher:
            return self
        return Assistant(searcher, self.threshold, max_chars=self.max_chars, weights=self.weights)

    # --- signals ---

    def unknown_places(self, info: QueryInfo, decision: bool = False) -> tuple[str, ...]:
        """Places the question names that no indexed document is from or mentions; a place the
        question names as an organisation ('Linköpings kommun') must be mentioned as one, and a
        place asked what it decided must be the organisation of a document."""
        as_organisation = set(named_places(info.text, as_organisation=True))
        unknown = []
        for place in info.places:
            key = fold(place)
            if key in self._place_keys or key.split()[0].rstrip("s") in self._place_stems:
                continue
            if decision:
                unknown.append(place)
                continue
            if place in (self._mentioned_as_organisation if place in as_organisation else self._mentioned):
                continue
            unknown.append(place)
        return tuple(unknown)

    def missing_terms(self, keys: Sequence[str]) -> tuple[str, ...]:
        """Question terms that occur in no indexed passage."""
        lexical = self.searcher.index
        return tuple(k for k in keys if lexical.document_frequency(k) == 0)

    def coverage(self, keys: Sequence[str], hits: Sequence[Hit]) -> float:
        """Rarity-weighted share of the question's terms that occur in the given passages."""
        if not keys:
            return 1.0
        lexical = self.searcher.index
        present: set[str] = set()
        for hit in hits:
            present.update(analyse(hit.chunk.header() + "\n" + hit.chunk.text))
        weights = {k: lexical.idf(k) for k in keys}
        total = sum(weights.values())
        return sum(w for k, w in weights.items() if k in present) / total if total else 1.0

    def item_coverage(self, keys: Sequence[str], c: Candidate) -> float:
        """Rarity-weighted share of the question's terms that the item (§) of a sentence holds, with
        its context line: the matter asked about must be the matter of the item quoted."""
        if not keys:
            return 1.0
        item = self.item_at(c.hit.chunk.doc, c.start) or {}
        text = self.searcher.index.documents()[c.hit.chunk.doc].text
        present = set(analyse(text[item.get("start", c.hit.chunk.start) : item.get("end", c.hit.chunk.end)]))
        present |= set(analyse(c.hit.chunk.header()))
        lexical = self.searcher.index
        weights = {k: lexical.idf(k) for k in keys}
        total = sum(weights.values())
        return sum(w for k, w in weights.items() if k in present) / total if total else 1.0

    # --- answering ---

    def item_at(self, doc: str, offset: int) -> dict[str, Any] | None:
        """The item (§) of a document that holds ``offset``, as the stored structure summary has it."""
        starts = self._item_starts.get(doc, [])
        i = bisect.bisect_right(starts, offset) - 1
        if i < 0:
            return None
        item = self._items[doc][i]
        return item if offset < item["end"] else None

    def candidates(self, hits: Sequence[Hit], decision: bool = False) -> list[Candidate]:
        """Quotable sentences of the best passages, each once (passages overlap); for a question
        about a decision also the decisive sentence of each passage's item, wherever it stands."""
        seen: set[tuple[str, int, int]] = set()
        out = []
        for rank, hit in enumerate(hits[:PASSAGES_FOR_SENTENCES], start=1):
            doc = self.searcher.index.documents()[hit.chunk.doc]
            decisive: list[tuple[int, int]] = []
            item = self.item_at(hit.chunk.doc, hit.chunk.start) if decision else None
            if item is not None:
                decisive = decisive_spans(doc.text, item)
            spans = join_lead_ins(doc.text, sentence_spans(doc.text, hit.chunk.start, hit.chunk.end))
            for s, e in [*decisive, *spans]:
                key = (hit.chunk.doc, s, e)
                text = doc.text[s:e]
                if key in seen or not quotable(text):
                    continue
                seen.add(key)
                is_decisive = any((a <= s and e <= b) or (s <= a and b <= e) for a, b in decisive)
                section = _section_at(item, s) if is_decisive and item is not None else None
                out.append(Candidate(hit, rank, s, e, text, decisive=is_decisive, section=section))
        return out

    def role_match(self, role: str, c: Candidate, stance: str | None = None) -> float:
        """1 when a sentence names a person who plays the asked role in its item (a motionär, one who
        moved a yrkande or reserved, with the asked ``stance`` when there is one), holds the asked
        office at the meeting, or states the no side of a vote; else 0."""
        named = "person" in sentence_kinds(c.text)
        if role == "nej":  # "Nej: Rasmus Olsson (V) ...", not the proposition "Den som vill avslå röstar nej"
            return 1.0 if _NO_VOTE.search(c.text) and named else 0.0
        if role == "informant":
            return 1.0 if _INFORMS.search(c.text) and named else 0.0
        if role in _OFFICES:  # "Anna Berg (S), ordförande", "Protokolljusterare Peter Wesley (KD)"
            return 1.0 if re.search(_OFFICES[role], c.text, re.IGNORECASE) and (named or _NAME.search(c.text)) else 0.0
        item = self.item_at(c.hit.chunk.doc, c.start) or {}
        names = [p["name"] for p in item.get("persons") or () if p.get("role") == role]
        if not any(name and name in c.text for name in names):
            return 0.0
        return 1.0 if stance is None or stance in _stances(c.text) else 0.0

    def is_title(self, c: Candidate) -> bool:
        """Whether a candidate is only its item's heading ("Svar på motion om AI ...")."""
        item = self.item_at(c.hit.chunk.doc, c.start)
        title = (item or {}).get("title") or c.hit.chunk.title
        return isinstance(title, str) and " ".join(fold(c.text).split()) in " ".join(fold(title).split())

    def score(
        self, info: QueryInfo, keys: Sequence[str], candidates: list[Candidate], decision: bool = False
    ) -> list[Candidate]:
        """Candidates scored and sorted best first."""
        if not candidates:
            return []
        who = info.answer_type == "person" or re.match(r"\W*(?:och |men )?(?:vem|vilka|vilken|who)\b", fold(info.text))
        role = asked_role(info.text) if who else None
        stance = asked_stance(info.text) if role == "yrkande" else None
        event = asked_event(info.text) if info.answer_type == "date" else None
        lexical = self.searcher.index
        weights = {k: lexical.idf(k) for k in keys}
        total = sum(weights.values()) or 1.0
        top = max(c.hit.score for c in candidates) or 1.0
        scored = []
        for c in candidates:
            # the passage's context line counts as said by the sentence: "Tibro" is in the header,
            # not in every sentence of a Tibro protocol
            present = set(analyse(c.text)) | set(analyse(c.hit.chunk.header()))
            overlap = sum(w for k, w in weights.items() if k in present) / total
            section = c.section or c.hit.chunk.section
            parts = {
                "overlap": overlap,
                "passage": c.hit.score / top,
                "rank": 1.0 / c.rank,
                "section": 1.0 if info.sections and c.hit.chunk.section in info.sections else 0.0,
                "kind": _kind_match(info.answer_type, sentence_kinds(c.text)),
                "decisive": 1.0 if decision and c.decisive else 0.0,
                "title": 1.0 if self.is_title(c) else 0.0,
                "role": self.role_match(role, c, stance) if role else 0.0,
                "reporting": 1.0 if decision and section in _REPORTING_SECTIONS else 0.0,
                "event": 1.0 if event and re.search(event, c.text, re.IGNORECASE) else 0.0,
            }
            value = sum(self.weights.get(name, 0.0) * v for name, v in parts.items())
            scored.append(
                Candidate(c.hit, c.rank, c.start, c.end, c.text, value, parts, decisive=c.decisive, section=c.section)
            )
        return sorted(scored, key=lambda c: -c.score)

    def similarity(self, question: str, sentence: str) -> float:
        """Cosine between the question and one sentence (the chosen one: one embedding per answer)."""
        return round(float(self.sentence_vectors([sentence])[0] @ self.searcher.query_vector(question)), 4)

    def sentence_vectors(self, sentences: Sequence[str]) -> np.ndarray:
        """Embeddings of sentences (OCR-repaired), the last few thousand cached: the best passages
        of related questions overlap, and a chat asks related questions."""
        with self._cache_lock:
            todo = list(dict.fromkeys(t for t in sentences if t not in self._sentence_cache))
        if todo:
            fresh = self.searcher.embedder.embed_passages([repair(t) for t in todo])
            with self._cache_lock:
                for text, vector in zip(todo, fresh, strict=True):
                    self._sentence_cache[text] = vector
                while len(self._sentence_cache) > SENTENCE_CACHE:
                    self._sentence_cache.popitem(last=False)
        with self._cache_lock:
            return np.stack(
                [self._sentence_cache.get(t, np.zeros(self.searcher.embedder.dim, np.float32)) for t in sentences]
            )

    @staticmethod
    def choose(ranked: Sequence[Candidate], limit: int = MAX_QUOTES, margin: float = QUOTE_MARGIN) -> list[Candidate]:
        """The best sentence, and up to ``limit - 1`` more that score within ``margin`` of it."""
        if not ranked:
            return []
        chosen = [ranked[0]]
        for c in ranked[1:]:
            if len(chosen) >= limit or c.score < ranked[0].score - margin:
                break
            if any(_overlaps(c, d) or _near_duplicate(c.text, d.text) for d in chosen):
                continue
            chosen.append(c)
        return chosen

    @staticmethod
    def choose_across(ranked: Sequence[Candidate], limit: int = MAX_QUOTES) -> list[Candidate]:
        """For a precedent question: the best sentence of each organisation, best first, up to ``limit``."""
        chosen: list[Candidate] = []
        seen: set[str | None] = set()
        for c in ranked:
            if len(chosen) >= limit:
                break
            if c.hit.chunk.organisation in seen:
                continue
            seen.add(c.hit.chunk.organisation)
            chosen.append(c)
        return chosen

    @staticmethod
    def confidence(evidence: Evidence) -> float:
        """A number in [0, 1]: the best sentence's similarity to the question times the share of the
        question's terms its item (§) holds; 0 when the question names a place no document mentions,
        meets a constraint the sentence does not (``Evidence.unmet``), or asks for a kind of thing (an
        amount, a date, a name) none of the best sentences states."""
        if evidence.unknown_places or evidence.unmet or not evidence.answer_type_found:
            return 0.0
        return round(max(0.0, min(1.0, evidence.similarity * evidence.coverage)), 4)

    def ask(
        self,
        question: str,
        *,
        history: Sequence[Turn] = (),
        filters: Filters | None = None,
        k: int = 5,
    ) -> Answer:
        """Answer ``question`` with cited quotes; a follow-up is first resolved against ``history``."""
        if not question.strip():
            raise InputError("question: the question is empty. Write a question.", field="question")
        if len(question) > self.max_chars:
            raise InputError(
                f"question: {len(question)} characters is too long. Shorten it to at most {self.max_chars}.",
                field="question",
            )
        if not 1 <= k <= MAX_K:
            raise InputError(f"k: {k} is out of range. Use a number from 1 to {MAX_K}.", field="k")
        searched = resolve(question, history, self.searcher.organisations)
        if not content_keys(searched):
            return self._abstain(question, searched, Evidence(0.0, 0.0, unmet=("words",)), (), "no-content")
        info = self.searcher.understand(searched)
        hits = self.searcher.search(searched, k=max(k, PASSAGES_FOR_SENTENCES), filters=filters)
        keys = query_keys(info, lambda key: self.searcher.index.document_frequency(key) > 0, expand=False)
        across = asks_across_organisations(searched) and not info.organisations
        decision = asks_for_decision(searched) or across
        # a question about Västerås is answered from Västerås's documents when the search found any
        named = [h for h in hits[:PASSAGES_FOR_SENTENCES] if h.chunk.organisation in info.organisations]
        if across:  # precedent: what each organisation did, from more passages than one matter needs
            hits = self.searcher.search(searched, k=max(k, PRECEDENT_PASSAGES), filters=filters)
        pool = hits[:PRECEDENT_PASSAGES] if across else named or hits
        ranked = self.score(info, keys, self.candidates(pool, decision), decision)
        # a question naming a figure ("förslaget 13181", "600 medarbetare") is answered where it stands
        figures = _FIGURE.findall(searched)
        ranked = [c for c in ranked if self.states_figures(c, figures)] or ranked
        # "hur många elever ...": answered by a sentence that counts elever, if any does
        counted = counted_terms(searched)
        if counted:
            topical = self.distinctive(self.matter_keys(info, keys, counted))
            ranked = [c for c in ranked if counts(c.text, counted, topical)] or ranked
        chosen = self.choose_across(ranked) if across else self.choose(ranked)
        evidence = Evidence(
            similarity=self.similarity(info.text, chosen[0].text) if chosen else 0.0,
            coverage=round(self.item_coverage(keys, chosen[0]), 4) if chosen else 0.0,
            answer_type=info.answer_type,
            answer_type_found=info.answer_type not in CHECKED_TYPES
            or any(c.scores["kind"] for c in ranked[:KIND_CANDIDATES]),
            missing=self.missing_terms(keys),
            unknown_places=self.unknown_places(info, decision),
            unmet=self.unmet(searched, info, keys, chosen[0] if chosen else None, bool(named), decision and not across),
            decision=decision,
        )
        confidence = self.confidence(evidence)
        passages = tuple(hits[:k])
        if not chosen or confidence < self.threshold:
            return self._abstain(question, searched, evidence, passages, info.language, confidence, bool(hits))
        # a motion, a proposal or a tabled item whose matter went on in a later document: the
        # answer leads with the matter's latest step and says that it is one
        later = self.later_step(chosen[0], searched) if decision and not across and chosen else None
        step_citation = self.step_citation(later) if later else None
        citations = self.verified(([step_citation] if step_citation else []) + self._citations(chosen))
        citations = tuple(replace(c, n=n) for n, c in enumerate(citations, start=1))
        text = compose(citations, info.language) if citations else None
        note = self.proposal_note(chosen[0], info.language) if decision and text and not step_citation else None
        if step_citation and later and text:
            note = _step_note(later, info.language)
        if note:
            text = f"{note}\n{text}"
        generated = False
        if citations and self.searcher.settings.llm_url:
            worded = self.worded(searched, info.language, ranked)
            if worded is not None:
                text, citations = worded
                generated = True
        return Answer(
            question=question,
            standalone=searched,
            language=info.language,
            answer=text,
            generated=generated,
            abstained=not citations,
            confidence=confidence,
            reason=None if citations else _abstain_reason(info.language, evidence, bool(hits)),
            citations=citations,
            passages=passages,
            evidence=evidence,
        )

    def _abstain(
        self,
        question: str,
        searched: str,
        evidence: Evidence,
        passages: tuple[Hit, ...],
        language: str,
        confidence: float = 0.0,
        any_hits: bool = False,
    ) -> Answer:
        if language == "no-content":  # nothing was searched: no language, no passages
            reason = (
                "Frågan innehåller inga ord att söka på (bara frågeord, tecken eller kod). Skriv vad frågan gäller, "
                "till exempel: Vad beslutade Tibro om en AI-strategi?"
            )
            return Answer(question, searched, "sv", None, True, 0.0, reason, (), (), evidence)
        return Answer(
            question=question,
            standalone=searched,
            language=language,
            answer=None,
            abstained=True,
            confidence=confidence,
            reason=_abstain_reason(language, evidence, any_hits),
            citations=(),
            passages=passages,
            evidence=evidence,
        )

    def unmet(
        self,
        question: str,
        info: QueryInfo,
        keys: Sequence[str],
        best: Candidate | None,
        named_found: bool,
        decision: bool,
    ) -> tuple[str, ...]:
        """The constraints of the question that the best sentence does not meet (``Evidence.unmet``)."""
        unmet = []
        places = {k for p in info.places for k in analyse(p)}
        topical = [k for k in keys if k not in places]
        lexical = self.searcher.index
        if info.language == "sv" and topical and all(lexical.document_frequency(k) == 0 for k in topical):
            unmet.append("words")
        if info.organisations and not named_found:
            unmet.append("organisation")
        if best is None:
            return tuple(unmet)
        item = self.item_at(best.hit.chunk.doc, best.start) or {}
        body = (
            item.get("body")
            or best.hit.chunk.body
            or _body_in(repair(best.text), subject=True)
            or self.document_body(best.hit.chunk.doc)
        )
        about_decision = decision or names_decision(question) or _VOTE.search(fold(question))
        asked = asked_bodies(question, info.bodies) if about_decision else ()
        if asked and body and not any(_same_body(b, body) for b in asked):
            unmet.append("body")
        if not self.states_figures(best, _FIGURE.findall(question)):
            unmet.append("figure")
        counted = counted_terms(question)
        if counted and not counts(best.text, counted, self.distinctive(self.matter_keys(info, keys, counted))):
            unmet.append("quantity")  # "hur många timmar" answered by a sentence counting something else
        item_text = self.searcher.index.documents()[best.hit.chunk.doc].text[
            item.get("start", best.start) : item.get("end", best.end)
        ]
        if (
            info.language == "sv"
            and self.matter_share(info, keys, item_text + "\n" + best.hit.chunk.header()) < MATTER_MIN
        ):
            unmet.append("matter")  # the item holds next to none of the words that name the matter asked about
        if _VOTE.search(fold(question)) and not _VOTED.search(item_text):
            unmet.append("vote")  # asked how a vote went, of an item where nobody voted
        actor = _ASKED_ACTOR.match(question)
        if actor and actor.group("actor") not in BODY_ABBREVIATIONS and not _acts(actor.group("actor"), best.text):
            unmet.append("actor")  # "Har IMY gett ... tillstånd?" answered by what the municipality decided
        outcome = item.get("outcome")
        if _LATER_STAGE.search(fold(question)) and outcome in NO_FINAL_OUTCOMES:
            unmet.append("stage")
        elif decision and outcome in NO_FINAL_OUTCOMES and _ASKS_CHOICE.match(fold(question)):
            unmet.append("undecided")  # "Vilket system valde KS?" of an item that was tabled or noted
        asks_proposal = bool(re.search(r"\bforesla|\bforslag|\bpropos|\bvill\b.{0,80}\bbesluta", fold(question)))
        if decision and not asks_proposal and not (best.decisive or decides(best.text)):
            unmet.append("no-decision")  # a proposal, a motion or background: nothing decided
        asks_stated = decision or info.answer_type in ("date", "money", "number")
        proposed = decides(best.text) and not decides_pending(best.text)  # "X beslutar att ..." not decided
        if asks_stated and not asks_proposal and outcome in PENDING_OUTCOMES and not best.decisive and proposed:
            unmet.append("undecided")
        return tuple(unmet)

    @staticmethod
    def matter_keys(info: QueryInfo, keys: Sequence[str], counted: Sequence[str] = ()) -> list[str]:
        """The question's keys that name its matter: not a place, not a question word, not what it counts."""
        places = {k for p in info.places for k in analyse(p)}
        return [k for k in keys if k not in places and k not in QUESTION_WORDS and k not in counted]

    def distinctive(self, keys: Sequence[str]) -> list[str]:
        """The keys that pick out a matter in this index: not in a fifth or more of its passages
        ("AI" in a corpus about AI says nothing)."""
        lexical = self.searcher.index
        return [k for k in keys if lexical.idf(k) >= DISTINCTIVE_IDF]

    def matter_share(self, info: QueryInfo, keys: Sequence[str], text: str) -> float:
        """The idf-weighted share of the question's matter keys that ``text`` holds (a compound holds
        its parts); 1 when the question has none (nothing to check)."""
        wanted = {k: self.searcher.index.idf(k) for k in self.matter_keys(info, keys)}
        if not wanted:
            return 1.0
        present = set(analyse(text))
        found = sum(w for k, w in wanted.items() if k in present or any(same_key(k, p) for p in present))
        return found / sum(wanted.values())

    def later_step(self, best: Candidate, question: str) -> Step | None:
        """The latest step of the matter the best sentence's item belongs to (the same Dnr, or the
        protocol answering a motion), when it is a later item with a decision and the answer needs
        it: the question asks how the matter ended, or the best sentence is no decision, a motion,
        or an item tabled, sent back or only noted. Else None."""
        doc = best.hit.chunk.doc
        item = self.item_at(doc, best.start) or {}
        unsettled = not best.decisive or best.hit.chunk.doc_type == "motion" or item.get("outcome") in NO_FINAL_OUTCOMES
        if not (unsettled or _ENDING.search(fold(question))):
            return None
        if doc not in self._matters:
            self._matters[doc] = matters_of(self.searcher.index.documents().values(), doc)
        for matter in self._matters[doc]:
            steps = list(matter.steps)
            here = next((i for i, s in enumerate(steps) if s.doc == doc and s.paragraph == item.get("paragraph")), None)
            last = steps[-1]
            if here is not None and here < len(steps) - 1 and last.decision and last.decision_start is not None:
                return last
        return None

    def step_citation(self, step: Step) -> Citation | None:
        """A matter step's decisive sentence as a citation."""
        stored = self.searcher.index.document(step.doc)
        if stored is None or step.decision_start is None or step.decision_end is None:
            return None
        return Citation(
            n=1,
            doc=step.doc,
            path=stored.path,
            title=step.title,
            organisation=step.organisation,
            body=step.body,
            date=step.date,
            paragraph=step.paragraph,
            dnr=step.dnr,
            section="Beslut",
            start=step.decision_start,
            end=step.decision_end,
            quote=stored.text[step.decision_start : step.decision_end],
        )

    def document_body(self, doc: str) -> str | None:
        """The body a document is from, as its structure says or as its head names first."""
        if doc not in self._bodies:
            stored = self.searcher.index.documents()[doc]
            self._bodies[doc] = stored.body or _body_in(repair(stored.text[:2000]))
        return self._bodies[doc]

    def states_figures(self, c: Candidate, figures: Sequence[str]) -> bool:
        """Whether the item (§) of a candidate states every figure the question names."""
        if not figures:
            return True
        item = self.item_at(c.hit.chunk.doc, c.start) or {}
        text = self.searcher.index.documents()[c.hit.chunk.doc].text
        said = set(_FIGURE.findall(text[item.get("start", c.start) : item.get("end", c.end)]))
        return all(f in said for f in figures)

    def proposal_note(self, best: Candidate, language: str) -> str | None:
        """'Kommunstyrelsens förslag till kommunfullmäktige, inte fullmäktiges beslut.' when the
        decisive sentence only proposes to a higher body."""
        if not best.decisive:
            return None
        item = self.item_at(best.hit.chunk.doc, best.start) or {}
        target = item.get("proposal_to") or proposes_to(best.text)
        if not target:
            return None
        body = item.get("body") or best.hit.chunk.body or ("the body" if language == "en" else "organet")
        if language == "en":
            return f"This is a proposal from {body} to {target}, not a decision of {target}."
        return f"Detta är ett förslag från {body.lower()} till {target.lower()}, inte {target.lower()}s beslut."

    def worded(
        self, question: str, language: str, ranked: Sequence[Candidate]
    ) -> tuple[str, tuple[Citation, ...]] | None:
        """The answer phrased by the configured LLM endpoint from the best sentences only (each a
        verified citation), keeping only its sentences that carry supported ``[n]`` markers; None
        when the endpoint fails or says nothing usable (the extractive answer then stands)."""
        from rag.llm import Source, phrase

        pool = self.verified(self._citations(self.choose(ranked, limit=LLM_SOURCES, margin=LLM_MARGIN)))
        sources = [Source(c.n, c.quote, source_label(c, language)) for c in pool]
        phrased = phrase(question, language, sources, self.searcher.settings)
        if not phrased:
            return None
        used = list(dict.fromkeys(n for p in phrased for n in p.citations))
        renumber = {old: new for new, old in enumerate(used, start=1)}
        by_n = {c.n: c for c in pool}

        def markers(m: re.Match[str]) -> str:
            return "[" + ", ".join(str(renumber[int(n)]) for n in re.findall(r"\d+", m.group(1))) + "]"

        text = " ".join(re.sub(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]", markers, p.text) for p in phrased)
        citations = tuple(Citation(**(asdict(by_n[old]) | {"n": renumber[old]})) for old in used)
        return text, citations

    def _citations(self, chosen: Sequence[Candidate]) -> list[Citation]:
        # the best sentence first (the answer leads with it), the others in reading order within a
        # passage, passages in the order they were chosen
        if not chosen:
            return []
        order = {c.hit.chunk_id: i for i, c in reversed(list(enumerate(chosen)))}
        ordered = [chosen[0], *sorted(chosen[1:], key=lambda c: (order[c.hit.chunk_id], c.start))]
        return [
            Citation(
                n=n,
                doc=c.hit.chunk.doc,
                path=c.hit.path,
                title=c.hit.chunk.title,
                organisation=c.hit.chunk.organisation,
                body=c.hit.chunk.body,
                date=c.hit.chunk.date,
                paragraph=c.hit.chunk.paragraph,
                dnr=c.hit.chunk.dnr,
                section=c.section or c.hit.chunk.section,
                start=c.start,
                end=c.end,
                quote=c.text,
            )
            for n, c in enumerate(ordered, start=1)
        ]

    def verified(self, citations: Sequence[Citation]) -> tuple[Citation, ...]:
        """The citations whose quote equals the document text at their span, renumbered; others are
        dropped and logged (they would mean an offset bug, never something to show a user)."""
        kept = []
        for c in citations:
            doc = self.searcher.index.document(c.doc)
            if doc is None or doc.text[c.start : c.end] != c.quote:
                logger.error("dropped a citation that does not match its document: %s [%d:%d]", c.doc, c.start, c.end)
                continue
            kept.append(c)
        return tuple(Citation(**(asdict(c) | {"n": n})) for n, c in enumerate(kept, start=1))


_VOTE = re.compile(r"\brostade|\bomrostning|\bvoter?d?\b")
_VOTED = re.compile(r"\bröst(?:ar|ade|er|ning)|\bomröstning|\bvotering|\bja-röst|\bnej-röst", re.IGNORECASE)
# A yes/no question whose actor is an authority named by its acronym: "Har IMY gett Kiruna tillstånd?"
_ASKED_ACTOR = re.compile(
    r"\W*(?i:har|gav|fick|beviljade|godkände|avslog|did|has)\s+(?P<actor>[A-ZÅÄÖ]{2,6})\b(?!\s*(?:i|in)\b)"
)
# A figure the question states ("Copilot för 600 medarbetare"), not a year or a § number.
_FIGURE = re.compile(r"(?<![\d§/-])(?<!§ )\b(?!(?:19|20)\d\d\b)\d+(?:[,.]\d+)?\b(?![/-]\d)")


def _acts(actor: str, sentence: str) -> bool:
    """Whether ``actor`` is the one deciding in a sentence: 'IMY beslutar ...', 'IMY har gett ...'."""
    return bool(
        re.match(rf"\W*(?:\d+\.\s*)?{re.escape(actor)}\b", sentence)
        or re.search(
            rf"\b{re.escape(actor)}\s+(?:har\s+)?(?:beslut|ger\b|gav\b|gett|bevilja|godkän|avslå|avslog)", sentence
        )
    )


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


_BODY = re.compile(
    r"\b(?:[A-ZÅÄÖ][a-zåäö]+-\s+och\s+[a-zåäö]*|[A-ZÅÄÖ][a-zåäö]*)(?:fullmäktige|styrelsen|nämnden|utskottet)\b"
    r"|\b[Nn]ämnden för [a-zåäö -]+?(?=\s+(?:beslutar|föreslår|antar|godkänner|\n))"
)


def _body_in(text: str, subject: bool = False) -> str | None:
    """The first body a text names ('Hälso- och sjukvårdsnämnden'); with ``subject``, only one that
    opens the text as its actor ('Kommunstyrelsen beslutar ...')."""
    m = _BODY.search(text)
    if m is None or (subject and text[: m.start()].strip(" \t\n0-9.)")):
        return None
    return m.group()


def _section_at(item: dict[str, Any], offset: int) -> str | None:
    return next((x["heading"] for x in item.get("sections") or () if x["start"] <= offset < x["end"]), None)


def _same_body(a: str, b: str) -> bool:
    """'Kommunstyrelsen' and 'kommunstyrelse', 'KS' expanded, the same body in either form."""
    fa, fb = fold(a).split(), fold(b).split()
    if not fa or not fb:
        return False
    stem_a, stem_b = fa[-1][:9], fb[-1][:9]
    return stem_a == stem_b and (len(fa) == 1 or len(fb) == 1 or fa[0][:6] == fb[0][:6])


def decides_pending(sentence: str) -> bool:
    """Whether a sentence states that the matter was sent back or postponed."""
    return bool(re.search(r"återremitter|bordlägg|bordlagd|återremiss", sentence, re.IGNORECASE))


def _overlaps(a: Candidate, b: Candidate) -> bool:
    return a.hit.chunk.doc == b.hit.chunk.doc and a.start < b.end and b.start < a.end


def _near_duplicate(a: str, b: str) -> bool:
    """Nearly the same words, or one's words nearly all inside the other (a sentence quoted twice,
    once alone and once within its list)."""
    ka, kb = set(analyse(a)), set(analyse(b))
    if not (ka and kb):
        return False
    shared = len(ka & kb)
    return shared / len(ka | kb) >= 0.8 or shared / min(len(ka), len(kb)) >= 0.9


def _step_note(step: Step, language: str) -> str:
    """'Ärendets senaste steg (Dnr KS 2024/551): kommunfullmäktige 2025-04-28, § 84.'"""
    where = ", ".join(x for x in (step.body and step.body.lower(), step.date, step.paragraph) if x)
    dnr = f" (Dnr {step.dnr})" if step.dnr else ""
    if language == "en":
        return f"The latest step of the matter{dnr}: {where}."
    return f"Ärendets senaste steg{dnr}: {where}."


def source_label(c: Citation, language: str) -> str:
    """Where a quote is from, in the question's language: 'Tibro kommun, kommunfullmäktige 2024-09-30, § 100'."""
    body = None
    if c.body:
        body = c.body[0].lower() + c.body[1:]
        if language == "en" and c.body in BODY_ENGLISH:
            body = f"{body} ({BODY_ENGLISH[c.body]})"
    if c.paragraph or body:
        who = ", ".join(p for p in (c.organisation, body) if p)
        when = ", ".join(p for p in (c.date, c.paragraph) if p)
        return f"{who} {when}" if c.date else ", ".join(p for p in (who, when) if p)
    title = c.title or c.doc
    meta = ", ".join(p for p in (c.organisation, c.date) if p)
    return f"{title} ({meta})" if meta else title


def compose(citations: Sequence[Citation], language: str) -> str:
    """The answer text: for each source, 'Enligt <source>: "<quote>" [n] ...', quotes as written."""
    lead = "According to" if language == "en" else "Enligt"
    open_q, close_q = ("“", "”") if language == "en" else ("”", "”")
    parts: list[str] = []
    previous: str | None = None
    for c in citations:
        label = source_label(c, language)
        quote = f"{open_q}{' '.join(c.quote.split())}{close_q} [{c.n}]"
        if label == previous:
            parts[-1] += " " + quote
        else:
            parts.append(f"{lead} {label}: {quote}")
        previous = label
    return "\n".join(parts)


# Why an answer abstains, per unmet constraint (``Assistant.unmet``): (English, Swedish).
_UNMET = {
    "words": (
        "None of the documents contains the words of the question.",
        "Inget av dokumenten innehåller frågans ord.",
    ),
    "organisation": (
        "None of the matching passages is from the organisation the question names.",
        "Inget av de träffade styckena kommer från den organisation frågan nämner.",
    ),
    "body": (
        "The documents hold no decision of the body the question asks about; the nearest passages "
        "(another body's decision or proposal) are listed as related reading.",
        "Dokumenten innehåller inget beslut av det organ frågan gäller; de närmaste styckena (ett annat "
        "organs beslut eller förslag) visas som relaterad läsning.",
    ),
    "stage": (
        "The documents hold no later decision: the matter was sent back, postponed or only noted.",
        "Dokumenten innehåller inget senare beslut: ärendet återremitterades, bordlades eller antecknades bara.",
    ),
    "undecided": (
        "The passage is a proposal that was sent back or postponed, not a decision.",
        "Stycket är ett förslag som återremitterades eller bordlades, inte ett beslut.",
    ),
    "no-decision": (
        "The passages hold a proposal or background, not a decision on the matter.",
        "Styckena innehåller ett förslag eller en bakgrund, inte ett beslut i ärendet.",
    ),
    "vote": (
        "The documents record no vote on the matter.",
        "Dokumenten redovisar ingen omröstning i ärendet.",
    ),
    "actor": (
        "The documents hold no decision of the authority the question names, only the organisation's own.",
        "Dokumenten innehåller inget beslut av den myndighet frågan nämner, bara organisationens eget.",
    ),
    "figure": (
        "No passage states the figure the question names.",
        "Inget stycke anger den siffra frågan nämner.",
    ),
}


def _abstain_reason(language: str, evidence: Evidence, any_hits: bool) -> str:
    en = language == "en"
    if evidence.unknown_places:
        places = ", ".join(evidence.unknown_places)
        return (
            f"The documents do not answer this: none of them is from or mentions {places}."
            if en
            else f"Dokumenten svarar inte på frågan: inget av dem kommer från eller nämner {places}."
        )
    if not any_hits:
        return "No document matches the question." if en else "Inget dokument matchar frågan."
    unmet = next((u for u in evidence.unmet if u in _UNMET), None)
    if unmet:
        return _UNMET[unmet][0 if en else 1]
    return (
        "The documents do not answer this clearly enough; the nearest passages are listed as related reading."
        if en
        else "Dokumenten svarar inte tillräckligt tydligt på frågan; de närmaste styckena visas som relaterad läsning."
    )


def citation_dict(c: Citation) -> dict[str, Any]:
    return asdict(c)


def answer_dict(a: Answer) -> dict[str, Any]:
    """An answer as JSON: the contract of ``POST /api/ask`` and ``rag ask --json``."""
    return {
        "question": a.question,
        "standalone_question": a.standalone,
        "language": a.language,
        "answer": a.answer,
        "abstained": a.abstained,
        "confidence": a.confidence,
        "reason": a.reason,
        "generated": a.generated,
        "citations": [citation_dict(c) for c in a.citations],
        "passages": [hit_dict(h) for h in a.passages],
        # the API's evidence contract (server.EvidenceOut) lists these six signals; which constraint
        # was unmet is told by ``reason``
        "evidence": {k: v for k, v in asdict(a.evidence).items() if k not in ("unmet", "decision")},
    }
