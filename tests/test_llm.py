from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from conftest import free_port

from rag.config import Settings
from rag.llm import NO_ANSWER, Phrased, Source, citations, phrase, split_sentences, supported

TIBRO = Source(
    1,
    "Kommunfullmäktige beslutar att anta riktlinjer för användning av generativ AI i Tibro kommun.",
    "Tibro kommun, kommunfullmäktige 2024-09-30, § 100",
)
HOLM = Source(
    2,
    "Sara Holm (S) yrkar bifall till förslaget och kostnaden beräknas till 1 500 000 kronor.",
    "Tibro kommun, kommunstyrelsen 2024-09-16, § 58",
)
VASTERAS = Source(
    3, "Västerås stad ska utvärdera riktlinjerna halvårsvis.", "Västerås stad, kommunstyrelsen 2023-05-05, § 12"
)
SOURCES = (TIBRO, HOLM)
QUESTION = "Vad beslutade Tibro om generativ AI?"
GOOD = "Kommunfullmäktige i Tibro beslutade den 30 september 2024 att anta riktlinjer för generativ AI [1]."


@dataclass
class FakeLLM:
    """An OpenAI-compatible chat endpoint on loopback whose reply each test scripts."""

    url: str
    status: int = 200
    body: bytes = b""
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)

    def reply(self, content: object) -> None:
        self.body = json.dumps(
            {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}
        ).encode()


def _handler(fake: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            fake.requests.append({"path": self.path, "headers": dict(self.headers), "json": json.loads(raw)})
            if fake.delay:
                fake.released.wait(fake.delay)  # released at teardown, so shutdown never waits
            self.send_response(fake.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(fake.body)))
            self.end_headers()
            self.wfile.write(fake.body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def _wait_until_accepting(port: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    fake = FakeLLM(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))  # port 0: a free port
    server.daemon_threads = True
    port = server.server_address[1]
    fake.url = f"http://127.0.0.1:{port}/v1"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    _wait_until_accepting(port)
    yield fake
    fake.released.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _settings(url: str | None, **kw: Any) -> Settings:
    return Settings(llm_url=url, llm_api_key=kw.pop("llm_api_key", None), llm_timeout=kw.pop("llm_timeout", 5.0), **kw)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


# --- phrase against a fake endpoint ---


def test_good_answer_returns_its_sentences_and_citations(llm):
    llm.reply(f"{GOOD} Sara Holm (S) yrkade bifall till förslaget [2][1].")
    assert phrase(QUESTION, "sv", SOURCES, _settings(llm.url)) == [
        Phrased(GOOD, (1,)),
        Phrased("Sara Holm (S) yrkade bifall till förslaget [2][1].", (2, 1)),
    ]


def test_english_answer_from_swedish_quotes(llm):
    llm.reply(
        "On 30 September 2024 the Municipal Council of Tibro decided to adopt guidelines for generative AI. [1]\n"
        "The cost is estimated at SEK 1.5 million [2]."
    )
    result = phrase("What did Tibro decide about generative AI?", "en", SOURCES, _settings(llm.url))
    assert result is not None
    assert [p.citations for p in result] == [(1,), (2,)]
    assert result[0].text.endswith("generative AI. [1]")


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param("Riktlinjerna gäller alla förvaltningar i Tibro kommun.", id="no-marker"),
        pytest.param("Kommunfullmäktige i Tibro antog riktlinjer för generativ AI [7].", id="unknown-source"),
        pytest.param(
            "Kommunfullmäktige i Tibro antog riktlinjer för generativ AI 2023 [1].", id="number-not-in-sources"
        ),
        pytest.param("Kostnaden beräknas till 2 miljoner kronor [2].", id="amount-not-in-sources"),
        pytest.param("Anna Berg (S) yrkade bifall till förslaget [2].", id="name-not-in-sources"),
        pytest.param("Kommunfullmäktige i Mjölby antog riktlinjer för generativ AI [1].", id="place-not-in-sources"),
        pytest.param("Riktlinjerna ska utvärderas årligen av en extern revisor [1].", id="wording-not-in-sources"),
    ],
)
def test_unsupported_sentence_is_dropped(llm, bad):
    llm.reply(f"{GOOD} {bad}")
    assert phrase(QUESTION, "sv", SOURCES, _settings(llm.url)) == [Phrased(GOOD, (1,))]


def test_nothing_supported_is_none(llm):
    llm.reply("Riktlinjerna antogs 2019 [1]. Det framgår inte vem som yrkade.")
    assert phrase(QUESTION, "sv", SOURCES, _settings(llm.url)) is None


def test_no_answer_token_is_none(llm, caplog):
    llm.reply(NO_ANSWER)
    with caplog.at_level(logging.INFO, logger="rag.llm"):
        assert phrase(QUESTION, "sv", SOURCES, _settings(llm.url)) is None
    assert f"LLM endpoint {llm.url}/chat/completions found no answer in the 2 sources" in caplog.messages
    assert _warnings(caplog) == []


def test_http_error_status_is_none_with_one_warning(llm, caplog):
    llm.status, llm.body = 500, b'{"error": "model not loaded"}'
    assert phrase(QUESTION, "sv", SOURCES, _settings(llm.url)) is None
    assert _warnings(caplog) == [f"LLM endpoint {llm.url}/chat/completions answered HTTP 500"]


def test_timeout_is_none_with_one_warning(llm, caplog):
    llm.delay = 5.0
    llm.reply(GOOD)
    started = time.monotonic()
    assert phrase(QUESTION, "sv", SOURCES, _settings(llm.url, llm_timeout=0.2)) is None
    assert time.monotonic() - started < 3
    assert _warnings(caplog) == [f"LLM endpoint {llm.url}/chat/completions timed out after 0.2 s"]


def test_body_that_is_not_json_is_none_with_one_warning(llm, caplog):
    llm.body = b"<html>Bad gateway</html>"
    assert phrase(QUESTION, "sv", SOURCES, _settings(llm.url)) is None
    assert _warnings(caplog) == [f"LLM endpoint {llm.url}/chat/completions answered with a body that is not JSON"]


@pytest.mark.parametrize(
    "body",
    [{"error": "x"}, {"choices": []}, {"choices": [{"message": {"content": None}}]}, {"choices": [{}]}, ["x"]],
    ids=["no-choices", "empty-choices", "null-content", "no-message", "a-list"],
)
def test_json_without_content_is_none_with_one_warning(llm, caplog, body):
    llm.body = json.dumps(body).encode()
    assert phrase(QUESTION, "sv", SOURCES, _settings(llm.url)) is None
    assert _warnings(caplog) == [
        f"LLM endpoint {llm.url}/chat/completions answered without text in choices[0].message.content"
    ]


def test_connection_refused_is_none_with_one_warning(caplog):
    url = f"http://127.0.0.1:{free_port()}/v1"
    assert phrase(QUESTION, "sv", SOURCES, _settings(url)) is None
    [warning] = _warnings(caplog)
    assert warning.startswith(f"LLM endpoint {url}/chat/completions could not be reached: ")


def test_request_carries_sources_and_question_and_no_authorization(llm):
    llm.reply(GOOD)
    phrase(QUESTION, "sv", SOURCES, _settings(llm.url, llm_model="qwen", llm_max_tokens=123))
    [request] = llm.requests
    assert request["path"] == "/v1/chat/completions"
    assert "authorization" not in {k.lower() for k in request["headers"]}
    body = request["json"]
    assert (body["model"], body["temperature"], body["max_tokens"]) == ("qwen", 0, 123)
    system, user = body["messages"]
    assert system["role"] == "system" and "Swedish" in system["content"] and NO_ANSWER in system["content"]
    assert user["role"] == "user"
    assert f'[1] {TIBRO.label}: "{TIBRO.quote}"' in user["content"]
    assert f'[2] {HOLM.label}: "{HOLM.quote}"' in user["content"]
    assert user["content"].endswith(f"Question: {QUESTION}")


def test_api_key_is_sent_as_bearer_token(llm):
    llm.reply(GOOD)
    phrase(QUESTION, "sv", SOURCES, _settings(llm.url, llm_api_key="s3cret"))
    assert llm.requests[0]["headers"]["Authorization"] == "Bearer s3cret"


def test_english_question_asks_for_english(llm):
    llm.reply(NO_ANSWER)
    phrase("What did Tibro decide?", "en", SOURCES, _settings(llm.url))
    system = llm.requests[0]["json"]["messages"][0]["content"]
    assert "Answer in English. The sources are mostly in Swedish" in system


def test_without_llm_url_nothing_leaves_the_machine(llm, monkeypatch):
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("no network call expected")

    monkeypatch.setattr(httpx, "Client", no_network)
    assert phrase(QUESTION, "sv", SOURCES, _settings(None)) is None
    assert llm.requests == []


# --- parsing the reply ---


def test_split_sentences_keeps_markers_with_their_sentence():
    reply = "Tibro antog riktlinjer den 30 sep. 2024.\n[1][2]\n\n- Punkt två gäller AI [3].\n1. Tredje [1, 2].\nEn mening\nsom fortsätter [2]."
    assert split_sentences(reply, "sv") == [
        "Tibro antog riktlinjer den 30 sep. 2024. [1][2]",
        "Punkt två gäller AI [3].",
        "Tredje [1, 2].",
        "En mening som fortsätter [2].",
    ]


def test_citations_in_order_of_first_appearance():
    assert citations("a [2] b [1, 2][3] c [1;4]") == (2, 1, 3, 4)
    assert citations("no markers, 2024") == ()


# --- supported ---


@pytest.mark.parametrize(
    ("sentence", "cited", "expected"),
    [
        (GOOD, [TIBRO], True),
        ("Sara Holm (S) yrkade bifall till förslaget [2].", [HOLM], True),
        ("Kostnaden beräknas till 1,5 miljoner kronor [2].", [HOLM], True),
        ("Västerås stad ska utvärdera riktlinjerna halvårsvis [3].", [VASTERAS], True),
        # a number, name, party or place the cited text does not have
        ("Kommunfullmäktige i Tibro antog riktlinjer för generativ AI 2023 [1].", [TIBRO], False),
        ("Sara Holm (V) yrkade bifall till förslaget [2].", [HOLM], False),
        ("Anna Berg (S) yrkade bifall till förslaget [2].", [HOLM], False),
        ("Kommunfullmäktige i Mjölby antog riktlinjer för generativ AI [1].", [TIBRO], False),
        # true of another source, not of the one cited
        (GOOD, [VASTERAS], False),
        # mostly words of its own: 1 of 5 content keys in the quote
        ("Riktlinjerna ska utvärderas årligen av en extern revisor [1].", [TIBRO], False),
        ("Ja [1].", [TIBRO], False),
    ],
)
def test_supported_swedish(sentence, cited, expected):
    assert supported(sentence, cited) is expected


@pytest.mark.parametrize(
    ("sentence", "cited", "expected"),
    [
        ("Tibro Municipality adopted guidelines for generative AI on 30 September 2024 [1].", [TIBRO], True),
        (
            "The Municipal Executive Board of Västerås will evaluate the guidelines every six months [3].",
            [VASTERAS],
            True,
        ),
        ("The cost is estimated at 1,500,000 kronor [2].", [HOLM], True),
        ("The cost is estimated at SEK 1.5 million [2].", [HOLM], True),
        # English wording is not compared with Swedish quotes word by word
        ("The guidelines cover every use of generative AI by staff [1].", [TIBRO], True),
        ("The cost is estimated at 1.5 billion kronor [2].", [HOLM], False),
        ("Tibro adopted the guidelines on 1 October 2024 [1].", [TIBRO], False),
        ("Sara Holm and Anna Berg supported the proposal [2].", [HOLM], False),
        ("Västerås will evaluate the guidelines together with Microsoft [3].", [VASTERAS], False),
        ("Gothenburg adopted guidelines for generative AI [1].", [TIBRO], False),
        ("Mjölby adopted guidelines for generative AI [1].", [TIBRO], False),
    ],
)
def test_supported_english_on_swedish_quotes(sentence, cited, expected):
    assert supported(sentence, cited) is expected


def test_supported_needs_a_cited_source():
    assert supported(GOOD, []) is False


@pytest.fixture
def api(tmp_path, llm):
    """The API over the seeds, worded by the fake endpoint."""
    import shutil

    from conftest import CORPUS, api_app
    from fastapi.testclient import TestClient

    from rag.build import build_index
    from rag.embed import FakeEmbedder

    shutil.copytree(CORPUS, tmp_path / "corpus")
    settings = Settings(index_dir=tmp_path / "index", embedder="fake", query_log=None, llm_url=llm.url, llm_timeout=2.0)
    build_index([tmp_path / "corpus"], settings.index_dir, FakeEmbedder(), settings)
    with TestClient(api_app(settings)) as client:
        yield client


def test_the_api_answer_is_worded_by_the_endpoint_with_only_supported_sentences(api, llm):
    llm.reply(
        "Kommunfullmäktige i Tibro beslutade att avslå förslaget om en specifik AI-strategi [1]. "
        "Strategin kostar 5 miljoner kronor [1]."
    )
    body = api.post("/api/ask", json={"question": "Vad beslutade Tibro om en AI-strategi?"}).json()
    assert body["generated"] is True
    assert body["answer"] == "Kommunfullmäktige i Tibro beslutade att avslå förslaget om en specifik AI-strategi [1]."
    assert [c["n"] for c in body["citations"]] == [1]
    quote = body["citations"][0]["quote"]
    assert quote.startswith("Kommunfullmäktige beslutar att avslå")
    request = llm.requests[-1]["json"]
    assert quote in json.dumps(request, ensure_ascii=False)


@pytest.mark.parametrize("status", [500, 200])
def test_the_api_falls_back_to_the_extractive_answer(api, llm, status):
    llm.status = status
    llm.reply(NO_ANSWER if status == 200 else "x")
    body = api.post("/api/ask", json={"question": "Vad beslutade Tibro om en AI-strategi?"}).json()
    assert body["generated"] is False and body["abstained"] is False
    assert body["answer"].startswith("Enligt Tibro kommun, kommunfullmäktige 2024-09-30, § 100: ”")
