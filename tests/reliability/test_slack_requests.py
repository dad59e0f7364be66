"""Requests that are not Slack's are refused without effect; a burst of real ones is not lost."""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from fake_slack import FakeSlack, sign
from pydantic import SecretStr

from bot.answer import Answer, Claim, Evidence, Source
from bot.config import Settings
from bot.slack.app import NewsbotApp, build_slack_app
from bot.slack.feedback import FEEDBACK_FILE, FeedbackStore
from bot.slack.server import MAX_BODY_BYTES, serve_http

from .support import mention_body

BOT_TOKEN = "xoxb-1111-2222-reliability-bot-token"
SECRET = "reliability-signing-secret-9d1c"
BURST = 200  # events in the burst; the README quotes it
BURST_CLIENTS = 50  # concurrent connections sending them
RETRIES = 20  # of those events, redelivered by "Slack" with X-Slack-Retry-Num


def quick_answer(question: str) -> Answer:
    return Answer(
        question=question,
        status="answered",
        summary=f"Answer to {question}",
        claims=[
            Claim(
                side="Reported",
                claimant="Wire",
                claim="x",
                evidence=[Evidence(source=1, quote="the quote")],
            )
        ],
        sources=[Source(id=1, title="t", path="/a.txt")],
    )


@dataclass
class Recorder:
    questions: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, question: str) -> Answer:
        with self.lock:
            self.questions.append(question)
        return quick_answer(question)


@dataclass
class Endpoint:
    app: NewsbotApp
    url: str
    slack: FakeSlack
    answerer: Recorder
    index_dir: Path

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.url.split("/")[2].split(":")
        return host, int(port)

    def post(
        self, body: str, headers: dict[str, str], content_type: str = "application/json"
    ) -> int:
        request = urllib.request.Request(self.url, data=body.encode(), method="POST")
        request.add_header("Content-Type", content_type)
        for name, value in headers.items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code

    def signed(
        self, body: str, *, timestamp: int | None = None, extra: dict[str, str] | None = None
    ) -> int:
        stamp = int(time.time()) if timestamp is None else timestamp
        headers = {
            "X-Slack-Request-Timestamp": str(stamp),
            "X-Slack-Signature": sign(body, stamp, SECRET),
        }
        return self.post(body, headers | (extra or {}))


def mention(ts: str, text: str = "Who controls Pokrovsk?", event_id: str | None = None) -> str:
    return mention_body(ts, text, event_id)


@pytest.fixture
def endpoint(tmp_path: Path) -> Iterator[Endpoint]:
    with FakeSlack() as slack:
        settings = Settings(
            index_dir=tmp_path / "index",
            slack_bot_token=SecretStr(BOT_TOKEN),
            slack_signing_secret=SecretStr(SECRET),
            slack_api_url=slack.url,
        )
        answerer = Recorder()
        app = build_slack_app(settings, answerer)
        server: ThreadingHTTPServer = serve_http(app, host="127.0.0.1", port=0)
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{server.server_address[1]}/slack/events"
        try:
            yield Endpoint(app, url, slack, answerer, tmp_path / "index")
        finally:
            server.shutdown()
            server.server_close()
            app.close()


def assert_no_side_effect(endpoint: Endpoint) -> None:
    assert endpoint.app.drain(10)
    assert endpoint.answerer.questions == []
    assert endpoint.slack.methods() == ["auth.test"]  # the app's own start-up check only
    assert not (endpoint.index_dir / FEEDBACK_FILE).exists()


# --- refused ----------------------------------------------------------------------------------

Forgery = Callable[[str], dict[str, str]]
_NOW = int(time.time())
FORGERIES: dict[str, Forgery] = {
    "unsigned": lambda body: {},
    "timestamp only": lambda body: {"X-Slack-Request-Timestamp": str(int(time.time()))},
    "signature only": lambda body: {"X-Slack-Signature": sign(body, _NOW, SECRET)},
    "forged signature": lambda body: {
        "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": "v0=" + "0" * 64,
    },
    "other secret": lambda body: {
        "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": sign(body, int(time.time()), "not-the-secret"),
    },
    "signature of another body": lambda body: {
        "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": sign(body + " ", int(time.time()), SECRET),
    },
    "replayed (6 minutes old)": lambda body: {
        "X-Slack-Request-Timestamp": str(int(time.time()) - 360),
        "X-Slack-Signature": sign(body, int(time.time()) - 360, SECRET),
    },
    "from the future": lambda body: {
        "X-Slack-Request-Timestamp": str(int(time.time()) + 360),
        "X-Slack-Signature": sign(body, int(time.time()) + 360, SECRET),
    },
    "malformed timestamp": lambda body: {
        "X-Slack-Request-Timestamp": "yesterday",
        "X-Slack-Signature": sign(body, _NOW, SECRET),
    },
}


@pytest.mark.parametrize("name", list(FORGERIES))
def test_requests_not_signed_by_slack_are_refused_with_no_side_effect(
    endpoint: Endpoint, name: str
) -> None:
    body = mention("100.1", event_id="EvForged")
    assert endpoint.post(body, FORGERIES[name](body)) == 401
    challenge = json.dumps({"type": "url_verification", "challenge": "abc", "token": "t"})
    assert endpoint.post(challenge, FORGERIES[name](challenge)) == 401
    click = "payload=" + json.dumps({"type": "block_actions", "actions": []})
    assert endpoint.post(click, FORGERIES[name](click), "application/x-www-form-urlencoded") == 401
    assert_no_side_effect(endpoint)
    # The refused request left no trace: the genuine event with the same id is still answered.
    assert endpoint.signed(body) == 200
    assert endpoint.app.drain(10)
    assert endpoint.answerer.questions == ["Who controls Pokrovsk?"]


def test_oversized_or_unframed_requests_are_refused_before_reading(endpoint: Endpoint) -> None:
    host, port = endpoint.address
    for headers, expected in [
        ({"Content-Length": str(MAX_BODY_BYTES + 1)}, 413),
        ({"Content-Length": str(50 * 1024 * 1024)}, 413),
        ({"Transfer-Encoding": "chunked"}, 411),
        ({"Content-Length": "-5"}, 411),
    ]:
        connection = http.client.HTTPConnection(host, port, timeout=10)
        connection.putrequest("POST", "/slack/events")
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        started = time.monotonic()
        assert connection.getresponse().status == expected, headers
        assert time.monotonic() - started < 5  # answered without waiting for a body
        connection.close()
    # A signed body over the limit is refused just the same, before it is sent.
    padded = mention("100.2")[:-1] + ', "pad": "' + "x" * MAX_BODY_BYTES + '"}'
    stamp = int(time.time())
    connection = http.client.HTTPConnection(host, port, timeout=10)
    connection.putrequest("POST", "/slack/events")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(len(padded.encode())))
    connection.putheader("X-Slack-Request-Timestamp", str(stamp))
    connection.putheader("X-Slack-Signature", sign(padded, stamp, SECRET))
    connection.endheaders()
    assert connection.getresponse().status == 413
    connection.close()
    assert endpoint.post("x", {"X-Slack-Signature": "v0=1"}, "text/plain") == 401
    assert_no_side_effect(endpoint)


def test_other_paths_and_methods_are_not_served(endpoint: Endpoint) -> None:
    body = mention("100.3")
    other = endpoint.url.replace("/slack/events", "/admin")
    request = urllib.request.Request(other, data=body.encode(), method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 404
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(endpoint.url, timeout=10)
    assert caught.value.code == 404
    assert_no_side_effect(endpoint)


# --- a burst ----------------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_a_burst_of_signed_events_is_answered_once_each_with_none_lost(
    endpoint: Endpoint,
) -> None:
    stamps = [f"{500 + n}.{n:06d}" for n in range(BURST)]
    deliveries = [(ts, None) for ts in stamps] + [(ts, "1") for ts in stamps[:RETRIES]]

    def deliver(item: tuple[str, str | None]) -> int:
        ts, retry = item
        extra = {"X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_timeout"}
        return endpoint.signed(mention(ts, f"Question {ts}?"), extra=extra if retry else None)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=BURST_CLIENTS) as pool:
        statuses = list(pool.map(deliver, deliveries))
    acknowledged = time.monotonic() - started
    assert statuses == [200] * len(deliveries)
    assert endpoint.app.drain(60), "answers still in flight"
    posts = endpoint.slack.wait_for("chat.postMessage", BURST)
    answered = sorted(p["thread_ts"] for p in posts)
    assert answered == sorted(stamps), "an event was lost or answered twice"
    assert sorted(endpoint.answerer.questions) == sorted(f"Question {ts}?" for ts in stamps)
    assert len(endpoint.slack.calls_to("reactions.add")) == BURST
    assert len(endpoint.slack.calls_to("reactions.remove")) == BURST
    print(f"\nburst: {BURST} events + {RETRIES} retries acknowledged in {acknowledged:.1f}s")


def test_feedback_store_is_untouched_by_a_forged_click(endpoint: Endpoint) -> None:
    payload = {
        "type": "block_actions",
        "user": {"id": "U9"},
        "channel": {"id": "C1"},
        "actions": [{"action_id": "feedback_down", "value": "abcdef123456"}],
    }
    body = "payload=" + json.dumps(payload)
    forged = {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=00"}
    assert endpoint.post(body, forged, "application/x-www-form-urlencoded") == 401
    assert_no_side_effect(endpoint)
    assert FeedbackStore.beside(endpoint.index_dir).counts() == {"up": 0, "down": 0}
