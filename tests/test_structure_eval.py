from __future__ import annotations

import json

import pytest

from rag.errors import InputError
from rag.structure import parse_structure
from rag.structure_eval import discover_gold, evaluate_texts, load_gold, miss_lines, score, table_rows
from rag.types import Item, Structure

GOLD = {
    "a.txt": {
        "organisation": "Ydre",
        "body": "kommunstyrelsen",
        "date": "2025-01-15",
        "doc_type": "protokoll",
        "items": 2,
        "paragraphs": {
            "§ 4": {"dnr": "KS 2025/0012", "outcome": ["bifall", "uppdrag"], "title": "Plan för e-tjänster"},
            "§ 5": {"dnr": None, "outcome": ["noterad"], "title": "Anmälningar"},
        },
    },
    "b.txt": {"organisation": "Ydre", "body": "kommunfullmäktige", "doc_type": "motion"},
}


def _structure(**kw: object) -> Structure:
    items = (
        Item(0, 10, "§ 4", 4, "Ny plan för e-tjänster 2025", "KS 2025/0012", outcome="uppdrag"),
        Item(10, 20, "§ 5", 5, "Anmälningar", None, outcome="noterad"),
    )
    base = {
        "doc_type": "protokoll",
        "title": None,
        "organisation": "Ydre kommun",
        "body": "Kommunstyrelsen",
        "date": "2025-01-15",
        "items": items,
    }
    return Structure(**(base | kw))  # type: ignore[arg-type]


def test_a_structure_matching_the_gold_scores_one_everywhere():
    motion = Structure("motion", None, "Ydre kommun", "Kommunfullmäktige", None, ())
    report = score(GOLD, {"a.txt": _structure(), "b.txt": motion})
    assert report.overall() == 1.0
    assert report.misses == ()
    assert report.metrics()["structure.dnr"] == 1.0
    assert report.documents == {"a.txt": (11, 11), "b.txt": (3, 3)}


def test_each_field_is_matched_by_its_own_rule():
    s = _structure(
        organisation="Region Ydre",  # the gold fragment is inside: right
        body="Kommunstyrelsens arbetsutskott",  # contains the gold body: right
        date="2025-01-16",
        items=(
            Item(0, 10, "§ 4", 4, "Plan  för E-tjänster", "ks2025/0012", outcome="avslag"),
            Item(10, 20, "§ 5", 5, "Anmälningar", "KS 2025/0099", outcome="noterad"),
            Item(20, 30, "§ 6", 6, "Övrigt", None, outcome="other"),
        ),
    )
    report = score({"a.txt": GOLD["a.txt"]}, {"a.txt": s})
    wrong = {(m.field, m.paragraph) for m in report.misses}
    assert wrong == {("date", None), ("items", None), ("outcome", "§ 4"), ("dnr", "§ 5")}
    assert report.rate("title") == 1.0  # whitespace and case folded


def test_a_missing_document_or_item_is_wrong_in_every_field_the_gold_states():
    report = score(GOLD, {})
    assert report.overall() == 0.0
    assert len(report.misses) == sum(report.total.values()) == 14


def test_rows_and_miss_lines_for_the_printed_table():
    report = score(GOLD, {"a.txt": _structure(date=None)})
    assert table_rows(report)[-1][0] == "overall"
    assert ("date", "0/1", "0.000") in table_rows(report)
    assert any(line.startswith("a.txt date: gold '2025-01-15'") for line in miss_lines(report))


def test_gold_files_are_found_beside_questions_and_merged(tmp_path):
    (tmp_path / "structure_A.json").write_text(json.dumps({"a.txt": GOLD["a.txt"]}), encoding="utf-8")
    (tmp_path / "structure_B.json").write_text(json.dumps({"b.txt": GOLD["b.txt"]}), encoding="utf-8")
    questions = tmp_path / "questions.jsonl"
    questions.write_text("", encoding="utf-8")
    paths = discover_gold(questions)
    assert [p.name for p in paths] == ["structure_A.json", "structure_B.json"]
    assert set(load_gold(paths)) == {"a.txt", "b.txt"}


def test_unreadable_gold_names_the_file(tmp_path):
    bad = tmp_path / "structure.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(InputError, match="structure gold must be a JSON object"):
        load_gold([bad])


def test_evaluate_texts_parses_what_is_indexed_and_lists_what_is_not(tmp_path):
    gold = tmp_path / "structure.json"
    want = {"organisation": "Ydre", "body": "socialnämnden", "date": "2025-02-03", "items": 1}
    want |= {"paragraphs": {"§ 9": {"dnr": "SN 2025/0040", "outcome": ["bifall"], "title": "Taxor"}}}
    gold.write_text(json.dumps({"p.txt": want, "q.txt": {"body": "x"}}), encoding="utf-8")
    text = (
        "YDRE KOMMUN          PROTOKOLL\n"
        "Socialnämnden        Sammanträdesdatum 2025-02-03\n\n"
        "§ 9                  Dnr SN 2025/0040\n\nTaxor för 2025\n\nBeslut\nNämnden antar taxorna.\n"
    )
    report, missing = evaluate_texts([gold], {"p.txt": text}, parse_structure)
    assert missing == ["q.txt"]
    assert report.overall() == 1.0, report.misses
