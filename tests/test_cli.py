from __future__ import annotations

import json
import shutil

import pytest
from conftest import CORPUS
from typer.testing import CliRunner

from rag.cli import app

runner = CliRunner()


@pytest.fixture
def indexed(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_EMBEDDER", "fake")
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    index = tmp_path / "index"
    result = runner.invoke(app, ["index", str(corpus), "--index", str(index)])
    assert result.exit_code == 0, result.output
    return corpus, index, result.output


def test_index_prints_a_summary_and_reindexing_embeds_nothing(indexed):
    corpus, index, output = indexed
    assert output.startswith("Indexed 3 documents (")
    assert "added 3, changed 0, removed 0, failed 0." in output
    again = runner.invoke(app, ["index", str(corpus), "--index", str(index)])
    assert again.exit_code == 0
    assert " 0 embedded," in again.output


def test_a_bad_file_gets_one_line_and_the_rest_is_indexed(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_EMBEDDER", "fake")
    shutil.copytree(CORPUS, tmp_path / "corpus")
    (tmp_path / "corpus" / "tom.txt").write_text("", encoding="utf-8")
    result = runner.invoke(app, ["index", str(tmp_path / "corpus"), "--index", str(tmp_path / "index")])
    assert result.exit_code == 0
    assert "skipped tom.txt: the file has no text. Remove it or add its content.\n" in result.output
    assert "failed 1." in result.output


def test_nothing_indexable_exits_non_zero(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_EMBEDDER", "fake")
    (tmp_path / "tom.txt").write_text(" ", encoding="utf-8")
    result = runner.invoke(app, ["index", str(tmp_path), "--index", str(tmp_path / "index")])
    assert result.exit_code != 0
    assert str(result.exception).startswith(f"Nothing could be indexed from {tmp_path}: 1 files failed")
    assert not (tmp_path / "index" / "current").exists()


def test_search_json_contract(indexed):
    _, index, _ = indexed
    result = runner.invoke(
        app, ["search", "Vad beslutade Tibro om AI-strategi?", "--index", str(index), "--json", "-k", "2"]
    )
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)["hits"]
    assert len(hits) == 2
    keys = {
        "doc",
        "path",
        "start",
        "end",
        "text",
        "score",
        "lexical_rank",
        "dense_rank",
        "section",
        "paragraph",
        "dnr",
        "date",
        "organisation",
        "body",
        "doc_type",
        "outcome",
    }
    assert keys <= set(hits[0])
    text = (CORPUS / hits[0]["doc"]).read_text(encoding="utf-8")
    assert hits[0]["text"] == text[hits[0]["start"] : hits[0]["end"]]


def test_search_filters_and_batch(indexed, tmp_path):
    _, index, _ = indexed
    result = runner.invoke(app, ["search", "AI", "--index", str(index), "--json", "--organisation", "Gotland"])
    assert {h["organisation"] for h in json.loads(result.output)["hits"]} == {"Region Gotland"}
    result = runner.invoke(app, ["search", "AI", "--index", str(index), "--json", "--outcome", "återremiss"])
    assert json.loads(result.output)["hits"] == []
    queries = tmp_path / "q.jsonl"
    queries.write_text(
        '{"id": "a", "question": "halvårsvis"}\n{"id": "b", "question": "Sara Holm"}\n', encoding="utf-8"
    )
    result = runner.invoke(app, ["search", "--queries", str(queries), "--index", str(index), "-k", "1"])
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"]
    assert rows[0]["hits"][0]["doc"] == "003_122012043ca4c196.txt"


def test_errors_are_one_clean_line(tmp_path, monkeypatch, capsys):
    from rag.cli import main

    monkeypatch.setenv("RAG_EMBEDDER", "fake")
    monkeypatch.setattr("sys.argv", ["rag", "search", "AI", "--index", str(tmp_path / "none")])
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 1
    assert (
        capsys.readouterr().err
        == f"Error: No index at {tmp_path / 'none'}. Run 'rag index corpus --index {tmp_path / 'none'}' first.\n"
    )


def test_bad_filter_is_named(indexed, capsys, monkeypatch):
    from rag.cli import main

    _, index, _ = indexed
    monkeypatch.setattr("sys.argv", ["rag", "search", "AI", "--index", str(index), "--from", "igår"])
    with pytest.raises(SystemExit):
        main()
    assert capsys.readouterr().err == "Error: from: 'igår' is not a date. Use YYYY, YYYY-MM or YYYY-MM-DD.\n"


def test_eval_prints_metrics_and_guards_a_floor(indexed, tmp_path):
    _, index, _ = indexed
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps(
            {
                "id": "x",
                "question": "Hur ofta avrapporteras uppdraget?",
                "doc": "003_122012043ca4c196.txt",
                "answer_quote": "Uppdraget avrapporteras halvårsvis till socialnämnden.",
                "kind": "when",
            }
        )
        + "\n"
        + json.dumps(
            {"id": "y", "question": "Vad kostar det?", "doc": None, "answer_quote": None, "kind": "unanswerable"}
        )
        + "\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["eval", str(questions), "--index", str(index), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert set(report) == {"retrieval", "answers", "calibration", "margins"}
    assert set(report["retrieval"]) == {"hybrid", "lexical", "dense", "baseline dense", "baseline bm25", "baseline rrf"}
    assert set(report["margins"]) == {"margin.recall@1", "margin.recall@5", "margin.mrr@10"}
    assert report["retrieval"]["hybrid"]["all"]["n"] == 1
    answers = report["answers"]
    assert (answers["answerable"], answers["unanswerable"]) == (1, 1)
    assert answers["citations_verified_rate"] == 1.0
    assert report["calibration"]["n_unanswerable"] == 1 and "threshold" in report["calibration"]
    result = runner.invoke(app, ["eval", str(questions), "--index", str(index)])
    assert "Abstention calibration" in result.output and "citations verified" in result.output
    floor = tmp_path / "floor.json"
    floor.write_text('{"recall@5": 1.01}', encoding="utf-8")
    result = runner.invoke(app, ["eval", str(questions), "--index", str(index), "--floor", str(floor)])
    assert result.exit_code != 0
    assert "Quality dropped below the floor: recall@5" in str(result.exception)
    floor.write_text('{"answer.citations_verified_rate": 1.0, "answer.answerable_answer_rate": 1.01}')
    result = runner.invoke(app, ["eval", str(questions), "--index", str(index), "--floor", str(floor)])
    assert "answer.answerable_answer_rate" in str(result.exception)
    floor.write_text('{"margin.mrr@10": 1.01}')
    result = runner.invoke(app, ["eval", str(questions), "--index", str(index), "--floor", str(floor)])
    assert "Quality dropped below the floor: margin.mrr@10" in str(result.exception)
    result = runner.invoke(app, ["eval", str(questions), "--index", str(index), "--no-baseline", "--floor", str(floor)])
    assert "unknown metric(s) margin.mrr@10" in str(result.exception)
    floor.write_text('{"recall@50": 1.0}')
    result = runner.invoke(app, ["eval", str(questions), "--index", str(index), "--floor", str(floor)])
    assert "unknown metric(s) recall@50" in str(result.exception)


def test_ask_prints_a_cited_answer_and_batch_prints_json_lines(indexed, tmp_path):
    _, index, _ = indexed
    result = runner.invoke(app, ["ask", "Hur ofta avrapporteras uppdraget till socialnämnden?", "--index", str(index)])
    assert result.exit_code == 0, result.output
    assert "[1] 003_122012043ca4c196.txt [" in result.output
    assert "searched: Hur ofta avrapporteras uppdraget till socialnämnden?" in result.output
    queries = tmp_path / "q.jsonl"
    queries.write_text(
        '{"id": "a", "question": "Vad beslutade Tibro?"}\n{"id": "b", "question": "Har Malmö stad en AI-policy?"}\n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["ask", "--queries", str(queries), "--index", str(index)])
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"]
    assert rows[0]["citations"] and rows[1]["abstained"] is True
    assert set(rows[0]) >= {"answer", "abstained", "confidence", "language", "citations", "passages"}


def test_rag_ask_and_the_api_give_the_same_answer(indexed, monkeypatch):
    from conftest import api_app
    from fastapi.testclient import TestClient

    from rag.config import Settings

    _, index, _ = indexed
    question = "Vad beslutade Tibro om en AI-strategi?"
    result = runner.invoke(app, ["ask", question, "--index", str(index), "--json"])
    cli = json.loads(result.output)
    with TestClient(api_app(Settings(index_dir=index, embedder="fake", query_log=None))) as client:
        api = client.post("/api/ask", json={"question": question}).json()
    assert cli == api


def test_calibrate_prints_the_threshold(indexed, tmp_path):
    _, index, _ = indexed
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        '{"id": "a", "question": "Hur ofta avrapporteras uppdraget?", "doc": "003_122012043ca4c196.txt", '
        '"answer_quote": "Uppdraget avrapporteras halvårsvis till socialnämnden."}\n'
        '{"id": "b", "question": "Har Malmö stad en AI-policy?", "doc": null}\n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["calibrate", str(questions), "--index", str(index)])
    assert result.exit_code == 0, result.output
    assert "Best threshold on this set" in result.output


def test_weights_prints_held_out_firsts_per_set_and_the_fitted_weights(indexed, tmp_path):
    _, index, _ = indexed
    questions = tmp_path / "set" / "q.jsonl"
    questions.parent.mkdir()
    questions.write_text(
        '{"id": "a", "question": "Hur ofta avrapporteras uppdraget?", "doc": "003_122012043ca4c196.txt", '
        '"answer_quote": "Uppdraget avrapporteras halvårsvis till socialnämnden."}\n'
        '{"id": "b", "question": "Har Malmö stad en AI-policy?", "doc": null}\n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["weights", str(questions), "--index", str(index), "--folds", "2"])
    assert result.exit_code == 0, result.output
    assert "First sentence holds the answer" in result.output and "set" in result.output
    assert "in use" in result.output and "decisive" in result.output and "bias" in result.output
    unanswerable = tmp_path / "u.jsonl"
    unanswerable.write_text('{"id": "b", "question": "Har Malmö stad en AI-policy?", "doc": null}\n', encoding="utf-8")
    result = runner.invoke(app, ["weights", str(unanswerable), "--index", str(index)])
    assert result.exit_code != 0 and "give answerable questions" in str(result.exception)
