"""The pages people see, in a real browser (Playwright driving Debian's Chromium) against the real server
on loopback, over the bundled corpus and a few written documents with the fake embedder (fast; the
real model's answers are tested in test_web.py). Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import csv
import io
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from conftest import CORPUS, ROOT

from rag.config import Settings
from rag.embed import FakeEmbedder
from rag.index import build_index
from server import create_app

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "artifacts" / "screenshots"
MARKDOWN_GUIDE = (
    "# Riktlinje för **generativ AI** i förvaltningen\n\n"
    "Örnvik kommun\n\n"
    "## Syfte\n\n"
    "Riktlinjen beskriver hur med-\narbetare får använda generativ AI i det dagliga arbetet.\n"
    "Verktygen får bara användas\nför uppgifter utan personuppgifter.\n"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(settings: Settings) -> tuple[uvicorn.Server, threading.Thread, str]:
    """The app on a free loopback port in a thread; (server, thread, base URL)."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    return server, thread, f"http://127.0.0.1:{port}"


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
    server, thread, url = serve(settings)
    yield url
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Debian's Chromium is missing: run 'bash scripts/install.sh --dev' (it installs it).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
        )
        yield browser
        browser.close()


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


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


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
