"""The web app of `newsbot serve`, through FastAPI's TestClient: the API contract, errors, the
token, the limits, and the page."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from conftest import FakeEmbeddings
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

import bot.embeddings
from bot.answer import Answer, Claim, Evidence, Source
from bot.chain import WarmAnswerer
from bot.cli import cli
from bot.config import MAX_QUESTION_CHARS, Settings
from bot.safety import normalise, quote_span
from bot.web.app import create_app
from bot.web.command import is_loopback
from bot.web.pages import arrange, web_link

POKROVSK = "Who controls Pokrovsk?"
TOKEN = "web-token-5f2a9c71"


class Clock:
    """A clock the rate limiter reads; tests move it on."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def fake_model(commands_embed_with_fake):
    """The CLI and the app both embed with the fake."""
    return commands_embed_with_fake


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory, seed_dir) -> Path:
    """Ingest the seeds once per module, with the same fake embedder the tests use."""
    folder = tmp_path_factory.mktemp("web-seeds") / "index"
    with pytest.MonkeyPatch.context() as mp:
        fake = FakeEmbeddings()
        mp.setattr(bot.embeddings, "default_embeddings", lambda *a, **k: fake)
        result = CliRunner().invoke(cli, ["ingest", str(seed_dir), "--index", str(folder)])
    assert result.exit_code == 0, result.output
    return folder


@pytest.fixture
def seeded(seed_index, isolated_env) -> Path:
    """Give the test its own copy of the seed index, where NEWSBOT_INDEX_DIR points."""
    shutil.copytree(seed_index, isolated_env)
    return isolated_env


def client_for(settings: Settings | None = None, **kwargs) -> TestClient:
    return TestClient(create_app(settings or Settings(), **kwargs))


@pytest.fixture
def client(seeded) -> Iterator[TestClient]:
    with client_for() as c:
        yield c


# --- the API contract -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "options"),
    [
        ({"question": POKROVSK}, []),
        (
            {"question": "Who controls Pokrovsk? ", "k": 3, "outlet": "Reuters"},
            ["-k", "3", "--outlet", "Reuters"],
        ),
        ({"question": POKROVSK, "since": "2025-12-02"}, ["--since", "2025-12-02"]),
        ({"question": "Who won the 2031 chess final?"}, []),
    ],
)
def test_ask_returns_byte_for_byte_what_ask_json_prints(runner, client, body, options) -> None:
    printed = runner.invoke(cli, ["ask", body["question"], "--json", *options])
    assert printed.exit_code == 0, printed.output
    response = client.post("/api/ask", json=body)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.text == printed.stdout
    assert response.json()["question"] == body["question"].strip()


def test_the_seeds_answer_is_contested_with_both_camps_through_the_api(client) -> None:
    answer = client.post("/api/ask", json={"question": POKROVSK}).json()
    assert answer["status"] == "contested"
    sides = {claim["side"] for claim in answer["claims"]}
    assert any("Russia" in s for s in sides) and any("Ukrain" in s for s in sides)


def test_filters_reach_the_answerer(client) -> None:
    answer = client.post("/api/ask", json={"question": POKROVSK, "outlet": "Reuters"}).json()
    assert answer["sources"] and {s["outlet"] for s in answer["sources"]} == {"Reuters"}
    nowhere = client.post("/api/ask", json={"question": POKROVSK, "outlet": "Nowhere"}).json()
    assert nowhere["status"] == "not_found" and nowhere["sources"] == []


def test_sources_lists_what_sources_json_prints(runner, client) -> None:
    printed = runner.invoke(cli, ["sources", "--json"])
    assert printed.exit_code == 0, printed.output
    expected = [json.loads(line) for line in printed.stdout.splitlines()]
    response = client.get("/api/sources")
    assert response.status_code == 200
    assert response.json() == expected and len(expected) == 2


def test_healthz_reports_the_index(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body.pop("generation")  # which ingest the answers come from
    assert body == {"status": "ok", "articles": 2, "chunks": 18}


def test_openapi_docs_describe_the_api(client) -> None:
    schema = client.get("/openapi.json").json()
    assert set(schema["paths"]) == {"/api/ask", "/api/sources", "/healthz"}
    ask = schema["paths"]["/api/ask"]["post"]
    assert {"200", "400", "401", "404", "413", "429", "503"} <= set(ask["responses"])
    assert client.get("/docs").status_code == 200


# --- errors -----------------------------------------------------------------------------------


def error_of(response) -> str:
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    return str(body["error"])


def test_an_over_long_question_is_refused_as_the_cli_refuses_it(runner, client) -> None:
    question = "Who controls Pokrovsk? " + "x" * MAX_QUESTION_CHARS
    printed = runner.invoke(cli, ["ask", question, "--json"])
    assert printed.exit_code == 1
    response = client.post("/api/ask", json={"question": question})
    assert response.status_code == 400
    assert printed.stderr.strip() == f"Error: {error_of(response)}"
    assert "the limit is 1000" in error_of(response)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"question": "   "}, "the question is empty"),
        ({}, "invalid request: question: Field required"),
        ({"question": 7}, "invalid request: question: Input should be a valid string"),
        ({"question": POKROVSK, "k": 0}, "k: Input should be greater than or equal to 1"),
        ({"question": POKROVSK, "k": 101}, "k: Input should be less than or equal to 100"),
        ({"question": POKROVSK, "since": "yesterday"}, "since: 'yesterday' is not a date"),
        ({"question": POKROVSK, "until": "12/01/2025"}, "until: '12/01/2025' is not a date"),
        ({"question": POKROVSK, "top": 3}, "top: Extra inputs are not permitted"),
    ],
)
def test_bad_input_is_400_with_a_clear_message(client, body, message) -> None:
    response = client.post("/api/ask", json=body)
    assert response.status_code == 400
    assert message in error_of(response)


def test_a_body_that_is_not_json_is_400(client) -> None:
    response = client.post(
        "/api/ask", content=b'{"question": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert error_of(response).startswith("invalid request: ")


def test_no_index_is_404_and_the_server_finds_it_once_ingested(runner, seed_dir) -> None:
    with client_for() as c:
        response = c.post("/api/ask", json={"question": POKROVSK})
        assert response.status_code == 404
        assert error_of(response).startswith("no index at ")
        assert c.get("/api/sources").status_code == 404
        assert c.get("/healthz").status_code == 503
        assert runner.invoke(cli, ["ingest", str(seed_dir)]).exit_code == 0
        assert c.post("/api/ask", json={"question": POKROVSK}).status_code == 200
        assert c.get("/healthz").json()["articles"] == 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_chroma_server_that_is_down_is_503(seeded) -> None:
    settings = Settings(chroma_host="127.0.0.1", chroma_port=free_port())
    with client_for(settings) as c:
        response = c.post("/api/ask", json={"question": POKROVSK})
        assert response.status_code == 503
        assert "Chroma server unreachable" in error_of(response)
        assert c.get("/healthz").status_code == 503


def test_a_model_that_cannot_be_loaded_is_503(seeded) -> None:
    with client_for(Settings(llm="nosuchprovider:some-model")) as c:
        response = c.post("/api/ask", json={"question": POKROVSK})
        assert response.status_code == 503
        assert error_of(response).startswith("model 'nosuchprovider:some-model' is unavailable")


def test_a_bug_is_500_with_one_line_and_logged(seeded, caplog) -> None:
    answerer = WarmAnswerer(Settings())

    def broken(*args, **kwargs):
        raise KeyError("a secret detail")

    answerer.get().retrieve = broken  # type: ignore[method-assign]
    with TestClient(create_app(Settings(), answerer), raise_server_exceptions=False) as c:
        response = c.post("/api/ask", json={"question": POKROVSK})
    assert response.status_code == 500
    assert error_of(response) == "unexpected error (KeyError); it has been logged"
    assert any(r.exc_info and r.exc_info[0] is KeyError for r in caplog.records)


def test_unknown_api_paths_and_methods_are_json_errors(client) -> None:
    assert client.get("/api/nothing").status_code == 404
    assert error_of(client.get("/api/nothing")) == "Not Found"
    assert client.get("/api/ask").status_code == 405
    assert error_of(client.get("/api/ask")) == "Method Not Allowed"


# --- the token --------------------------------------------------------------------------------


@pytest.fixture
def guarded(seeded) -> Iterator[TestClient]:
    with client_for(Settings(api_token=SecretStr(TOKEN))) as c:
        yield c


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
        {"Authorization": f"Bearer {TOKEN}x"},
    ],
)
def test_the_api_needs_the_token_when_one_is_set(guarded, headers) -> None:
    for response in (
        guarded.post("/api/ask", json={"question": POKROVSK}, headers=headers),
        guarded.get("/api/sources", headers=headers),
    ):
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "bearer token" in error_of(response)
        assert TOKEN not in response.text


def test_the_right_token_opens_the_api(guarded) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    response = guarded.post("/api/ask", json={"question": POKROVSK}, headers=headers)
    assert response.status_code == 200 and response.json()["status"] == "contested"
    assert guarded.get("/api/sources", headers=headers).status_code == 200


def test_without_a_token_set_the_api_is_open(client) -> None:
    assert client.get("/api/sources").status_code == 200


def test_the_token_guards_only_the_api(guarded) -> None:
    assert guarded.get("/healthz").status_code == 200
    assert guarded.get("/").status_code == 200


# --- limits -----------------------------------------------------------------------------------


def test_too_many_requests_from_one_client_get_429_until_it_waits(seeded) -> None:
    clock = Clock()
    with client_for(Settings(rate_limit=3), clock=clock) as c:
        for _ in range(3):
            assert c.get("/api/sources").status_code == 200
        refused = c.post("/api/ask", json={"question": POKROVSK})
        assert refused.status_code == 429
        assert error_of(refused) == "too many requests: the limit is 3 a minute"
        assert refused.headers["retry-after"] == "20"
        assert c.get("/").status_code == 429  # the page counts too, and says so in plain text
        assert c.get("/healthz").status_code == 200  # health checks are never limited
        clock.now += 20
        assert c.get("/api/sources").status_code == 200
        assert c.get("/api/sources").status_code == 429


def test_the_rate_limit_is_per_client(seeded) -> None:
    app = create_app(Settings(rate_limit=1), clock=Clock())
    with TestClient(app, client=("10.0.0.1", 5000)) as first:
        assert first.get("/api/sources").status_code == 200
        assert first.get("/api/sources").status_code == 429
    with TestClient(app, client=("10.0.0.2", 5000)) as second:
        assert second.get("/api/sources").status_code == 200


def test_a_rate_limit_of_0_is_no_limit(seeded) -> None:
    with client_for(Settings(rate_limit=0)) as c:
        assert all(c.get("/api/sources").status_code == 200 for _ in range(100))


def test_a_body_over_the_limit_is_413(seeded) -> None:
    with client_for(Settings(max_request_bytes=1024)) as c:
        big = {"question": POKROVSK, "outlet": "x" * 2000}
        response = c.post("/api/ask", json=big)
        assert response.status_code == 413
        assert error_of(response) == "request body too large: the limit is 1024 bytes"
        # A chunked body declares no length; it is counted as it arrives.
        chunks = (
            b'{"question": "' + b"x" * 600 + b'"}' if i == 0 else b" " * 600 for i in range(3)
        )
        streamed = c.post("/api/ask", content=chunks, headers={"content-type": "application/json"})
        assert streamed.status_code == 413
        fits = c.post("/api/ask", json={"question": POKROVSK})
        assert fits.status_code == 200


# --- the page ---------------------------------------------------------------------------------


def camps_of(html: str) -> list[str]:
    return re.findall(r'<section class="camp" data-side="([^"]*)">', html)


def test_the_page_has_a_question_box(client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert re.search(r'<input id="q" name="q" type="search" maxlength="1000"', page.text)
    assert "<script" not in page.text


def test_the_page_shows_one_column_per_camp_with_linked_quotes(client) -> None:
    page = client.get("/", params={"q": POKROVSK})
    assert page.status_code == 200
    answer = client.post("/api/ask", json={"question": POKROVSK}).json()
    expected = [c for c in dict.fromkeys(c["side"] for c in answer["claims"])]
    assert camps_of(page.text) == expected
    links = re.findall(r'<a class="quote" href="([^"]+)">', page.text)
    quotes = [e["quote"] for c in answer["claims"] + answer["verification"] for e in c["evidence"]]
    assert len(links) == len(quotes)
    for href, quote in zip(links, quotes, strict=True):
        url = urlsplit(href.replace("&amp;", "&"))
        assert url.path.startswith("/articles/") and url.fragment == "quote"
        assert parse_qs(url.query)["quote"] == [quote]


def test_a_citation_opens_the_article_with_the_quote_marked(client) -> None:
    page = client.get("/", params={"q": POKROVSK})
    href = re.findall(r'<a class="cite" href="([^"]+)"', page.text)[0].replace("&amp;", "&")
    quote = parse_qs(urlsplit(href).query)["quote"][0]
    article = client.get(href)
    assert article.status_code == 200
    marked = re.findall(r'<mark id="quote">(.*?)</mark>', article.text, re.S)
    assert len(marked) == 1
    shown = marked[0].replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")
    assert normalise(shown) == normalise(quote)


def article_link(client: TestClient, outlet: str) -> str:
    """Return the path of an outlet's article page, from the Sources list of the page."""
    page = client.get("/", params={"q": POKROVSK}).text
    return re.findall(rf'<a href="(/articles/[0-9a-f]+)">{outlet}: ', page)[0]


def test_a_quote_with_other_whitespace_and_quote_marks_is_still_found(client) -> None:
    quote = "“I  want to\nthank you. This is an important direction."
    article = client.get(article_link(client, "Reuters"), params={"quote": quote})
    assert re.search(
        r'<mark id="quote">&#34;I want to thank you\. This is an important direction', article.text
    )


def test_an_unknown_article_or_quote_says_so(client) -> None:
    missing = client.get("/articles/0000000000000000")
    assert missing.status_code == 404 and "No such article" in missing.text
    path = article_link(client, "Reuters")
    elsewhere = client.get(path, params={"quote": "not in this article at all"})
    assert elsewhere.status_code == 200
    assert "The quoted passage is not in this text." in elsewhere.text
    assert "<mark" not in elsewhere.text


def test_a_follow_up_keeps_the_thread_in_the_url(client) -> None:
    first = client.get("/", params={"q": POKROVSK})
    assert '<input type="hidden" name="t" value="Who controls Pokrovsk?">' in first.text
    follow = client.get("/", params={"q": "and Vovchansk?", "t": POKROVSK})
    assert '<h1 class="question">Who controls Vovchansk?</h1>' in follow.text
    assert "You asked “and Vovchansk?”." in follow.text
    hidden = re.findall(r'<input type="hidden" name="t" value="([^"]*)">', follow.text)
    assert hidden == [POKROVSK, "Who controls Vovchansk?"]
    again = client.get("/", params={"q": "what about Kupiansk?", "t": hidden})
    assert '<h1 class="question">Who controls Kupiansk?</h1>' in again.text


def test_page_errors_are_shown_with_their_status(client) -> None:
    long = client.get("/", params={"q": "x" * (MAX_QUESTION_CHARS + 1)})
    assert long.status_code == 400 and "the limit is 1000" in long.text
    with client_for(Settings(index_dir=Path("/nonexistent/index"))) as empty:
        page = empty.get("/", params={"q": POKROVSK})
        assert page.status_code == 404 and "no index at" in page.text


def test_pages_forbid_scripts_and_framing(client) -> None:
    for path in ("/", f"/?q={POKROVSK}", "/api/sources", "/static/style.css"):
        headers = client.get(path).headers
        policy = headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy
        assert "frame-ancestors 'none'" in policy
        assert headers["x-content-type-options"] == "nosniff"


def test_hostile_text_is_escaped_in_the_answer_and_the_article(runner, tmp_path) -> None:
    from reliability.hostile import HOSTILE, PWNED

    folder = tmp_path / "hostile"
    folder.mkdir()
    (folder / "orvell.txt").write_text(HOSTILE, encoding="utf-8")
    assert runner.invoke(cli, ["ingest", str(folder)]).exit_code == 0
    with client_for() as c:
        page = c.get("/", params={"q": "Who runs the sluice gates of Lake Orvell?"}).text
        assert "&lt;script&gt;window.__pwned=1;alert(1)&lt;/script&gt;" in page
        href = re.findall(r'<a class="cite" href="([^"]+)"', page)[0].replace("&amp;", "&")
        article = c.get(href).text
        for html in (page, article):
            assert "<script" not in html and "<img" not in html and PWNED in html
            assert "&lt;img src=x onerror=&#34;window.__pwned=1&#34;&gt;" in html


# --- small parts ------------------------------------------------------------------------------


def test_arrange_puts_camps_in_columns_and_other_voices_below() -> None:
    def said(side: str, who: str) -> Claim:
        return Claim(side=side, claimant=who, claim="x", evidence=[Evidence(source=1, quote="x")])

    answer = Answer(
        question="Who controls Port Ellis?",
        status="contested",
        summary="Contested.",
        claims=[
            said("Northland", "the Northland army"),
            said("Reported", "Harbour Gazette"),
            said("Southland", "the Southland navy"),
            said("Northland", "Northland's president"),
            said("", "an eyewitness"),
            said("Independent", "a monitoring group"),
        ],
        independent=[said("Independent", "a water analyst")],
        verification=[said("Verification", "Harbour Gazette")],
        sources=[Source(id=1, title="t", path="/x.txt")],
    )
    camps, outside, verification = arrange(answer)
    assert [(side, [c.claimant for c in claims]) for side, claims in camps] == [
        ("Northland", ["the Northland army", "Northland's president"]),
        ("Southland", ["the Southland navy"]),
    ]
    assert [c.claimant for c in outside] == [
        "Harbour Gazette",
        "an eyewitness",
        "a monitoring group",
        "a water analyst",
    ]
    assert verification == answer.verification


@given(st.text(max_size=300), st.data())
def test_quote_span_finds_what_the_verifier_finds(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    quote = text[start:end]
    span = quote_span(text, quote)
    if not normalise(quote):
        assert span is None
        return
    assert span is not None
    assert normalise(text[span[0] : span[1]]) == normalise(quote)


def test_quote_span_tolerates_whitespace_and_typographic_marks() -> None:
    text = 'The mayor said:\n  "the port  is\topen" on Monday.'
    assert quote_span(text, "“the port is open”") == (18, 37)
    assert text[18:37] == '"the port  is\topen"'
    assert quote_span(text, "the port is closed") is None


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://example.org/a?b=1", "https://example.org/a?b=1"),
        ("http://example.org", "http://example.org"),
        ("javascript:alert(1)", None),
        (" JavaScript:alert(1)", None),
        ("data:text/html,<script>alert(1)</script>", None),
        ("//example.org/x", None),
        (None, None),
    ],
)
def test_only_web_links_are_linked(url, shown) -> None:
    assert web_link(url) == shown


# --- the command ------------------------------------------------------------------------------


def test_serve_refuses_a_port_in_use_with_one_line(runner) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(cli, ["serve", "--port", str(port)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith(f"Error: cannot listen on 127.0.0.1:{port}: ")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("port", ["0", "65536", "web"])
def test_serve_rejects_a_bad_port(runner, port) -> None:
    result = runner.invoke(cli, ["serve", "--port", port])
    assert result.exit_code == 2 and "Invalid value for '--port'" in result.stderr


@pytest.mark.timeout(120)
def test_serve_listens_on_127_0_0_1_by_default(tmp_path) -> None:
    import httpx

    port = free_port()
    command = [sys.executable, "-m", "bot", "serve", "--port", str(port)]
    env = {**os.environ, "NEWSBOT_INDEX_DIR": str(tmp_path / "none")}
    server = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        assert health.status_code == 503 and "no index at" in health.json()["error"]
        with pytest.raises(ConnectionRefusedError):  # bound to 127.0.0.1 alone, not to all
            socket.create_connection(("127.0.0.2", port), timeout=2).close()
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=30)
    assert "warning: no index at" in stderr
    assert f"newsbot: serving http://127.0.0.1:{port}/" in stderr


@pytest.mark.parametrize(
    ("host", "private"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("news.example.org", False),
    ],
)
def test_only_loopback_addresses_count_as_private(host, private) -> None:
    assert is_loopback(host) is private
