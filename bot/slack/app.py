"""The Slack app: answers mentions, direct messages and /newsbot, in threads, off the request path.

`build_slack_app` wires the listeners onto a slack-bolt `App` (`bot.slack.server` serves it over
HTTP; Socket Mode needs no server). Requests are acknowledged at once and answered on worker
threads. The app keeps no conversation state: threads are read back from Slack
(`bot.slack.threads`), so replicas and restarts answer follow-ups alike, and a message that
reaches two replicas is answered by the one whose :eyes: reaction Slack accepts first.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from slack_bolt import Ack, App, BoltContext, BoltRequest, BoltResponse, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.answer import Answer
from bot.config import Settings
from bot.conversation import condense
from bot.errors import NewsbotError, StoreUnavailable
from bot.slack.blocks import (
    FEEDBACK_DOWN,
    FEEDBACK_UP,
    answer_blocks,
    escape,
    fallback_text,
    split_messages,
)
from bot.slack.feedback import FeedbackStore, Value
from bot.slack.text import mentions, plain_question
from bot.slack.threads import (
    Me,
    Names,
    answer_metadata,
    answered,
    direct_messages,
    involves,
    previous_question,
    thread_messages,
)

logger = logging.getLogger(__name__)

AnswerFn = Callable[[str], Answer]
P = ParamSpec("P")
T = TypeVar("T")

EYES = "eyes"
MAX_SEEN = 20000  # event ids and message timestamps remembered for deduplication
MAX_WARNING = 300
_FEEDBACK_ACTION = re.compile(rf"^({FEEDBACK_UP}|{FEEDBACK_DOWN})$")
_FEEDBACK_ID = re.compile(r"^[0-9a-f]{6,32}$")
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


@dataclass
class SlackState:
    """What the listeners share: the answerer, the feedback store, deduplication, user names."""

    answerer: AnswerFn
    feedback: FeedbackStore
    tracker: Tracker = field(default_factory=Tracker)
    events: Seen = field(default_factory=Seen)
    messages: Seen = field(default_factory=Seen)
    names: Names = field(default_factory=Names)
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
    """A message to answer, and where its answer goes."""

    channel: str
    ts: str
    thread: str  # the thread the answer goes in
    text: str  # as Slack sent it
    history: list[dict[str, Any]]  # the conversation before it, oldest first


def register_events(app: App, state: SlackState) -> None:
    """Answer @mentions, direct messages, and follow-ups in threads the bot takes part in."""

    def on_mention(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        _take(state, client, event, _me(context), follow_up=False)

    def on_message(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        # Edits, deletions, joins and other bots' posts are not questions; nor are our own.
        if event.get("subtype") not in (None, "thread_broadcast") or event.get("bot_id"):
            return
        me = _me(context)
        if me.user and event.get("user") == me.user:
            return
        direct = event.get("channel_type") == "im"
        # In channels only replies in threads; a mention of the bot also comes as
        # app_mention, and "@alice, what do you think?" is meant for alice.
        if not direct and (not event.get("thread_ts") or mentions(event.get("text", ""))):
            return
        _take(state, client, event, me, follow_up=not direct)

    app.event("app_mention")(on_mention)
    app.event("message")(on_message)


def _me(context: BoltContext) -> Me:
    return Me(user=context.bot_user_id, bot=context.bot_id)


def _take(
    state: SlackState, client: WebClient, event: dict[str, Any], me: Me, *, follow_up: bool
) -> None:
    """Decide whether to answer a message; if so, claim it and hand it to an answer worker."""
    channel, ts = event.get("channel"), event.get("ts")
    if not channel or not ts:
        return
    # A delivery this process has seen (a mention arrives as two events): answer it once.
    if not state.messages.first((channel, ts)):
        return
    thread = event.get("thread_ts") or ts
    history = thread_messages(client, channel, thread)
    if follow_up and not involves(history, me):
        return  # a thread the bot has no part in
    if answered(history, me, ts):
        logger.info("message %s in %s already answered; ignoring the delivery", ts, channel)
        return
    if not _claim(client, channel, ts):
        logger.info("message %s in %s is being answered elsewhere", ts, channel)
        return
    if not event.get("thread_ts") and event.get("channel_type") == "im":
        history = direct_messages(client, channel, ts)  # top-level DMs form one conversation
    question = Question(channel, ts, thread, event.get("text", ""), history)
    state.answers.submit(_answer_in_thread, state, client, question, me)


def _claim(client: WebClient, channel: str, ts: str) -> bool:
    """Put :eyes: on a message; False only when they are already there (another replica)."""
    try:
        client.reactions_add(channel=channel, timestamp=ts, name=EYES)
    except SlackApiError as exc:
        if exc.response.get("error") == "already_reacted":
            return False
        # The reaction is a courtesy otherwise: failing to add it must not stop the answer.
        logger.warning("reactions_add failed in %s: %s", channel, exc.response.get("error"))
    except Exception as exc:
        logger.warning("reactions_add failed in %s: %s", channel, type(exc).__name__)
    return True


def _answer_in_thread(state: SlackState, client: WebClient, question: Question, me: Me) -> None:
    standalone: str | None = None

    def names(text: str) -> dict[str, str]:
        return state.names.lookup(client, text, me=me)

    try:
        asked = plain_question(question.text, bot_user_id=me.user, names=names(question.text))
        if not asked:
            _post_text(client, question, USAGE)
        else:
            previous = previous_question(question.history, me, question.ts, names)
            standalone = condense(previous, asked)
            answer = state.answerer(standalone)
            _post_answer(state, client, question, answer)
    except Exception as exc:
        logger.exception("could not answer a question in %s", question.channel)
        _post_text(client, question, warning(exc), swallow=True, standalone=standalone)
    finally:
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
            metadata=answer_metadata(answer.question, question.ts),
        )


def _post_text(
    client: WebClient,
    question: Question,
    text: str,
    *,
    swallow: bool = False,
    standalone: str | None = None,
) -> None:
    try:
        client.chat_postMessage(
            channel=question.channel,
            thread_ts=question.thread,
            text=text,
            metadata=answer_metadata(standalone, question.ts),
        )
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
        text = plain_question(command.get("text", ""))
        if not text:
            ack("Usage: `/newsbot QUESTION`, e.g. `/newsbot Who controls the port?`")
            return
        ack()
        channel, user = command.get("channel_id", ""), command.get("user_id", "")
        raw = command.get("text", "")
        state.answers.submit(_answer_ephemeral, state, client, respond, channel, user, raw)

    app.command("/newsbot")(on_command)


def _answer_ephemeral(
    state: SlackState, client: WebClient, respond: Respond, channel: str, user: str, raw: str
) -> None:
    try:
        answer = state.answerer(plain_question(raw, names=state.names.lookup(client, raw)))
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


def warning(exc: BaseException) -> str:
    """Return the one :warning: line a failure is reported with."""
    # Only newsbot's own errors are meant for users; anything else may expose internals.
    reason = " ".join(str(exc).split()) if isinstance(exc, NewsbotError) else GENERIC_FAILURE
    if isinstance(exc, StoreUnavailable):
        reason = f"index unavailable ({reason}); answers resume when it is back"
    if len(reason) > MAX_WARNING:
        reason = reason[: MAX_WARNING - 1] + "…"
    return f":warning: {escape(reason)}"
