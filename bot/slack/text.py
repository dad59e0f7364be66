"""Slack message text to the plain question a person meant: markup, mentions and emoji undone.

Slack sends `<@U123>` for a mention, `<#C123|news>` for a channel, `<!here>` for special
mentions, `<https://...|label>` for links, `:emoji:` codes and mrkdwn (`*bold*`, `_italic_`,
`~strike~`, `` `code` ``, ``` blocks ```, `> quotes`), with `&`, `<` and `>` escaped. None of
that is part of a question; it would only make words the index has never seen.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_USER = re.compile(r"<@([A-Z0-9]+)(?:\|([^<>]*))?>")
_CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|([^<>]*))?>")
_SPECIAL = re.compile(r"<!([^<>|]*)(?:\|([^<>]*))?>")
_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")
# Emoji names are lower-case words (and a few numbers); "10:30:45" is a time, not an emoji.
_EMOJI = re.compile(r":(?:[+-]1|100|1234|(?=[a-z0-9_+'-]*[a-z])[a-z0-9_+'-]+):")
_CODE_BLOCK = re.compile(r"```(.*?)```", re.DOTALL)
_INLINE_CODE = re.compile(r"`([^`\n]+)`")
_QUOTE = re.compile(r"^[ \t]*(?:&gt;|>)+[ \t]?", re.MULTILINE)
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?)])")
_LEADING_PUNCT = re.compile(r"^[\s,.;:!-]+")


def _emphasis(marker: str) -> re.Pattern[str]:
    """Match text wrapped in a mrkdwn marker at word edges (not snake_case or 2*3*4)."""
    m = re.escape(marker)
    return re.compile(rf"(?<![\w{m}]){m}(?=\S)([^{m}\n]*?\S){m}(?![\w{m}])")


_EMPHASIS = [_emphasis(marker) for marker in ("*", "_", "~")]


def mentioned_users(text: str) -> list[str]:
    """Return the ids of users mentioned without a name, whose names a lookup could give."""
    return sorted({m.group(1) for m in _USER.finditer(text) if not m.group(2)})


def plain_question(
    text: str,
    *,
    bot_user_id: str | None = None,
    names: Mapping[str, str] | None = None,
) -> str:
    """Return a Slack message as the plain text of its question.

    A mentioned user becomes their name (from the mention itself, or `names`, e.g. from
    users.info), or is dropped when no name is known; the bot's own mention is dropped
    wherever it is. Channel mentions keep their name, special mentions go, links become their
    label (or their address), emoji codes go, formatting marks go and their text stays.
    """
    names = names or {}

    def user(match: re.Match[str]) -> str:
        if bot_user_id and match.group(1) == bot_user_id:
            return " "
        name = match.group(2) or names.get(match.group(1), "")
        return name.lstrip("@")

    def special(match: re.Match[str]) -> str:
        # A date keeps its readable fallback; @here, @channel and user groups only address.
        return match.group(2) or "" if match.group(1).startswith("date^") else " "

    text = _CODE_BLOCK.sub(lambda m: f" {m.group(1)} ", text)
    text = _INLINE_CODE.sub(lambda m: m.group(1), text)
    text = _USER.sub(user, text)
    text = _CHANNEL.sub(lambda m: f"#{m.group(2)}" if m.group(2) else " ", text)
    text = _SPECIAL.sub(special, text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1).removeprefix("mailto:"), text)
    text = _QUOTE.sub("", text)
    text = _EMOJI.sub(" ", text)
    for pattern in _EMPHASIS:
        text = pattern.sub(lambda m: m.group(1), text)
    # Slack escapes these three in message text; the question wants what the user typed.
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    text = " ".join(text.split())
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    return _LEADING_PUNCT.sub("", text)


def mentions(text: str) -> set[str]:
    """Return the ids of every user a message mentions."""
    return {m.group(1) for m in _USER.finditer(text)}
