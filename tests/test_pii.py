from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rag.pii import FILL, PiiSpan, find_pii, mask_pii


def kinds(text: str) -> list[tuple[str, str]]:
    return [(text[s.start : s.end], s.kind) for s in find_pii(text)]


@pytest.mark.parametrize(
    "number",
    [
        "880320-0016",  # python-stdnum's own example
        "811228-9841",
        "8803200016",
        "880320 0016",
        "880320+0016",  # a person aged 100 or more
        "880320\u20130016",  # a word processor's en dash
        "19880320-0016",
        "198803200016",
        "19811228 9841",
    ],
)
def test_valid_personnummer_is_found_whole(number):
    assert kinds(f"Sökande: {number}, Tibro.") == [(number, "personnummer")]


@pytest.mark.parametrize(
    "number",
    [
        "701063-2391",  # samordningsnummer: born 1970-10-03, day + 60
        "880380-0013",
        "19701063-2391",
        "197010632391",
    ],
)
def test_samordningsnummer_is_found(number):
    assert kinds(f"Samordningsnummer {number}.") == [(number, "personnummer")]


@pytest.mark.parametrize(
    "number",
    [
        "880320-0018",  # wrong check digit
        "8803200018",
        "19880320-0018",
        "880380-0014",  # samordningsnummer with wrong check digit
        "880231-0006",  # Luhn holds, but 31 February is no date
        "880291-0003",  # Luhn holds, but 31 February + 60 is no date either
        "881320-0010",  # month 13
    ],
)
def test_invalid_numbers_are_not_masked(number):
    text = f"Nummer {number} i texten."
    assert find_pii(text) == []
    assert mask_pii(text) == (text, {})


def test_a_digit_next_to_it_makes_it_part_of_a_longer_number():
    assert find_pii("ärende 18803200016 och 880320-00161") == []


@pytest.mark.parametrize(
    "address",
    ["anna.andersson@tibro.se", "kommunstyrelsen@vasteras.se", "Åsa_B+ai@kommun.göteborg.se", "x@region.gotland.se"],
)
def test_email_addresses_are_found(address):
    text = f"Skriv till {address}. Tack!"
    assert kinds(text) == [(address, "email")]


def test_email_needs_a_domain_with_a_top_level_part():
    assert find_pii("@tibro, kommun@ och a@b") == []


@pytest.mark.parametrize(
    "phone",
    [
        "070-123 45 67",
        "08-123 456 78",
        "+46 70 123 45 67",
        "0500-44 60 00",
        "0771-670 670",
        "08-508 290 00",
        "0701234567",
        "(070) 123 45 67",
    ],
)
def test_swedish_phone_numbers_are_found(phone):
    text = f"Ring {phone} för frågor."
    assert kinds(text) == [(phone, "phone")]


def test_a_personnummer_is_not_also_a_phone_and_an_email_wins_over_both():
    text = "Pnr 880320-0016, tel 070-123 45 67, e-post 8803200016@tibro.se"
    assert kinds(text) == [
        ("880320-0016", "personnummer"),
        ("070-123 45 67", "phone"),
        ("8803200016@tibro.se", "email"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Sammanträde 2024-09-30",
        "Dnr KS 2023/01222",
        "Dnr 2023/01222-2.3.0",
        "RS 2024/123",
        "KS 2024/0123-1",
        "§ 100",
        "§§ 100-112",
        "Beslut under år 2024 och 2020-2024",
        "Kostnaden är 100 000 kronor.",
        "Budget 1 500 000 kr, 12 500 000 kronor, 1 000 000 000 kr",
        "Organisationsnummer 212000-1439",
        "org.nr 2120001439",
        "Tid kl. 13.00-16.30",
        "kl. 08.30-12.00 och 08.00–17.00, 08.30 - 12.00",
        "Sida 1 av 12",
        "sid 12(34)",
        "Bilaga 1-4",
        "SFS 2018:218",
        "Anslaget 2023-12-15 - 2024-01-08",
        "Justerat 2024-10-07 kl 08:30",
    ],
)
def test_what_municipal_protocols_are_full_of_is_not_masked(text):
    assert find_pii(text) == []


def test_a_protocol_paragraph_masks_only_the_person():
    text = (
        "KS § 100 Dnr KS 2023/01222 Sammanträde 2024-09-30 kl. 13.00-16.30. Anna Andersson (880320-0016, "
        "anna@tibro.se, 070-123 45 67) föreslår att 1 500 000 kr avsätts. Sida 3 av 12."
    )
    masked, counts = mask_pii(text)
    assert masked == (
        "KS § 100 Dnr KS 2023/01222 Sammanträde 2024-09-30 kl. 13.00-16.30. Anna Andersson ([personnummer], "
        "[e-post], [telefon]) föreslår att 1 500 000 kr avsätts. Sida 3 av 12."
    )
    assert counts == {"personnummer": 1, "email": 1, "phone": 1}


def test_spans_are_sorted_and_do_not_overlap():
    text = "070-123 45 67 a@b.se 880320-0016 08-123 456 78 701063-2391"
    spans = find_pii(text)
    assert [s.kind for s in spans] == ["phone", "email", "personnummer", "phone", "personnummer"]
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))
    assert spans[0] == PiiSpan(0, 13, "phone")


def test_keep_length_keeps_every_other_offset():
    text = "Pnr 880320-0016 och a@b.se, ring 070-123 45 67 i morgon."
    masked, counts = mask_pii(text, keep_length=True)
    assert len(masked) == len(text)
    assert counts == {"personnummer": 1, "email": 1, "phone": 1}
    spans = find_pii(text)
    for span in spans:
        assert masked[span.start : span.end] == FILL * (span.end - span.start)
    inside = {i for s in spans for i in range(s.start, s.end)}
    assert all(masked[i] == text[i] for i in range(len(text)) if i not in inside)
    assert masked == "Pnr ███████████ och ██████, ring █████████████ i morgon."


def test_text_without_pii_is_returned_as_is():
    assert mask_pii("Vad beslutade Tibro om AI?") == ("Vad beslutade Tibro om AI?", {})
    assert mask_pii("") == ("", {})


@given(st.text(alphabet=st.characters(blacklist_categories=("Nd",), blacklist_characters="@")))
def test_text_without_digits_or_at_signs_is_unchanged(text):
    assert mask_pii(text) == (text, {})
    assert mask_pii(text, keep_length=True) == (text, {})


@pytest.mark.parametrize("phone", ["+46 (0)70-123 45 67", "0046 70 123 45 67", "031-368 00 00", "0500-44 60 01"])
def test_more_ways_to_write_a_phone_number(phone):
    assert kinds(f"Kontakt: {phone}.") == [(phone, "phone")]


def test_masked_text_has_nothing_left_to_mask():
    """An index keeps the masked text of a document whose file breaks; masking it again changes nothing."""
    masked, _ = mask_pii("Pnr 880320-0016, 701063-2391, a@b.se, 070-123 45 67.", keep_length=True)
    assert mask_pii(masked, keep_length=True) == (masked, {})


def test_the_seed_protocols_have_one_e_mail_address_and_nothing_else_to_mask():
    """Real protocols are full of dates, Dnr, § numbers, times and sums: none of them is masked."""
    from conftest import CORPUS

    found = [
        (path.name, text[s.start : s.end], s.kind)
        for path in sorted(CORPUS.glob("*.txt"))
        for text in [path.read_text(encoding="utf-8")]
        for s in find_pii(text)
    ]
    assert found == [("001_6e1d6ed25857f700.txt", "jorgen.sandstrom@vasteras.se", "email")]


_FRAGMENTS = st.sampled_from(
    [
        "KS § 87 ",
        "Dnr KS 2023/01222 ",
        "2024-09-30 ",
        "kl. 13.00-16.30 ",
        "880320-0016 ",
        "701063-2391 ",
        "880320-0018 ",
        "anna@tibro.se ",
        "070-123 45 67 ",
        "1 500 000 kr ",
        "Anna Andersson (S) ",
        "\n",
    ]
)


@given(st.lists(_FRAGMENTS, max_size=12).map("".join))
def test_keep_length_changes_only_the_personal_data(text):
    masked, counts = mask_pii(text, keep_length=True)
    spans = find_pii(text)
    assert len(masked) == len(text)
    assert sum(counts.values()) == len(spans)
    inside = {i for s in spans for i in range(s.start, s.end)}
    assert all((masked[i] == FILL) if i in inside else (masked[i] == text[i]) for i in range(len(text)))
    for fragment in ("KS § 87", "Dnr KS 2023/01222", "2024-09-30", "13.00-16.30", "1 500 000 kr"):
        assert masked.count(fragment) == text.count(fragment)
