"""Tests for the Slack app: a real Bolt app over HTTP against a local fake of the Slack Web API."""

from __future__ import annotations

import http.client
import json
import logging
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml
from click.testing import CliRunner
from fake_slack import FakeSlack, event_body, sign
from fake_slack import block_texts as texts
from pydantic import SecretStr

from bot.answer import Answer, Claim, Evidence, Source, cite
from bot.config import Settings
from bot.errors import IndexNotFound, StoreUnavailable
from bot.slack.app import NewsbotApp, build_slack_app
from bot.slack.blocks import (
    MAX_BLOCKS,
    MAX_CONTEXT_ELEMENTS,
    MAX_TEXT,
    answer_blocks,
    split_messages,
)
from bot.slack.feedback import FeedbackStore
from bot.slack.server import serve_http

REPO = Path(__file__).resolve().parents[1]
BOT_TOKEN = "xoxb-test-0000-secret-bot-token"
SIGNING_SECRET = "test-signing-secret-5f2d"
WAIT = 10.0


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(users={"U2": "Dana Reyes"}) as fake:
        yield fake


# --- fake answerers -------------------------------------------------------------------------


def pokrovsk(question: str) -> Answer:
    """Return a hand-built contested answer with two sides and two sources."""
    return Answer(
        question=question,
        status="contested",
        summary="Sources disagree on who controls Pokrovsk.",
        claims=[
            Claim(
                side="Russia",
                claimant="Vladimir Putin",
                claim="Russian forces have fully captured Pokrovsk.",
                evidence=[Evidence(source=1, quote="Russian forces had fully captured Pokrovsk")],
                published="2025-12-02",
            ),
            Claim(
                side="Ukraine",
                claimant="Ukraine's 7th Rapid Response Corps",
                claim="Ukrainian forces still hold the northern part of Pokrovsk.",
                evidence=[
                    Evidence(source=2, quote="its forces still held the northern part"),
                    Evidence(source=1, quote="fighting continued in the north"),
                ],
                published="2025-12-02",
            ),
        ],
        verification=[
            Claim(
                side="Reuters",
                claimant="Reuters",
                claim="Reuters could not verify either account.",
                evidence=[Evidence(source=1, quote="Reuters could not independently verify")],
            )
        ],
        notes=["Both reports are from December 2."],
        sources=[
            Source(
                id=1,
                title="Putin says Russia has captured Pokrovsk",
                outlet="Reuters",
                published="2025-12-02",
                url="https://www.reuters.com/world/pokrovsk?a=1&b=2",
                path="/data/reuters.txt",
            ),
            Source(
                id=2,
                title="Ukraine says it holds northern Pokrovsk",
                outlet="Kyiv Independent",
                published="2025-12-02",
                url=None,
                path="/data/kyiv.txt",
            ),
        ],
    )


def hostile(question: str) -> Answer:
    """Return an answer whose article text tries to ping everyone."""
    answer = pokrovsk(question)
    answer.summary = "Alert <!channel> & <!here>: sources disagree"
    answer.claims[0].side = "Russia <@U123>"
    answer.claims[0].claimant = "<!subteam^S1> spokesman"
    answer.claims[0].evidence[0].quote = "<!channel> Russian forces <@U123> & friends captured it"
    answer.sources[0].title = "Breaking <!everyone> <https://evil.example|click>"
    answer.sources[0].url = "https://example.com/a?x=<!channel>|y>z"
    return answer


@dataclass
class FakeAnswerer:
    """Records the standalone questions it is sent; answers, waits, or fails as told."""

    answer: Callable[[str], Answer] = pokrovsk
    error: Exception | None = None
    gate: threading.Event | None = None
    questions: list[str] = field(default_factory=list)

    def __call__(self, question: str) -> Answer:
        self.questions.append(question)
        if self.gate is not None:
            assert self.gate.wait(WAIT)
        if self.error is not None:
            raise self.error
        return self.answer(question)


# --- the app under test, over HTTP ----------------------------------------------------------


@dataclass
class Bot:
    """The Bolt app served on a free port, and ways to send it what Slack sends."""

    app: NewsbotApp
    url: str
    slack: FakeSlack
    answerer: FakeAnswerer
    store: FeedbackStore

    def post(
        self,
        body: str,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        timestamp: int | None = None,
        signature: str | None = None,
    ) -> int:
        timestamp = int(time.time()) if timestamp is None else timestamp
        request = urllib.request.Request(self.url, data=body.encode(), method="POST")
        request.add_header("Content-Type", content_type)
        request.add_header("X-Slack-Request-Timestamp", str(timestamp))
        request.add_header("X-Slack-Signature", signature or sign(body, timestamp, SIGNING_SECRET))
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=WAIT) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code

    def event(self, event: dict[str, Any], event_id: str = "Ev1", **kwargs: Any) -> int:
        return self.post(event_body(event, event_id), "application/json", **kwargs)

    def mention(self, text: str, ts: str = "100.1", **kwargs: Any) -> int:
        # Slack stores the message, then delivers its event.
        said = self.slack.say(f"<@UBOT> {text}", ts=ts)
        event = said | {"type": "app_mention", "channel": "C1", "event_ts": ts}
        return self.event(event, event_id=f"Ev{ts}", **kwargs)

    def reply(self, text: str, ts: str, thread_ts: str, event_id: str | None = None) -> int:
        said = self.slack.say(text, ts=ts, thread_ts=thread_ts)
        event = said | {"channel_type": "channel", "channel": "C1", "event_ts": ts}
        return self.event(event, event_id=event_id or f"Ev{ts}")

    def direct(self, text: str, ts: str, event_id: str, thread_ts: str | None = None) -> int:
        said = self.slack.say(text, ts=ts, channel="D1", thread_ts=thread_ts)
        event = said | {"channel_type": "im", "channel": "D1", "event_ts": ts}
        return self.event(event, event_id=event_id)

    def command(self, text: str) -> int:
        form = {
            "token": "verification-token",
            "team_id": "T1",
            "channel_id": "C1",
            "user_id": "U1",
            "command": "/newsbot",
            "text": text,
            "response_url": self.slack.url + "response",
            "trigger_id": "1.2.3",
        }
        return self.post(urlencode(form), "application/x-www-form-urlencoded")

    def click(self, action_id: str, value: str, user: str, thread: str = "100.1") -> int:
        payload = {
            "type": "block_actions",
            "user": {"id": user, "team_id": "T1"},
            "team": {"id": "T1"},
            "api_app_id": "A1",
            "container": {"type": "message", "message_ts": "2000000000.000002"}
            | {"channel_id": "C1", "is_ephemeral": False, "thread_ts": thread},
            "channel": {"id": "C1", "name": "news"},
            "message": {"type": "message", "ts": "2000000000.000002", "thread_ts": thread}
            | {"text": "Sources disagree on who controls Pokrovsk."},
            "actions": [
                {"type": "button", "action_id": action_id, "block_id": f"feedback:{value}"}
                | {"value": value, "action_ts": str(time.time())}
            ],
            "response_url": self.slack.url + "response",
            "trigger_id": "1.2.3",
        }
        body = urlencode({"payload": json.dumps(payload)})
        return self.post(body, "application/x-www-form-urlencoded")

    def drain(self) -> None:
        assert self.app.drain(WAIT), "answers still in flight"


@pytest.fixture
def make_bot(slack: FakeSlack, tmp_path: Path) -> Iterator[Callable[..., Bot]]:
    started: list[tuple[NewsbotApp, ThreadingHTTPServer]] = []

    def make(answerer: FakeAnswerer | None = None) -> Bot:
        settings = Settings(
            index_dir=tmp_path / "index",
            slack_bot_token=SecretStr(BOT_TOKEN),
            slack_signing_secret=SecretStr(SIGNING_SECRET),
            slack_api_url=slack.url,
        )
        answerer = answerer or FakeAnswerer()
        store = FeedbackStore.beside(settings.index_dir)
        app = build_slack_app(settings, answerer, feedback_store=store)
        server = serve_http(app, host="127.0.0.1", port=0)
        serve = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        serve.start()
        started.append((app, server))
        url = f"http://127.0.0.1:{server.server_address[1]}/slack/events"
        return Bot(app, url, slack, answerer, store)

    yield make
    for app, server in started:
        server.shutdown()
        server.server_close()
        app.close()


@pytest.fixture
def bot(make_bot: Callable[..., Bot]) -> Bot:
    return make_bot()


def posted_blocks(slack: FakeSlack, method: str = "chat.postMessage") -> list[dict[str, Any]]:
    return [block for call in slack.calls_to(method) for block in call.get("blocks") or []]


# --- events ---------------------------------------------------------------------------------


def test_mention_gets_eyes_and_a_threaded_answer_with_sides_and_sources(bot: Bot) -> None:
    assert bot.mention("Who controls Pokrovsk?") == 200
    bot.drain()

    assert bot.answerer.questions == ["Who controls Pokrovsk?"]
    (added,) = bot.slack.calls_to("reactions.add")
    assert added.items() >= {"channel": "C1", "timestamp": "100.1", "name": "eyes"}.items()
    (message,) = bot.slack.calls_to("chat.postMessage")
    assert message["channel"] == "C1" and message["thread_ts"] == "100.1"
    assert message["text"] == "Sources disagree on who controls Pokrovsk."
    text = "\n".join(texts(message["blocks"]))
    assert "*Russia*" in text and "*Ukraine*" in text
    assert "“Russian forces had fully captured Pokrovsk” [1]" in text
    assert "“its forces still held the northern part” [2][1]" in text
    assert "*Verification*" in text and "Both reports are from December 2." in text
    assert "[1] <https://www.reuters.com/world/pokrovsk?a=1&amp;b=2|Reuters: Putin says" in text
    assert "[2] Kyiv Independent: Ukraine says it holds northern Pokrovsk (2025-12-02)" in text
    # The eyes go once the answer is posted.
    assert bot.slack.calls_to("reactions.remove") == [added]
    methods = bot.slack.methods()
    assert methods.index("reactions.add") < methods.index("chat.postMessage")
    assert methods.index("chat.postMessage") < methods.index("reactions.remove")


def test_eyes_come_at_once_and_the_answer_off_the_request_path(
    make_bot: Callable[..., Bot],
) -> None:
    gate = threading.Event()
    bot = make_bot(FakeAnswerer(gate=gate))
    started = time.monotonic()
    assert bot.mention("Who controls Pokrovsk?") == 200
    assert time.monotonic() - started < 2.5  # Slack retries what is not acknowledged in 3 s
    assert bot.slack.wait_for("reactions.add")
    assert bot.slack.calls_to("chat.postMessage") == []
    gate.set()
    bot.drain()
    assert len(bot.slack.calls_to("chat.postMessage")) == 1


def test_follow_up_in_the_thread_needs_no_mention_and_keeps_the_context(bot: Bot) -> None:
    bot.mention("Who controls Pokrovsk?", ts="100.1")
    bot.drain()
    assert bot.reply("and Vovchansk?", ts="100.2", thread_ts="100.1") == 200
    bot.drain()

    assert bot.answerer.questions == ["Who controls Pokrovsk?", "Who controls Vovchansk?"]
    replies = bot.slack.calls_to("chat.postMessage")
    assert [r["thread_ts"] for r in replies] == ["100.1", "100.1"]
    assert "Who controls Vovchansk?" in texts(replies[1]["blocks"])[0]


def test_messages_outside_the_bots_threads_are_left_alone(bot: Bot) -> None:
    bot.slack.say("Big news from the front today", ts="200.1")
    bot.reply("and Vovchansk?", ts="200.2", thread_ts="200.1")
    top = {"type": "message", "channel_type": "channel", "channel": "C1", "user": "U1"}
    bot.event(top | {"text": "Who controls Pokrovsk?", "ts": "300.1"}, event_id="Ev300")
    bot.drain()
    assert bot.answerer.questions == []
    assert not {"chat.postMessage", "reactions.add"} & set(bot.slack.methods())
    # In the bot's own thread, a message addressed to someone else is not for the bot either.
    bot.mention("Who controls Pokrovsk?", ts="100.1")
    bot.drain()
    bot.reply("<@U2> what do you make of this?", ts="100.2", thread_ts="100.1")
    bot.drain()
    assert bot.answerer.questions == ["Who controls Pokrovsk?"]


def test_direct_message_is_answered_in_its_thread(bot: Bot) -> None:
    bot.direct("Who controls Pokrovsk?", ts="400.1", event_id="EvD1")
    bot.drain()
    bot.direct("what about Vovchansk?", ts="400.2", event_id="EvD2")
    bot.drain()
    bot.direct("and Myrnohrad?", ts="400.3", event_id="EvD3", thread_ts="400.2")
    bot.drain()

    assert bot.answerer.questions == [
        "Who controls Pokrovsk?",
        "Who controls Vovchansk?",
        "Who controls Myrnohrad?",
    ]
    replies = bot.slack.calls_to("chat.postMessage")
    assert [(r["channel"], r["thread_ts"]) for r in replies] == [
        ("D1", "400.1"),
        ("D1", "400.2"),
        ("D1", "400.2"),
    ]


def test_a_follow_up_is_understood_by_a_replica_that_never_saw_the_thread(
    make_bot: Callable[..., Bot],
) -> None:
    first, second = make_bot(), make_bot()
    first.mention("Who controls Pokrovsk?", ts="100.1")
    first.drain()
    # Slack delivers the follow-up to another replica (or to this one, restarted).
    assert second.reply("and Vovchansk?", ts="100.2", thread_ts="100.1") == 200
    second.drain()
    assert first.answerer.questions == ["Who controls Pokrovsk?"]
    assert second.answerer.questions == ["Who controls Vovchansk?"]
    second.reply("what about Myrnohrad?", ts="100.3", thread_ts="100.1")
    second.drain()
    assert second.answerer.questions[-1] == "Who controls Myrnohrad?"
    # The thread was read from Slack, with the metadata that says what each answer answered.
    reads = second.slack.calls_to("conversations.replies")
    wanted = {"channel": "C1", "ts": "100.1", "include_all_metadata": "1"}
    assert reads and all(read.items() >= wanted.items() for read in reads)


def test_replies_carry_the_question_they_answered(bot: Bot) -> None:
    bot.mention("Who controls Pokrovsk?", ts="100.1")
    bot.drain()
    (message,) = bot.slack.calls_to("chat.postMessage")
    assert message["metadata"] == {
        "event_type": "newsbot_answer",
        "event_payload": {"question": "Who controls Pokrovsk?", "reply_to": "100.1"},
    }


def test_a_message_delivered_to_two_replicas_is_answered_once(
    make_bot: Callable[..., Bot],
) -> None:
    gate = threading.Event()
    first, second = make_bot(FakeAnswerer(gate=gate)), make_bot()
    first.mention("Who controls Pokrovsk?", ts="100.1")
    assert first.slack.wait_for("reactions.add")
    # Slack's retry reaches the other replica while the first is still answering ...
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    event = {"type": "app_mention", "user": "U1", "text": "<@UBOT> Who controls Pokrovsk?"}
    event |= {"ts": "100.1", "channel": "C1", "event_ts": "100.1"}
    assert second.event(event, event_id="Ev100.1", headers=retry) == 200
    second.drain()
    gate.set()
    first.drain()
    # ... and again once the answer is posted and the :eyes: are gone.
    assert second.event(event, event_id="Ev100.1", headers=retry) == 200
    third = make_bot()
    assert third.event(event, event_id="Ev100.1", headers=retry) == 200
    second.drain()
    third.drain()
    assert first.answerer.questions == ["Who controls Pokrovsk?"]
    assert second.answerer.questions == [] and third.answerer.questions == []
    assert len(first.slack.calls_to("chat.postMessage")) == 1


def test_mentioned_users_are_named_and_markup_is_undone(bot: Bot) -> None:
    bot.mention("*What* did <@U2> and <@U9> say about <https://x.example/p|Pokrovsk> :eyes:?")
    bot.drain()
    assert bot.answerer.questions == ["What did Dana Reyes and say about Pokrovsk?"]
    assert [c["user"] for c in bot.slack.calls_to("users.info")] == ["U2", "U9"]


def test_the_bots_own_messages_and_edits_are_ignored(bot: Bot) -> None:
    bot.mention("Who controls Pokrovsk?", ts="100.1")
    bot.drain()
    own = {"type": "message", "channel_type": "channel", "channel": "C1", "user": "UBOT"}
    bot.event(own | {"text": "Sources disagree", "ts": "100.5", "thread_ts": "100.1"}, "EvOwn")
    edit = {"type": "message", "subtype": "message_changed", "channel": "C1", "ts": "100.6"}
    bot.event(edit | {"channel_type": "channel", "thread_ts": "100.1"}, event_id="EvEdit")
    bot.drain()
    assert bot.answerer.questions == ["Who controls Pokrovsk?"]


def test_forged_or_stale_signatures_get_401_and_no_answer(bot: Bot) -> None:
    forged = "v0=" + "0" * 64
    assert bot.mention("Who controls Pokrovsk?", ts="1.1", signature=forged) == 401
    wrong_secret = int(time.time())
    body_sig = sign("{}", wrong_secret, "not-the-secret")
    assert bot.mention("Who controls Pokrovsk?", ts="1.2", signature=body_sig) == 401
    # Correctly signed, but five minutes old: a replay.
    stale = int(time.time()) - 5 * 60 - 30
    event = {
        "type": "app_mention",
        "user": "U1",
        "text": "<@UBOT> hi",
        "ts": "1.3",
        "channel": "C1",
    }
    body = json.dumps({"type": "event_callback", "event_id": "EvOld", "event": event})
    signature = sign(body, stale, SIGNING_SECRET)
    assert bot.post(body, "application/json", timestamp=stale, signature=signature) == 401
    bot.drain()
    assert bot.answerer.questions == []
    assert bot.slack.methods() == ["auth.test"]


def test_a_retried_event_is_answered_once(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.slack.app")
    assert bot.mention("Who controls Pokrovsk?", ts="100.1") == 200
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert bot.mention("Who controls Pokrovsk?", ts="100.1", headers=retry) == 200
    bot.drain()
    # The retry is acknowledged before any listener sees it.
    assert "event Ev100.1 already handled; ignoring delivery (retry 1)" in caplog.messages
    assert bot.answerer.questions == ["Who controls Pokrovsk?"]
    assert len(bot.slack.calls_to("chat.postMessage")) == 1
    assert len(bot.slack.calls_to("reactions.add")) == 1


def test_a_mention_inside_a_known_thread_is_answered_once(bot: Bot) -> None:
    bot.mention("Who controls Pokrovsk?", ts="100.1")
    bot.drain()
    # Slack sends both an app_mention and a message event for the same message.
    text = "<@UBOT> and Vovchansk?"
    bot.reply(text, ts="100.3", thread_ts="100.1", event_id="EvMsg")
    mention = {"type": "app_mention", "user": "U1", "text": text, "ts": "100.3"}
    bot.event(mention | {"thread_ts": "100.1", "channel": "C1"}, event_id="EvMention")
    bot.drain()
    assert bot.answerer.questions == ["Who controls Pokrovsk?", "Who controls Vovchansk?"]
    assert len(bot.slack.calls_to("chat.postMessage")) == 2


def test_article_text_is_escaped_so_nobody_is_pinged(make_bot: Callable[..., Bot]) -> None:
    bot = make_bot(FakeAnswerer(answer=hostile))
    bot.mention("Who controls Pokrovsk?")
    bot.drain()

    (message,) = bot.slack.calls_to("chat.postMessage")
    rendered = json.dumps(message["blocks"], ensure_ascii=False) + message["text"]
    for ping in ("<!channel>", "<!here>", "<!everyone>", "<@U123>", "<!subteam", "<https://evil"):
        assert ping not in rendered
    joined = "\n".join(texts(message["blocks"]))
    assert "&lt;!channel&gt; Russian forces &lt;@U123&gt; &amp; friends" in joined
    assert "Alert &lt;!channel&gt; &amp; &lt;!here&gt;" in joined
    # The only markup left is the source link itself, with its URL made harmless.
    links = re.findall(r"<([^<>]*)>", joined)
    assert links == [
        "https://example.com/a?x=%3C!channel%3E%7Cy%3Ez"
        "|Reuters: Breaking &lt;!everyone&gt; &lt;https://evil.example¦click&gt;"
    ]
    assert all(t.get("verbatim") is True for b in message["blocks"] for t in _text_objects(b))


def _text_objects(block: dict[str, Any]) -> list[dict[str, Any]]:
    objects = [block["text"]] if "text" in block else []
    return objects + [e for e in block.get("elements", []) if e.get("type") == "mrkdwn"]


# --- failures -------------------------------------------------------------------------------


def test_a_failing_answerer_gives_one_warning_line_and_a_logged_traceback(
    make_bot: Callable[..., Bot], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bot = make_bot(FakeAnswerer(error=IndexNotFound("/srv/index")))
    bot.mention("Who controls Pokrovsk?")
    bot.drain()

    (message,) = bot.slack.calls_to("chat.postMessage")
    assert message["thread_ts"] == "100.1" and "blocks" not in message
    assert message["text"].startswith(":warning: no index at /srv/index")
    assert "\n" not in message["text"]
    assert len(bot.slack.calls_to("reactions.remove")) == 1
    failures = [r for r in caplog.records if r.name == "bot.slack.app" and r.exc_info]
    assert failures and isinstance(failures[0].exc_info[1], IndexNotFound)  # type: ignore[index]
    assert BOT_TOKEN not in caplog.text and SIGNING_SECRET not in caplog.text


def test_an_unreachable_index_says_so_and_answers_resume(
    make_bot: Callable[..., Bot],
) -> None:
    down = StoreUnavailable("10.0.0.5:8000", "Chroma server unreachable (ConnectError)")
    answerer = FakeAnswerer(error=down)
    bot = make_bot(answerer)
    bot.mention("Who controls Pokrovsk?", ts="100.1")
    bot.drain()
    (message,) = bot.slack.calls_to("chat.postMessage")
    assert message["text"] == (
        ":warning: index unavailable (cannot use the index at 10.0.0.5:8000: Chroma server "
        "unreachable (ConnectError)); answers resume when it is back"
    )
    answerer.error = None
    bot.mention("Who controls Pokrovsk?", ts="100.2")
    bot.drain()
    assert bot.slack.calls_to("chat.postMessage")[-1]["blocks"]


def test_an_unexpected_error_is_reported_without_its_internals(
    make_bot: Callable[..., Bot], caplog: pytest.LogCaptureFixture
) -> None:
    bot = make_bot(FakeAnswerer(error=RuntimeError("database password is hunter2")))
    bot.mention("Who controls Pokrovsk?")
    bot.drain()
    (message,) = bot.slack.calls_to("chat.postMessage")
    assert message["text"] == ":warning: Something went wrong while answering; it has been logged."
    assert "hunter2" in caplog.text  # the traceback goes to the log, not to the channel


# --- slash command --------------------------------------------------------------------------


def test_slash_command_answers_ephemerally(bot: Bot) -> None:
    assert bot.command("Who controls Pokrovsk?") == 200
    bot.drain()
    (message,) = bot.slack.calls_to("chat.postEphemeral")
    assert message["channel"] == "C1" and message["user"] == "U1"
    assert "*Russia*" in "\n".join(texts(message["blocks"]))
    assert bot.slack.calls_to("chat.postMessage") == []
    assert bot.answerer.questions == ["Who controls Pokrovsk?"]


def test_slash_command_without_a_question_shows_usage(bot: Bot) -> None:
    request = urllib.request.Request(bot.url, method="POST")
    body = urlencode({"command": "/newsbot", "text": " ", "user_id": "U1", "channel_id": "C1"})
    now = int(time.time())
    request.data = body.encode()
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    request.add_header("X-Slack-Request-Timestamp", str(now))
    request.add_header("X-Slack-Signature", sign(body, now, SIGNING_SECRET))
    with urllib.request.urlopen(request, timeout=WAIT) as response:
        assert "Usage: `/newsbot QUESTION`" in response.read().decode()
    bot.drain()
    assert bot.answerer.questions == []


# --- feedback -------------------------------------------------------------------------------


def test_feedback_click_is_stored_and_a_second_click_replaces_it(bot: Bot) -> None:
    bot.mention("Who controls Pokrovsk?")
    bot.drain()
    (actions,) = [b for b in posted_blocks(bot.slack) if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == ["feedback_up", "feedback_down"]
    answer_id = actions["elements"][0]["value"]

    assert bot.click("feedback_up", answer_id, user="U2") == 200
    bot.drain()
    assert bot.store.counts() == {"up": 1, "down": 0}
    assert bot.click("feedback_down", answer_id, user="U2") == 200
    assert bot.click("feedback_up", answer_id, user="U3") == 200
    bot.drain()

    assert bot.store.counts() == {"up": 1, "down": 1}
    (negative,) = bot.store.latest_negative(5)
    assert (negative.user, negative.channel, negative.thread) == ("U2", "C1", "100.1")
    assert negative.question == "Who controls Pokrovsk?"
    assert json.loads(negative.answer)["summary"] == "Sources disagree on who controls Pokrovsk."
    assert (bot.store.path.parent, bot.store.path.name) == (
        bot.app.state.feedback.path.parent,
        "feedback.sqlite3",
    )


def test_feedback_command_prints_counts_and_latest_negative(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.cli import cli

    monkeypatch.chdir(tmp_path)
    store = FeedbackStore.beside(tmp_path / "index")
    for answer_id, question in (("a1", "Who controls Pokrovsk?"), ("a2", "Who won?")):
        answer = pokrovsk(question).to_json(indent=None)
        store.remember(answer_id, question=question, answer=answer, channel="C1", thread="1.0")
    store.record("a1", user="U1", value="up", channel="C1", thread="1.0")
    store.record("a2", user="U1", value="down", channel="C1", thread="1.0")

    result = CliRunner().invoke(cli, ["feedback"], obj={})
    assert result.exit_code == 0, result.output
    assert "👍 1  👎 1" in result.output
    assert "Who won?" in result.output and "Who controls Pokrovsk?" not in result.output

    result = CliRunner().invoke(cli, ["feedback", "--json"], obj={})
    data = json.loads(result.output)
    assert data["counts"] == {"up": 1, "down": 1}
    assert data["latest_negative"][0]["answer"]["status"] == "contested"


# --- limits ---------------------------------------------------------------------------------


def long_answer(question: str) -> Answer:
    """Return an answer far beyond one message: many sides, long quotes, many sources."""
    answer = pokrovsk(question)
    sources = [
        Source(
            id=n,
            title=f"Report {n} " + "on the fighting & the front " * 20,
            outlet="Outlet <&>",
            published="2025-12-02",
            url=f"https://news.example/{n}?a=1&b=2" if n % 2 else None,
            path=f"/data/{n}.txt",
        )
        for n in range(1, 81)
    ]
    claims = [
        Claim(
            side=f"Side {s}",
            claimant=f"Spokesman {s}.{c}",
            claim="x",
            evidence=[Evidence(source=1 + (s * 7 + c) % 80, quote=f"q{s}.{c} " + "<a&b> " * 120)]
            + [Evidence(source=1 + (s + c) % 80, quote="more")],
            published="2025-12-02",
        )
        for s in range(6)
        for c in range(25)
    ]
    claims.append(
        Claim(
            side="Side 0",
            claimant="Verbose",
            claim="x",
            evidence=[Evidence(source=80, quote="&" * 9000)],
        )
    )
    return answer.model_copy(update={"claims": claims, "sources": sources, "summary": "y " * 4000})


def test_long_answers_are_split_within_slacks_limits() -> None:
    answer = long_answer("Who controls Pokrovsk?")
    blocks = answer_blocks(answer, feedback_id="abc123")
    messages = split_messages(blocks)
    assert len(messages) > 1
    assert all(len(message) <= MAX_BLOCKS for message in messages)
    assert messages[-1][-1]["type"] == "actions"
    for block in blocks:
        if block["type"] == "context":
            assert len(block["elements"]) <= MAX_CONTEXT_ELEMENTS
    all_texts = texts(blocks)
    assert all(len(text) <= MAX_TEXT for text in all_texts)
    lines = [line for text in all_texts for line in text.split("\n")]
    for claim in answer.claims:
        # Every claim is shown, with its citations whole at the end of its line.
        (line,) = [ln for ln in lines if f"*{claim.claimant}*" in ln]
        assert line.endswith(f"” {cite(claim)}")
    # Truncation never leaves half an entity behind.
    assert not any(re.search(r"&(?!amp;|lt;|gt;)", text) for text in all_texts)
    for source in answer.sources:
        assert sum(line.startswith(f"[{source.id}] ") for line in lines) == 1


def test_a_long_answer_is_posted_as_several_messages_in_the_thread(
    make_bot: Callable[..., Bot],
) -> None:
    bot = make_bot(FakeAnswerer(answer=long_answer))
    bot.mention("Who controls Pokrovsk?")
    bot.drain()
    messages = bot.slack.calls_to("chat.postMessage")
    assert len(messages) > 1
    assert all(m["thread_ts"] == "100.1" and len(m["blocks"]) <= MAX_BLOCKS for m in messages)
    assert all(len(t) <= MAX_TEXT for m in messages for t in texts(m["blocks"]) + [m["text"]])


def test_oversized_bodies_are_refused_before_reading(bot: Bot) -> None:
    host, port = bot.url.split("/")[2].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=WAIT)
    connection.putrequest("POST", "/slack/events")
    connection.putheader("Content-Length", str(50 * 1024 * 1024))
    connection.endheaders()
    assert connection.getresponse().status == 413
    connection.close()
    assert bot.answerer.questions == []


def test_healthz_reports_the_generation_served_or_why_not(bot: Bot) -> None:
    state: dict[str, Any] = {"ready": True}

    def health() -> tuple[bool, dict[str, Any]]:
        if state["ready"] is None:
            raise RuntimeError("the health check itself broke")
        if state["ready"]:
            return True, {"generation": "g-41", "articles": 9, "chunks": 120}
        return False, {"error": "cannot use the index at 10.0.0.5:8000"}

    def probe(server: ThreadingHTTPServer, path: str = "/healthz") -> tuple[int, Any]:
        url = f"http://127.0.0.1:{server.server_address[1]}{path}"
        try:
            with urllib.request.urlopen(url, timeout=WAIT) as response:
                return int(response.status), json.loads(response.read())
        except urllib.error.HTTPError as error:
            body = error.read()
            return error.code, json.loads(body) if body.startswith(b"{") else body.decode()

    server = serve_http(bot.app, host="127.0.0.1", port=0, health=health)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        assert probe(server) == (
            200,
            {"ok": True, "generation": "g-41", "articles": 9} | {"chunks": 120},
        )
        state["ready"] = False
        assert probe(server) == (
            503,
            {"ok": False, "error": "cannot use the index at 10.0.0.5:8000"},
        )
        state["ready"] = None
        assert probe(server) == (503, {"ok": False, "error": "health check failed (RuntimeError)"})
        assert probe(server, "/other")[0] == 404
    finally:
        server.shutdown()
        server.server_close()
    plain = serve_http(bot.app, host="127.0.0.1", port=0)
    threading.Thread(target=plain.serve_forever, args=(0.05,), daemon=True).start()
    try:
        assert probe(plain)[0] == 404  # no health check configured
    finally:
        plain.shutdown()
        plain.server_close()


# --- command line and manifest --------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["slack"], {}, "SLACK_BOT_TOKEN is not set"),
        (["slack"], {"SLACK_BOT_TOKEN": BOT_TOKEN}, "SLACK_APP_TOKEN is not set"),
        (["slack", "--http"], {"SLACK_BOT_TOKEN": BOT_TOKEN}, "SLACK_SIGNING_SECRET is not set"),
    ],
)
def test_slack_command_says_which_variable_is_missing(
    args: list[str],
    env: dict[str, str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.cli import cli

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, args, env=env, obj={})
    assert result.exit_code == 1
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert BOT_TOKEN not in result.output


def test_manifest_declares_what_the_app_uses() -> None:
    manifest = yaml.safe_load((REPO / "slack" / "manifest.yaml").read_text())
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_mentions:read", "chat:write", "reactions:write", "im:history", "im:read"} <= scopes
    assert "commands" in scopes
    # Threads are read back from Slack (conversations.replies), mentioned users named.
    assert {"channels:history", "groups:history", "users:read"} <= scopes
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.im"} <= events
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/newsbot"]
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
