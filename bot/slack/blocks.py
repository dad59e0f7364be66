"""Slack Block Kit rendering of an Answer: escaped for mrkdwn and kept within Slack's limits."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from bot.answer import Answer, Claim, Source, cite

MAX_TEXT = 3000  # characters in one text object
MAX_BLOCKS = 50  # blocks in one message
MAX_CONTEXT_ELEMENTS = 10  # elements in one context block
MAX_URL = 1000  # longer links are shown as plain labels rather than squeezed
MAX_FALLBACK = 3000  # notification text; the blocks carry the full answer
ELLIPSIS = "…"

FEEDBACK_UP = "feedback_up"
FEEDBACK_DOWN = "feedback_down"

_STATUS = {
    "contested": ":scales: Sources disagree",
    "answered": ":white_check_mark: Answered from the articles",
    "not_found": ":mag: Not found in the indexed articles",
}


def escape(text: str) -> str:
    """Escape text for mrkdwn so that nothing in it becomes a link, a mention or a ping."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def answer_blocks(answer: Answer, *, feedback_id: str | None = None) -> list[dict[str, Any]]:
    """Render an answer as Block Kit blocks (split into messages with `split_messages`)."""
    status = _STATUS.get(answer.status, escape(answer.status))
    blocks: list[dict[str, Any]] = [_context([_fit(f"{status} · _", answer.question, "_")])]
    blocks += _sections([_fit("", answer.summary.strip() or answer.question, "", bold=True)])
    if answer.status != "not_found":
        for side in answer.sides():
            lines = [_fit("", side, "", bold=True)]
            lines += [_claim_line(c) for c in answer.claims if c.side == side]
            blocks += _sections(lines)
        if answer.verification:
            lines = ["*Verification*"]
            lines += [_claim_line(c, with_claimant=False) for c in answer.verification]
            blocks += _sections(lines)
    if answer.notes:
        blocks += _contexts([_fit("_Note:_ ", note, "") for note in answer.notes])
    if answer.sources:
        blocks.append({"type": "divider"})
        blocks += _contexts(["*Sources*"] + [source_line(s) for s in answer.sources])
    blocks.append(feedback_block(feedback_id or uuid.uuid4().hex[:12]))
    return blocks


def split_messages(
    blocks: list[dict[str, Any]], limit: int = MAX_BLOCKS
) -> list[list[dict[str, Any]]]:
    """Split blocks into messages of at most `limit` blocks, in order."""
    return [blocks[i : i + limit] for i in range(0, len(blocks), limit)] or [[]]


def fallback_text(answer: Answer) -> str:
    """Return the plain notification text that accompanies the blocks."""
    return _fit("", answer.summary.strip() or answer.question, "", limit=MAX_FALLBACK)


def feedback_block(feedback_id: str) -> dict[str, Any]:
    """Return the 👍/👎 buttons; their value names the answer the click is about."""
    return {
        "type": "actions",
        "block_id": f"feedback:{feedback_id}",
        "elements": [
            _button("👍", FEEDBACK_UP, feedback_id),
            _button("👎", FEEDBACK_DOWN, feedback_id),
        ],
    }


def source_line(source: Source) -> str:
    """Return "[n] <url|outlet: title> (date)", escaped; a plain label when there is no URL."""
    head = f"{source.outlet}: {source.title}" if source.outlet else source.title
    date = f" ({escape(source.published)})" if source.published else ""
    prefix = f"[{source.id}] "
    url = _link_target(source.url)
    if url is None or len(url) > MAX_URL:
        return _fit(prefix, head, date)
    # The label sits inside <...|...>; its length budget leaves room for the link markup.
    label = _fit("", head, "", limit=MAX_TEXT - len(prefix) - len(url) - len(date) - 3)
    label = label.replace("|", "¦")  # a second "|" inside <url|label> is not worth the risk
    return f"{prefix}<{url}|{label}>{date}"


def _claim_line(claim: Claim, *, with_claimant: bool = True) -> str:
    quote_text = claim.evidence[0].quote if claim.evidence else claim.claim
    head = ""
    if with_claimant:
        date = f" ({escape(claim.published)})" if claim.published else ""
        head = f"*{_fit('', claim.claimant, '', limit=300)}*{date}: "
    # The citation marks are the suffix, so truncation shortens the quote and never them.
    return _fit(f"• {head}“", quote_text, f"” {cite(claim)}".rstrip())


def _fit(prefix: str, text: str, suffix: str, *, bold: bool = False, limit: int = MAX_TEXT) -> str:
    """Return prefix + escaped text + suffix as one line within limit, shortening only the text."""
    text = " ".join(text.split())
    mark = "*" if bold and text else ""
    room = limit - len(prefix) - len(suffix) - 2 * len(mark)
    escaped = escape(text)
    if len(escaped) > room:
        # Cut the raw text, not the escaped one, so no entity such as "&amp;" is split.
        keep = max(room - len(ELLIPSIS), 0)
        while keep and len(escape(text[:keep])) + len(ELLIPSIS) > room:
            keep -= max(1, len(escape(text[:keep])) + len(ELLIPSIS) - room)
        escaped = escape(text[:keep].rstrip()) + ELLIPSIS
    return f"{prefix}{mark}{escaped}{mark}{suffix}"


def _pack(lines: list[str], limit: int = MAX_TEXT) -> list[str]:
    """Join lines into texts of at most limit characters, breaking only between lines."""
    texts: list[str] = []
    current = ""
    for line in lines:
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            texts.append(current)
        current = line[:limit]
    if current:
        texts.append(current)
    return texts


def _sections(lines: list[str]) -> list[dict[str, Any]]:
    return [{"type": "section", "text": _mrkdwn(text)} for text in _pack(lines)]


def _contexts(lines: list[str]) -> list[dict[str, Any]]:
    texts = _pack(lines)
    return [
        _context(texts[i : i + MAX_CONTEXT_ELEMENTS])
        for i in range(0, len(texts), MAX_CONTEXT_ELEMENTS)
    ]


def _context(texts: list[str]) -> dict[str, Any]:
    return {"type": "context", "elements": [_mrkdwn(text) for text in texts]}


def _mrkdwn(text: str) -> dict[str, Any]:
    # verbatim: Slack must not auto-link or parse names in article text on its own.
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _button(emoji: str, action_id: str, value: str) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": emoji, "emoji": True},
        "action_id": action_id,
        "value": value,
    }


def _link_target(url: str | None) -> str | None:
    """Return a URL safe inside <...|...>, or None when it is not an http(s) link."""
    if not url or not url.strip().lower().startswith(("http://", "https://")):
        return None
    # Characters that would end the link markup are percent-encoded; "&" is escaped as Slack does.
    safe = quote(url.strip(), safe=":/?#[]@!$&'()*+,;=%~-._")
    return safe.replace("&", "&amp;")
