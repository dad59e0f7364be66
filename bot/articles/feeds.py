"""RSS and Atom feeds, read by feedparser: the items they list, newest first, with their links."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.articles.html import Hints
from bot.errors import UnreadableArticle

FEED_SUFFIXES: frozenset[str] = frozenset({".xml", ".rss", ".atom"})
_FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/rdf+xml"})
# The root element of a feed, after any XML declaration, comments and processing instructions.
_FEED_ROOT = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?[^>]*\?>\s*|<!--.*?-->\s*|<!DOCTYPE[^>]*>\s*)*"
    rb"<(?:[\w-]+:)?(?:rss|feed|RDF)\b",
    re.DOTALL | re.IGNORECASE,
)


@dataclass(frozen=True)
class FeedItem:
    """One item of a feed: the link to its article and what the feed says of it."""

    link: str
    hints: Hints


def looks_like_feed(data: bytes, content_type: str | None = None) -> bool:
    """Tell a feed from a page by its declared type or, failing that, its root element."""
    return content_type in _FEED_TYPES or bool(_FEED_ROOT.match(data[:4096]))


def read_feed(data: bytes, name: str) -> tuple[list[FeedItem], list[str]]:
    """Return a feed's items that link to a web page, newest first, and why others were left."""
    import feedparser  # only runs that read feeds pay for it

    # Always bytes: given a string, feedparser would open it as a URL or a file itself.
    parsed = feedparser.parse(bytes(data), sanitize_html=False, resolve_relative_uris=False)
    if not parsed.get("version") and not parsed.entries:
        raise UnreadableArticle(name, "not an RSS or Atom feed")
    outlet = _one_line(parsed.feed.get("title"))
    dated: list[tuple[tuple[int, ...], int, FeedItem]] = []
    problems: list[str] = []
    for number, entry in enumerate(parsed.entries, 1):
        link = (entry.get("link") or "").strip()
        if not link.lower().startswith(("http://", "https://")):
            problems.append(f"item {number} has no web link")
            continue
        moment = entry.get("published_parsed") or entry.get("updated_parsed")
        hints = Hints(title=_one_line(entry.get("title")), outlet=outlet, published=_day(moment))
        when = tuple(moment[:6]) if moment else ()
        dated.append((when, -number, FeedItem(link, hints)))
    # Newest first; items of the same time (or undated, last) keep the feed's order.
    dated.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [item for _, _, item in dated], problems


def _day(moment: Any) -> str | None:
    try:
        return date(*moment[:3]).isoformat() if moment else None
    except (TypeError, ValueError):
        return None


def _one_line(value: object) -> str | None:
    return (" ".join(value.split()) or None) if isinstance(value, str) else None
