"""Filters below the store boundary: ``chunk_passes`` says what a filter means, and ``Columns``
(what both backends filter with, by distinct value) keeps exactly the chunks it passes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rag.store.filters import Columns, chunk_passes
from rag.types import Chunk, Filters

CHUNK = Chunk(
    "d.txt",
    0,
    4,
    "text",
    organisation="Västerås stad",
    body="Kommunstyrelsen",
    date="2024-03-06",
    doc_type="protokoll",
    outcome="ingen åtgärd",
)


def test_filters():
    assert chunk_passes(CHUNK, Filters(organisation="vasteras"))
    assert chunk_passes(CHUNK, Filters(body="KS"))
    assert not chunk_passes(CHUNK, Filters(body="KF"))
    assert chunk_passes(CHUNK, Filters(date_from="2024", date_to="2024-03"))
    assert not chunk_passes(CHUNK, Filters(date_from="2024-04"))
    assert not chunk_passes(Chunk("d", 0, 1, "t"), Filters(date_to="2030"))
    assert chunk_passes(CHUNK, Filters(outcome="ingen åtgärd", doc_type="Protokoll"))
    assert not chunk_passes(CHUNK, Filters(outcome="avslag"))
    assert not chunk_passes(CHUNK, Filters(exclude_organisations=("Västerås stad",)))
    assert chunk_passes(CHUNK, Filters(exclude_organisations=(None,)))
    assert not chunk_passes(Chunk("d", 0, 1, "t"), Filters(exclude_organisations=(None,)))


def test_columns_answer_vocabularies_and_the_chunks_of_a_document():
    chunks = [CHUNK, Chunk("d.txt", 4, 8, "more"), Chunk("e.txt", 0, 3, "end", organisation="Tibro kommun")]
    columns = Columns(chunks)
    assert columns.values("organisation") == ["Tibro kommun", "Västerås stad"]
    assert columns.values("outcome") == ["ingen åtgärd"] and columns.values("dnr") == []
    assert columns.ids("doc", "d.txt").tolist() == [0, 1] and columns.ids("doc", "x.txt").tolist() == []
    assert columns.allowed(None) is None and columns.allowed(Filters()) is None
    assert columns.allowed(Filters(organisation="")).tolist() == [0, 1, 2]  # restricts nothing, but is a filter


VALUES = {
    "organisation": st.sampled_from([None, "Tibro kommun", "Västerås stad", "Region Gotland"]),
    "body": st.sampled_from([None, "Kommunstyrelsen", "Kommunfullmäktige", "Socialnämnden"]),
    "date": st.sampled_from([None, "2023-12-31", "2024-01-05", "2024-03-06", "2025-06"]),
    "doc_type": st.sampled_from([None, "protokoll", "riktlinje", "Protokoll"]),
    "outcome": st.sampled_from([None, "bifall", "avslag", "ingen åtgärd"]),
}
chunks = st.lists(st.builds(lambda **kw: Chunk("d", 0, 1, "t", **kw), **VALUES), max_size=30)
filters = st.builds(
    Filters,
    organisation=st.sampled_from([None, "", "tibro", "Västerås", "Malmö"]),
    body=st.sampled_from([None, "KS", "kommunfullmäktige", "Riksdagen"]),
    date_from=st.sampled_from([None, "2024", "2024-03"]),
    date_to=st.sampled_from([None, "2024", "2024-01-31"]),
    doc_type=st.sampled_from([None, "PROTOKOLL", "riktlinje"]),
    outcome=st.sampled_from([None, "bifall", "ingen åtgärd"]),
    exclude_organisations=st.sampled_from([None, (), ("Tibro kommun",), (None, "Region Gotland")]),
)


@given(chunks, filters)
def test_columns_keep_exactly_the_chunks_that_pass(chunks, filters):
    allowed = Columns(chunks).allowed(filters)
    if filters.empty():
        assert allowed is None
    else:
        assert allowed is not None
        assert allowed.tolist() == [i for i, c in enumerate(chunks) if chunk_passes(c, filters)]
