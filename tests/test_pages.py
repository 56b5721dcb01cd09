"""The pages people see, in a real browser (Playwright driving Debian's Chromium) against the real server
on loopback, over the bundled corpus and a few written documents with the fake embedder (fast; the
real model's answers are tested in test_web.py). Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import csv
import io
import shutil
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from conftest import CORPUS, TIBRO, api_app, serving, shot

from rag.build import build_index
from rag.config import Settings
from rag.embed import FakeEmbedder

pytestmark = pytest.mark.browser

CORPUS_TIBRO = TIBRO.name
MARKDOWN_GUIDE = (
    "# Riktlinje för **generativ AI** i förvaltningen\n\n"
    "Örnvik kommun\n\n"
    "## Syfte\n\n"
    "Riktlinjen beskriver hur med-\narbetare får använda generativ AI i det dagliga arbetet.\n"
    "Verktygen får bara användas\nför uppgifter utan personuppgifter.\n"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("pages")
    corpus = root / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "riktlinje-generativ-ai.md").write_text(MARKDOWN_GUIDE, encoding="utf-8")
    settings = Settings(
        index_dir=root / "index", embedder="fake", query_log=None, upload_dir=root / "uploads", corpus=[corpus]
    )
    build_index([corpus], settings.index_dir, FakeEmbedder(), settings)
    with serving(api_app(settings)) as url:
        yield url


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="sv-SE", accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    refused: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    yield page
    context.close()
    assert errors == [] and refused == [], (errors, refused)


def test_the_api_docs_render_offline_from_this_server(site, page):
    """No request leaves the server's origin and Swagger UI renders the operations."""
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(f"{site}/docs")
    page.locator(".opblock").first.wait_for(timeout=20_000)
    assert page.locator(".opblock").count() >= 8
    assert requested and all(u.startswith(site) or u.startswith("data:") for u in requested), requested


def test_the_precedent_csv_opens_in_swedish_excel(site, page):
    page.goto(f"{site}/precedent?q=Ska+kommunen+ta+fram+en+AI-strategi%3F")
    rows = page.locator("table.precedent tbody tr")
    rows.first.wait_for()
    with page.expect_download() as download:
        page.get_by_role("button", name="Exportera CSV (Excel)").click()
    assert download.value.suggested_filename == "prejudikat.csv"
    data = Path(download.value.path()).read_bytes()
    assert data.startswith("\ufeff".encode()), "Excel needs the byte-order mark to read UTF-8"
    text = data.decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[-1] == "" and len(lines) - 2 == rows.count(), "one line per row"
    table = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert table[0] == [
        "Organisation",
        "Organ",
        "Datum",
        "Paragraf",
        "Diarienummer",
        "Beslut",
        "Ärende",
        "Avgörande mening",
        "Länk",
    ]
    assert all(len(r) == 9 for r in table[1:])
    assert all(r[8].startswith(f"{site}/documents/") and "start=" in r[8] for r in table[1:])
    assert not [c for r in table[1:] for c in r[:8] if ".txt" in c or ".md" in c], "no file names or ids"
    assert "Tibro kommun" in {r[0] for r in table[1:]}


def test_precedent_sort_is_in_the_url_with_arrows_and_rows_are_cards_on_a_phone(site, browser, page):
    page.goto(f"{site}/precedent?q=Ska+kommunen+ta+fram+en+AI-strategi%3F")
    page.locator("table.precedent tbody tr").first.wait_for()
    page.locator("th button", has_text="Organisation").click()
    assert "sort=organisation" in page.url and page.locator("th[aria-sort=ascending] .arrow").inner_text() == "▲"
    page.locator("th button", has_text="Organisation").click()
    assert "dir=desc" in page.url and page.locator("th[aria-sort=descending] .arrow").inner_text() == "▼"
    url = page.url
    page.goto(url)
    page.locator("table.precedent tbody tr").first.wait_for()
    first = page.locator("table.precedent tbody tr td:first-child").all_inner_texts()
    assert first == sorted(first, key=str.casefold, reverse=True)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = context.new_page()
    phone.goto(url)
    cell = phone.locator("table.precedent tbody tr td").first
    cell.wait_for()
    label = cell.evaluate("td => getComputedStyle(td, '::before').content")
    assert label == '"Organisation: "'
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "precedent-phone")
    context.close()


def test_errors_are_in_the_pages_language_and_every_input_states_its_limit(site, page):
    page.goto(f"{site}/?q=AI&from=igår")
    status = page.locator("p.status.error")
    status.wait_for()
    assert status.inner_text() == "Året skrivs med fyra siffror, t.ex. 2024 (eller ÅÅÅÅ-MM-DD)."
    assert page.locator("#q").get_attribute("maxlength") == "1000"
    assert page.locator("#q-limit").inner_text() == "Högst 1000 tecken"
    page.goto(f"{site}/?q=AI&organisation=Atlantis&lang=en")
    page.locator("p.status.error").wait_for()
    assert (
        page.locator("p.status.error").inner_text()
        == "No document has that value for organisation. Pick a value from the list."
    )
    page.goto(f"{site}/?q={'x' * 1001}")
    page.locator("p.status.error").wait_for()
    assert page.locator("p.status.error").inner_text() == "Frågan är för lång: högst 1000 tecken. Korta den."
    page.goto(f"{site}/precedent")
    assert page.locator("#q").get_attribute("maxlength") == "1000"
    assert page.locator("#q-limit").inner_text() == "Högst 1000 tecken"
    page.goto(f"{site}/documents/finns-inte.txt")
    page.locator("[role=alert]").wait_for()
    assert page.locator("[role=alert]").inner_text().startswith("Dokumentet finns inte.")


def test_search_shows_one_result_per_item_with_the_others_behind_it(site, page):
    page.goto(f"{site}/?q=motion+AI-strategi+beslut")
    results = page.locator("ol.results > li")
    results.first.wait_for()
    titles = [results.nth(i).locator("h2 a").inner_text() for i in range(results.count())]
    metas = page.locator("ol.results > li > .meta").all_inner_texts()
    assert len(set(zip(titles, metas, strict=True))) == len(titles), "each item (§) once"
    more = page.locator("details.more summary").first
    assert "fler träffar i samma §" in more.inner_text()
    more.click()
    assert page.locator("details.more[open] li").count() >= 1
    shot(page, "search")


def test_facet_counts_are_what_selecting_shows(site, page):
    page.goto(f"{site}/?q=AI-strategi")
    page.locator("ol.results > li").first.wait_for()
    options = page.locator("#f-organisation option").all_inner_texts()[1:]
    assert options and all(" dok.)" in o for o in options)
    for option in options:
        name, count = option.rsplit(" (", 1)
        page.goto(f"{site}/?q=AI-strategi")
        page.locator("ol.results > li").first.wait_for()
        page.select_option("#f-organisation", label=option)
        page.wait_for_url("**organisation=*")
        page.locator("ol.results > li").first.wait_for()
        assert page.locator("p.status").inner_text().startswith(f"{count.split(' ')[0]} träff")
        assert page.locator("#f-organisation").input_value() == name
        assert all(name in m for m in page.locator("ol.results > li > .meta").all_inner_texts())


def test_an_organisation_named_in_the_question_is_an_active_removable_filter(site, page):
    page.goto(f"{site}/?q=Vad+beslutade+Tibro+om+AI-strategi%3F")
    chip = page.locator(".chips .chip")
    chip.first.wait_for()
    assert "Organisation: Tibro kommun" in chip.first.inner_text() and "Från frågan" in chip.first.inner_text()
    page.locator("ol.results > li").first.wait_for()
    assert page.locator("#f-organisation").input_value() == "Tibro kommun"
    assert all("Tibro kommun" in m for m in page.locator("ol.results > li > .meta").all_inner_texts())
    chip.first.get_by_role("button").click()
    page.wait_for_url("**auto=0*")
    page.locator("ol.results > li").first.wait_for()
    assert page.locator(".chips").count() == 0 and page.locator("#f-organisation").input_value() == ""


def test_a_question_gets_the_answer_or_the_abstention_above_the_results(site, page):
    page.goto(f"{site}/?q=Vad+beslutade+Tibro+om+en+AI-strategi%3F")
    box = page.locator("section.answer")
    box.wait_for(timeout=30_000)
    heading = box.locator("h2").inner_text()
    assert heading in ("Svar ur dokumenten", "Inget säkert svar")
    if heading == "Svar ur dokumenten":
        assert box.locator("ol li a").count() >= 1
    else:
        assert box.locator(".reason").inner_text()
    page.goto(f"{site}/?q=AI-strategi")
    page.locator("ol.results > li").first.wait_for()
    assert page.locator("section.answer").count() == 0, "keywords are not a question"


@pytest.mark.parametrize(
    ("q", "reason"),
    [
        ("kattmat", "Inget dokument innehåller ”kattmat”."),
        ("<script>", "Inget dokument innehåller ”script”."),
        ("och det att som", "Frågan innehåller inga ord att söka på, bara småord eller tecken."),
        ("Vad beslutade Stockholm om AI?", "Inget dokument kommer från eller nämner Stockholm."),
        ("KS 2031/0009", "Inget ärende har diarienummer KS 2031/9."),
    ],
)
def test_nothing_found_says_why_and_suggests(site, page, q, reason):
    page.goto(f"{site}/?{urlencode({'q': q})}")
    empty = page.locator("section.empty")
    empty.wait_for()
    assert empty.locator("h2").inner_text() == "Inga träffar."
    assert empty.locator(".reason").inner_text() == reason
    assert empty.locator(".examples a").count() >= 1 and page.locator("ol.results > li").count() == 0
    assert page.locator("section.answer").count() == 0
    if "Stockholm" in q:
        assert empty.get_by_role("link", name="Sök utan ”Stockholm”").count() == 1
        shot(page, "search-empty")


def test_the_start_page_says_what_the_index_covers_with_example_questions(site, page):
    page.goto(site)
    cover = page.locator("section.cover")
    cover.wait_for()
    assert "4 dokument från 4 organisationer" in cover.inner_text() or "dokument från" in cover.inner_text()
    assert "Tibro kommun" in cover.inner_text()
    examples = cover.locator(".examples a")
    assert examples.count() >= 2
    examples.first.click()
    page.locator("ol.results > li, section.empty").first.wait_for()
    assert "q=" in page.url
    shot(page, "search-start")


def test_on_a_phone_the_filters_are_behind_a_button(site, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(f"{site}/?q=AI-strategi")
    page.locator("ol.results > li").first.wait_for()
    assert page.locator("fieldset.filters").is_hidden()
    first = page.locator("ol.results > li").first.bounding_box()
    assert first is not None and first["y"] < 844, "the first result is on the first screen"
    toggle = page.locator("button.filters-toggle")
    assert toggle.inner_text() == "Visa filter"
    toggle.click()
    assert page.locator("fieldset.filters").is_visible() and toggle.get_attribute("aria-expanded") == "true"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_role("button", name="Dölj filter").click()
    shot(page, "search-phone")
    context.close()


def test_titles_snippets_and_the_document_show_no_markup(site, page):
    page.goto(f"{site}/?q=generativ+AI+personuppgifter")
    results = page.locator("ol.results > li")
    results.first.wait_for()
    guide = results.filter(has_text="Riktlinje för generativ AI")
    assert guide.count() == 1
    text = guide.inner_text()
    assert "**" not in text and "# " not in text and "medarbetare" in text
    guide.locator("h2 a").click()
    article = page.locator("article.document")
    article.wait_for()
    assert page.locator("h1").inner_text() == "Riktlinje för generativ AI i förvaltningen"
    assert "**" not in article.inner_text() and "## Syfte" not in article.inner_text()
    assert "Syfte" in article.inner_text()


def test_ocr_text_is_marked_with_its_repaired_reading(site, page):
    page.goto(f"{site}/?q=motion+artificiell+intelligens")
    page.locator("ol.results > li").first.wait_for()
    scanned = page.locator("ol.results > li").filter(has=page.locator(".ocr-note"))
    assert scanned.count() >= 1
    assert "användningsområden" in scanned.first.locator("h2").inner_text()
    assert scanned.first.locator(".repaired").inner_text().startswith("Läst som:")


def widget(page):
    return page.locator("#rag-chat-widget")


def test_the_widget_starts_with_example_questions_states_its_limit_and_keeps_send_disabled_while_asking(site, page):
    page.goto(f"{site}/widget-demo")
    w = widget(page)
    w.locator(".launcher").click()
    starters = w.locator(".starters button")
    assert starters.count() == 3
    assert w.locator("#rag-limit").inner_text() == "Högst 1000 tecken"
    assert w.locator("textarea").get_attribute("maxlength") == "1000"
    assert w.get_attribute("lang") == "sv"
    page.route("**/api/ask", lambda route: (time.sleep(0.5), route.continue_()))
    starters.first.click()
    assert w.locator("form button[type=submit]").is_disabled()
    w.locator(".turn .a").wait_for(timeout=30_000)
    assert w.locator("form button[type=submit]").is_enabled() and w.locator(".starters").count() == 0
    w.locator("button", has_text="English").click()
    assert w.get_attribute("lang") == "en" and w.locator("#rag-limit").inner_text() == "At most 1000 characters"


def test_the_widget_says_an_error_in_its_language(site, page):
    page.goto(f"{site}/widget-demo")
    w = widget(page)
    w.locator(".launcher").click()
    page.route(
        "**/api/ask",
        lambda route: route.fulfill(
            status=429, headers={"Retry-After": "7"}, json={"detail": "Too many requests from 1.2.3.4"}
        ),
    )
    w.locator("textarea").fill("Vad beslutade Tibro?")
    w.locator("form button[type=submit]").click()
    error = w.locator(".turn .error")
    error.wait_for()
    assert error.inner_text() == "För många frågor på kort tid. Vänta 7 sekunder och försök igen."


def test_the_widget_fills_a_phone_screen(site, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(f"{site}/widget-demo")
    w = widget(page)
    w.locator(".launcher").click()
    box = w.locator(".panel").bounding_box()
    assert box is not None and box["x"] == 0 and box["y"] == 0 and box["width"] == 390 and box["height"] >= 800
    shot(page, "widget-phone")
    context.close()


CONTRAST = """
() => {
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = (c) => {
    const [r, g, b] = rgb(c).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const background = (node) => {
    for (let n = node.parentElement; n; n = n.parentElement) {
      const c = getComputedStyle(n).backgroundColor;
      if (!c.startsWith("rgba(0, 0, 0, 0)") && c !== "transparent") return c;
    }
    return "rgb(255, 255, 255)";
  };
  const out = [];
  for (const field of document.querySelectorAll("input, select, textarea")) {
    const s = getComputedStyle(field);
    out.push({ what: `border of ${field.id || field.name}`, ratio: ratio(s.borderTopColor, background(field)) });
  }
  for (const node of document.querySelectorAll("input, select, button, a[href]")) {
    node.focus();
    const s = getComputedStyle(node);
    if (document.activeElement === node && s.outlineStyle !== "none") {
      out.push({ what: `focus ring of ${node.id || node.textContent.trim().slice(0, 20)}`, ratio: ratio(s.outlineColor, background(node)) });
    }
  }
  return out;
}
"""

TARGETS = """
() => [...document.querySelectorAll("button, select, input, nav a, .examples a, .chip button, details summary")]
  .filter((n) => n.offsetParent !== null)
  .map((n) => ({ what: n.id || n.textContent.trim().slice(0, 30), w: n.getBoundingClientRect().width, h: n.getBoundingClientRect().height }))
  .filter((t) => t.w < 24 || t.h < 24)
"""


@pytest.mark.parametrize("path", ["/", "/?q=AI-strategi", "/precedent?q=AI-strategi", f"/documents/{CORPUS_TIBRO}"])
def test_focus_rings_and_field_borders_have_3_to_1_contrast_and_targets_are_24_px(site, page, path):
    page.goto(f"{site}{path}")
    page.wait_for_load_state("networkidle")
    low = [c for c in page.evaluate(CONTRAST) if c["ratio"] < 3]
    assert low == [], low
    assert page.evaluate(TARGETS) == []


def test_a_skip_link_is_the_first_stop_and_jumps_to_the_content(site, page):
    page.goto(f"{site}/?q=AI-strategi")
    page.locator("ol.results > li").first.wait_for()
    page.keyboard.press("Tab")
    skip = page.locator("a.skip")
    assert page.evaluate("document.activeElement.className") == "skip" and skip.is_visible()
    assert skip.inner_text() == "Hoppa till innehållet"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_the_english_toggle_translates_the_whole_interface(site, page):
    page.goto(f"{site}/?q=motion+AI-strategi+beslut")
    page.locator("ol.results > li").first.wait_for()
    page.get_by_role("button", name="English").click()
    page.wait_for_url("**lang=en*")
    page.locator("ol.results > li").first.wait_for()
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.title().endswith("Search decisions and guidelines on AI")
    chrome = page.locator("header.site, form.query, fieldset.filters, p.status, .filters-toggle, details.more summary")
    text = " ".join(chrome.all_inner_texts())
    for swedish in ("Sök", "Alla", "Organ ", "Dokumenttyp", "Beslut", "träffar", "tecken", "fler", "Från år"):
        assert swedish not in text, swedish
    badges = page.locator("ol.results .badge").all_inner_texts()
    assert badges and not {"besvarad", "avslag", "bifall", "uppdrag"} & set(badges)
    assert "protokoll" not in " ".join(page.locator("#f-type option").all_inner_texts())
    page.goto(f"{site}/precedent?q=AI-strategi&lang=en")
    page.locator("table.precedent tbody tr").first.wait_for()
    assert page.get_by_role("button", name="Export CSV (Excel)").is_visible()
    assert page.title() == "Precedent: how others decided"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/?q=AI-strategi",
        "/precedent?q=AI-strategi",
        f"/documents/{CORPUS_TIBRO}",
        "/documents/001_6e1d6ed25857f700.txt",
    ],
)
def test_no_page_shows_a_stray_null_or_undefined(site, page, path):
    page.goto(f"{site}{path}")
    page.wait_for_load_state("networkidle")
    text = page.locator("body").inner_text()
    assert "null" not in text and "undefined" not in text and "[object" not in text


def test_an_abstention_lists_related_reading_once_per_document_with_a_snippet(site, page):
    page.goto(f"{site}/?q=Vem+var+ordförande+i+Tibro%3F")
    box = page.locator("section.answer")
    box.wait_for(timeout=30_000)
    assert box.locator("h2").inner_text() == "Inget säkert svar"
    items = box.locator("ul li")
    links = [items.nth(i).locator("a").get_attribute("href").split("?")[0] for i in range(items.count())]
    assert links and len(links) == len(set(links))
    assert all(items.nth(i).locator(".related-snippet").inner_text() for i in range(items.count()))
    assert box.locator(".reason").inner_text().count(".") <= 2, "one plain sentence why"
