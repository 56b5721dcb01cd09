"""Text normalisation for matching, robust to OCR damage; spans always stay in the original text.

Scanned protocols come back from OCR with 'é' or 'i' for 'ä', '6' for 'ö', '1' for 'i', 'Al' for
'AI', lost diacritics and words hyphenated across line breaks. Three views of a text are offered:

- ``tokenize``: word tokens with their ``[start, end)`` spans in the original text, a hyphenated
  line break joined into one token whose span covers both halves;
- ``analyse``: the keys a keyword index matches on (OCR-repaired, stemmed, å/ä/ö-folded,
  stopwords removed);
- ``repair``: a cleaned copy of the text for the embedding model. Its offsets differ from the
  original, so it is never used for spans, quotes or highlighting.

A word is repaired only when it is not a known Swedish word and a substitution from the table of
OCR confusions turns it into one; the lexicon is wordfreq's Swedish list.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_SWEDISH

# Letters, digits and '&' (OCR for 'ä'/'å'), with a hyphen + line break allowed inside a word.
_WORD = re.compile(r"[^\W_]+(?:[&][^\W_]+)*(?:-[ \t]*\r?\n[ \t]*[^\W\d_]+(?:[&][^\W_]+)*)*|&[^\W\d_]+")
_HYPHEN_BREAK = re.compile(r"-[ \t]*\r?\n[ \t]*")
_FOLD = str.maketrans({"å": "a", "ä": "a", "ö": "o", "ü": "u", "æ": "a", "ø": "o"})
# OCR confusions seen in scanned Swedish protocols: what was printed for what was meant.
_CONFUSIONS: dict[str, tuple[str, ...]] = {
    "é": ("ä", "ö", "å", "e", ""),
    "è": ("ä", "e"),
    "i": ("ä", "l"),
    "d": ("å", "ö"),
    "6": ("ö",),
    "1": ("i", "l"),
    "&": ("ä", "å"),
    "l": ("i",),
}
_MAX_CONFUSABLE = 6
_MIN_ZIPF = 1.5
_MIN_COMPOUND_ZIPF = 2.5  # both parts of a repaired compound must be common words
STOPWORDS = frozenset(STOPWORDS_SWEDISH) | frozenset(STOPWORDS_EN) - {"a"}
_STOP_FOLDED = frozenset(w.translate(_FOLD) for w in STOPWORDS)


@dataclass(frozen=True)
class Token:
    """A word of the original text: ``surface == text[start:end]``; ``word`` has hyphen breaks removed."""

    start: int
    end: int
    word: str


def fold(text: str) -> str:
    """Lower-case and fold å, ä, ö to a, a, o: 'Västerås' -> 'vasteras'. ('é' is left to OCR repair.)"""
    return text.lower().translate(_FOLD)


def tokenize(text: str) -> list[Token]:
    """The word tokens of ``text`` with their spans in it; offsets are never shifted."""
    tokens = []
    for m in _WORD.finditer(text):
        surface = m.group()
        word = _HYPHEN_BREAK.sub("", surface) if "\n" in surface else surface
        tokens.append(Token(m.start(), m.end(), word))
    return tokens


@cache
def _lexicon() -> dict[str, tuple[str, float]]:
    """Folded form -> (most frequent Swedish word with that form, its frequency)."""
    import wordfreq

    best: dict[str, tuple[str, float]] = {}
    for word, freq in wordfreq.get_frequency_dict("sv", wordlist="large").items():
        key = word.translate(_FOLD)
        if key not in best or best[key][1] < freq:
            best[key] = (word, freq)
    return best


def _zipf(freq: float) -> float:
    return math.log10(freq) + 9 if freq > 0 else 0.0


def _candidates(word: str, max_confusable: int = _MAX_CONFUSABLE) -> Iterator[tuple[str, float]]:
    """Spellings reachable from ``word`` by OCR confusions, with the cost of the substitutions."""
    positions = [i for i, ch in enumerate(word) if ch in _CONFUSIONS]
    if not positions or len(positions) > max_confusable:
        return
    options = [(word[i], *_CONFUSIONS[word[i]]) if i in positions else (word[i],) for i in range(len(word))]
    for combo in itertools.product(*options):
        changed = [(a, b) for a, b in zip(word, combo, strict=True) if a != b]
        if 0 < len(changed) <= 3:
            # 'é' printed for a plain 'e' is rare: Swedish words with 'é' are in the lexicon as such
            yield "".join(combo), sum(2.5 if (a, b) == ("é", "e") else 1.5 for a, b in changed)


def _best(word: str, max_confusable: int, min_zipf: float) -> tuple[str, float] | None:
    """The known word ``word`` stands for, directly or by OCR confusions, with its zipf frequency."""
    lexicon = _lexicon()
    known = lexicon.get(word.translate(_FOLD))
    if known and _zipf(known[1]) >= min_zipf:
        return known[0], _zipf(known[1])
    best, best_score = None, -math.inf
    for candidate, cost in _candidates(word, max_confusable):
        hit = lexicon.get(candidate.translate(_FOLD))
        if not hit:
            continue
        zipf = _zipf(hit[1])
        if zipf < min_zipf + (1.0 if len(word) <= 4 else 0.0):
            continue
        if zipf - cost > best_score:
            best, best_score = (hit[0], zipf), zipf - cost
    return best


@lru_cache(maxsize=200_000)
def repair_word(word: str) -> str:
    """The Swedish word an OCR-damaged (or diacritic-less) lower-case word stands for, else itself.

    'anvindningsomraden' -> 'användningsområden', 'vasteras' -> 'västerås', '6ppna' -> 'öppna';
    a compound missing from the lexicon is repaired part by part: 'visterasmajoriteten' ->
    'västeråsmajoriteten'.
    """
    if len(word) < 3 or word.isdigit():
        return word
    found = _best(word, _MAX_CONFUSABLE, _MIN_ZIPF)
    if found:
        return found[0]
    if len(word) < 8 or not any(ch in _CONFUSIONS or ch in "aoe" for ch in word):
        return word
    best, best_score = word, 0.0
    for cut in range(3, len(word) - 3):
        left = _best(word[:cut], 3, _MIN_COMPOUND_ZIPF)
        right = _best(word[cut:], 3, _MIN_COMPOUND_ZIPF) if left else None
        if left and right and min(left[1], right[1]) > best_score:
            best, best_score = left[0] + right[0], min(left[1], right[1])
    return best


def _is_ai_misread(word: str) -> bool:
    return word == "Al" or word.startswith("Al-")


_stemmer = Stemmer.Stemmer("swedish")


@lru_cache(maxsize=200_000)
def _key(word: str) -> str | None:
    """The index key of one word (case as written), or None for a stopword."""
    if _is_ai_misread(word):
        word = "AI" + word[2:]
    if len(word) == 1:  # lone letters and digits ('1' is OCR for 'i') carry nothing to match
        return None
    lower = word.lower()
    if lower.translate(_FOLD) in _STOP_FOLDED:
        return None
    repaired = repair_word(lower)
    if repaired in STOPWORDS:
        return None
    return fold(_stemmer.stemWord(repaired))


def analyse(text: str) -> list[str]:
    """The keyword-index keys of ``text`` in order: OCR-repaired, stemmed, folded, no stopwords."""
    keys = []
    for token in tokenize(text):
        for part in token.word.split("&") if token.word.count("&") > 1 else (token.word,):
            key = _key(part)
            if key:
                keys.append(key)
    return keys


@lru_cache(maxsize=8192)
def key_set(text: str) -> frozenset[str]:
    """The set of ``analyse(text)``, the last few thousand texts kept: answering a question reads the
    same sentences, items and context lines that the questions before it read."""
    return frozenset(analyse(text))


_LONE_ONE = re.compile(r"(?<=[a-zåäöé,]) 1 (?=[a-zåäöé])")


def repair(text: str) -> str:
    """A cleaned copy of ``text`` for embedding: OCR words repaired, line breaks inside paragraphs joined.

    Offsets differ from the original; use it only as model input.
    """
    text = _HYPHEN_BREAK.sub("", text)
    text = re.sub(r"(?<=\S)[ \t]*\r?\n(?=[ \t]*\S)", " ", text)
    text = _LONE_ONE.sub(" i ", text)
    out: list[str] = []
    last = 0
    for m in _WORD.finditer(text):
        word = m.group()
        out.append(text[last : m.start()])
        last = m.end()
        if _is_ai_misread(word):
            out.append("AI" + word[2:])
            continue
        fixed = word.lower() if word.isupper() else repair_word(word.lower())
        if fixed == word.lower():
            out.append(word)
        elif word[0].isupper():
            out.append(fixed[0].upper() + fixed[1:])
        else:
            out.append(fixed)
    out.append(text[last:])
    return unicodedata.normalize("NFC", "".join(out))
