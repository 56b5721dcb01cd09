"""Candidate sentences: taken from the best passages (and, for a decision, each item's decisive
sentence), scored by the learned ``SENTENCE_WEIGHTS``, and chosen for quoting.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import numpy as np

from rag.answer.asked import (
    _OFFICES,
    _stances,
    asked_event,
    asked_measure,
    asked_role,
    asked_stance,
    asked_thing,
    asks_rule,
)
from rag.answer.items import Items
from rag.normalise import fold, key_set, repair
from rag.query import answer_keys, asks_for_decision
from rag.sentences import DATE, decisive_spans, join_lead_ins, key_in, quotable, sentence_kinds, sentence_spans
from rag.store.filters import body_matches
from rag.types import Hit, QueryInfo

# How many of the best passages candidate sentences are taken from; for a precedent question, which
# asks what several organisations did, more.
PASSAGES_FOR_SENTENCES = 5
PRECEDENT_PASSAGES = 10
# A key in a fifth or more of the passages does not pick out a matter: ln(1 + 0.8/0.2) in BM25's idf.
DISTINCTIVE_IDF = 1.6
# At most this many quoted sentences in an answer; more are quoted only when they score close to the best.
MAX_QUOTES = 3
QUOTE_MARGIN = 1.5  # in the units of the learned sentence score (a logit)
SENTENCE_CACHE = 5000  # sentence embeddings kept (384 floats each: about 8 MB)
ORDER_CACHE = 4096  # passage orders kept (order_passages), by question and passages
# Weights of a sentence's signals (Assistant.score): a logistic model of "this sentence holds the
# gold answer" over the candidates of the 225 answerable labelled questions (realdocs, devset A-C,
# eval/dev_questions), cross-validated with whole documents held out (rag.sentence_model: fit,
# held_out_first). Held out, the best sentence held the answer for realdocs 37/54, devset 96/145, dev
# 18/26 (refitted 2026-12 with the informant, event, "från när", rule and measure signals; before:
# 35, 93, 18), and with ties broken by closeness to the question (break_ties) 39/54, 100/145, 18/26,
# each set on the index CI evaluates it on. `rag weights` prints these figures for one index: on the
# 50-document index (dev asked among all documents) 40/54, 101/145, 17/26, tie-break 41, 105, 16.
# "thing" (the sentence names what a "Vilka/Vilken ..." question asks for) was added 2026-12 at its
# fitted weight, the others kept: held out with ties broken 43, 116, 20 -> 43, 118, 21 on that index;
# refitting every weight with it gave the same held-out figures but fewer first citations in answers.
# The sentence's embedding similarity as a further signal did no better than as the tie-break and
# would embed every candidate per query; a gradient-boosted model over the same signals did worse
# (32-34, 82-83, 18-19), as did the sentence's own overlap, its length and its novelty against the
# question. A listwise (softmax) fit gave 34/54, 93/145, 18/26 before. "decisive" counts only for a
# question about a decision, "reporting" (Yrkanden, Proposition, Ärendebeskrivning) only against
# one; "role" and "event" only for who- and when-questions; "rule" (a sentence saying what may or
# must be done) only for a yes/no question about it, "measure" (a duration, a percentage, a change
# by an amount) only for "hur länge", "hur mycket" and "hur mycket snabbare".
SENTENCE_WEIGHTS = {
    "overlap": 2.16,
    "passage": 3.48,
    "rank": 2.2,
    "section": -0.53,
    "kind": 1.98,
    "decisive": 3.06,
    "title": -2.26,
    "role": 1.24,
    "reporting": -0.54,
    "event": 1.62,
    "rule": 1.34,
    "measure": 1.04,
    "thing": 1.71,
}
# A question about a question asked in a document ("Vad frågade ...", "Vilken interpellation ..."), folded.
_ASKS_FOR_QUESTION = re.compile(r"\bfrag(?:a|an|ade|or|orna)\b|\binterpellation|\bundrade\b|\basked\b|\bquestion")
_REPORTING_SECTIONS = frozenset({"Yrkanden", "Proposition", "Omröstning", "Ärendebeskrivning", "Bakgrund"})
_NAME = re.compile(r"\b[A-ZÅÄÖ][a-zåäöé]+\s+[A-ZÅÄÖ][a-zåäöé]+")
_INFORMS = re.compile(
    r"\b(?:informerar|redovisar|föredrar|presenterar|berättar"
    r"|(?:lämnar|ger|håller)\s+(?:en\s+)?(?:muntlig\s+)?(?:lägesrapport|information|återkoppling|redovisning|dragning|rapport))\b",
    re.IGNORECASE,
)
# The roles an item's structure records for its persons (rag.structure.people).
ITEM_ROLES = frozenset({"motionär", "yrkande", "reservation"})
# who joins in a yrkande rather than moves it: "Eva Berg (C) instämmer i yrkandet"
_JOINS_IN = re.compile(r"\binstämmer\b|\bställer sig bakom\b", re.IGNORECASE)
_NO_VOTE = re.compile(r"\bnej\b|\brösta[rd]e? nej\b|\bröstar emot\b", re.IGNORECASE)


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
    answers: str = ""  # the document's question this sentence answers first, as in questions and answers


def _kind_match(asked: str | None, stated: frozenset[str]) -> float:
    """1 when a sentence states the kind of thing asked for; a role or body half answers "who"."""
    if asked is None:
        return 0.0
    if asked in stated:
        return 1.0
    return 0.5 if asked == "person" and "role" in stated else 0.0


class SentenceChoice(Items):
    """The assistant's part that gathers, scores and chooses the sentences to quote."""

    weights: dict[str, float]
    _sentence_cache: OrderedDict[str, np.ndarray]
    _order_cache: OrderedDict[tuple[str, tuple[tuple[int, float], ...]], tuple[int, ...]]
    _cache_lock: threading.Lock
    _organisation_names: re.Pattern[str] | None = None  # the index's organisations, longest first

    def candidates(
        self, hits: Sequence[Hit], decision: bool = False, role: str | None = None, event: str | None = None
    ) -> list[Candidate]:
        """Quotable sentences of the best passages, each once (passages overlap); for a question
        about a decision also the decisive sentence of each passage's item, wherever it stands; for
        a question about who played a role in an item (moved a yrkande, reserved, wrote the motion)
        the sentences of the item that name the persons in that role; and for a question about an
        office at the meeting or the date of a meeting or a submission, the document's field lines
        that state it ("Protokolljusterare <namn>", "Sammanträdesdatum <datum>", "Inkom <datum>"),
        which stand in the head or a page header, seldom in the passages found, and are no sentences."""
        seen: set[tuple[str, int, int]] = set()
        out = []
        by_role = role in ITEM_ROLES
        label = _OFFICES.get(role or "") or event
        if label:
            first: dict[str, tuple[int, Hit]] = {}
            found_in: dict[tuple[str, int], tuple[int, Hit]] = {}  # (doc, item start) -> its best passage
            for rank, hit in enumerate(hits[:PASSAGES_FOR_SENTENCES], start=1):
                first.setdefault(hit.chunk.doc, (rank, hit))
                item = self.item_at(hit.chunk.doc, hit.chunk.start)
                if item is not None:
                    found_in.setdefault((hit.chunk.doc, item["start"]), (rank, hit))
            for doc_id, head in first.items():
                text = self.searcher.index.documents()[doc_id].text
                for s, e in field_lines(text, label, "person" if role else "date"):
                    # a line of an item ("Bordlagt den ..." of one §) goes with the passage found in
                    # that item, or after every passage when none was; a line of the head with the document
                    item = self.item_at(doc_id, s)
                    at = head
                    if item is not None and item.get("paragraph"):
                        at = found_in.get((doc_id, item["start"]), (PASSAGES_FOR_SENTENCES + 1, head[1]))
                    seen.add((doc_id, s, e))
                    out.append(Candidate(at[1], at[0], s, e, text[s:e]))
        for rank, hit in enumerate(hits[:PASSAGES_FOR_SENTENCES], start=1):
            doc = self.searcher.index.documents()[hit.chunk.doc]
            item = self.item_at(hit.chunk.doc, hit.chunk.start) if decision or by_role else None
            decisive = decisive_spans(doc.text, item) if item is not None and decision else []
            named = _role_spans(doc.text, item, role) if item is not None and by_role else []
            spans = join_lead_ins(doc.text, sentence_spans(doc.text, hit.chunk.start, hit.chunk.end))
            for s, e in [*decisive, *named, *spans]:
                key = (hit.chunk.doc, s, e)
                text = doc.text[s:e]
                if key in seen or not quotable(text):
                    continue
                seen.add(key)
                is_decisive = any((a <= s and e <= b) or (s <= a and b <= e) for a, b in decisive)
                section = _section_at(item, s) if is_decisive and item is not None else None
                out.append(Candidate(hit, rank, s, e, text, decisive=is_decisive, section=section))
        return out

    def order_passages(self, info: QueryInfo, hits: list[Hit]) -> list[Hit]:
        """The best passages (``PASSAGES_FOR_SENTENCES``) ordered by the best sentence each holds,
        scored as an answer's sentences are (``ranked``): the fused order ranks a passage by its
        words, this one by whether it says what was asked (the item's decision, the yrkande of the
        person asked about, the date of the asked event). A passage holding no candidate goes after
        those that do; ties and the passages further down keep the fused order. Installed as the
        searcher's ``reorder`` stage (``Settings.passage_order``)."""
        head = hits[:PASSAGES_FOR_SENTENCES]
        if len(head) < 2:
            return hits
        # the same question over the same passages orders them the same (a chat asks, then searches)
        memo = (info.text, tuple((h.chunk_id, h.score) for h in head))
        with self._cache_lock:
            order = self._order_cache.get(memo)
        if order is None:
            keys = answer_keys(info, lambda key: self.searcher.index.document_frequency(key) > 0)
            best: dict[int, float] = {}
            for c in self.ranked(info, keys, head, asks_for_decision(info.text)):
                for h in head:  # the passage that holds the sentence (a decisive span may stand in another)
                    if h.chunk.doc == c.hit.chunk.doc and h.chunk.start <= c.start < h.chunk.end:
                        best[h.chunk_id] = max(best.get(h.chunk_id, -np.inf), c.score)
            order = tuple(h.chunk_id for h in sorted(head, key=lambda h: -best.get(h.chunk_id, -np.inf)))
            with self._cache_lock:
                self._order_cache[memo] = order
                while len(self._order_cache) > ORDER_CACHE:
                    self._order_cache.popitem(last=False)
        by_id = {h.chunk_id: h for h in head}
        return [by_id[cid] for cid in order] + hits[PASSAGES_FOR_SENTENCES:]

    def role_match(self, role: str, c: Candidate, stance: str | None = None) -> float:
        """1 when a sentence names a person who plays the asked role in its item (a motionär, one who
        moved a yrkande or reserved, with the asked ``stance`` when there is one), holds the asked
        office at the meeting, or states the no side of a vote; else 0."""
        text = self.without_organisations(c.text)
        named = "person" in sentence_kinds(text)
        if role == "nej":  # "Nej: Rasmus Olsson (V) ...", not the proposition "Den som vill avslå röstar nej"
            return 1.0 if _NO_VOTE.search(c.text) and named else 0.0
        if role == "informant":  # "<Namn>, <titel>, lämnar en återkoppling ...": the name leads
            return 1.0 if _INFORMS.search(text) and (named or _NAME.search(text)) else 0.0
        if role in _OFFICES:  # "Anna Berg (S), ordförande", "Protokolljusterare Per Ek (S)"
            return 1.0 if re.search(_OFFICES[role], text, re.IGNORECASE) and (named or _NAME.search(text)) else 0.0
        item = self.item_at(c.hit.chunk.doc, c.start) or {}
        names = [p["name"] for p in item.get("persons") or () if p.get("role") == role]
        # the person as the one who acts ("Per Ek (M) yrkar"), not in the genitive of one who joins
        # in ("instämmer i Per Eks (M) yrkande")
        if not any(name and re.search(re.escape(name) + r"(?!s\b)", c.text) for name in names):
            return 0.0
        if role == "yrkande" and _JOINS_IN.search(c.text):
            return 0.5
        if stance is None:
            return 1.0
        stated = _stances(c.text)  # a yrkande worded without bifall/avslag half meets the asked stance
        return 1.0 if stance in stated else 0.0 if stated else 0.5

    def ranked(
        self, info: QueryInfo, keys: Sequence[str], hits: Sequence[Hit], decision: bool = False
    ) -> list[Candidate]:
        """The candidate sentences of the best passages for the question, scored and sorted best first."""
        role = asked_person_role(info)[0]
        event = asked_event(info.text) if info.answer_type == "date" else None
        if role in _OFFICES and info.bodies:  # the chair of the valnämnd's meeting is in its own protocol
            hits = [h for h in hits if any(body_matches(h.chunk.body, b) for b in info.bodies)] or hits
        found = self.candidates(hits, decision, role, event)
        if not _ASKS_FOR_QUESTION.search(fold(info.text)):
            # a document's own question ("Får jag använda ...?" in questions and answers, an
            # interpellation's) is worded like the question asked, but answers nothing: the
            # sentences after it do
            asked = [c for c in found if c.text.rstrip().endswith("?")]
            if asked:
                documents = self.searcher.index.documents()
                found = [c for c in found if c not in asked] or found
                found = [_answering(c, asked, documents[c.hit.chunk.doc].text) for c in found]
        return self.score(info, keys, found, decision)

    def without_organisations(self, text: str) -> str:
        """``text`` with the index's organisations taken out: "Region Gotland" is two capitalised
        words, as a person's name is, but names no person."""
        names = self._organisation_names
        return names.sub(" ", text) if names is not None else text

    def kinds(self, text: str) -> frozenset[str]:
        """What a sentence states (``sentence_kinds``), an organisation of the index read as an
        actor, as a body is ("överlåter varumärket till Region Exempel"), not as a person."""
        bare = self.without_organisations(text)
        return sentence_kinds(bare) | {"role"} if bare != text else sentence_kinds(text)

    def is_title(self, c: Candidate) -> bool:
        """Whether a candidate is only its item's heading ("Svar på motion om AI ...")."""
        item = self.item_at(c.hit.chunk.doc, c.start)
        title = (item or {}).get("title") or c.hit.chunk.title
        return isinstance(title, str) and _squeezed(c.text) in _squeezed(title)

    def score(
        self, info: QueryInfo, keys: Sequence[str], candidates: list[Candidate], decision: bool = False
    ) -> list[Candidate]:
        """Candidates scored and sorted best first."""
        if not candidates:
            return []
        role, stance = asked_person_role(info)
        event = asked_event(info.text) if info.answer_type == "date" else None
        rule = asks_rule(info.text)
        measure = asked_measure(info.text)
        lexical = self.searcher.index
        # the thing a "Vilka/Vilken ..." question asks to have named, by its words that pick something
        # out; not the person a who-question asks for ("Vilka ledamöter")
        thing = [k for k in asked_thing(info.text) if lexical.idf(k) >= DISTINCTIVE_IDF]
        if info.answer_type == "person":
            thing = []
        weights = {k: lexical.idf(k) for k in keys}
        total = sum(weights.values()) or 1.0
        top = max(c.hit.score for c in candidates) or 1.0
        scored = []
        for c in candidates:
            # the passage's context line counts as said by the sentence: "Tibro" is in the header,
            # not in every sentence of a Tibro protocol; so does the question a sentence answers
            present = key_set(c.text) | key_set(c.hit.chunk.header()) | key_set(c.answers)
            overlap = sum(w for k, w in weights.items() if k in present) / total
            section = c.section or c.hit.chunk.section
            kinds = self.kinds(c.text)
            parts = {
                "overlap": overlap,
                "passage": c.hit.score / top,
                "rank": 1.0 / c.rank,
                "section": 1.0 if info.sections and c.hit.chunk.section in info.sections else 0.0,
                "kind": _kind_match(info.answer_type, kinds),
                "decisive": 1.0 if decision and c.decisive else 0.0,
                "title": 1.0 if self.is_title(c) else 0.0,
                "role": self.role_match(role, c, stance) if role else 0.0,
                "reporting": 1.0 if decision and section in _REPORTING_SECTIONS else 0.0,
                "event": _dates_event(event, c.text) if event else 0.0,
                "rule": 1.0 if rule and "rule" in kinds else 0.0,
                "measure": 1.0 if measure and measure in kinds else 0.0,
                "thing": 1.0 if thing and any(key_in(k, key_set(c.text)) for k in thing) else 0.0,
            }
            value = sum(self.weights.get(name, 0.0) * v for name, v in parts.items())
            scored.append(replace(c, score=value, scores=parts))
        return sorted(scored, key=lambda c: -c.score)

    def break_ties(self, question: str, ranked: list[Candidate]) -> list[Candidate]:
        """The best sentences that score the same, closest in meaning to the question first. Most
        signals are their passage's, so the sentences of one passage often tie; the order they stood
        in decided before. Held out on the labelled sets (rag.sentence_model rows, the weights in use),
        the first sentence then holds the answer for realdocs 39/54 instead of 37, devset 100/145
        instead of 96, dev 18/26 as before, for about 1.6 sentences embedded per question, one of them
        the chosen sentence, which the confidence embeds anyway. Breaking near-ties too (within
        0.25-1.0 of the best) lost on devset."""
        tied = [c for c in ranked if c.score >= ranked[0].score - 1e-9] if ranked else []
        if len(tied) < 2:
            return ranked
        closeness = self.sentence_vectors([c.text for c in tied]) @ self.searcher.query_vector(question)
        order = np.argsort(-closeness, kind="stable")
        return [tied[i] for i in order] + ranked[len(tied) :]

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

    def only_noted(self, c: Candidate) -> bool:
        """Whether a candidate is the decisive sentence of an item that only noted information
        (its outcome "noterad": "<the report> noteras", "<the report> läggs till handlingarna")."""
        return c.decisive and (self.item_at(c.hit.chunk.doc, c.start) or {}).get("outcome") == "noterad"

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


# A field line: a label near the line's start and its value after it on the same line.
_FIELD_LABEL_CHARS = 25
_FIELD_LINE_CHARS = 80


@lru_cache(maxsize=1024)  # a document's lines are read again by every question about its head
def field_lines(text: str, label: str, value: str) -> tuple[tuple[int, int], ...]:
    """The lines of a document that state a field: ``label`` (a pattern) within the line's first
    words and a value of the kind ``value`` ('person': a name; 'date') after it, each wording once
    (a page header repeats its date on every page): "Protokolljusterare Per Ek (KD)",
    "Sammanträdesdatum: 2024-09-30", "Inkom 2024-09-23", "Anna Berg (S), ordförande"."""
    found: dict[str, tuple[int, int]] = {}
    # a line, or a cell of a line set in columns ("Anna Berg (S), ordförande      Per Ek (S), ledamot")
    for m in re.finditer(r"[^\n]+?(?=\s{3,}\S|\n|$)", text):
        line = m.group().strip()
        # a label opens the line ("Inkom", "Justerare"); a line in lower case continues a sentence
        if len(line) > _FIELD_LINE_CHARS or line in found or not line[:1].isupper():
            continue
        at = re.search(label, line, re.IGNORECASE)
        if at is None:
            continue
        rest = line[at.end() :] if at.start() <= _FIELD_LABEL_CHARS else ""
        before = line[: at.start()]  # "Anna Berg (S), ordförande": the value first
        kinds = sentence_kinds(rest)
        if value == "person":
            stated = (
                "person" in kinds or _NAME.search(rest) or ("person" in sentence_kinds(before) and len(before) < 60)
            )
        else:
            stated = "date" in kinds
        if stated:
            start = m.start() + len(m.group()) - len(m.group().lstrip())
            found[line] = (start, start + len(line))
    return tuple(found.values())


# How near a date must follow the words of the asked event to date it: "träder i kraft 2026-01-01".
_EVENT_DATE_CHARS = 40


def _dates_event(event: str, sentence: str) -> float:
    """1 when the sentence words the asked event with a date right after (or just before) it, 0.5
    when it words the event with no date at hand ("upphör att gälla när ... träder i kraft"), else 0."""
    found = list(re.finditer(event, sentence, re.IGNORECASE))
    if not found:
        return 0.0
    for m in found:
        after = sentence[m.end() : m.end() + _EVENT_DATE_CHARS]
        if DATE.search(after) or DATE.search(sentence[max(0, m.start() - 20) : m.start()]):
            return 1.0
    return 0.5


@lru_cache(maxsize=20000)
def _squeezed(text: str) -> str:
    """``text`` folded, its white space one space: how a sentence is compared with its item's title
    (kept: every search and answer compares the same few thousand sentences and titles)."""
    return " ".join(fold(text).split())


def _answering(c: Candidate, asked: Sequence[Candidate], text: str) -> Candidate:
    """``c`` with the document's question it directly follows (nothing but white space between):
    in questions and answers the first sentence after a question answers it ("Ja, men bara ...")."""
    for q in asked:
        if q.hit.chunk.doc == c.hit.chunk.doc and q.end <= c.start and not text[q.end : c.start].strip():
            return replace(c, answers=q.text)
    return c


def _role_spans(text: str, item: dict[str, Any], role: str | None) -> list[tuple[int, int]]:
    """The sentences of an item that name a person it records in ``role``."""
    names = [p["name"] for p in item.get("persons") or () if p.get("role") == role and p.get("name")]
    if not names:
        return []
    spans = join_lead_ins(text, sentence_spans(text, item["start"], item["end"]))
    return [(s, e) for s, e in spans if any(name in text[s:e] for name in names)]


def asked_person_role(info: QueryInfo) -> tuple[str | None, str | None]:
    """The role a who-question asks about (``asked_role``) and, for a yrkande, the stance asked."""
    who = info.answer_type == "person" or re.match(r"\W*(?:och |men )?(?:vem|vilka|vilken|who)\b", fold(info.text))
    role = asked_role(info.text) if who else None
    return role, asked_stance(info.text) if role == "yrkande" else None


def _section_at(item: dict[str, Any], offset: int) -> str | None:
    return next((x["heading"] for x in item.get("sections") or () if x["start"] <= offset < x["end"]), None)


def _overlaps(a: Candidate, b: Candidate) -> bool:
    return a.hit.chunk.doc == b.hit.chunk.doc and a.start < b.end and b.start < a.end


def _near_duplicate(a: str, b: str) -> bool:
    """Nearly the same words, or one's words nearly all inside the other (a sentence quoted twice,
    once alone and once within its list)."""
    ka, kb = key_set(a), key_set(b)
    if not (ka and kb):
        return False
    shared = len(ka & kb)
    return shared / len(ka | kb) >= 0.8 or shared / min(len(ka), len(kb)) >= 0.9
