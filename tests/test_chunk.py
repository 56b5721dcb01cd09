from __future__ import annotations

import hashlib
from dataclasses import replace

from conftest import CORPUS, VASTERAS
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.chunk import chunk_document
from rag.structure import parse_structure
from rag.types import Document, Item, Section, Structure


def _doc(text: str, name: str = "x.txt") -> Document:
    return Document(name, name, text, hashlib.sha256(text.encode()).hexdigest(), "txt")


def _check_invariants(text: str, size: int, overlap: int) -> None:
    doc = _doc(text)
    structure = parse_structure(text)
    chunks = chunk_document(doc, structure, size=size, overlap=overlap)
    covered = bytearray(len(text))
    for c in chunks:
        assert c.text == text[c.start : c.end]
        assert len(c.text) <= size
        assert c.text.strip() == c.text and c.text
        for i in range(c.start, c.end):
            covered[i] = 1
    for a, b in structure.furniture:
        for i in range(a, b):
            covered[i] = 1
    missing = "".join(ch for i, ch in enumerate(text) if not covered[i])
    assert missing.strip() == "", f"text outside every chunk: {missing.strip()[:80]!r}"


words = st.sampled_from(
    [
        "AI",
        "Beslut",
        "kommunen",
        "§",
        "12",
        "Dnr",
        "KS",
        "2023/12",
        "motion.",
        "yrkar",
        "bifall.",
        "Ärendet",
        "-",
        "(M)",
    ]
)
separators = st.sampled_from([" ", " ", " ", "\n", "\n\n", ". ", ", "])
texts = st.lists(st.tuples(words, separators), min_size=1, max_size=150).map(lambda xs: "".join(w + s for w, s in xs))


@settings(max_examples=200, deadline=None)
@given(texts, st.integers(min_value=40, max_value=400), st.integers(min_value=0, max_value=60))
def test_chunks_cover_the_text_respect_the_size_and_are_exact_substrings(text, size, overlap):
    _check_invariants(text, size, overlap)


def test_invariants_hold_on_the_seeds():
    for path in sorted(CORPUS.glob("*.txt")):
        _check_invariants(path.read_text(encoding="utf-8"), 700, 120)


def test_chunks_carry_item_and_section_metadata_and_skip_furniture():
    text = VASTERAS.read_text(encoding="utf-8")
    chunks = chunk_document(_doc(text, "v.txt"), parse_structure(text), merge_sections=False)
    beslut = next(c for c in chunks if c.section == "Beslut")
    assert beslut.text == "Beslut\nForslag till kommunfullmiktige:\n\nMotionen foranleder ingen ytterligare atgéard."
    assert (beslut.paragraph, beslut.dnr, beslut.date, beslut.organisation, beslut.body, beslut.outcome) == (
        "§ 87",
        "KS 2023/01222-2.3.0",
        "2024-03-06",
        "Västerås stad",
        "Kommunstyrelsen",
        "ingen åtgärd",
    )
    assert not any("Justerandes signatur" in c.text or "Utdragsbestyrkande" in c.text for c in chunks)


def test_chunks_over_the_token_budget_are_split_again():
    text = "Ord " * 400
    chunks = chunk_document(
        _doc(text), parse_structure(text), size=1000, overlap=0, max_tokens=50, count_tokens=lambda t: len(t.split())
    )
    assert all(len(c.text.split()) <= 50 for c in chunks)
    assert len(chunks) >= 8
    assert " ".join(c.text for c in chunks).split() == text.split()


def test_unstructured_chunking_cuts_the_whole_text_with_document_metadata_only():
    text = VASTERAS.read_text(encoding="utf-8")
    structure = parse_structure(text)
    chunks = chunk_document(_doc(text, "v.txt"), structure, size=800, overlap=100, structured=False)
    assert all(c.paragraph is None and c.section is None and c.dnr is None for c in chunks)
    assert all(c.organisation == structure.organisation and c.text == text[c.start : c.end] for c in chunks)
    assert chunks[0].start == len(text) - len(text.lstrip())
    assert any("Justerandes signatur" in c.text for c in chunks)  # furniture is not taken out


ITEM = """§ 5 Riktlinjer för AI-stöd i skolan

Ärendet
Förvaltningen föreslår riktlinjer.

Beslut
Nämnden antar riktlinjerna och ger förvaltningen i uppdrag att följa upp dem.

Sida 2 av 9

Expedieras
Skolförvaltningen
"""


def _item_structure(text: str) -> Structure:
    def at(word: str) -> int:
        return text.index(word)

    sections = (
        Section("Ärendet", at("Ärendet"), at("Beslut")),
        Section("Beslut", at("Beslut"), at("Expedieras")),
        Section("Expedieras", at("Expedieras"), len(text)),
    )
    page = (at("Sida 2"), at("Sida 2") + len("Sida 2 av 9"))
    item = Item(0, len(text), paragraph="§ 5", number=5, sections=sections)
    return Structure("protokoll", None, None, None, None, (item,), (page,))


def test_short_sections_of_an_item_share_a_chunk_but_never_across_furniture():
    chunks = chunk_document(_doc(ITEM), _item_structure(ITEM), size=300, overlap=50)
    assert [c.text for c in chunks] == [ITEM[: ITEM.index("\n\nSida")], "Expedieras\nSkolförvaltningen"]
    assert chunks[0].section == "Beslut"  # the section with the most text
    assert all(c.paragraph == "§ 5" for c in chunks)


def test_sections_that_do_not_fit_together_stay_apart():
    chunks = chunk_document(_doc(ITEM), _item_structure(ITEM), size=60, overlap=10)
    assert all(len(c.text) <= 60 for c in chunks)
    assert not any("Ärendet" in c.text and "Beslut" in c.text for c in chunks)


def test_a_merged_chunk_is_labelled_with_the_section_where_the_decision_starts():
    text = ITEM.replace(
        "Förvaltningen föreslår riktlinjer.",
        "Förvaltningen föreslår riktlinjer för lärare, elever, rektorer och vårdnadshavare i alla skolor.",
    )
    structure = _item_structure(text)
    beslut = text.index("Nämnden antar")
    item = replace(structure.items[0], decision=(beslut, beslut + 20))
    text_only = chunk_document(_doc(text), replace(structure, items=(item,)), size=400, overlap=50)
    assert text_only[0].section == "Beslut"
    assert chunk_document(_doc(text), structure, size=400, overlap=50)[0].section == "Ärendet"  # most text
