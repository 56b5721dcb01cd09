"""What a question asks and whether a sentence may answer it: markup and empty questions, decision
questions, decisive sentences of an item, the body a question asks about, follow-ups that carry only
real questions. Pure functions on literal text in the style of the protocol layouts."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from rag.answer import Assistant, Evidence, asked_bodies
from rag.conversation import Turn, resolve
from rag.query import asks_for_decision, content_keys, detect_language, strip_markup
from rag.sentences import decides, decisive_spans, proposes_to

ORGS = ["Tibro kommun", "Västerås stad", "Region Gotland"]


@pytest.mark.parametrize(
    ("question", "cleaned", "has_content"),
    [
        ("<script>alert(1)</script>", "", False),
        ("&lt;script&gt;alert(1)&lt;/script&gt;", "", False),
        ("<img src=x onerror=alert(1)>", "", False),
        ("Vad är det?", "Vad är det?", False),
        ("och och och", "och och och", False),
        ("<b>Vad beslutade Tibro om en AI-strategi?</b>", "Vad beslutade Tibro om en AI-strategi?", True),
        ("Kostar det mer än 5 < 10 kronor?", "Kostar det mer än 5 < 10 kronor?", True),
    ],
)
def test_markup_is_removed_and_a_question_without_content_words_is_seen(question, cleaned, has_content):
    assert strip_markup(question) == cleaned
    assert bool(content_keys(question)) is has_content


@pytest.mark.parametrize(
    ("question", "decision"),
    [
        ("Vad beslutade kommunstyrelsen om motionen?", True),
        ("Sa fullmäktige ja eller nej till motionen om AI?", True),
        ("Hur slutade motionen om AI i skolan?", True),
        ("Får hemtjänsten börja använda taligenkänning?", True),
        ("Blev det något av förslaget om en AI-strategi?", True),
        ("Vem yrkade bifall till motionen?", False),
        ("Vilka reserverade sig mot beslutet?", False),
        ("När antogs riktlinjen?", False),
        ("Hur mycket kostar piloten?", False),
        ("Får jag använda en chattbot i tjänsten?", False),  # what the asker may do: a rule
        ("Har kommunen en AI-strategi?", False),  # what an organisation has
        ("Har fullmäktige beviljat pengarna?", True),
        ("Har staden förbjudit chattbotar i skolan?", True),
    ],
)
def test_decision_questions_are_recognised(question, decision):
    assert asks_for_decision(question) is decision


def test_a_place_name_does_not_make_an_english_question_swedish():
    assert detect_language("How much time does Trollhättan expect to save?") == "en"
    assert detect_language("Hur mycket tid sparar Trollhättan?") == "sv"


@pytest.mark.parametrize(
    ("sentence", "decisive", "proposal_to"),
    [
        ("Yrkandet från M och KD avslås.", True, None),
        ("Motionen anses besvarad.", True, None),
        ("Ärendet återremitteras till förvaltningen för komplettering.", True, None),
        ("Kommunstyrelsen föreslår kommunfullmäktige besluta att anta riktlinjen.", True, "Kommunfullmäktige"),
        ("Anna Berg (S) yrkar bifall till förvaltningens förslag.", False, None),
        ("Ordföranden ställer proposition på förslagen och finner att nämnden bifaller.", False, None),
        ("Två ledamöter har i en motion föreslagit att kommunen inför AI.", False, None),
    ],
)
def test_a_decisive_sentence_is_told_from_a_yrkande_or_proposition(sentence, decisive, proposal_to):
    assert decides(sentence) is decisive
    assert proposes_to(sentence) == proposal_to


ITEM_TEXT = (
    "§ 41 Svar på motion om AI i skolan\n\n"
    "Ärendebeskrivning\n\nLina Ek (L) har i en motion föreslagit att nämnden beslutar om AI-regler.\n\n"
    "Yrkanden\n\nLina Ek (L) yrkar bifall till motionen.\n\n"
    "Beslut\n\nKommunstyrelsen föreslår kommunfullmäktige besluta att motionen ska anses besvarad.\n"
)


def _section(heading: str, next_heading: str | None) -> dict[str, object]:
    start = ITEM_TEXT.index(heading + "\n")
    end = ITEM_TEXT.index(next_heading + "\n") if next_heading else len(ITEM_TEXT)
    return {"heading": heading, "start": start, "end": end}


def test_the_decisive_span_is_the_decision_not_the_motion_or_the_yrkande():
    item = {
        "start": 0,
        "end": len(ITEM_TEXT),
        "paragraph": "§ 5",
        "title": "Svar på motion om AI i skolan",
        "sections": [
            _section("Ärendebeskrivning", "Yrkanden"),
            _section("Yrkanden", "Beslut"),
            _section("Beslut", None),
        ],
    }
    [(s, e)] = decisive_spans(ITEM_TEXT, item)
    assert ITEM_TEXT[s:e].startswith("Kommunstyrelsen föreslår kommunfullmäktige besluta")
    # without sections, the reporting sentences are still passed over
    [(s, e)] = decisive_spans(ITEM_TEXT, {"start": 0, "end": len(ITEM_TEXT), "paragraph": "§ 5", "sections": []})
    assert ITEM_TEXT[s:e].startswith("Kommunstyrelsen föreslår")
    # a document without § and without an outcome (a guideline) states rules, not an item's decision
    guideline = "Riktlinje för AI\n\nMedarbetare får använda godkända verktyg. Kommunen beslutar om undantag."
    assert decisive_spans(guideline, {"start": 0, "end": len(guideline), "paragraph": None, "sections": []}) == []
    # the structure's own decision span wins
    assert decisive_spans(ITEM_TEXT, {"start": 0, "end": 10, "decision": (3, 9)}) == [(3, 9)]


@pytest.mark.parametrize(
    ("question", "bodies", "asked"),
    [
        ("Vad beslutade kommunfullmäktige om riktlinjen?", ("Kommunfullmäktige",), ("Kommunfullmäktige",)),
        ("Vem yrkade bifall till kommunstyrelsens förslag?", ("Kommunstyrelsen",), ()),
        ("Hur ofta ska uppdraget rapporteras till socialnämnden?", ("Socialnämnden",), ()),
        ("Vad rekommenderade KS?", ("Kommunstyrelsen",), ("Kommunstyrelsen",)),
        (
            "Antog fullmäktige policyn som kommunstyrelsen ville?",
            ("Kommunstyrelsen",),
            ("Kommunfullmäktige", "Regionfullmäktige"),
        ),
    ],
)
def test_the_body_a_question_asks_about_is_the_actor(question, bodies, asked):
    assert asked_bodies(question, bodies) == asked


def test_an_unmet_constraint_makes_confidence_zero():
    assert Assistant.confidence(Evidence(0.9, 0.9, unmet=("body",))) == 0


def test_a_question_of_only_markup_abstains_before_searching():
    assistant = Assistant.__new__(Assistant)
    assistant.max_chars = 1000
    assistant.searcher = SimpleNamespace(organisations=ORGS)  # searching would fail: it has no search
    answer = assistant.ask("<script>alert(1)</script>")
    assert answer.abstained and not answer.passages and not answer.citations
    assert answer.standalone == ""
    assert answer.reason is not None and answer.reason.startswith("Frågan innehåller inga ord att söka på")


TIBRO_Q = "Vad beslutade Tibro om förslaget att ta fram en AI-strategi?"


@pytest.mark.parametrize(
    ("history", "question", "standalone"),
    [
        # a junk turn lends nothing: the real question before it does
        (
            [Turn(TIBRO_Q), Turn("<script>alert(1)</script>")],
            "Och Västerås?",
            "Vad beslutade Västerås om förslaget att ta fram en AI-strategi?",
        ),
        ([Turn("<script>alert(1)</script>")], "Vem yrkade bifall?", "Vem yrkade bifall?"),
        ([Turn("vad är det")], "Och Västerås?", "Och Västerås?"),
        ([Turn(TIBRO_Q)], "<b>Och Västerås?</b>", "Vad beslutade Västerås om förslaget att ta fram en AI-strategi?"),
        ([Turn(TIBRO_Q)], "<script>alert(1)</script>", ""),
    ],
)
def test_follow_ups_carry_only_real_questions_and_never_markup(history, question, standalone):
    assert resolve(question, history, ORGS) == standalone


def test_the_curve_runs_from_answering_everything_to_abstaining_on_everything():
    from rag.calibrate import curve

    points = curve([0.5, 0.8], [0.0, 0.2], steps=4)
    assert [p.threshold for p in points] == [0.0, 0.2, 0.4, 0.6, 0.8]
    assert (points[0].unanswerable_abstained, points[0].answerable_abstained) == (0.0, 0.0)
    assert (points[2].unanswerable_abstained, points[2].answerable_abstained) == (1.0, 0.0)


def test_near_misses_swap_the_organisation_and_the_held_out_half_is_stable():
    from rag.calibrate import held_apart, swap_organisation

    orgs = ["Tibro kommun", "Umeå kommun", "Region Skåne"]
    swapped = swap_organisation("Vad beslutade Tibro om en AI-strategi?", orgs)
    assert swapped in ("Vad beslutade Umeå om en AI-strategi?", "Vad beslutade Region Skåne om en AI-strategi?")
    assert swap_organisation("Vad beslutade kommunen?", orgs) is None
    assert held_apart("A01") == held_apart("A01")
    assert 0.3 < sum(held_apart(f"q{i}") for i in range(200)) / 200 < 0.7


@pytest.mark.parametrize(
    ("question", "role"),
    [
        ("Vilka politiker står bakom motionen om AI-regler i skolan?", "motionär"),
        ("Vem yrkade bifall till motionen?", "yrkande"),
        ("Vilka reserverade sig mot beslutet?", "reservation"),
        ("Vilka ledamöter röstade emot kamerorna?", "nej"),
        ("Vem ledde sammanträdet?", "ordförande"),
        ("Vem var justerare för mötet i februari?", "justerare"),
        ("Vem är handläggare för tjänsteskrivelsen?", "handläggare"),
        ("Vem skrev under?", None),
    ],
)
def test_the_role_a_who_question_asks_for(question, role):
    from rag.answer import asked_role

    assert asked_role(question) == role


@pytest.mark.parametrize(
    ("sentence", "has_money", "has_number"),
    [
        ("Nämnden avsätter 14,5 miljoner kronor till piloten.", True, True),
        ("Licensen kostar cirka 4 000 kr per användare och år.", True, True),
        ("Kostnaderna ryms inom kompletteringsbudgeten.", False, False),
        ("1. Kommunstyrelsen beslutar att anta budgeten.", False, False),
        ("Verktygen används 1 dag av många elever.", False, False),
    ],
)
def test_an_amount_needs_a_figure_and_a_list_number_is_no_count(sentence, has_money, has_number):
    from rag.sentences import sentence_kinds

    kinds = sentence_kinds(sentence)
    assert ("money" in kinds) is has_money
    assert ("number" in kinds) is has_number


def test_a_threshold_can_be_held_to_a_share_of_false_abstentions():
    from rag.calibrate import choose_threshold

    answerable, unanswerable = [0.1, 0.5, 0.6, 0.7], [0.0, 0.2, 0.3, 0.55]
    assert choose_threshold(answerable, unanswerable).answerable_abstained == 0.25  # Youden's J gives one up
    held = choose_threshold(answerable, unanswerable, max_answerable_abstained=0.0)
    assert held.answerable_abstained == 0.0 and held.unanswerable_abstained == 0.25


def test_an_authority_asked_about_must_be_the_one_deciding():
    from rag.answer.asked import _ASKED_ACTOR
    from rag.answer.constraints import _acts

    assert _ASKED_ACTOR.match("Har IMY gett kommunen tillstånd till kamerorna?").group("actor") == "IMY"
    assert not _acts("IMY", "1. Kommunstyrelsen beslutar att ansöka hos IMY om tillstånd till kamerorna.")
    assert _acts("IMY", "IMY har gett kommunen tillstånd till kamerabevakning.")


def test_no_one_set_pays_for_another_in_the_threshold():
    from rag.calibrate import threshold_for_each

    sets = {"real": [0.2, 0.5, 0.6, 0.7], "written": [0.4, 0.5, 0.6, 0.7]}
    calibration = threshold_for_each(sets, [0.0, 0.1, 0.3], max_answerable_abstained=0.0)
    assert calibration.threshold == 0.2  # 0.3 would abstain on a quarter of the real set
    assert calibration.answerable_abstained == 0.0 and calibration.unanswerable_abstained == 0.6667


@pytest.mark.parametrize(
    ("question", "counted"),
    [
        ("Hur många förnyade ansökningar kommer in varje månad?", ("forny", "ansokning")),
        ("Hur många timmar i veckan sparar de som testar Copilot?", ("timm",)),
        ("How many pupils were caught cheating?", ("elev",)),
        ("How many widgets were bought?", ()),  # an English noun the glossary does not know: unchecked
        ("Vad beslutade nämnden om AI?", ()),
        ("Vad var antalet sökande?", ("sok",)),
        ("Vem ville utöka antalet platser i skolan?", ()),  # a number changed, not a count asked
    ],
)
def test_what_a_question_counts(question, counted):
    from rag.query import counted_terms

    assert counted_terms(question) == counted


@pytest.mark.parametrize(
    ("sentence", "counted", "topical", "says"),
    [
        ("Förvaltningen tar emot omkring 1 050 återansökningar varje månad.", ("ansokning",), ("emot",), True),
        ("I mars fanns cirka 6 000 oskrivna diktat i regionen.", ("dikt",), ("skriv",), True),
        ("Av 60 granskade svar innehöll elva fel.", ("fel",), (), True),
        ("Nämnden har licenser, 120 stycken, för Copilot.", ("licens",), (), True),
        # a count of something else, hours of another matter, an article, a list's enumerator
        ("I piloten deltar 340 elever och 28 lärare.", ("elev",), ("fusk",), False),
        ("En incident ska anmälas inom 72 timmar.", ("timm",), ("copilot",), False),
        ("En elev som flyttar mellan två kommunala skolor möter olika regler.", ("elev",), (), False),
        ("1. Nämnden informerar patienter om piloten.", ("patient",), (), False),
    ],
)
def test_a_count_is_a_figure_by_the_counted_word_in_a_sentence_on_the_matter(sentence, counted, topical, says):
    from rag.sentences import counts

    assert counts(sentence, counted, topical) is says


@pytest.mark.parametrize(
    ("question", "across"),
    [
        ("Finns det andra kommuner som har en AI-chattbot på sin webbplats?", True),
        ("Vilka regioner har testat AI som skriver journalutkast?", True),
        ("Har någon annan kommun utvärderat Copilot?", True),
        ("Which other municipalities have banned ChatGPT?", True),
        ("Vad beslutade kommunen om AI i skolan?", False),
        ("Vilka ledamöter reserverade sig?", False),
    ],
)
def test_a_precedent_question_asks_across_organisations(question, across):
    from rag.query import asks_across_organisations

    assert asks_across_organisations(question) is across


def test_a_precedent_answer_quotes_each_organisation_once_best_first():
    def candidate(org: str, score: float) -> SimpleNamespace:
        return SimpleNamespace(hit=SimpleNamespace(chunk=SimpleNamespace(organisation=org)), score=score)

    ranked = [candidate("Umeå kommun", 3.0), candidate("Umeå kommun", 2.9), candidate("Borås stad", 1.0)]
    ranked += [candidate("Region Halland", 0.5), candidate("Ale kommun", 0.4)]
    chosen = Assistant.choose_across(ranked, limit=3)
    assert [c.hit.chunk.organisation for c in chosen] == ["Umeå kommun", "Borås stad", "Region Halland"]


@pytest.mark.parametrize(
    ("question", "stance"),
    [
        ("Vem ville att handlingsplanen skulle skickas tillbaka till regionstyrelsen?", "återremiss"),
        ("Vem i KS ville att motionen skulle avvisas?", "avslag"),
        ("Vilka drev linjen att inte utöka antalet licenser?", "avslag"),
        ("Vem yrkade bifall till förslaget?", "bifall"),
        ("Vem yrkade i ärendet?", None),
    ],
)
def test_the_stance_a_question_about_a_yrkande_asks_for(question, stance):
    from rag.answer import asked_stance

    assert asked_stance(question) == stance


def test_an_office_is_matched_by_its_word_beside_a_name_and_a_stance_by_the_yrkande():
    from rag.answer import Candidate

    assistant = Assistant.__new__(Assistant)
    item = {"persons": [{"name": "Maria Sand", "role": "yrkande"}, {"name": "Per Ek", "role": "yrkande"}]}
    assistant.item_at = lambda doc, offset: item  # type: ignore[method-assign]

    def candidate(text: str) -> Candidate:
        return Candidate(SimpleNamespace(chunk=SimpleNamespace(doc="d")), 1, 0, len(text), text)

    assert assistant.role_match("ordförande", candidate("Anna Lind Berg (S), ordförande")) == 1.0
    assert assistant.role_match("ordförande", candidate("Ordföranden ställer proposition på förslaget.")) == 0.0
    assert assistant.role_match("justerare", candidate("Protokolljusterare Per Ek (S)")) == 1.0
    informs = candidate("Karin Ek, avdelningschef, lämnar en återkoppling om arbetet med e-arkivet.")
    assert assistant.role_match("informant", informs) == 1.0
    assert assistant.role_match("informant", candidate("Karin Ek, avdelningschef, deltar under punkten.")) == 0.0
    back = candidate("Maria Sand (S) yrkar att frågan återremitteras för ny beredning.")
    yes = candidate("Per Ek (M) yrkar bifall till regionstyrelsens förslag.")
    assert assistant.role_match("yrkande", back, "återremiss") == 1.0
    assert assistant.role_match("yrkande", yes, "återremiss") == 0.0
    assert assistant.role_match("yrkande", yes) == 1.0
    # who joins in another's yrkande half plays the role; a name in the genitive is another's yrkande
    joins = candidate("Eva Berg (C) och Per Ek (M) instämmer i Maria Sands (S) yrkande om återremiss.")
    assert assistant.role_match("yrkande", joins, "återremiss") == 0.5
    assert assistant.role_match("yrkande", candidate("Ledamöterna bifaller Maria Sands (S) yrkande.")) == 0.0
    assert assistant.role_match("nej", candidate("Den som vill avslå förslaget röstar nej.")) == 0.0
    assert assistant.role_match("nej", candidate("Nej: Rasmus Olsson (V), Therese Björk (MP)")) == 1.0


def test_near_misses_are_made_from_answerable_questions_naming_one_organisation():
    from rag.calibrate import make_near_misses
    from rag.evaluate import Question

    questions = [
        Question("a1", "Vad beslutade Tibro om en AI-strategi?", "t.txt", "Kommunfullmäktige beslutar att avslå."),
        Question("a2", "Vad beslutade kommunen om AI?", "t.txt", "Kommunfullmäktige beslutar att avslå."),
        Question("u1", "Vad beslutade Tibro om parkering?", None, None),
    ]
    (made,) = make_near_misses(questions, ORGS)
    assert made.id == "a1~org" and made.doc is None and made.answer_quote is None
    assert "Tibro" not in made.question and made.question.startswith("Vad beslutade")


def test_the_threshold_is_fitted_on_one_half_and_reported_on_the_other():
    from rag.calibrate import held_apart, held_out_calibration

    ids = [f"q{i}" for i in range(200)]
    answerable = {"a": [(i, 0.5 + (n % 10) / 20) for n, i in enumerate(ids)]}
    unanswerable = [(f"u{i}", 0.05 * (i % 3)) for i in range(60)]
    calibration, held = held_out_calibration(answerable, unanswerable)
    # every answerable confidence is 0.5 or more and every unanswerable 0.1 or less: the threshold
    # lies between, so the held-out half abstains on all unanswerable and no answerable question
    assert 0.1 < calibration.threshold <= 0.5
    assert held == {"a answerable abstained": 0.0, "unanswerable abstained": 1.0}
    assert calibration.n_answerable == sum(not held_apart(i) for i in ids)


@pytest.mark.parametrize(
    ("question", "choice"),
    [
        ("Vilket mottagningssystem valde kommunstyrelsen?", True),
        ("Vilken leverantör beslutade nämnden att anlita?", True),
        ("Vilket startdatum föreslog förvaltningen?", False),  # a proposal, not a choice
        ("Vad beslutade kommunstyrelsen om systemet?", False),  # "it was tabled" answers this
    ],
)
def test_a_question_for_the_thing_chosen_is_told_from_one_for_what_happened(question, choice):
    from rag.answer.asked import _ASKS_CHOICE
    from rag.normalise import fold

    assert bool(_ASKS_CHOICE.match(fold(question))) is choice


def _stored(doc_id: str, text: str, items: list[dict], doc_type: str = "protocol") -> SimpleNamespace:
    return SimpleNamespace(
        id=doc_id, path=f"/c/{doc_id}", text=text, doc_type=doc_type, title=None, organisation="Umeå kommun",
        body="Kommunfullmäktige", date=items[0]["date"], structure={"items": items},
    )  # fmt: skip


def test_a_motion_is_answered_with_the_latest_step_of_its_matter_and_says_so():
    from rag.answer import Candidate
    from rag.answer.steps import _step_note

    motion_text = "Motion om AI i skolan\nDnr KS 2024/551\nVi föreslår att fullmäktige beslutar att anta regler."
    decision_text = (
        "§ 84 Svar på motion om AI i skolan\nDnr KS-2024/00551\nKommunfullmäktige beslutar att motionen är besvarad."
    )
    start = decision_text.index("Kommunfullmäktige beslutar")
    docs = {
        "motion.txt": _stored(
            "motion.txt", motion_text, [{"start": 0, "end": len(motion_text), "paragraph": None, "dnr": None,
                                          "date": "2024-09-23"}], "motion"),
        "kf.txt": _stored(
            "kf.txt", decision_text, [{"start": 0, "end": len(decision_text), "paragraph": "§ 84",
                                        "dnr": "KS-2024/00551", "date": "2025-04-28", "outcome": "besvarad",
                                        "decision": [start, len(decision_text)]}]),
    }  # fmt: skip
    assistant = Assistant.__new__(Assistant)
    assistant.searcher = SimpleNamespace(index=SimpleNamespace(documents=lambda: docs, document=docs.get))
    assistant._matters = {}
    assistant.item_at = lambda doc, offset: docs[doc].structure["items"][0]  # type: ignore[method-assign]
    hit = SimpleNamespace(chunk=SimpleNamespace(doc="motion.txt", doc_type="motion"))
    best = Candidate(hit, 1, motion_text.index("Vi"), len(motion_text), motion_text[motion_text.index("Vi") :])
    step = assistant.later_step(best, "Hur slutade motionen om AI i skolan?")
    assert step is not None and (step.doc, step.paragraph, step.outcome) == ("kf.txt", "§ 84", "besvarad")
    citation = assistant.step_citation(step)
    assert citation is not None and citation.quote == "Kommunfullmäktige beslutar att motionen är besvarad."
    assert _step_note(step, "sv") == "Ärendets senaste steg (Dnr KS-2024/00551): kommunfullmäktige, 2025-04-28, § 84."
    # the decision itself, asked what was decided: no later step to add
    kf_hit = SimpleNamespace(chunk=SimpleNamespace(doc="kf.txt", doc_type="protocol"))
    decided = Candidate(kf_hit, 1, start, len(decision_text), decision_text[start:], decisive=True)
    assert assistant.later_step(decided, "Vad beslutade fullmäktige om motionen?") is None


@pytest.mark.real_model
def test_sentences_that_score_the_same_are_ordered_by_closeness_to_the_question():
    """The signals are mostly the passage's, so its sentences often tie: the real model orders the
    tied ones; a lower score stays below whatever its meaning."""
    from collections import OrderedDict
    from dataclasses import replace
    from threading import Lock

    from rag.answer import Candidate
    from rag.embed import SentenceTransformerEmbedder, default_model_dir

    model = SentenceTransformerEmbedder(default_model_dir(), backend="onnx")
    assistant = Assistant.__new__(Assistant)
    assistant._sentence_cache, assistant._cache_lock = OrderedDict(), Lock()
    assistant.searcher = SimpleNamespace(embedder=model, query_vector=lambda q: model.embed_queries([q])[0])

    def candidate(text: str, score: float) -> Candidate:
        return Candidate(SimpleNamespace(chunk=SimpleNamespace(doc="d")), 1, 0, len(text), text, score)

    background = candidate("Nämnden har under året arbetat vidare med sin digitala strategi.", 5.0)
    answer = candidate("Inspelningen raderas automatiskt efter 30 dagar.", 5.0)
    lower = candidate("Inspelningar sparas i högst 30 dagar och raderas sedan.", 4.0)
    ranked = assistant.break_ties("Hur länge sparas inspelningen?", [background, answer, lower])
    assert [c.text for c in ranked] == [answer.text, background.text, lower.text]
    alone = [answer, replace(background, score=4.5)]
    assert assistant.break_ties("Hur länge sparas inspelningen?", alone) == alone


def test_a_who_question_about_a_role_gets_the_sentences_naming_those_persons_in_the_item():
    from rag.answer.candidates import _role_spans

    text = "Beslut\n\nNämnden bifaller förslaget.\n\nYrkanden\n\nPer Ek (S) yrkar avslag. Mötet avslutas."
    item = {"start": 0, "end": len(text), "persons": [{"name": "Per Ek", "role": "yrkande"}]}
    assert [text[s:e] for s, e in _role_spans(text, item, "yrkande")] == ["Per Ek (S) yrkar avslag."]
    assert _role_spans(text, item, "reservation") == []


def test_a_field_line_states_an_office_or_a_date_by_its_label_and_value_once():
    from rag.answer.asked import _OFFICES, asked_event
    from rag.answer.candidates import field_lines

    text = (
        "EXEMPELBY KOMMUN      PROTOKOLL\nSammanträdesdatum 2031-04-02\n\nOrdförande    ..............\n"
        "Protokolljusterare Lisa Holm (C)\nLars Berg (S), ordförande\n\nVal av justerare och tid för justering\n"
        "§ 3 Motion\nEn motion kom in i höstas och justeras\nsedan. Sammanträdesdatum 2031-04-02\n"
        "Sammanträdesdatum 2031-04-02\n"
    )
    lines = lambda label, value: [text[s:e] for s, e in field_lines(text, label, value)]  # noqa: E731
    # a label with a name after it, or a name before the office; not an unsigned line or an agenda title
    assert lines(_OFFICES["justerare"], "person") == ["Protokolljusterare Lisa Holm (C)"]
    assert lines(_OFFICES["ordförande"], "person") == ["Lars Berg (S), ordförande"]
    # the date of the meeting once, though the page header repeats it; never a line in lower case
    meeting = asked_event("När sammanträdde nämnden?")
    assert meeting is not None
    assert lines(meeting, "date") == ["Sammanträdesdatum 2031-04-02"]
    assert lines(asked_event("När kom motionen in?") or "", "date") == []


def test_an_office_is_read_from_a_head_set_in_columns_and_a_vice_chair_does_not_chair():
    from rag.answer.asked import _OFFICES, asked_role
    from rag.answer.candidates import field_lines

    text = (
        "Beslutande\nOlle Vik (S), ordförande           Stina Ås (S), tjänstgörande § 3–9\n"
        "Per Lund (V), förste vice ordförande      Eva Berg (C)\n"
    )
    lines = lambda label: [text[s:e] for s, e in field_lines(text, label, "person")]  # noqa: E731
    assert asked_role("Vem ledde nämndens sammanträde?") == "ordförande"
    assert lines(_OFFICES["ordförande"]) == ["Olle Vik (S), ordförande"]
    assert asked_role("Vem är vice ordförande i nämnden?") == "vice ordförande"
    assert lines(_OFFICES["vice ordförande"]) == ["Per Lund (V), förste vice ordförande"]


def test_in_questions_and_answers_the_sentence_after_a_question_answers_it():
    from rag.answer.candidates import Candidate, _answering
    from rag.types import Chunk, Hit

    text = "Får jag spela in möten?\nJa, om alla har informerats. Spara inte filen.\n\nVem ansvarar?\nDu gör det."
    chunk = Chunk(doc="faq.txt", start=0, end=len(text), text=text)
    hit = Hit(0, chunk, 1.0)

    def candidate(sentence: str) -> Candidate:
        start = text.index(sentence)
        return Candidate(hit, 1, start, start + len(sentence), sentence)

    question, second = candidate("Får jag spela in möten?"), candidate("Vem ansvarar?")
    first, later, other = (
        candidate("Ja, om alla har informerats."),
        candidate("Spara inte filen."),
        candidate("Du gör det."),
    )
    assert _answering(first, [question, second], text).answers == "Får jag spela in möten?"
    assert _answering(later, [question, second], text).answers == ""  # only the first sentence after it
    assert _answering(other, [question, second], text).answers == "Vem ansvarar?"


def test_a_precedent_answer_passes_over_items_that_only_noted_information():
    items = {10: {"outcome": "noterad"}, 50: {"outcome": "bifall"}}
    owner = SimpleNamespace(item_at=lambda doc, start: items.get(start))

    def candidate(start: int, decisive: bool) -> SimpleNamespace:
        return SimpleNamespace(hit=SimpleNamespace(chunk=SimpleNamespace(doc="p.txt")), start=start, decisive=decisive)

    assert Assistant.only_noted(owner, candidate(10, True))  # the item's "<the report> noteras."
    assert not Assistant.only_noted(owner, candidate(10, False))  # what the information said
    assert not Assistant.only_noted(owner, candidate(50, True))


def test_a_question_abstains_when_its_matter_stands_in_another_organisations_documents():
    from rag.answer.constraints import Constraints
    from rag.types import QueryInfo

    def hit(org: str, share: float) -> SimpleNamespace:
        return SimpleNamespace(chunk=SimpleNamespace(organisation=org), share=share)

    owner = SimpleNamespace(matter_text=lambda h: h, matter_share=lambda info, keys, h: h.share)
    info = QueryInfo(text="Hur gick piloten i Exempelby?", language="sv", organisations=("Exempelby kommun",))

    def elsewhere(named: list, others: list) -> bool:
        return Constraints.matter_elsewhere(owner, info, [], named, [*named, *others])

    # the named municipality's item is on another matter; another's is on this one
    assert elsewhere([hit("Exempelby kommun", 0.2)], [hit("Annanstad kommun", 0.9)])
    # both hold the matter, or neither much: the named one's documents are not ruled out
    assert not elsewhere([hit("Exempelby kommun", 0.6)], [hit("Annanstad kommun", 0.9)])
    assert not elsewhere([hit("Exempelby kommun", 0.1)], [hit("Annanstad kommun", 0.3)])
    assert not elsewhere([hit("Exempelby kommun", 0.2)], [])


def test_the_frame_of_a_who_question_is_no_part_of_its_matter():
    from rag.answer.constraints import Constraints
    from rag.query import analyse, parse_query

    # "which members filed" is what is asked of the matter, not the matter: another organisation's
    # item that mentions members filing something does not hold the motion asked about better
    info = parse_query("Vilka ledamöter lämnade motionen om cykelbanor i Exempelby?")
    keys = analyse(info.text)
    matter = Constraints.matter_keys(info, keys)
    assert set(analyse("motionen cykelbanor")) <= set(matter)
    assert not set(analyse("ledamöter lämnade vilka")) & set(matter)


def test_an_organisation_of_the_index_is_an_actor_not_a_person():
    import re

    from rag.answer.candidates import SentenceChoice
    from rag.sentences import sentence_kinds

    owner = SimpleNamespace(_organisation_names=re.compile(r"\b(?:Exempelby Stad)s?\b"))
    owner.without_organisations = lambda text: SentenceChoice.without_organisations(owner, text)
    kinds = lambda text: SentenceChoice.kinds(owner, text)  # noqa: E731
    # two capitalised words, as a name is; the region is who takes over, as a body would be
    assert "person" in sentence_kinds("Regionen överlåter varumärket till Exempelby Stad.")
    assert kinds("Regionen överlåter varumärket till Exempelby Stad.") >= {"role"}
    assert "person" not in kinds("Regionen överlåter varumärket till Exempelby Stad.")
    assert "person" in kinds("Direktören Lisa Holm informerar om den riktlinje som Exempelby Stad tar fram.")
    # a region the index does not hold is no person either
    assert "person" not in sentence_kinds("Business Region Annanstad AB får i uppdrag att bidra.")


def test_a_field_line_of_an_item_goes_with_the_passage_found_in_that_item():
    from rag.answer.asked import asked_event
    from rag.types import Chunk, Hit

    text = (
        "Sammanträdesdatum 2031-04-02\n\n"
        "§ 1 Cykelbanor\nBordlagt den 5 mars 2031, § 10.\nÄrendet avgörs.\n\n"
        "§ 2 Parkeringsnormer\nBordlagt den 12 mars 2031, § 22.\nÄrendet avgörs.\n"
    )
    first, second = text.index("§ 1"), text.index("§ 2")
    items = [
        {"start": first, "end": second, "paragraph": "1", "title": "Cykelbanor"},
        {"start": second, "end": len(text), "paragraph": "2", "title": "Parkeringsnormer"},
    ]
    assistant = Assistant.__new__(Assistant)
    assistant._items, assistant._item_starts = {"p.txt": items}, {"p.txt": [it["start"] for it in items]}
    documents = {"p.txt": SimpleNamespace(text=text)}
    assistant.searcher = SimpleNamespace(index=SimpleNamespace(documents=lambda: documents))
    found = Hit(0, Chunk(doc="p.txt", start=second, end=len(text), text=text[second:]), 1.0)
    event = asked_event("Hur många gånger har ärendet bordlagts?")
    lines = {c.text: c.rank for c in assistant.candidates([found], event=event) if c.text.startswith("Bordlagt")}
    # the line of the item the passage is in ranks with it; another item's line after every passage
    assert lines["Bordlagt den 12 mars 2031, § 22."] == 1
    assert lines["Bordlagt den 5 mars 2031, § 10."] > 5


def test_the_commonest_words_and_the_kind_of_answer_asked_are_no_part_of_a_matter():
    from rag.answer.constraints import Constraints
    from rag.query import analyse, common_keys, parse_query

    info = parse_query("Från vilket datum gäller de nya reglerna för cykelbanor i Exempelby?")
    matter = Constraints.matter_keys(info, analyse(info.text))
    # "nya" is among the language's commonest words, "datum" the kind of answer asked for
    assert set(analyse("nya")) <= common_keys(info.text, "sv")
    assert not set(analyse("nya datum")) & set(matter)
    assert set(analyse("reglerna cykelbanor")) <= set(matter)
    info = parse_query("Vad är maxbeloppet för upphandlingen av cykelbanor?")
    assert not set(analyse("maxbeloppet")) & set(Constraints.matter_keys(info, analyse(info.text)))


def test_the_event_of_a_when_question_is_no_part_of_its_matter():
    from rag.answer.asked import event_words
    from rag.answer.constraints import Constraints
    from rag.query import analyse, parse_query

    assert event_words("När antogs cykelpolicyn?") == "antogs"
    assert event_words("När kom motionen om cykelbanor in?") == "kom in"  # the verb's words, not the gap
    info = parse_query("När antogs cykelpolicyn i Exempelby?")
    matter = Constraints.matter_keys(info, analyse(info.text))
    assert set(analyse("cykelpolicyn")) <= set(matter)
    assert not set(analyse("antogs")) & set(matter)


def test_a_matter_is_held_by_its_words_that_pick_something_out():
    from rag.answer.constraints import Constraints
    from rag.query import analyse, parse_query

    idf = {"ai": 0.5, "cykelpolicy": 5.0}
    owner = SimpleNamespace(
        searcher=SimpleNamespace(index=SimpleNamespace(idf=lambda k: idf.get(k, 3.0))),
        matter_keys=Constraints.matter_keys,
    )
    owner.distinctive = lambda keys: Constraints.distinctive(owner, keys)
    info = parse_query("Vad säger AI-cykelpolicyn om hjälm?")
    keys = analyse(info.text)
    share = lambda text: Constraints.matter_share(owner, info, keys, text)  # noqa: E731
    # a text that says only "AI" (in a fifth of all passages) holds none of the matter
    assert share("AI används i skolan.") == 0.0
    assert share("Cykelpolicyn säger att hjälm ska bäras.") == 1.0


def test_the_organisation_asked_about_is_no_part_of_the_matter():
    from rag.answer.constraints import Constraints
    from rag.query import analyse, parse_query

    # "Regeringen" names who is asked about, as a place does; its documents all say "regeringen"
    info = parse_query("Vad föreslog Regeringen om cykelbanor?", organisations=["Regeringen", "Exempelby kommun"])
    assert info.organisations == ("Regeringen",)
    matter = Constraints.matter_keys(info, analyse(info.text))
    assert set(analyse("cykelbanor")) <= set(matter)
    assert not set(analyse("Regeringen")) & set(matter)


def test_an_office_of_a_named_bodys_meeting_must_come_from_that_bodys_protocol():
    from rag.answer import Candidate
    from rag.query import parse_query

    text = "Socialnämnden\nProtokoll 2031-03-12\nOlle Vik (S), ordförande\n"
    items = [{"start": 0, "end": len(text), "paragraph": None, "dnr": None, "date": "2031-03-12"}]
    docs = {"sn.txt": _stored("sn.txt", text, items)}
    docs["sn.txt"].body = "Socialnämnden"
    assistant = Assistant.__new__(Assistant)
    index = SimpleNamespace(documents=lambda: docs, document_frequency=lambda k: 1, idf=lambda k: 2.0)
    assistant.searcher = SimpleNamespace(index=index)
    assistant._bodies = {}
    assistant.item_at = lambda doc, offset: items[0]  # type: ignore[method-assign]
    line = "Olle Vik (S), ordförande"
    hit = SimpleNamespace(chunk=SimpleNamespace(doc="sn.txt", body="Socialnämnden", text=text, header=lambda: ""))
    best = Candidate(hit, 1, text.index(line), text.index(line) + len(line), line)
    bodies = ["Kommunstyrelsen", "Socialnämnden"]
    info = parse_query("Vem ledde kommunstyrelsen i mars?", bodies=bodies)
    # the chair of the socialnämnd's meeting does not answer who chaired the kommunstyrelse's
    assert "body" in assistant.unmet("Vem ledde kommunstyrelsen i mars?", info, [], best, True, False)
    info = parse_query("Vem ledde socialnämnden i mars?", bodies=bodies)
    assert "body" not in assistant.unmet("Vem ledde socialnämnden i mars?", info, [], best, True, False)


def test_a_question_for_an_office_abstains_when_no_sentence_names_one():
    from rag.answer import Candidate
    from rag.query import parse_query

    def scored(role: float) -> Candidate:
        return Candidate(SimpleNamespace(), 1, 0, 1, "x", scores={"role": role})

    chair = parse_query("Vem ledde sammanträdet i mars?")
    # a yrkande's mover named, no chair: the documents do not say who chaired
    assert Assistant.office_unstated(chair, [scored(0.0), scored(0.0)])
    assert not Assistant.office_unstated(chair, [scored(0.0), scored(1.0)])
    assert not Assistant.office_unstated(parse_query("Vem yrkade bifall?"), [scored(0.0)])
    assert Assistant.confidence(Evidence(0.9, 0.9, unmet=("office",))) == 0
