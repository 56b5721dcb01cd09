"""The parts of an answer: sentences, quotability, kinds, wording, citation checks, follow-ups,
places, calibration, snippets and precedent merging. Pure functions, on the seeds' text."""

from __future__ import annotations

import logging
from itertools import pairwise
from types import SimpleNamespace

import pytest
from conftest import GOTLAND, TIBRO, VASTERAS
from hypothesis import given
from hypothesis import strategies as st

from rag.answer import Assistant, Citation, Evidence, compose, source_label
from rag.calibrate import choose_threshold
from rag.conversation import Turn, resolve
from rag.highlight import snippet
from rag.normalise import analyse
from rag.query import answer_type, named_places
from rag.sentences import join_lead_ins, quotable, sentence_kinds, sentence_spans

TIBRO_TEXT = TIBRO.read_text(encoding="utf-8")
GOTLAND_TEXT = GOTLAND.read_text(encoding="utf-8")
ORGS = ["Tibro kommun", "Västerås stad", "Region Gotland"]


def _citation(**kw):
    base = dict(
        n=1,
        doc="d.txt",
        path="/d.txt",
        title="Svar på motion",
        organisation="Tibro kommun",
        body="Kommunfullmäktige",
        date="2024-09-30",
        paragraph="§ 100",
        dnr=None,
        section="Beslut",
        start=0,
        end=5,
        quote="Kommunfullmäktige beslutar att avslå förslaget.",
    )
    return Citation(**(base | kw))


# --- sentences ---


@pytest.mark.parametrize("path", [TIBRO, VASTERAS, GOTLAND])
def test_sentence_spans_are_trimmed_ordered_spans_of_the_text(path):
    text = path.read_text(encoding="utf-8")
    spans = sentence_spans(text, 0, len(text))
    assert spans
    for (s, e), (s2, _) in pairwise(spans):
        assert 0 <= s < e <= s2
    for s, e in spans:
        assert text[s:e] == text[s:e].strip()
        assert "\n\n" not in text[s:e]


@given(st.text(alphabet=st.sampled_from(list("abc ÅÄÖ.?!:\n-§1")), max_size=300))
def test_sentence_spans_stay_inside_any_region(text):
    start, end = len(text) // 4, len(text) - len(text) // 4
    for s, e in sentence_spans(text, start, end):
        assert start <= s < e <= end and text[s:e].strip() == text[s:e]


def test_headings_are_split_off_and_not_quotable():
    text = "Beslut\nKommunfullmäktige beslutar att avslå förslaget om en AI-strategi.\n"
    spans = sentence_spans(text, 0, len(text))
    assert [text[s:e] for s, e in spans] == [
        "Beslut",
        "Kommunfullmäktige beslutar att avslå förslaget om en AI-strategi.",
    ]
    assert not quotable("Beslut") and not quotable("§ 100 Svar på motion")
    assert not quotable("12 34 56 78 90 11 22 33")
    assert quotable("Uppdraget avrapporteras halvårsvis till socialnämnden.")


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        # a title over two lines with the section heading under it, then the decision
        (
            "Svar på motion om AI i\nhemtjänsten\nBeslut\nKommunstyrelsen beslutar att motionen är besvarad.",
            ["Svar på motion om AI i\nhemtjänsten", "Beslut", "Kommunstyrelsen beslutar att motionen är besvarad."],
        ),
        # a numbered heading and an unnumbered one, each on a line of its own above its paragraph
        (
            "5 Tillåtna verktyg\nEndast godkända verktyg får användas.",
            ["5 Tillåtna verktyg", "Endast godkända verktyg får användas."],
        ),
        (
            "Försöket i Kiruna\nSedan mars har tolv läkare använt tjänsten.",
            ["Försöket i Kiruna", "Sedan mars har tolv läkare använt tjänsten."],
        ),
    ],
)
def test_heading_lines_anywhere_in_a_block_are_their_own_spans(text, pieces):
    assert [text[s:e] for s, e in sentence_spans(text, 0, len(text))] == pieces


@pytest.mark.parametrize(
    "text",
    [
        # wrapped running text: the short line ends on a word a sentence goes on from, or follows a
        # line that did not end a sentence
        "Kommunstyrelsen beslutar att\nGöteborgs Stad ska pröva AI-stöd under året.",
        "Nämnden har under året arbetat med frågan om\nAI i skolan\nSom en följd av detta har nämnden beslutat.",
    ],
)
def test_wrapped_lines_of_running_text_are_not_headings(text):
    assert len(sentence_spans(text, 0, len(text))) == 1


def test_a_lead_in_is_joined_to_the_list_it_introduces():
    text = "De principer som är viktiga är:\n\n- Processer\n- Etik\n\nNästa stycke börjar här."
    spans = join_lead_ins(text, sentence_spans(text, 0, len(text)))
    assert text[spans[0][0] : spans[0][1]] == "De principer som är viktiga är:\n\n- Processer\n- Etik"
    assert "Nästa stycke börjar här." in [text[s:e] for s, e in spans]


@pytest.mark.parametrize(
    ("sentence", "kinds"),
    [
        ("Sara Holm (KD) föreslår bifall till kommunstyrelsens förslag.", {"person"}),
        ("Uppdraget avrapporteras halvårsvis till socialnämnden.", {"frequency", "role"}),
        ("Regeringen avsätter 100 miljoner kronor till satsningen.", {"money", "number"}),
        ("Utredningen ska redovisas senast den 1 juli 2025.", {"date"}),
        ("Dnr KS 2023/01222 gäller ärendet.", set()),
        ("Loggarna sparas i högst 30 dagar och raderas sedan.", {"duration", "number"}),
        ("Handläggningstiden minskade med 12 procent under året.", {"percent", "number", "change"}),
        ("Tiden per ärende minskade från 12 till 7 minuter.", {"change", "duration"}),
        ("Privata konton får inte användas i tjänsten.", {"rule"}),
        ("Staden deltar i projektet, som leds av Exempelinstitutet.", {"role"}),  # who leads: an agent
    ],
)
def test_sentence_kinds(sentence, kinds):
    assert kinds <= sentence_kinds(sentence)
    if not kinds:
        assert not sentence_kinds(sentence) & {"money", "number", "date"}


@pytest.mark.parametrize(
    "sentence",
    [
        "Utredningen ska redovisas senast den 1 juli 2025.",
        "Under perioden 3 november - 28 december 2024 har skrivelser inkommit.",
        "Nyhetsbrevet från v.50 och vecka 12 redovisas.",
        "Hur var och en röstar framgår av bilaga 5.",
        "En konsekvensbedömning enligt artikel 35 har gjorts.",
    ],
)
def test_a_day_of_the_month_a_week_or_a_reference_is_no_count(sentence):
    # "hur många" and "hur stort" are answered by a count or an amount, not by the date an item lists
    assert "number" not in sentence_kinds(sentence)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Vad kostar Tibros AI-satsning i kronor?", "money"),
        ("Hur jämnt var röstetalet när nämnden röstade?", "number"),  # a vote's figures
        ("Hur ofta ska uppdraget avrapporteras?", "frequency"),
        ("När sammanträdde fullmäktige?", "date"),
        ("Från när gäller riktlinjen?", "date"),
        ("Sedan när har nämnden ansvaret för systemet?", "date"),
        ("Vilket startdatum föreslog förvaltningen för de automatiserade besluten?", "date"),
        ("Vilka gånger har ärendet bordlagts?", "date"),
        ("Since when has the board been responsible?", "date"),
        ("Vem yrkade bifall?", "person"),
        ("Vilka i nämnden ville skjuta upp ärendet?", "person"),
        ("Vilken ledamot reserverade sig?", "person"),
        ("Vilka av förslagen antogs?", None),
        ("Hur många myndigheter?", "number"),
        ("Vilka principer är viktiga när regionen tar fram riktlinjen?", None),
        ("Kan kommuner använda AI kostnadseffektivt?", None),
        ("How much money did the government allocate?", "money"),
    ],
)
def test_answer_type(question, kind):
    assert answer_type(question) == kind


@pytest.mark.parametrize(
    ("question", "rule", "measure"),
    [
        ("Får jag använda en AI-tjänst med privat konto?", True, None),
        ("Kan nämnden delegera beslutet till förvaltningen?", True, None),
        ("Must the board publish its minutes online?", True, None),
        ("Vad beslutade nämnden om AI i skolan?", False, None),
        ("Hur länge sparas loggarna?", False, "duration"),
        ("How quickly must an incident be reported?", False, "duration"),
        ("Hur mycket kortare blev handläggningstiden?", False, "change"),
        ("Blev handläggarna snabbare, och i så fall hur mycket?", False, "change"),
        ("Hur mycket av budgeten gick till utbildning?", False, "percent"),
    ],
)
def test_a_yes_no_question_asks_for_a_rule_and_how_long_or_how_much_for_a_measure(question, rule, measure):
    from rag.answer.asked import asked_measure, asks_rule

    assert asks_rule(question) is rule
    assert asked_measure(question) == measure


@pytest.mark.parametrize(
    ("question", "thing"),
    [
        ("Vilka principer styr arbetet med riktlinjen?", "principer"),
        ("Vilken licens ska koden släppas under?", "licens"),
        ("Vilket ärendehanteringssystem blev det?", "ärendehanteringssystem"),
        ("Which tools are approved for staff?", "tools"),
        ("Vilken organisation samarbetar staden med?", ""),  # named by its name, not by "organisation"
        ("Vad beslutade nämnden?", ""),
        ("What did the board decide?", ""),
    ],
)
def test_a_which_question_asks_to_have_a_thing_named(question, thing):
    from rag.answer.asked import asked_thing
    from rag.normalise import analyse

    # the words after "Vilka/Vilken/Which", not the verb that follows them; none without such a word
    assert asked_thing(question) == tuple(analyse(thing))


@pytest.mark.parametrize(
    ("question", "sentence", "dated"),
    [
        ("När började den nya lagen gälla?", "Lagen trädde i kraft i januari 2026.", True),
        ("När började den nya lagen gälla?", "Arbetet beräknas vara klart under 2026.", False),
        ("Vilka gånger har ärendet skjutits upp?", "Bordlagt den 4 mars 2023, § 41.", True),
        ("When was the matter postponed?", "Ärendet bordläggs till nästa sammanträde.", True),
        ("Vilka gånger har ärendet skjutits upp?", "Motionen inkom den 3 maj 2024.", False),
        ("Från när ska skolorna använda verktyget?", "Verktyget införs från och med den 1 mars 2027.", True),
        ("Från vilket datum gäller riktlinjen?", "Giltig från 2027-01-01", True),
        ("Sedan när testar skolan verktyget?", "Sedan mars 2026 har tolv lärare använt det.", True),
        ("Sedan när testar skolan verktyget?", "Sedan dess har fler skolor anslutit.", False),
    ],
)
def test_a_when_question_is_dated_by_the_words_of_its_event(question, sentence, dated):
    import re

    from rag.answer.asked import asked_event

    event = asked_event(question)
    assert event is not None
    assert bool(re.search(event, sentence, re.IGNORECASE)) is dated


# --- wording and checks ---


def test_labels_and_answers_follow_the_question_language():
    c = _citation()
    assert source_label(c, "sv") == "Tibro kommun, kommunfullmäktige 2024-09-30, § 100"
    assert source_label(c, "en") == "Tibro kommun, kommunfullmäktige (municipal council) 2024-09-30, § 100"
    assert source_label(_citation(date=None), "sv") == "Tibro kommun, kommunfullmäktige, § 100"
    guideline = _citation(body=None, paragraph=None, organisation="Regeringen", date="2024-08", title="Riktlinjer")
    assert source_label(guideline, "sv") == "Riktlinjer (Regeringen, 2024-08)"
    two = [c, _citation(n=2, quote="Motionen anses\nbesvarad.")]
    assert compose(two, "sv") == (
        "Enligt Tibro kommun, kommunfullmäktige 2024-09-30, § 100: ”Kommunfullmäktige beslutar att avslå "
        "förslaget.” [1] ”Motionen anses besvarad.” [2]"
    )
    assert compose([c], "en").startswith("According to Tibro kommun, kommunfullmäktige (municipal council)")


def test_a_citation_that_does_not_match_its_document_is_dropped_and_logged(caplog):
    text = "Kommunfullmäktige beslutar att avslå förslaget."
    doc = SimpleNamespace(text=text)
    assistant = Assistant.__new__(Assistant)
    assistant.searcher = SimpleNamespace(index=SimpleNamespace(document={"d.txt": doc}.get))
    good = _citation(n=1, start=0, end=len(text), quote=text)
    bad = _citation(n=2, start=3, end=10, quote="något annat")
    with caplog.at_level(logging.ERROR):
        kept = assistant.verified([bad, good])
    assert [(c.n, c.quote) for c in kept] == [(1, text)]
    assert "does not match its document" in caplog.text


def test_confidence_is_zero_for_an_unknown_place_or_a_missing_kind_of_answer():
    assert Assistant.confidence(Evidence(0.9, 0.8)) == pytest.approx(0.72)
    assert Assistant.confidence(Evidence(0.9, 0.8, unknown_places=("Göteborg",))) == 0
    assert Assistant.confidence(Evidence(0.9, 0.8, answer_type="money", answer_type_found=False)) == 0


# --- places and follow-ups ---


@pytest.mark.parametrize(
    ("text", "places", "as_org"),
    [
        ("Har Göteborgs stad förbjudit ChatGPT?", ("Göteborg",), ("Göteborg",)),
        ("Did Gothenburg ban it?", ("Göteborg",), ()),
        ("Region Skånes beslut", ("Skåne",), ("Skåne",)),
        ("AI-noden vid Linköpings universitet", ("Linköping",), ()),
        ("Mark och Vara i fokus", (), ()),
        ("Mark kommun", ("Mark",), ("Mark",)),
        ("Västra Götalandsregionen", ("Västra Götaland",), ("Västra Götaland",)),
    ],
)
def test_named_places(text, places, as_org):
    assert named_places(text) == places
    assert named_places(text, as_organisation=True) == as_org


TIBRO_Q = "Vad beslutade kommunfullmäktige i Tibro om förslaget att ta fram en AI-strategi?"


@pytest.mark.parametrize(
    ("history", "question", "standalone"),
    [
        ([], "Vem yrkade bifall?", "Vem yrkade bifall?"),
        (
            [Turn(TIBRO_Q)],
            "Och vad beslutade Västerås?",
            "Vad beslutade Västerås om förslaget att ta fram en AI-strategi?",
        ),
        ([Turn(TIBRO_Q)], "Och Västerås?", "Vad beslutade Västerås om förslaget att ta fram en AI-strategi?"),
        (
            [Turn(TIBRO_Q)],
            "Och vem reserverade sig i Västerås?",
            "Vem reserverade sig i Västerås om förslaget att ta fram en AI-strategi?",
        ),
        ([Turn(TIBRO_Q)], "Vem yrkade bifall?", "Vem yrkade bifall om förslaget att ta fram en AI-strategi i Tibro?"),
        ([Turn(TIBRO_Q)], "Vilka ledamöter lämnade motionen?", "Vilka ledamöter lämnade motionen i Tibro?"),
        (
            [Turn(TIBRO_Q)],
            "Vad ger socialnämnden socialdirektören i uppdrag om AI på Gotland?",
            "Vad ger socialnämnden socialdirektören i uppdrag om AI på Gotland?",
        ),
        (
            [Turn("Vilka kommuner har sagt nej till en egen AI-strategi?", answer="Enligt Tibro kommun, § 100: ...")],
            "Vem yrkade bifall?",
            "Vem yrkade bifall (Vilka kommuner har sagt nej till en egen AI-strategi) i Tibro?",
        ),
        (
            [Turn("Och vad beslutade Västerås?", standalone="Vad beslutade Västerås om en AI-strategi?")],
            "Vilka reserverade sig?",
            "Vilka reserverade sig om en AI-strategi i Västerås?",
        ),
    ],
)
def test_follow_ups_are_resolved_against_the_conversation(history, question, standalone):
    assert resolve(question, history, ORGS) == standalone


# --- calibration ---


def test_the_threshold_separates_the_classes_in_the_middle_of_the_gap():
    c = choose_threshold(answerable=[0.5, 0.6, 0.7, 0.9], unanswerable=[0.0, 0.1, 0.2])
    assert c.threshold == pytest.approx(0.35) and c.youden_j == 1.0
    assert (c.unanswerable_abstained, c.answerable_abstained) == (1.0, 0.0)


def test_overlapping_classes_trade_off_by_youden_j():
    c = choose_threshold(answerable=[0.3, 0.6, 0.7, 0.8], unanswerable=[0.0, 0.0, 0.65])
    assert 0.0 < c.threshold < 0.3
    assert c.unanswerable_abstained == pytest.approx(2 / 3, abs=1e-3) and c.answerable_abstained == 0.0


def test_calibration_needs_both_classes():
    with pytest.raises(ValueError):
        choose_threshold([0.5], [])


# --- snippets ---


def test_snippets_mark_matched_words_with_document_offsets():
    keys = set(analyse("halvårsvis avrapporteras"))
    start = GOTLAND_TEXT.index("Uppdraget avrapporteras")
    s = snippet(GOTLAND_TEXT, max(0, start - 800), min(len(GOTLAND_TEXT), start + 800), keys, width=200)
    assert GOTLAND_TEXT[s.start : s.end] == s.text and len(s.text) <= 240
    words = [GOTLAND_TEXT[a:b] for a, b in s.highlights]
    assert "halvårsvis" in words and "avrapporteras" in words


def test_the_event_is_dated_by_a_date_beside_its_words():
    from rag.answer.asked import asked_event
    from rag.answer.candidates import _dates_event

    event = asked_event("Från vilket datum ska reglerna börja gälla?")
    assert event is not None
    assert _dates_event(event, "Reglerna fastställs och träder i kraft 2031-01-01.") == 1.0
    # the event worded, but the date is another one's: half
    assert (
        _dates_event(event, "Stadgan, antagen 1999-06-21, upphör att gälla när de nya reglerna träder i kraft.") == 0.5
    )
    assert _dates_event(event, "Reglerna gäller alla torg.") == 0.0


@pytest.mark.parametrize(
    ("question", "proposal"),
    [
        ("Vilket startdatum föreslog förvaltningen?", True),
        ("Vad föreslår styrelsen fullmäktige?", True),
        ("Vad ville styrelsen att fullmäktige skulle besluta?", True),
        ("Vilket startdatum beslutade nämnden?", False),
    ],
)
def test_a_question_about_what_was_proposed_is_answered_by_the_proposal(question, proposal):
    from rag.answer.asked import asks_about_proposal

    assert asks_about_proposal(question) is proposal
