"""The cached key helpers answers use give what the plain ones give."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rag.normalise import analyse, key_set
from rag.sentences import key_in, same_key, sentence_spans

KEY = st.text(alphabet="abcdeoö", min_size=1, max_size=9)


@given(KEY, st.frozensets(KEY, max_size=12))
def test_key_in_is_same_key_against_every_key(key: str, keys: frozenset[str]) -> None:
    assert key_in(key, keys) == (key in keys or any(same_key(key, k) for k in keys))


def test_key_in_finds_compound_parts_both_ways() -> None:
    assert key_in("ansokning", frozenset({"ateransokning"}))  # the compound holds the part
    assert key_in("ateransokning", frozenset({"ansokning"}))  # the part is in the compound
    assert not key_in("ai", frozenset({"aikid"}))  # short keys only match themselves


@given(st.text(max_size=200))
def test_key_set_is_the_set_of_analyse(text: str) -> None:
    assert key_set(text) == frozenset(analyse(text))


def test_sentence_spans_offsets_follow_the_region_start() -> None:
    text = "Inledning.\n\nKommunstyrelsen beslutar att anta riktlinjen. Ärendet är avslutat."
    start = text.index("Kommunstyrelsen")
    first = sentence_spans(text, start, len(text))
    again = sentence_spans("xx" + text, start + 2, len(text) + 2)  # the same region, cached, elsewhere
    assert [text[s:e] for s, e in first] == ["Kommunstyrelsen beslutar att anta riktlinjen.", "Ärendet är avslutat."]
    assert again == [(s + 2, e + 2) for s, e in first]
