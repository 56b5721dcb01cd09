"""Display text (rag.display): markup removed, hyphenation joined, lines reflowed, highlights carried
over; and the API gives it beside the verbatim text, whose offsets and quotes are unchanged."""

from __future__ import annotations

import pytest
from conftest import api_app, index_bundled_corpus
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from rag.config import Settings
from rag.display import display, display_text, markup_spans, ocr_damage, repaired_reading

GUIDE = "# Riktlinje för **generativ AI**\n\nAnställda får använda verktygen för med-\narbetares\nanteckningar.\n"


def test_markdown_markup_is_removed_and_lines_reflowed():
    assert (
        display_text(GUIDE)
        == "Riktlinje för generativ AI\n\nAnställda får använda verktygen för medarbetares anteckningar."
    )
    assert display_text("**SAMMANTRÄDESPROTOKOLL**") == "SAMMANTRÄDESPROTOKOLL"
    assert display_text("## Beslut ##") == "Beslut"
    assert display_text("Läs [riktlinjen](https://example.se/r) och `koden`") == "Läs riktlinjen och koden"
    assert display_text("> citat *kursivt* men snake_case_namn") == "citat kursivt men snake_case_namn"


def test_hyphens_at_line_ends_join_words_but_keep_compounds():
    assert display_text("med-\narbetare") == "medarbetare"
    assert display_text("en AI-\nstrategi") == "en AI-strategi"
    assert display_text("2023-\n12-05") == "2023-12-05"


def test_list_lines_keep_their_breaks():
    assert display_text("Beslut\n- att avslå\n- att besvara") == "Beslut\n- att avslå\n- att besvara"


def test_highlights_follow_the_text():
    text = "**Beslut** om AI-\nstrategi"
    start = text.index("strategi")
    shown = display(text, [(start + 100, start + 108)], offset=100)
    assert [shown.text[a:b] for a, b in shown.highlights] == ["strategi"]


def test_the_markup_spans_are_the_markup_only():
    text = "# Rubrik\n\nText med **fet** stil."
    kept = "".join(text[i] for i in range(len(text)) if not any(a <= i < b for a, b in markup_spans(text)))
    assert kept == "Rubrik\n\nText med fet stil."


@given(st.text(alphabet="ab *_#-\n[]()`>", max_size=60))
def test_display_never_fails_and_highlights_stay_inside(text):
    shown = display(text, [(0, len(text))])
    assert all(0 <= a < b <= len(shown.text) for a, b in shown.highlights)


def test_ocr_text_is_told_apart_from_clean_text():
    damaged = "Svar pa motion fran (M) om att utreda fler anvandningsomraden av artificiell intelligens"
    assert ocr_damage(damaged) > 0.06 and repaired_reading(damaged) != damaged
    clean = "Kommunfullmäktige beslutar att avslå förslaget om en AI-strategi."
    assert ocr_damage(clean) < 0.06 and repaired_reading(clean) is None


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    root = tmp_path_factory.mktemp("display")
    settings = Settings(index_dir=root / "index", embedder="fake", query_log=None, upload_dir=root / "uploads")
    index_bundled_corpus(root, settings)
    (root / "corpus" / "riktlinje.md").write_text(GUIDE, encoding="utf-8")
    from rag.build import build_index
    from rag.embed import FakeEmbedder

    build_index([root / "corpus"], settings.index_dir, FakeEmbedder(), settings)
    with TestClient(api_app(settings)) as c:
        yield c


def test_the_api_gives_display_text_beside_the_verbatim_text(client):
    hits = client.get("/api/search", params={"q": "generativ AI anteckningar", "group": "item"}).json()["hits"]
    guide = next(h for h in hits if h["doc"] == "riktlinje.md")
    assert guide["title"] != guide["display_title"] and "**" not in guide["display_title"]
    assert "**" not in guide["snippet"]["display"]["text"]
    assert "medarbetares anteckningar" in guide["snippet"]["display"]["text"]
    document = client.get("/api/documents/riktlinje.md").json()
    assert document["text"] == GUIDE and document["markup"][0] == {"start": 0, "end": 2}
    body = client.post("/api/ask", json={"question": "Vad beslutade Tibro om en AI-strategi?"}).json()
    for c in body["citations"]:
        text = client.get(f"/api/documents/{c['doc']}").json()["text"]
        assert c["quote"] == text[c["start"] : c["end"]] and c["display"] == display_text(c["quote"])


def test_ocr_documents_are_marked_with_the_repaired_reading(client):
    hits = client.get("/api/search", params={"q": "motion artificiell intelligens", "group": "item"}).json()["hits"]
    ocr = [h for h in hits if h["ocr"]]
    assert ocr and all(h["repaired_title"] and h["repaired_title"] != h["title"] for h in ocr if h["title"])
    assert not [h for h in hits if h["doc"].startswith("000_") and h["ocr"]]


def test_code_and_identifiers_are_not_taken_for_markup():
    text = 'Tibro testar <script>window.__xss = "a"</script> och <img onerror="window.__xss"> i x_y_z.'
    assert display_text(text) == text
    assert display_text("__fet__ och _kursiv_.") == "fet och kursiv."


def test_a_long_text_is_judged_by_a_sample():
    damaged = "Svar pa motion fran (M) om att utreda fler anvandningsomraden av artificiell intelligens. " * 400
    assert ocr_damage(damaged) > 0.06 and ocr_damage(damaged, sample=600) > 0.06
