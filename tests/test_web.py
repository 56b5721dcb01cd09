"""The web pages in a real browser: Playwright driving Debian's Chromium against the real server on
loopback, with the real model on corpus/ plus ../shared/corpus/ and one hostile document.
Screenshots are saved to artifacts/screenshots/ (README's come from there)."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from conftest import CORPUS, SHARED, SHOTS, api_app, serving, shot

from rag.build import build_index
from rag.config import Settings
from rag.embed import load_embedder

pytestmark = [pytest.mark.real_model, pytest.mark.browser]

CORPUS_TIBRO = "000_cf550d43679497b7.txt"
XSS = (
    "# Riktlinje med kod i texten\n\n"
    'Tibro kommun testar <script>window.__xss = "script"</script> och '
    "<img src=x onerror=\"window.__xss = 'img'\"> i en riktlinje om AI-säkerhet.\n"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("web")
    (root / "extra").mkdir()
    (root / "extra" / "xss-riktlinje.txt").write_text(XSS, encoding="utf-8")
    settings = Settings(index_dir=root / "index", query_log=root / "queries.jsonl", upload_dir=root / "uploads")
    embedder = load_embedder(settings)
    build_index([CORPUS, SHARED / "corpus", root / "extra"], settings.index_dir, embedder, settings)
    with serving(api_app(settings, embedder)) as url:
        yield url


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="sv-SE")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    context.close()
    assert errors == [], errors


def widget(page):
    return page.locator("#rag-chat-widget")


def ask_in_widget(page, question: str, turn: int) -> None:
    w = widget(page)
    w.locator("textarea").fill(question)
    w.locator("form button[type=submit]").click()
    w.locator(".turn").nth(turn).locator(".a").wait_for(timeout=60_000)


def test_the_widget_answers_with_citations_that_open_the_passage(site, page):
    page.goto(f"{site}/widget-demo")
    w = widget(page)
    w.locator(".launcher").click()
    ask_in_widget(page, "Vad beslutade kommunfullmäktige i Tibro om förslaget att ta fram en AI-strategi?", 0)
    answer = w.locator(".turn").nth(0).locator(".a")
    assert "Kommunfullmäktige beslutar att avslå" in answer.inner_text()
    assert answer.locator("button.marker").first.inner_text() == "[1]"
    source = answer.locator(".sources li").first
    assert (
        "Tibro kommun" in source.inner_text() and "§ 100" in source.inner_text() and "2024-09-30" in source.inner_text()
    )
    shot(page, "widget-answer")
    answer.locator("button.marker").first.click()
    passage = source.locator(".passage")
    passage.wait_for()
    assert passage.locator("mark").inner_text().startswith("Kommunfullmäktige beslutar att avslå")
    shot(page, "widget-passage")
    # the link opens the document view with the span highlighted and in view
    href = source.locator("a").get_attribute("href")
    page.goto(href if href.startswith("http") else f"{site}{href}")
    cited = page.locator("mark#cited")
    cited.wait_for()
    assert cited.inner_text().startswith("Kommunfullmäktige beslutar att avslå")
    assert cited.is_visible() and page.evaluate("document.activeElement.id") == "cited"
    box = cited.bounding_box()
    assert box is not None and 0 <= box["y"] <= 900
    shot(page, "document-cited")


def test_a_follow_up_in_the_widget_uses_the_conversation(site, page):
    page.goto(f"{site}/widget-demo")
    w = widget(page)
    w.locator(".launcher").click()
    ask_in_widget(page, "Vad beslutade kommunfullmäktige i Tibro om förslaget att ta fram en AI-strategi?", 0)
    ask_in_widget(page, "Och vad beslutade Västerås?", 1)
    second = w.locator(".turn").nth(1).locator(".a")
    assert "Västerås stad" in second.locator(".sources").inner_text()
    assert "Sökte: Vad beslutade Västerås om förslaget att ta fram en AI-strategi?" in second.inner_text()
    shot(page, "widget-follow-up")


def test_an_abstention_says_so_and_lists_related_reading(site, page):
    page.goto(f"{site}/widget-demo")
    w = widget(page)
    w.locator(".launcher").click()
    ask_in_widget(page, "Har Göteborgs stad förbjudit ChatGPT i skolan?", 0)
    answer = w.locator(".turn").nth(0).locator(".a")
    # one plain sentence why (the reason), not a stock sentence and the reason after it
    assert answer.locator(".none").inner_text().startswith("Dokumenten svarar inte")
    assert "Dokumenten svarar inte på den här frågan." not in answer.inner_text()
    links = answer.locator(".sources li a").all_inner_texts()
    assert links and len(links) == len(set(links)), "related reading lists each document once"


def test_the_widget_works_with_the_keyboard_alone(site, page):
    page.goto(f"{site}/widget-demo")
    w = widget(page)
    for _ in range(10):  # tab until the widget's button has focus
        page.keyboard.press("Tab")
        if w.locator(".launcher").evaluate("b => b.getRootNode().activeElement === b"):
            break
    assert w.locator(".launcher").evaluate("b => b.getRootNode().activeElement === b")
    page.keyboard.press("Enter")
    assert w.locator(".launcher").get_attribute("aria-expanded") == "true"
    assert w.locator("textarea").evaluate("t => t.getRootNode().activeElement === t")
    page.keyboard.type("Hur ofta ska AI-uppdraget avrapporteras till socialnämnden?")
    page.keyboard.press("Enter")
    w.locator(".turn .a").wait_for(timeout=60_000)
    assert w.locator("[role=log]").get_attribute("aria-live") == "polite"
    assert "halvårsvis" in w.locator("[role=status]").inner_text()
    page.keyboard.press("Escape")
    assert w.locator(".panel").is_hidden()
    assert w.locator(".launcher").evaluate("b => b.getRootNode().activeElement === b")


def test_search_with_a_filter_shows_what_its_count_said(site, page):
    page.goto(f"{site}/?q=AI-strategi")
    page.locator("ol.results > li").first.wait_for()
    organisations = page.locator("#f-organisation option")
    before = organisations.all_inner_texts()
    assert len(before) > 2 and page.locator("ol.results mark").count() > 0
    assert "2024 (" in page.locator("#year-counts").inner_text()
    shot(page, "search")
    tibro = next(o for o in before if o.startswith("Tibro kommun"))
    page.select_option("#f-organisation", label=tibro)
    page.wait_for_url("**organisation=Tibro*")
    page.locator("ol.results > li").first.wait_for()
    # the count beside Tibro is the number of results selecting it shows (items, not passages)
    count = tibro.rsplit(" (", 1)[1].split(" ")[0]
    assert page.locator("p.status").inner_text().startswith(f"{count} träff")
    assert all("Tibro kommun" in m for m in page.locator("ol.results > li > .meta").all_inner_texts())
    # the state is in the URL: loading it again shows the same search
    page.reload()
    page.locator("ol.results > li").first.wait_for()
    assert page.locator("#q").input_value() == "AI-strategi"
    assert page.locator("#f-organisation").input_value() == "Tibro kommun"


def test_a_question_on_the_search_page_gets_the_cited_answer_above_the_results(site, page):
    page.goto(f"{site}/?q=Vad+beslutade+kommunfullm%C3%A4ktige+i+Tibro+om+f%C3%B6rslaget+att+ta+fram+en+AI-strategi%3F")
    box = page.locator("section.answer")
    box.wait_for(timeout=60_000)
    assert box.locator("h2").inner_text() == "Svar ur dokumenten"
    assert "Kommunfullmäktige beslutar att avslå" in box.locator(".text").inner_text()
    assert box.locator("ol li a").first.inner_text().startswith("Tibro kommun")
    assert page.locator(".chips .chip").first.inner_text().startswith("Organisation: Tibro kommun")
    page.locator("ol.results > li").first.wait_for()
    shot(page, "search-answer")
    page.goto(f"{site}/?q=Vad+beslutade+Stockholm+om+AI%3F")
    page.locator("section.empty").wait_for()
    assert page.locator("section.empty .reason").inner_text() == "Inget dokument kommer från eller nämner Stockholm."
    shot(page, "search-empty")


def test_the_widget_and_the_precedent_view_on_a_phone(site, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(f"{site}/precedent?q=Ska+kommunen+ta+fram+en+AI-strategi%3F")
    page.locator("table.precedent tbody tr").first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "precedent-phone")
    page.goto(f"{site}/widget-demo")
    w = widget(page)
    w.locator(".launcher").click()
    ask_in_widget(page, "Hur ofta ska AI-uppdraget avrapporteras till socialnämnden?", 0)
    box = w.locator(".panel").bounding_box()
    assert box is not None and box["width"] == 390 and box["x"] == 0
    shot(page, "widget-phone")
    context.close()


def test_search_works_on_a_phone_sized_screen(site, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(f"{site}/?q=riktlinjer+generativ+AI")
    page.locator("ol.results > li").first.wait_for()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    shot(page, "search-phone")
    context.close()


def test_the_precedent_table_lists_several_organisations_and_exports_csv(site, page):
    page.goto(f"{site}/precedent?q=Ska+kommunen+ta+fram+en+AI-strategi%3F")
    page.locator("table.precedent tbody tr").first.wait_for()
    rows = page.locator("table.precedent tbody tr")
    organisations = {rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())}
    assert len(organisations) > 1 and "Tibro kommun" in organisations
    shot(page, "precedent")
    page.locator("th button", has_text="Organisation").click()
    first = [rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())]
    assert first == sorted(first, key=str.casefold)
    assert page.locator("th[aria-sort=ascending]").count() == 1
    with page.expect_download() as download:
        page.get_by_role("button", name="Exportera CSV (Excel)").click()
    table = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig")), delimiter=";"))
    assert table[0][:3] == ["Organisation", "Organ", "Datum"] and len(table) == rows.count() + 1
    page.select_option("#outcome-filter", "besvarad")
    assert {rows.nth(i).locator("td").nth(4).inner_text() for i in range(rows.count())} == {"besvarad"}


def test_document_text_with_markup_renders_inert(site, page):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{site}/documents/xss-riktlinje.txt")
    article = page.locator("article.document")
    article.wait_for()
    assert "<script>window.__xss" in article.inner_text() and "<img src=x onerror=" in article.inner_text()
    assert article.locator("script, img").count() == 0
    page.goto(f"{site}/?q=riktlinje+kod+i+texten")
    page.locator("ol.results > li").first.wait_for()
    assert page.locator("ol.results img, ol.results script").count() == 0
    assert page.evaluate("window.__xss") is None and dialogs == []


def test_the_english_toggle_switches_the_interface(site, page):
    page.goto(f"{site}/?q=AI")
    page.locator("ol.results > li").first.wait_for()
    page.get_by_role("button", name="English").click()
    page.wait_for_url("**lang=en*")
    page.locator("ol.results > li").first.wait_for()
    assert page.get_by_role("button", name="Search").is_visible()
    assert page.evaluate("document.documentElement.lang") == "en"


@pytest.fixture(scope="module", autouse=True)
def _clean_artifacts():
    shutil.rmtree(SHOTS, ignore_errors=True)
    yield


def test_no_page_or_the_widget_breaks_the_content_security_policy(site, browser):
    """The pages are served with script-src and style-src 'self' and no 'unsafe-inline': nothing on
    them, the widget included, may need more (Chromium logs every refusal to the console)."""
    context = browser.new_context()
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        for url in ("/?q=AI-strategi", "/precedent?q=AI-strategi", f"/documents/{CORPUS_TIBRO}?start=0&end=40"):
            page.goto(f"{site}{url}")
            page.wait_for_load_state("networkidle")
        page.goto(f"{site}/widget-demo")
        launcher = widget(page).locator(".launcher")
        launcher.click()
        ask_in_widget(page, "Vad beslutade Tibro om en AI-strategi?", 0)
        # the widget's own styles apply (a constructed stylesheet, which the policy allows)
        assert launcher.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(11, 92, 173)"
        assert page.evaluate("document.querySelector('#rag-chat-widget').shadowRoot.querySelector('style')") is None
    finally:
        context.close()
    assert refused == []
