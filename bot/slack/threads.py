"""Conversations read back from Slack itself, so that any replica follows any thread.

The bot keeps no thread history of its own: a follow-up ("and Vovchansk?") is understood from
the thread as conversations.replies returns it. Each of the bot's answers carries message
metadata with the standalone question it answered and the message it replied to, so a replica
that never saw the thread, or was restarted since, reads the same context; and a delivery of a
message the bot has already answered is recognised as one.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.conversation import condense
from bot.slack.text import mentioned_users, mentions, plain_question

logger = logging.getLogger(__name__)

ANSWER_EVENT = "newsbot_answer"  # the metadata event type of the bot's replies
PAGE = 200  # messages per conversations.replies request
MAX_PAGES = 5  # a thread longer than this many pages is read from its start only
DM_TURNS = 20  # top-level direct messages read back for a conversation's context
MAX_NAMES = 5000  # user names remembered


@dataclass(frozen=True)
class Me:
    """Who the bot is in this workspace: its user id and its bot id."""

    user: str | None
    bot: str | None

    def wrote(self, message: Mapping[str, Any]) -> bool:
        """Say whether a message is one of the bot's own."""
        return bool(
            (self.user and message.get("user") == self.user)
            or (self.bot and message.get("bot_id") == self.bot)
        )


def ts_key(ts: str) -> Decimal:
    """Return a Slack timestamp ("1700000000.000100") as something that sorts in time."""
    try:
        return Decimal(ts)
    except ArithmeticError:
        return Decimal(0)


def answer_metadata(question: str | None, reply_to: str) -> dict[str, Any]:
    """Return the metadata a reply carries: what it answered, and to which message."""
    payload: dict[str, Any] = {"reply_to": reply_to}
    if question:
        payload["question"] = question
    return {"event_type": ANSWER_EVENT, "event_payload": payload}


def _payload(message: Mapping[str, Any]) -> Mapping[str, Any]:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != ANSWER_EVENT:
        return {}
    payload = metadata.get("event_payload") or {}
    return payload if isinstance(payload, Mapping) else {}


def thread_messages(client: WebClient, channel: str, thread: str) -> list[dict[str, Any]]:
    """Return a thread's messages, oldest first, with metadata; [] if Slack will not say."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    try:
        for _ in range(MAX_PAGES):
            response = client.conversations_replies(
                channel=channel, ts=thread, limit=PAGE, cursor=cursor, include_all_metadata=True
            )
            found.extend(response.get("messages") or [])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not response.get("has_more") or not cursor:
                break
    except (SlackClientError, OSError) as exc:
        logger.warning("could not read thread %s in %s: %s", thread, channel, _error(exc))
    return sorted(found, key=lambda m: ts_key(str(m.get("ts", ""))))


def direct_messages(client: WebClient, channel: str, before: str) -> list[dict[str, Any]]:
    """Return the last top-level messages of a direct conversation before one, oldest first."""
    try:
        response = client.conversations_history(
            channel=channel, latest=before, inclusive=False, limit=DM_TURNS
        )
    except (SlackClientError, OSError) as exc:
        logger.warning("could not read the history of %s: %s", channel, _error(exc))
        return []
    return sorted(response.get("messages") or [], key=lambda m: ts_key(str(m.get("ts", ""))))


def _error(exc: Exception) -> str:
    if isinstance(exc, SlackApiError) and exc.response is not None:
        return str(exc.response.get("error"))
    return type(exc).__name__


def involves(messages: list[dict[str, Any]], me: Me) -> bool:
    """Say whether the bot takes part in a thread: it replied there, or was asked there."""
    return any(
        me.wrote(m) or (me.user and me.user in mentions(m.get("text", ""))) for m in messages
    )


def answered(messages: list[dict[str, Any]], me: Me, ts: str) -> bool:
    """Say whether the bot has already replied to the message at ts."""
    return any(me.wrote(m) and _payload(m).get("reply_to") == ts for m in messages)


def for_the_bot(message: Mapping[str, Any], me: Me) -> bool:
    """Say whether a user's message in a conversation with the bot is addressed to it."""
    if message.get("subtype") not in (None, "thread_broadcast") or message.get("bot_id"):
        return False
    named = mentions(str(message.get("text", "")))
    return not named or me.user in named


def previous_question(
    messages: list[dict[str, Any]],
    me: Me,
    before: str,
    names: Callable[[str], Mapping[str, str]],
) -> str | None:
    """Return the standalone question a conversation was about before the message at `before`.

    The bot's answers say what they answered; users' messages in between are condensed in
    turn, so a question whose answer is still being written elsewhere counts too.
    """
    previous: str | None = None
    limit = ts_key(before)
    for message in messages:
        if ts_key(str(message.get("ts", ""))) >= limit:
            break
        if me.wrote(message):
            previous = str(_payload(message).get("question") or "") or previous
        elif for_the_bot(message, me):
            text = str(message.get("text", ""))
            asked = plain_question(text, bot_user_id=me.user, names=names(text))
            if asked:
                previous = condense(previous, asked)
    return previous


class Names:
    """Display names of mentioned users, looked up with users.info once each."""

    def __init__(self, size: int = MAX_NAMES) -> None:
        self._names: OrderedDict[str, str] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def lookup(self, client: WebClient, text: str, *, me: Me | None = None) -> dict[str, str]:
        """Return the names of the users a text mentions without a name (not the bot's)."""
        found: dict[str, str] = {}
        for user in mentioned_users(text):
            if me is not None and user == me.user:
                continue
            with self._lock:
                name = self._names.get(user)
            if name is None:
                name = self._fetch(client, user)
                with self._lock:
                    self._names[user] = name
                    while len(self._names) > self._size:
                        self._names.popitem(last=False)
            if name:
                found[user] = name
        return found

    @staticmethod
    def _fetch(client: WebClient, user: str) -> str:
        try:
            info = client.users_info(user=user).get("user") or {}
        except (SlackClientError, OSError) as exc:
            logger.info("no name for %s: %s", user, _error(exc))
            return ""
        profile = info.get("profile") or {}
        return str(
            profile.get("display_name") or profile.get("real_name") or info.get("name") or ""
        )
