"""Optional generative wording of an answer by an OpenAI-compatible chat endpoint.

The endpoint is the municipality's own LLM server (llama.cpp server, vLLM, ...), used only when
``settings.llm_url`` is set; without it nothing leaves the machine and answers stay extractive.

The model sees the question and the verified quotes, numbered, and is told to answer from them only,
ending every sentence with the ``[n]`` of the quotes it rests on. Its reply is not trusted: each
sentence is kept only when it cites known sources and is ``supported`` by them. Any trouble with the
endpoint, or a reply with nothing left, gives ``None`` and the caller keeps the extractive answer.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import httpx
from sentencex import segment

from rag.config import Settings
from rag.normalise import analyse, fold, tokenize
from rag.query import detect_language, named_places
from rag.vocab import BODY_ENGLISH, PLACE_ALIASES

logger = logging.getLogger(__name__)

# What the model must reply, and nothing else, when the sources do not answer the question.
NO_ANSWER = "NO_ANSWER"
# Share of a sentence's content keys that must occur in the quotes it cites (same language only).
MIN_KEY_SHARE = 0.5

SYSTEM_PROMPT = """\
You answer questions about decisions of Swedish municipalities and regions. Use only the numbered \
sources in the user's message; they are quoted from the documents.

Rules:
- Answer in {language}.{translation}
- Use only what the sources say. Add no background, assumptions, advice or opinions.
- Do not invent or change figures, amounts, names or dates; write them as the sources do.
- End every sentence with the number of each source it rests on in square brackets, e.g. [1] or [1][3].
- Be brief: a few sentences at most. No headings, no lists.
- If the sources do not answer the question, reply with exactly {no_answer} and nothing else."""

_LANGUAGES = {"sv": "Swedish", "en": "English"}
_TRANSLATION = {"en": " The sources are mostly in Swedish: translate what they say into English."}

# A citation marker: [1], [1, 2], [1;3]; adjacent markers ([1][3]) are matched one by one.
_MARKER = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+")
_THINKING = re.compile(r"<think>.*?</think>", re.DOTALL)
# A number: with thousands groups ('1 500 000', '1,500,000'), or digits with a decimal part ('1,5'),
# and the scale word after it ('1,5 miljoner', '2 mnkr', '300 thousand').
_NUMBER = re.compile(
    r"(?<!\d)(?:(?P<grouped>\d{1,3}(?:[ \u00a0\u202f.,]\d{3})+)|(?P<plain>\d+(?:[.,]\d+)?))(?!\d)"
    r"(?:\s*(?P<scale>miljon(?:er)?|millions?|mnkr|mkr|mn|miljard(?:er)?|billions?|mdkr|mdr|tusen|thousands?|tkr)\b)?",
    re.IGNORECASE,
)
# Capitalised words that are not names: English months, weekdays and 'I'.
_NOT_NAMES = frozenset(
    {
        "i",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    }
)
# English words for Swedish things, capitalised in English writing: accepted when the Swedish
# form (folded, as the start of a word) is in the cited text.
_ENGLISH_TERMS: dict[str, tuple[str, ...]] = {
    "sweden": ("sverige",),
    "swedish": ("svensk", "sverige"),
    "municipality": ("kommun",),
    "municipal": ("kommun",),
    "city": ("stad",),
    "county": ("lan", "region", "landsting"),
    "sek": ("kr", "mkr", "mnkr", "tkr", "mdkr", "sek"),
}


@dataclass(frozen=True)
class Source:
    n: int  # the citation number the model must use as [n]
    quote: str  # a sentence quoted verbatim from a document (already verified against the document)
    label: str  # where it is from, e.g. "Tibro kommunfullmäktige 2024-09-30, § 100"


@dataclass(frozen=True)
class Phrased:
    text: str  # one sentence of the model's answer, with its [n] markers kept
    citations: tuple[int, ...]  # the n's it cites, in order of first appearance


def phrase(question: str, language: str, sources: Sequence[Source], settings: Settings) -> list[Phrased] | None:
    """Ask the endpoint to answer from the sources only. Returns the supported sentences, or None when
    the endpoint is not configured, fails, times out, or returns nothing usable (the caller then keeps
    the extractive answer). Never raises for endpoint trouble; logs a warning instead."""
    if not settings.llm_url or not sources:
        return None
    reply = _complete(messages(question, language, sources), settings)
    if reply is None:
        return None
    if NO_ANSWER in reply:
        logger.info("LLM endpoint %s found no answer in the %d sources", _shown(_endpoint(settings)), len(sources))
        return None
    by_n = {s.n: s for s in sources}
    kept: list[Phrased] = []
    sentences = split_sentences(reply, language)
    for sentence in sentences:
        cited = citations(sentence)
        if not cited:
            logger.debug("Dropped a generated sentence: no [n] marker")
        elif any(n not in by_n for n in cited):
            logger.debug("Dropped a generated sentence: cites an unknown source %s", cited)
        elif not supported(sentence, [by_n[n] for n in cited]):
            logger.debug("Dropped a generated sentence: not supported by sources %s", cited)
        else:
            kept.append(Phrased(sentence, cited))
    shown = _shown(_endpoint(settings))
    logger.info("LLM endpoint %s worded the answer: kept %d of %d sentences", shown, len(kept), len(sentences))
    return kept or None


def messages(question: str, language: str, sources: Sequence[Source]) -> list[dict[str, str]]:
    """The chat messages: the rules as the system prompt, the numbered sources and the question as the user's."""
    system = SYSTEM_PROMPT.format(
        language=_LANGUAGES.get(language, language),
        translation=_TRANSLATION.get(language, ""),
        no_answer=NO_ANSWER,
    )
    numbered = "\n".join(f'[{s.n}] {s.label}: "{" ".join(s.quote.split())}"' for s in sources)
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": f"Sources:\n{numbered}\n\nQuestion: {question}"},
    ]


def _endpoint(settings: Settings) -> str:
    """The chat completions URL of the configured endpoint."""
    return f"{(settings.llm_url or '').rstrip('/')}/chat/completions"


def _shown(url: str) -> str:
    """``url`` as logged: without a user:password in it."""
    try:
        return str(httpx.URL(url).copy_with(username=None, password=None))
    except httpx.InvalidURL:
        return url.rpartition("@")[2]


def _complete(chat: list[dict[str, str]], settings: Settings) -> str | None:
    """The model's reply text, or None after one warning naming the endpoint and the problem."""
    url = _endpoint(settings)
    shown = _shown(url)
    headers = {}
    if settings.llm_api_key is not None:
        headers["Authorization"] = f"Bearer {settings.llm_api_key.get_secret_value()}"
    payload = {"model": settings.llm_model, "messages": chat, "temperature": 0, "max_tokens": settings.llm_max_tokens}
    try:
        with httpx.Client(timeout=settings.llm_timeout) as client:
            response = client.post(url, json=payload, headers=headers)
    except httpx.TimeoutException:
        logger.warning("LLM endpoint %s timed out after %.1f s", shown, settings.llm_timeout)
        return None
    except (httpx.HTTPError, httpx.InvalidURL) as e:
        logger.warning("LLM endpoint %s could not be reached: %s", shown, str(e) or type(e).__name__)
        return None
    if response.is_error:
        logger.warning("LLM endpoint %s answered HTTP %d", shown, response.status_code)
        return None
    try:
        body = response.json()
    except ValueError:  # JSONDecodeError, or a body that is not text at all
        logger.warning("LLM endpoint %s answered with a body that is not JSON", shown)
        return None
    try:
        content = body["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        content = None
    reply = _THINKING.sub("", content).strip() if isinstance(content, str) else ""
    if not reply:
        logger.warning("LLM endpoint %s answered without text in choices[0].message.content", shown)
        return None
    return reply


def split_sentences(text: str, language: str) -> list[str]:
    """The sentences of a reply, markers kept: list items and paragraphs always start a new one, and a
    marker standing alone ('... beslut.\\n[2]') belongs to the sentence before it."""
    blocks: list[str] = []
    new_block = True
    for line in text.splitlines():
        if not line.strip():
            new_block = True
            continue
        item = _LIST_ITEM.sub("", line)
        if new_block or item != line:
            blocks.append(item.strip())
        else:
            blocks[-1] += " " + line.strip()
        new_block = False
    sentences: list[str] = []
    for block in blocks:
        for piece in segment(language, block):
            piece = " ".join(piece.split())
            if not piece:
                continue
            if sentences and not re.search(r"\w", _MARKER.sub("", piece)):
                sentences[-1] += " " + piece
            else:
                sentences.append(piece)
    return sentences


def citations(sentence: str) -> tuple[int, ...]:
    """The source numbers a sentence cites, in order of first appearance: '[2] ... [1, 2]' -> (2, 1)."""
    found = (int(n) for m in _MARKER.finditer(sentence) for n in re.split(r"\s*[,;]\s*", m.group(1)))
    return tuple(dict.fromkeys(found))


def supported(sentence: str, cited: Sequence[Source]) -> bool:
    """Whether a sentence is backed by the sources it cites (their quotes and labels; [n] markers ignored).

    - Numbers: every number in the sentence (years, dates, amounts, §) occurs in the cited text, compared
      by value with its scale word, whatever the separators: '2024-09-30' backs '30 September 2024'
      ('09' = '9'), '1 500 000 kr' backs '1.5 million' and '1,5 mnkr' backs '1 500 000'. Numbers
      written as words ('six') are not checked.
    - Names: every capitalised word not at the start of the sentence ('Holm', 'ChatGPT', '(S)'), and
      every municipality or region the sentence names anywhere, occurs in the cited text (folded;
      genitive and OCR-damaged forms match by their keys). English months and weekdays are not names;
      English names of bodies, places and 'municipality', 'Sweden' count when the Swedish form is there.
    - Wording, only when the sentence and the quotes are in the same language: at least half of the
      sentence's distinct content keys (``analyse``: stemmed, folded, no stopwords; numbers left to
      the number rule) occur in the cited text, and at least one does. Half lets a faithful paraphrase
      add reporting and linking words ('enligt', 'beslutade', 'framgår') while a sentence whose claims
      are mostly its own fails. Across languages (an English sentence on Swedish quotes) word overlap
      says nothing, so only the number and name rules apply there.
    """
    if not cited:
        return False
    text = _MARKER.sub(" ", sentence)
    evidence = "\n".join(f"{s.quote}\n{s.label}" for s in cited)
    if not _numbers_backed(text, evidence) or not _names_backed(text, evidence):
        return False
    if _language(text) != _language(" ".join(s.quote for s in cited)):
        return True
    keys = {k for k in analyse(text) if not k.isdigit()}
    found = keys & set(analyse(evidence))
    return bool(found) and len(found) >= MIN_KEY_SHARE * len(keys)


def _scale(word: str | None) -> int:
    if not word:
        return 1
    w = word.lower()
    if w.startswith(("miljard", "billion", "md")):
        return 10**9
    if w.startswith(("miljon", "million", "mn", "mk")):
        return 10**6
    return 10**3


def _quantities(text: str) -> Iterator[set[float]]:
    """The possible values of each number in ``text``: '1 500' -> {1500}, '1,5 mnkr' -> {1500000},
    '1,500' -> {1500, 1.5} (thousands or decimals), '09' -> {9}."""
    for m in _NUMBER.finditer(text):
        scale = _scale(m.group("scale"))
        if m.group("plain"):
            values = {float(m.group("plain").replace(",", "."))}
        else:
            grouped = m.group("grouped")
            values = {float(re.sub(r"\D", "", grouped))}
            if re.fullmatch(r"\d{1,3}[.,]\d{3}", grouped):
                values.add(float(grouped.replace(",", ".")))
        yield {round(v * scale, 6) for v in values}


def _numbers_backed(text: str, evidence: str) -> bool:
    known = set().union(*_quantities(evidence))
    return all(values & known for values in _quantities(text))


def _names_backed(text: str, evidence: str) -> bool:
    folded = fold(evidence)
    words = {fold(t.word) for t in tokenize(evidence)}
    keys = set(analyse(evidence))

    def found(word: str) -> bool:
        w = fold(word)
        if w in words or w in _NOT_NAMES:
            return True
        own = set(analyse(word))  # empty for a stopword ('The') or a lone letter ('S')
        if (own and own <= keys) or (not own and len(word) > 1):
            return True
        swedish = _ENGLISH_TERMS.get(w, ())
        swedish += tuple(fold(sv) for sv, en in BODY_ENGLISH.items() if w in en.split())
        swedish += tuple(fold(sv) for en, sv in PLACE_ALIASES.items() if w == fold(en))
        return any(re.search(rf"\b{re.escape(sv)}", folded) for sv in swedish)

    tokens = tokenize(text)
    names = [t.word for t in tokens[1:] if t.word[:1].isupper()]
    places = [p for p in named_places(text) if not re.search(rf"\b{re.escape(fold(p))}", folded)]
    return not places and all(found(name) for name in names)


def _language(text: str) -> str:
    """'sv' or 'en' by the text's lower-case words, so Swedish names ('Västerås') do not make English Swedish."""
    common = " ".join(t.word for t in tokenize(text) if t.word[:1].islower())
    return detect_language(common or text)
