from __future__ import annotations

from rag.glossary import translate_terms


def test_english_terms_become_swedish_search_terms_longest_phrase_first():
    assert translate_terms("What did the municipal council decide about the AI strategy?") == (
        "kommunfullmäktige besluta beslut strategi"
    )
    assert translate_terms("How often is the social services committee given a report?") == (
        "socialnämnden redovisa rapport avrapportera återrapportering"
    )
    assert translate_terms("Nothing known here") == ""


def test_the_data_protection_vocabulary_has_its_swedish_terms():
    assert translate_terms("Who must report a data breach to the privacy authority?") == (
        "redovisa rapport avrapportera återrapportering personuppgiftsincident incident Integritetsskyddsmyndigheten IMY"
    )
