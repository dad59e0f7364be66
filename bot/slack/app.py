"""The Slack app: answers mentions, direct messages and /newsbot, in threads, off the request path.

`build_slack_app` wires the listeners onto a slack-bolt `App`; `serve_http` serves it over HTTP
(Socket Mode needs no server). Requests are acknowledged at once and answered on worker threads.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ParamSpec, TypeVar

from slack_bolt import Ack, App, BoltContext, BoltRequest, BoltResponse, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.answer import Answer
from bot.config import Settings
from bot.conversation import condense
from bot.errors import NewsbotError
from bot.slack.blocks import (
    FEEDBACK_DOWN,
    FEEDBACK_UP,
    answer_blocks,
    escape,
    fallback_text,
    split_messages,
)
from bot.slack.feedback import FeedbackStore, Value

logger = logging.getLogger(__name__)

AnswerFn = Callable[[str], Answer]
P = ParamSpec("P")
T = TypeVar("T")

EYES = "eyes"
MAX_BODY_BYTES = (
    1 << 20
)  # Slack's largest payloads (block_actions with a full message) are far below
LISTEN_BACKLOG = 512  # connections the HTTP server queues before accepting them
MAX_THREADS = 5000  # threads whose history is kept; the oldest are forgotten first
MAX_TURNS = 20  # standalone questions kept per thread
MAX_SEEN = 20000  # event ids and message timestamps remembered for deduplication
MAX_WARNING = 300
_FEEDBACK_ACTION = re.compile(rf"^({FEEDBACK_UP}|{FEEDBACK_DOWN})$")
_FEEDBACK_ID = re.compile(r"^[0-9a-f]{6,32}$")
_LABELLED_LINK = re.compile(r"<[^<>|]*\|([^<>]*)>")
_BARE_LINK = re.compile(r"<([^<>]*)>")
_MENTION = re.compile(r"<@([A-Z0-9]+)")
GENERIC_FAILURE = "Something went wrong while answering; it has been logged."
USAGE = "Ask me about the news, e.g. `@newsbot Who controls the port?`"


class Tracker:
    """Counts work in flight across executors, so that tests and shutdown can wait for it."""

    def __init__(self) -> None:
        self._pending: set[Future[Any]] = set()
        self._changed = threading.Condition()

    def add(self, future: Future[Any]) -> None:
        """Track a future until it is done."""
        with self._changed:
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future[Any]) -> None:
        with self._changed:
            self._pending.discard(future)
            self._changed.notify_all()

    def drain(self, timeout: float) -> bool:
        """Wait until nothing is in flight; return False if the timeout passed first."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
        return True


class TrackedExecutor(Executor):
    """A thread pool whose submissions a Tracker follows."""

    def __init__(self, tracker: Tracker, max_workers: int, name: str) -> None:
        self._tracker = tracker
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=name)

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Run fn on the pool."""
        future = self._pool.submit(fn, *args, **kwargs)
        self._tracker.add(future)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop the pool."""
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


class Seen:
    """A bounded set of keys, for answering each event and each message once."""

    def __init__(self, size: int = MAX_SEEN) -> None:
        self._keys: OrderedDict[Hashable, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def first(self, key: Hashable) -> bool:
        """Record key; return True only the first time it is seen."""
        with self._lock:
            if key in self._keys:
                return False
            self._keys[key] = None
            if len(self._keys) > self._size:
                self._keys.popitem(last=False)
            return True


ThreadKey = tuple[str, str]


class Threads:
    """Per-thread history of standalone questions, in memory, least recently used forgotten."""

    def __init__(self, size: int = MAX_THREADS, turns: int = MAX_TURNS) -> None:
        self._history: OrderedDict[ThreadKey, list[str]] = OrderedDict()
        self._size = size
        self._turns = turns
        self._lock = threading.Lock()

    def known(self, key: ThreadKey) -> bool:
        """Say whether the bot has replied in this thread."""
        with self._lock:
            return key in self._history

    def standalone(self, key: ThreadKey, question: str) -> str:
        """Return the question condensed against the thread's last standalone question."""
        with self._lock:
            history = self._history.get(key) or []
            previous = history[-1] if history else None
        return condense(previous, question)

    def record(self, key: ThreadKey, standalone: str | None) -> None:
        """Note that the bot replied in the thread, and to which standalone question."""
        with self._lock:
            history = self._history.setdefault(key, [])
            if standalone:
                history.append(standalone)
                del history[: -self._turns]
            self._history.move_to_end(key)
            while len(self._history) > self._size:
                self._history.popitem(last=False)


@dataclass
class SlackState:
    """What the listeners share: the answerer, the feedback store and the in-memory state."""

    answerer: AnswerFn
    feedback: FeedbackStore
    tracker: Tracker = field(default_factory=Tracker)
    events: Seen = field(default_factory=Seen)
    messages: Seen = field(default_factory=Seen)
    threads: Threads = field(default_factory=Threads)
    listeners: TrackedExecutor = field(init=False)
    answers: TrackedExecutor = field(init=False)

    def __post_init__(self) -> None:
        # Two pools: slow answers must never delay the ack of a slash command or a click.
        self.listeners = TrackedExecutor(self.tracker, 8, "slack-listener")
        self.answers = TrackedExecutor(self.tracker, 2, "slack-answer")


class NewsbotApp(App):
    """A Bolt App that carries newsbot's state and can wait for the answers in flight."""

    def __init__(self, state: SlackState, **kwargs: Any) -> None:
        self.state = state
        super().__init__(**kwargs)

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until every acknowledged request has been answered; False on timeout."""
        return self.state.tracker.drain(timeout)

    def close(self) -> None:
        """Stop the worker threads after the work in flight."""
        self.state.listeners.shutdown()
        self.state.answers.shutdown()


def api_base_url(settings: Settings) -> str:
    """Return the Web API base URL (SLACK_API_URL or Slack's own), ending with "/"."""
    url = settings.slack_api_url or WebClient.BASE_URL
    return url if url.endswith("/") else url + "/"


def build_slack_app(
    settings: Settings,
    answerer: AnswerFn,
    *,
    client: WebClient | None = None,
    feedback_store: FeedbackStore | None = None,
) -> NewsbotApp:
    """Build the Slack app with its listeners registered; nothing is started."""
    if client is None:
        if settings.slack_bot_token is None:
            raise NewsbotError("SLACK_BOT_TOKEN is not set")
        client = WebClient(
            token=settings.slack_bot_token.get_secret_value(),
            base_url=api_base_url(settings),
            retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
        )
    secret = settings.slack_signing_secret
    state = SlackState(
        answerer=answerer,
        feedback=feedback_store or FeedbackStore.beside(settings.index_dir),
    )
    app = NewsbotApp(
        state,
        name="newsbot",
        client=client,
        # Without a secret (Socket Mode needs none) an unguessable one makes every HTTP request
        # fail verification, rather than "" which anyone could sign with.
        signing_secret=secret.get_secret_value() if secret else secrets.token_hex(32),
        process_before_response=False,
        listener_executor=state.listeners,
    )
    register_dedupe(app, state)
    register_events(app, state)
    register_command(app, state)
    register_feedback(app, state)
    return app


def register_dedupe(app: App, state: SlackState) -> None:
    """Acknowledge an event already seen (Slack's retries) without handling it again."""

    def drop_repeated_events(
        body: dict[str, Any],
        request: BoltRequest,
        response: BoltResponse,
        next_: Callable[[], None],
    ) -> BoltResponse:
        event_id = body.get("event_id")
        if isinstance(event_id, str) and not state.events.first(event_id):
            retry = request.headers.get("x-slack-retry-num", ["-"])[0]
            logger.info("event %s already handled; ignoring delivery (retry %s)", event_id, retry)
            return BoltResponse(status=200, body="")
        next_()
        return response

    app.middleware(drop_repeated_events)


@dataclass(frozen=True)
class Question:
    """A question asked in a channel, and where its answer goes."""

    channel: str
    ts: str
    thread: str  # the thread the answer goes in
    context: ThreadKey  # the thread whose history gives follow-ups their meaning
    text: str


def register_events(app: App, state: SlackState) -> None:
    """Answer @mentions, direct messages, and follow-ups in threads the bot has answered in."""

    def on_mention(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        _take(state, client, event, context.bot_user_id)

    def on_message(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        # Edits, deletions, joins and other bots' posts are not questions.
        if event.get("subtype") not in (None, "thread_broadcast") or event.get("bot_id"):
            return
        if event.get("channel_type") != "im":
            thread = event.get("thread_ts")
            if not thread or not state.threads.known((event.get("channel", ""), thread)):
                return
            # "@alice, what do you think?" in the thread is meant for alice, not the bot.
            mentioned = set(_MENTION.findall(event.get("text", "")))
            if mentioned and context.bot_user_id not in mentioned:
                return
        _take(state, client, event, context.bot_user_id)

    app.event("app_mention")(on_mention)
    app.event("message")(on_message)


def _take(state: SlackState, client: WebClient, event: dict[str, Any], bot: str | None) -> None:
    channel, ts = event.get("channel"), event.get("ts")
    if not channel or not ts:
        return
    # A mention in a known thread arrives twice (app_mention and message): answer it once.
    if not state.messages.first((channel, ts)):
        return
    thread = event.get("thread_ts") or ts
    if event.get("thread_ts") or event.get("channel_type") != "im":
        context = (channel, thread)
    else:
        context = (channel, "")  # top-level direct messages form one conversation
    question = Question(channel, ts, thread, context, question_text(event.get("text", ""), bot))
    _react(client, "reactions_add", channel, ts)
    state.answers.submit(_answer_in_thread, state, client, question)


def _answer_in_thread(state: SlackState, client: WebClient, question: Question) -> None:
    standalone: str | None = None
    try:
        if not question.text:
            _post_text(client, question, USAGE)
        else:
            standalone = state.threads.standalone(question.context, question.text)
            answer = state.answerer(standalone)
            _post_answer(state, client, question, answer)
    except Exception as exc:
        logger.exception("could not answer a question in %s", question.channel)
        _post_text(client, question, warning(exc), swallow=True)
    finally:
        # Recorded under the reply's thread too, so that a follow-up there finds the context.
        for key in {question.context, (question.channel, question.thread)}:
            state.threads.record(key, standalone)
        _react(client, "reactions_remove", question.channel, question.ts)


def _post_answer(state: SlackState, client: WebClient, question: Question, answer: Answer) -> None:
    feedback_id = _remember(state, answer, question.channel, question.thread)
    text = fallback_text(answer)
    for blocks in split_messages(answer_blocks(answer, feedback_id=feedback_id)):
        client.chat_postMessage(
            channel=question.channel,
            thread_ts=question.thread,
            text=text,
            blocks=blocks,
            unfurl_links=False,
            unfurl_media=False,
        )


def _post_text(client: WebClient, question: Question, text: str, *, swallow: bool = False) -> None:
    try:
        client.chat_postMessage(channel=question.channel, thread_ts=question.thread, text=text)
    except Exception:
        if not swallow:
            raise
        logger.exception("could not post to %s either", question.channel)


def _react(client: WebClient, method: str, channel: str, ts: str) -> None:
    # The reaction is a courtesy: failing to add or remove it must not stop the answer.
    try:
        getattr(client, method)(channel=channel, timestamp=ts, name=EYES)
    except SlackApiError as exc:
        logger.warning("%s failed in %s: %s", method, channel, exc.response.get("error"))
    except Exception as exc:
        logger.warning("%s failed in %s: %s", method, channel, type(exc).__name__)


def _remember(state: SlackState, answer: Answer, channel: str, thread: str) -> str:
    feedback_id = secrets.token_hex(6)
    try:
        state.feedback.remember(
            feedback_id,
            question=answer.question,
            answer=answer.to_json(indent=None),
            channel=channel,
            thread=thread,
        )
    except Exception:
        # Losing the feedback context must not cost the user the answer.
        logger.exception("could not store the answer for feedback")
    return feedback_id


def register_command(app: App, state: SlackState) -> None:
    """Answer `/newsbot QUESTION` ephemerally: only the asker sees the answer."""

    def on_command(ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        text = question_text(command.get("text", ""), None)
        if not text:
            ack("Usage: `/newsbot QUESTION`, e.g. `/newsbot Who controls the port?`")
            return
        ack()
        channel, user = command.get("channel_id", ""), command.get("user_id", "")
        state.answers.submit(_answer_ephemeral, state, client, respond, channel, user, text)

    app.command("/newsbot")(on_command)


def _answer_ephemeral(
    state: SlackState, client: WebClient, respond: Respond, channel: str, user: str, text: str
) -> None:
    try:
        answer = state.answerer(text)
        feedback_id = _remember(state, answer, channel, "")
        messages = split_messages(answer_blocks(answer, feedback_id=feedback_id))
        fallback = fallback_text(answer)
    except Exception as exc:
        logger.exception("could not answer /newsbot in %s", channel)
        messages, fallback = [[]], warning(exc)
    for blocks in messages:
        try:
            client.chat_postEphemeral(
                channel=channel, user=user, text=fallback, blocks=blocks or None
            )
        except SlackApiError:
            # Not a member of the channel (or a DM with someone else): the response URL still works.
            try:
                respond(
                    text=fallback,
                    blocks=blocks or None,
                    response_type="ephemeral",
                    replace_original=False,
                )
            except Exception:
                logger.exception("could not deliver the /newsbot answer in %s", channel)
                return


def register_feedback(app: App, state: SlackState) -> None:
    """Store 👍/👎 clicks; a user's later click on the same answer replaces the earlier one."""

    def on_feedback(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        feedback_id = str(action.get("value", ""))
        user = (body.get("user") or {}).get("id", "")
        if not _FEEDBACK_ID.match(feedback_id) or not user:
            logger.warning("ignoring a feedback click without a valid answer id or user")
            return
        container = body.get("container") or {}
        message = body.get("message") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id", "")
        thread = message.get("thread_ts") or container.get("thread_ts") or ""
        value: Value = "up" if action.get("action_id") == FEEDBACK_UP else "down"
        try:
            state.feedback.record(
                feedback_id,
                user=user,
                value=value,
                channel=channel,
                thread=thread,
                fallback_answer=message.get("text", ""),
            )
        except Exception:
            logger.exception("could not store feedback")
            return
        try:
            client.chat_postEphemeral(
                channel=channel,
                user=user,
                thread_ts=thread or None,
                text="Thanks, your feedback is noted.",
            )
        except SlackApiError as exc:
            logger.info("could not thank for feedback: %s", exc.response.get("error"))

    app.action(_FEEDBACK_ACTION)(on_feedback)


def question_text(text: str, bot_user_id: str | None) -> str:
    """Return the question in a Slack message: the bot's mention removed, markup undone."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text)
    text = _LABELLED_LINK.sub(lambda m: m.group(1), text)
    text = _BARE_LINK.sub(lambda m: m.group(1), text)
    # Slack escapes these three in message text; the answerer wants what the user typed.
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())


def warning(exc: BaseException) -> str:
    """Return the one :warning: line a failure is reported with."""
    # Only newsbot's own errors are meant for users; anything else may expose internals.
    reason = " ".join(str(exc).split()) if isinstance(exc, NewsbotError) else GENERIC_FAILURE
    if len(reason) > MAX_WARNING:
        reason = reason[: MAX_WARNING - 1] + "…"
    return f":warning: {escape(reason)}"


def serve_http(
    app: App,
    *,
    host: str = "0.0.0.0",
    port: int = 3000,
    path: str = "/slack/events",
    max_body: int = MAX_BODY_BYTES,
) -> ThreadingHTTPServer:
    """Return an HTTP server (bound, not yet serving) that hands Slack's requests to the app."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "newsbot"
        timeout = 15  # a client that stalls mid-request must not hold a thread forever

        def do_POST(self) -> None:
            target, _, query = self.path.partition("?")
            if target != path:
                self._reply(404, "not found")
                return
            length = self.headers.get("Content-Length", "")
            if not length.isdigit():
                self._reply(411, "length required")
                return
            if int(length) > max_body:
                self.close_connection = True
                self._reply(413, "request body too large")
                return
            try:
                body = self.rfile.read(int(length)).decode("utf-8")
            except UnicodeDecodeError:
                self._reply(400, "body is not UTF-8")
                return
            stamp = self.headers.get("X-Slack-Request-Timestamp", "")
            if not (stamp.isascii() and stamp.isdigit()):
                # Unsigned, or a timestamp Bolt's verifier would crash on: refused, not logged.
                self._reply(401, "invalid request")
                return
            headers: dict[str, str | Sequence[str]] = {
                name.lower(): self.headers.get_all(name) or [] for name in self.headers
            }
            response = app.dispatch(BoltRequest(body=body, query=query, headers=headers))
            self._reply(response.status, response.body, response.headers)

        def do_GET(self) -> None:
            self._reply(404, "not found")

        def _reply(self, status: int, body: str, headers: dict[str, Any] | None = None) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            for name, values in (headers or {"content-type": ["text/plain"]}).items():
                if name != "content-length":
                    for value in values:
                        self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("%s " + format, self.address_string(), *args)

    class Server(ThreadingHTTPServer):
        # The default listen backlog of 5 resets connections when Slack delivers a burst.
        request_queue_size = LISTEN_BACKLOG
        daemon_threads = True

    return Server((host, port), Handler)
