from __future__ import annotations

import pytest

from rag.structure.decision import decisive_span, higher_body, outcome, outcomes, proposal_to
from rag.vocab import OUTCOMES


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Nämnden antar taxan.", "bifall"),
        ("Ansökan beviljas.", "bifall"),
        ("Kommunstyrelsen ställer sig bakom förslaget.", "bifall"),
        ("Motionen avslås.", "avslag"),
        ("Interpellationen anses besvarad.", "besvarad"),
        ("Ärendet återremitteras till förvaltningen.", "återremiss"),
        ("Ärendet föranleder ingen åtgärd.", "ingen åtgärd"),
        ("Förvaltningen får i uppdrag att utreda frågan.", "uppdrag"),
        ("Rapporten antecknas.", "noterad"),
        ("Ärendet bordläggs till nästa sammanträde.", "bordlagd"),
        ("Eva Ek (S) väljs till ordförande.", "val"),
        ("Kommunstyrelsen beslutar att inte yttra sig över remissen.", "ingen åtgärd"),
        ("Yrkandet om återremiss avslås. Avtalet godkänns.", "bifall"),
    ],
)
def test_outcome_vocabulary(text, kind):
    assert kind in OUTCOMES
    assert outcome(text) == kind


def test_the_main_outcome_is_the_first_att_sats_after_a_lead_in():
    text = "Enligt förvaltningens förslag:\n1. Planen godkänns.\n2. Förvaltningen får i uppdrag att följa upp."
    assert outcomes(text) == ("bifall", ("uppdrag",))
    assert outcomes("") == ("other", ())


def test_an_election_item_leads_with_val():
    text = "1. Avsägelsen godkänns.\n2. Till ny ledamot väljs Eva Ek (S)."
    assert outcomes(text, "Val av ny ledamot")[0] == "val"
    assert outcomes(text, "Ny ledamot i styrelsen")[0] == "bifall"


def test_who_a_decision_is_proposed_to():
    assert proposal_to("Kommunstyrelsen föreslår kommunfullmäktige besluta\natt anta planen.") == "Kommunfullmäktige"
    assert proposal_to("Planen antas.", "Kommunstyrelsens förslag till kommunfullmäktige\n") == "Kommunfullmäktige"
    assert proposal_to("Nämnden beslutar att anta planen.") is None
    assert higher_body("Kommunfullmäktige", "Kommunfullmäktige") is None  # its own 'föreslås besluta'


def test_the_decisive_span_joins_a_lead_in_with_its_att_satser():
    text = "Beslut\nNämnden beslutar\n\natt anta planen,\n\natt följa upp den.\n\nÄrendet har beretts.\n"
    span = decisive_span(text, 0, len(text))
    assert span is not None
    assert text[span[0] : span[1]] == "Nämnden beslutar\n\natt anta planen,\n\natt följa upp den."
