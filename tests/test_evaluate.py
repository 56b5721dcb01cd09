"""How answers and retrieval are scored against labelled questions: a precedent question's further
right answers (``support``) count as covering it, and a malformed question line names its line and field."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from rag.errors import InputError
from rag.evaluate import evaluate, evaluate_answers, load_questions

TEXTS = {
    "a.txt": "Kommunstyrelsen beslutar att införa en chattbot. Övrigt.",
    "b.txt": "Nämnden beslutar att pröva en chattbot under ett år. Annat.",
}


def _citation(doc: str, quote: str) -> SimpleNamespace:
    start = TEXTS[doc].index(quote)
    return SimpleNamespace(doc=doc, start=start, end=start + len(quote), quote=quote)


def _answer(*citations: SimpleNamespace) -> SimpleNamespace:
    return SimpleNamespace(citations=citations, abstained=False, confidence=0.5)


PRECEDENT = {
    "id": "p1",
    "question": "Vilka kommuner har beslutat om en chattbot?",
    "doc": "a.txt",
    "answer_quote": "Kommunstyrelsen beslutar att införa en chattbot.",
    "kind": "precedent",
    "support": [{"doc": "b.txt", "answer_quote": "Nämnden beslutar att pröva en chattbot under ett år."}],
}


def _precedent(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps(PRECEDENT, ensure_ascii=False) + "\n", encoding="utf-8")
    (question,) = load_questions(path)
    return question


def test_a_precedent_question_is_covered_by_any_of_its_organisations_decisions(tmp_path):
    question = _precedent(tmp_path)
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


def _hit(doc: str, start: int, end: int) -> SimpleNamespace:
    return SimpleNamespace(chunk=SimpleNamespace(doc=doc, start=start, end=end))


@pytest.mark.parametrize(
    ("hits", "recall_at_1"),
    [
        ([_hit("b.txt", 0, 20), _hit("a.txt", 0, 20)], 1.0),  # the other organisation's decision first
        ([_hit("a.txt", 49, 56), _hit("b.txt", 0, 20)], 0.0),  # neither decision first: "Övrigt."
        ([_hit("b.txt", 53, 59), _hit("a.txt", 49, 56)], 0.0),  # b's "Annat." is no answer
    ],
)
def test_retrieval_counts_a_passage_of_any_organisation_that_answers_a_precedent_question(tmp_path, hits, recall_at_1):
    metrics = evaluate([_precedent(tmp_path)], lambda _text, _mode: hits, TEXTS.get, modes=("hybrid",))
    assert metrics["hybrid"]["all"]["recall@1"] == recall_at_1
