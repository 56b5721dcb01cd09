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
