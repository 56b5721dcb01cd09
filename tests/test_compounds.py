"""Unseen Swedish compounds in a question are split into the keys the index knows."""

from __future__ import annotations

from rag.compounds import compound_parts, with_parts

KNOWN = {"sekretess", "uppgift", "automatisering", "arendet", "kamer", "motion", "plan", "utbildning", "budget"}


def known(key: str) -> bool:
    return key in KNOWN


def test_an_unseen_compound_splits_into_known_keys_with_or_without_a_linking_s():
    assert compound_parts("sekretessuppgift", known) == ("sekretess", "uppgift")
    assert compound_parts("automatiseringsarendet", known) == ("automatisering", "arendet")
    assert compound_parts("utbildningsplan", known) == ("utbildning", "plan")
    assert compound_parts("kameramotion", known) == ("kamer", "motion")


def test_known_short_and_unexplained_keys_are_not_split():
    assert compound_parts("sekretess", known) == ()  # the index has it whole
    assert compound_parts("planbud", known) == ()  # too short to be two parts of four letters
    assert compound_parts("valadministrativt", known) == ()  # no split into two known keys


def test_parts_follow_their_compound_once():
    keys = with_parts(["sekretessuppgift", "uppgift", "budgetuppgift"], known)
    assert keys == ["sekretessuppgift", "sekretess", "uppgift", "budgetuppgift", "budget"]


def test_an_answer_weighs_an_unseen_compound_by_its_parts_and_keeps_other_unseen_keys():
    """The answer's coverage cannot find a compound no passage writes; its parts it can. A key no
    split explains stays, so a question about something no document names still scores low."""
    from rag.query import answer_keys
    from rag.types import QueryInfo

    info = QueryInfo(text="Vilka sekretessuppgifter finns i valadministrativt stöd?", language="sv")
    keys = answer_keys(info, lambda key: key in KNOWN or key in {"finn", "stod"})
    assert "sekretessuppgift" not in keys
    assert keys.index("sekretess") + 1 == keys.index("uppgift")
    assert "valadministrativt" in keys
