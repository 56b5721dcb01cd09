"""How answers are scored against labelled questions: a precedent question's further right answers
(``support``) count as covering it, and a malformed question line names its line and field."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from rag.errors import InputError
from rag.evaluate import evaluate_answers, load_questions

TEXTS = {
    "a.txt": "Kommunstyrelsen beslutar att införa en chattbot. Övrigt.",
    "b.txt": "Nämnden beslutar att pröva en chattbot under ett år. Annat.",
}


def _citation(doc: str, quote: str) -> SimpleNamespace:
    start = TEXTS[doc].index(quote)
    return SimpleNamespace(doc=doc, start=start, end=start + len(quote), quote=quote)


def _answer(*citations: SimpleNamespace) -> SimpleNamespace:
    return SimpleNamespace(citations=citations, abstained=False, confidence=0.5)


def test_a_precedent_question_is_covered_by_any_of_its_organisations_decisions(tmp_path):
    row = {
        "id": "p1",
        "question": "Vilka kommuner har beslutat om en chattbot?",
        "doc": "a.txt",
        "answer_quote": "Kommunstyrelsen beslutar att införa en chattbot.",
        "kind": "precedent",
        "support": [{"doc": "b.txt", "answer_quote": "Nämnden beslutar att pröva en chattbot under ett år."}],
    }
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    (question,) = load_questions(path)
    other = _answer(_citation("b.txt", "Nämnden beslutar att pröva en chattbot under ett år."))
    m = evaluate_answers([question], lambda _q: other, TEXTS.get)
    assert (m.gold_first, m.gold_in_answer) == (1, 1)
    wrong = _answer(
        _citation("b.txt", "Annat."), _citation("a.txt", "Kommunstyrelsen beslutar att införa en chattbot.")
    )
    m = evaluate_answers([question], lambda _q: wrong, TEXTS.get)
    assert (m.gold_first, m.gold_in_answer) == (0, 1)


def test_a_malformed_support_field_names_the_line_and_field(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "Vad?", "doc": "a.txt", "answer_quote": "x", "support": ["a.txt"]}\n')
    with pytest.raises(InputError, match=r"q\.jsonl:1: field 'support'"):
        load_questions(path)
