"""Learning the sentence weights: a signal that tells the answer apart gets the weight, and the
held-out ranking never sees the document it ranks."""

from __future__ import annotations

from rag.sentence_model import Row, fit, fold_of, held_out_first, signal_names


def _rows() -> list[Row]:
    rows = []
    for q in range(20):
        doc = f"doc{q}.txt"
        rows.append(Row(f"q{q}", doc, {"decisive": 1.0, "overlap": 0.2}, True))
        rows.append(Row(f"q{q}", doc, {"decisive": 0.0, "overlap": 0.9}, False))
        rows.append(Row(f"q{q}", doc, {"decisive": 0.0, "overlap": 0.5}, False))
    return rows


def test_the_signal_that_tells_the_answer_apart_gets_the_weight():
    weights = fit(_rows(), ["decisive", "overlap"])
    assert weights["decisive"] > 1.0 > weights["overlap"]


def test_held_out_ranking_finds_the_answer_and_folds_keep_documents_whole():
    firsts = held_out_first(_rows(), ["decisive", "overlap"])
    assert len(firsts) == 20 and all(hit == 1 for hit, _ in firsts.values())
    assert fold_of("doc1.txt") == fold_of("doc1.txt")


def test_ties_are_broken_by_closeness_to_the_question_only_when_asked():
    """Two sentences with the same signals: as they stood, the first wins; broken by closeness,
    the one nearer the question."""
    rows = []
    for q in range(10):
        doc = f"doc{q}.txt"
        rows.append(Row(f"q{q}", doc, {"decisive": 1.0}, False, similarity=0.70))
        rows.append(Row(f"q{q}", doc, {"decisive": 1.0}, True, similarity=0.90))
        rows.append(Row(f"q{q}", doc, {"decisive": 0.0}, False, similarity=0.99))
    assert signal_names(rows) == ["decisive"]
    assert sum(hit for hit, _ in held_out_first(rows, ["decisive"]).values()) == 0
    assert sum(hit for hit, _ in held_out_first(rows, ["decisive"], tie_break=True).values()) == 10
