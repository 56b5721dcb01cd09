from __future__ import annotations

import io
import json
import logging
from datetime import datetime

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.errors import InputError, RagError
from rag.querylog import QueryLog, log_files, read_entries, summarise

runner = CliRunner()


def ask(question: str, **fields):
    entry = {
        "endpoint": "ask",
        "question": question,
        "standalone": None,
        "filters": {},
        "latency_ms": 100.0,
        "abstained": False,
        "cited": [],
        "hits": 5,
        "status": 200,
    }
    return entry | fields


@pytest.fixture
def log(tmp_path):
    query_log = QueryLog(tmp_path / "logs" / "queries.jsonl", max_bytes=1_000_000, backups=3)
    yield query_log
    query_log.close()


def test_personal_data_is_masked_before_it_reaches_the_disk(log):
    log.write(
        ask(
            "Mitt personnummer är 880320-0016, mejla anna@tibro.se",
            standalone="Ärende för 19880320-0016, ring 070-123 45 67",
            history=[{"question": "Jag heter Anna, 070-123 45 67", "answer": "Svar till anna@tibro.se", "n": 1}],
        )
    )
    raw = log.path.read_text(encoding="utf-8")
    for secret in ("880320-0016", "anna@tibro.se", "070-123 45 67"):
        assert secret not in raw
    [entry] = list(read_entries(log.path))
    assert entry["question"] == "Mitt personnummer är [personnummer], mejla [e-post]"
    assert entry["standalone"] == "Ärende för [personnummer], ring [telefon]"
    assert entry["history"] == [{"question": "Jag heter Anna, [telefon]", "answer": "Svar till [e-post]", "n": 1}]
    assert "Ärende" in raw  # ensure_ascii=False: Swedish letters as they are


def test_each_entry_is_one_line_with_a_utc_time_first(log):
    log.write(ask("Vad beslutade Tibro?", time="not mine"))
    log.write({"endpoint": "search", "question": "AI-strategi", "hits": 3})
    lines = log.path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert next(iter(first)) == "time"
    assert datetime.fromisoformat(first["time"]).utcoffset().total_seconds() == 0
    assert first["question"] == "Vad beslutade Tibro?"
    assert json.loads(lines[1]) | {"time": None} == {
        "time": None,
        "endpoint": "search",
        "question": "AI-strategi",
        "hits": 3,
    }


def test_the_parent_directory_is_created(tmp_path):
    query_log = QueryLog(tmp_path / "a" / "b" / "q.jsonl", max_bytes=1000, backups=1)
    query_log.write(ask("Fråga"))
    query_log.close()
    assert (tmp_path / "a" / "b" / "q.jsonl").is_file()


def test_a_log_that_cannot_be_opened_names_the_path_and_the_fix(tmp_path):
    (tmp_path / "file").write_text("", encoding="utf-8")
    with pytest.raises(RagError) as error:
        QueryLog(tmp_path / "file" / "q.jsonl", max_bytes=1000, backups=1)
    assert str(error.value).startswith(f"Cannot open the query log {tmp_path / 'file' / 'q.jsonl'}: ")
    assert str(error.value).endswith(
        ". Set RAG_QUERY_LOG to a writable file, or to an empty string to turn the log off."
    )


def test_a_failed_write_is_a_warning_not_an_exception(log, caplog):
    class FullDisk(io.StringIO):
        def write(self, text):
            raise OSError(28, "No space left on device")

    log._handler.stream = FullDisk()
    with caplog.at_level(logging.WARNING, logger="rag.querylog"):
        log.write(ask("Fråga"))
    assert f"Could not write to the query log {log.path}: [Errno 28] No space left on device" in caplog.text


def test_a_write_after_close_is_a_warning(tmp_path, caplog):
    query_log = QueryLog(tmp_path / "q.jsonl", max_bytes=1000, backups=1)
    query_log.close()
    with caplog.at_level(logging.WARNING, logger="rag.querylog"):
        query_log.write(ask("Fråga"))
    assert "the log is closed" in caplog.text


def test_two_logs_do_not_share_a_handler(tmp_path):
    first = QueryLog(tmp_path / "one.jsonl", max_bytes=1000, backups=1)
    second = QueryLog(tmp_path / "two.jsonl", max_bytes=1000, backups=1)
    first.write(ask("ett"))
    second.write(ask("två"))
    first.close()
    second.close()
    assert [e["question"] for e in read_entries(tmp_path / "one.jsonl")] == ["ett"]
    assert [e["question"] for e in read_entries(tmp_path / "two.jsonl")] == ["två"]


def test_rotation_keeps_every_entry_in_order_across_files(tmp_path):
    path = tmp_path / "q.jsonl"
    query_log = QueryLog(path, max_bytes=400, backups=50)
    for n in range(30):
        query_log.write(ask(f"Fråga nummer {n}", n=n))
    query_log.close()
    files = log_files(path)
    assert len(files) > 3
    assert files[-1] == path
    assert files[-2] == tmp_path / "q.jsonl.1"
    assert all(f.stat().st_size <= 400 for f in files)
    assert [e["n"] for e in read_entries(path)] == list(range(30))


def test_rotation_drops_the_oldest_beyond_the_backups(tmp_path):
    path = tmp_path / "q.jsonl"
    query_log = QueryLog(path, max_bytes=400, backups=2)
    for n in range(30):
        query_log.write(ask(f"Fråga nummer {n}", n=n))
    query_log.close()
    assert log_files(path) == [tmp_path / "q.jsonl.2", tmp_path / "q.jsonl.1", path]
    numbers = [e["n"] for e in read_entries(path)]
    assert numbers == list(range(30 - len(numbers), 30))


def test_lines_that_are_not_json_objects_are_skipped_and_counted(tmp_path):
    path = tmp_path / "q.jsonl"
    (tmp_path / "q.jsonl.1").write_text('{"n": 0}\n{"n": 1, "cut off\n', encoding="utf-8")
    path.write_text('[1, 2]\n\n{"n": 2}\n"text"\n{"n": 3}\n', encoding="utf-8")
    entries = read_entries(path)
    assert [e["n"] for e in entries] == [0, 2, 3]
    assert entries.skipped == 3


def test_a_missing_log_names_the_path(tmp_path):
    with pytest.raises(InputError) as error:
        read_entries(tmp_path / "q.jsonl")
    assert str(error.value) == (
        f"No query log at {tmp_path / 'q.jsonl'}. The server writes it when RAG_QUERY_LOG is set "
        "(default logs/queries.jsonl); pass --log PATH to read another file."
    )


HAND_MADE = [
    ask("Vad beslutade Tibro om AI?", time="2024-10-01T08:00:00.000+00:00", latency_ms=10.0, cited=["tibro.txt"]),
    ask("vad beslutade  Tibro om AI?", time="2024-10-01T09:00:00.000+00:00", latency_ms=20.0, cited=["tibro.txt"]),
    ask("Vad beslutade Tibro om AI?", time="2024-10-01T10:00:00.000+00:00", latency_ms=30.0, cited=["tibro.txt"]),
    ask("Vem är [personnummer]?", time="2024-10-02T08:00:00.000+00:00", latency_ms=40.0, abstained=True),
    ask("vem är [personnummer]?", time="2024-10-02T09:00:00.000+00:00", latency_ms=50.0, abstained=True),
    ask("Hur gör Västerås?", latency_ms=60.0, cited=["vasteras.txt", "tibro.txt", "vasteras.txt"]),
    ask("Fel", time="2024-10-03T08:00:00.000+00:00", latency_ms=70.0, abstained=None, status=500),
    {"endpoint": "search", "question": "AI-strategi", "latency_ms": 80.0, "time": "2024-10-04T08:00:00.000+00:00"},
    {"endpoint": "search", "question": "ai-strategi", "latency_ms": 90.0, "time": "2024-10-05T08:00:00.000+00:00"},
    {"endpoint": "precedent", "question": "AI-strategi", "latency_ms": 100.0, "time": "2024-10-06T08:00:00.000+00:00"},
]


def test_summarise_figures_on_a_hand_made_log():
    assert summarise(HAND_MADE) == {
        "requests": 10,
        "endpoints": {"ask": 7, "search": 2, "precedent": 1},
        "abstained": 2,
        "abstained_rate": 2 / 6,
        "latency_ms": {"p50": 50.0, "p95": 100.0},
        "top_questions": [
            {"question": "Vad beslutade Tibro om AI?", "count": 3},
            {"question": "AI-strategi", "count": 3},
            {"question": "Vem är [personnummer]?", "count": 2},
            {"question": "Hur gör Västerås?", "count": 1},
            {"question": "Fel", "count": 1},
        ],
        "unanswered": [{"question": "Vem är [personnummer]?", "count": 2}],
        "top_cited": [{"doc": "tibro.txt", "count": 4}, {"doc": "vasteras.txt", "count": 1}],
        "first": "2024-10-01T08:00:00.000+00:00",
        "last": "2024-10-06T08:00:00.000+00:00",
    }


def test_summarise_top_limits_the_lists_and_an_empty_log_has_no_figures():
    summary = summarise(HAND_MADE, top=1)
    assert summary["top_questions"] == [{"question": "Vad beslutade Tibro om AI?", "count": 3}]
    assert summary["top_cited"] == [{"doc": "tibro.txt", "count": 4}]
    assert summarise([]) == {
        "requests": 0,
        "endpoints": {},
        "abstained": 0,
        "abstained_rate": None,
        "latency_ms": {"p50": None, "p95": None},
        "top_questions": [],
        "unanswered": [],
        "top_cited": [],
        "first": None,
        "last": None,
    }


@pytest.fixture
def written(tmp_path):
    path = tmp_path / "queries.jsonl"
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in HAND_MADE) + "not json\n", "utf-8")
    return path


def test_report_prints_tables_and_a_summary_line(written):
    result = runner.invoke(app, ["report", "--log", str(written)])
    assert result.exit_code == 0, result.output
    for title in ("Most frequent questions", "Unanswered questions", "Most cited documents"):
        assert title in result.output
    assert "Vem är [personnummer]?" in result.output  # a masked question is not taken for markup
    assert "vasteras.txt" in result.output
    assert result.output.endswith(
        "10 requests (ask 7, search 2, precedent 1) from 2024-10-01T08:00:00.000+00:00 to "
        "2024-10-06T08:00:00.000+00:00; abstained 2 (33% of answers); latency p50 50 ms, p95 100 ms; "
        "1 lines skipped (not JSON objects).\n"
    )


def test_report_json(written):
    result = runner.invoke(app, ["report", "--log", str(written), "--json", "--top", "2"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report == summarise(HAND_MADE, top=2) | {"log": str(written), "skipped_lines": 1}


def test_report_reads_the_log_from_settings(written, monkeypatch):
    monkeypatch.setenv("RAG_QUERY_LOG", str(written))
    result = runner.invoke(app, ["report", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["requests"] == 10


def test_report_on_a_missing_log_names_it(tmp_path):
    result = runner.invoke(app, ["report", "--log", str(tmp_path / "none.jsonl")])
    assert result.exit_code != 0
    assert isinstance(result.exception, InputError)
    assert str(result.exception).startswith(f"No query log at {tmp_path / 'none.jsonl'}. ")


def test_report_when_logging_is_off_says_how_to_turn_it_on(monkeypatch):
    monkeypatch.setenv("RAG_QUERY_LOG", "")
    result = runner.invoke(app, ["report"])
    assert result.exit_code != 0
    assert str(result.exception) == (
        "The query log is off (RAG_QUERY_LOG is empty). Set RAG_QUERY_LOG=logs/queries.jsonl for 'rag serve' "
        "to turn it on, or pass --log PATH to read a log."
    )
