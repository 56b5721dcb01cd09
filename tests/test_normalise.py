from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rag.normalise import analyse, fold, repair, repair_word, tokenize


def test_fold_maps_swedish_letters_to_ascii_vowels():
    assert fold("Västerås ÅTGÄRD öppna") == "vasteras atgard oppna"


def test_repair_word_fixes_ocr_confusions_from_the_scanned_seed():
    assert repair_word("anvindningsomraden") == "användningsområden"
    assert repair_word("visteras") == "västerås"
    assert repair_word("6ppna") == "öppna"
    assert repair_word("i6sningar") == "lösningar"
    assert repair_word("atgéard") == "åtgärd"
    assert repair_word("genomférande") == "genomförande"


def test_repair_word_leaves_known_and_unknown_words_alone():
    assert repair_word("halvårsvis") == "halvårsvis"
    assert repair_word("digitaliseringskoordinator") == "digitaliseringskoordinator"
    assert repair_word("copilot") == "copilot"


def test_analyse_matches_ocr_text_with_clean_text():
    ocr = analyse("Motionen foranleder ingen ytterligare atgéard. Al-strategi 1 verksamheter")
    clean = analyse("Motionen föranleder ingen ytterligare åtgärd. AI-strategi i verksamheter")
    assert ocr == clean


def test_analyse_joins_words_hyphenated_across_lines():
    assert analyse("användnings-\nområden") == analyse("användningsområden")


def test_repair_restores_ai_and_lone_i():
    assert repair("Kraftsamla kring Al och arbete 1 verksamheter") == "Kraftsamla kring AI och arbete i verksamheter"


def test_tokenize_gives_spans_into_the_original_text():
    text = "Västerås stad, anvand-\nningsomraden"
    tokens = tokenize(text)
    assert [text[t.start : t.end] for t in tokens] == ["Västerås", "stad", "anvand-\nningsomraden"]
    assert tokens[-1].word == "anvandningsomraden"


@given(st.text(alphabet=st.sampled_from(list("abcåäöé16& -\n.AIl")), max_size=200))
def test_tokens_never_shift_offsets(text):
    previous_end = 0
    for token in tokenize(text):
        assert previous_end <= token.start < token.end <= len(text)
        surface = text[token.start : token.end]
        assert token.word == surface.replace("-\n", "") or "\n" in surface
        previous_end = token.end
