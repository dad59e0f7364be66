"""HTML pages: the main text and its metadata, read by trafilatura (dates by htmldate)."""

from __future__ import annotations

from typing import Any, NamedTuple
from urllib.parse import urlsplit

from bot.articles.dates import normalise_date
from bot.articles.decoding import has_text
from bot.articles.model import Article, article_id
from bot.articles.wire import guess_title, name_title, wire_metadata
from bot.errors import UnreadableArticle


class Hints(NamedTuple):
    """What a feed says of an item, used where its page is silent."""

    title: str | None = None
    outlet: str | None = None
    published: str | None = None


def from_html(
    source: str, name: str, where: str, *, url: str | None = None, hints: Hints | None = None
) -> Article:
    """Build an article from an HTML page; `url` is where it was fetched from, if it was."""
    import trafilatura  # imported here: it takes a while, and many runs read no HTML

    hints = hints or Hints()
    found = trafilatura.bare_extraction(source, url=url, with_metadata=True, include_comments=False)
    document: dict[str, Any] = {}
    if isinstance(found, dict):
        document = found
    elif found is not None:
        document = found.as_dict()
    text = (document.get("text") or "").strip()
    if not has_text(text):
        raise UnreadableArticle(name, "no article text")
    wire = wire_metadata(text)
    site = _plain(document.get("sitename"))
    # Without a site name trafilatura falls back to the host name, which a dateline beats.
    named = (
        site if site and site.lower().removeprefix("www.") not in _hosts(document, url) else None
    )
    published = _plain(document.get("date")) or hints.published
    title = _plain(document.get("title")) or hints.title or guess_title(text, headline=False)
    return Article(
        id=article_id(text),
        title=title or name_title(name),
        outlet=named or hints.outlet or wire.outlet or site,
        published=normalise_date(published) if published else wire.published,
        url=url or _link(document.get("url")),
        path=where,
        text=text,
        author=_author(document.get("author")) or wire.author,
    )


def _hosts(document: dict[str, Any], url: str | None) -> set[str]:
    """Return the names of the page's host, which trafilatura gives as a site name it lacks."""
    address = urlsplit(url or str(document.get("url") or ""))
    names = {document.get("hostname"), address.netloc, address.hostname}
    return {str(name).lower().removeprefix("www.") for name in names if name}


def _plain(value: object) -> str | None:
    """Return a metadata value on one line, or None when it is missing or a link."""
    if not isinstance(value, str) or value.lower().startswith(("http://", "https://")):
        return None
    return " ".join(value.split()) or None


def _link(value: object) -> str | None:
    if isinstance(value, str) and value.lower().startswith(("http://", "https://")):
        return value.strip()
    return None


def _author(value: object) -> str | None:
    author = _plain(value)
    if author and author.lower().startswith("by "):
        author = author[3:].strip() or None
    return author
