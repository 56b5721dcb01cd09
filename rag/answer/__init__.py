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

The parts: ``asked`` what a question asks; ``candidates`` the candidate sentences, scored and
chosen; ``constraints`` the checks behind an abstention; ``steps`` the matter's latest step;
``compose`` the answer's text; ``assistant`` the ``Assistant`` that puts them together. The
answer's data (``Citation``, ``Evidence``, ``Answer``) live in ``rag.types``.
"""

from rag.answer.asked import asked_bodies, asked_event, asked_role, asked_stance
from rag.answer.assistant import Assistant
from rag.answer.candidates import PASSAGES_FOR_SENTENCES, SENTENCE_WEIGHTS, Candidate
from rag.answer.compose import compose, source_label
from rag.types import Answer, Citation, Evidence

__all__ = [
    "PASSAGES_FOR_SENTENCES",
    "SENTENCE_WEIGHTS",
    "Answer",
    "Assistant",
    "Candidate",
    "Citation",
    "Evidence",
    "asked_bodies",
    "asked_event",
    "asked_role",
    "asked_stance",
    "compose",
    "source_label",
]
