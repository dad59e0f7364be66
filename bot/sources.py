"""Where articles come from: files and folders, article URLs, and RSS or Atom feeds.

`gather` turns what a user names into `Source`s, each read on its own so that one bad file or
page is reported and skipped while the rest go in. A feed, by URL or as a local file, becomes
one source per item, read by fetching the item's link; pages are fetched ahead of their turn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from bot.articles import Article, LoadFailure, discover, load_file, load_text
from bot.articles.decoding import decode
from bot.articles.feeds import FEED_SUFFIXES, looks_like_feed, read_feed
from bot.articles.files import read_bytes
from bot.articles.html import Hints, from_html
from bot.errors import UnreadableArticle
from bot.fetch import Fetcher, Page, is_url

_HTML_TYPES = ("text/html", "application/xhtml+xml")
# Media types read as other kinds of article text; any other is no article.
_TEXT_KINDS = {"text/plain": "txt", "text/markdown": "md", "application/json": "json"}


@dataclass(frozen=True)
class Source:
    """One file or web page to read articles from."""

    key: str  # what the index records its articles under: the resolved path, or the URL
    name: str  # what progress shows
    read: Callable[[], list[Article]]  # raises UnreadableArticle


def gather(
    inputs: Iterable[str | Path], fetcher: Fetcher
) -> tuple[list[Source], list[LoadFailure]]:
    """Turn files, folders, article URLs and feeds into sources, and say why others are unusable.

    Feeds given by URL are fetched now (to see what they list) and so are article URLs, side by
    side; the pages that feed items link to are fetched while earlier sources are read.
    """
    given = [inputs] if isinstance(inputs, str | Path) else list(inputs)
    urls = list(dict.fromkeys(str(item) for item in given if is_url(str(item))))
    paths = [item for item in given if not is_url(str(item))]
    sources: dict[str, Source] = {}
    failures: list[LoadFailure] = []
    ahead: list[str] = []  # feed items' links, in the order they will be read

    def add_feed(data: bytes, name: str) -> None:
        try:
            items, problems = read_feed(data, name)
        except UnreadableArticle as exc:
            failures.append(LoadFailure(name, exc.reason))
            return
        failures.extend(LoadFailure(name, problem) for problem in problems)
        for item in items:
            if item.link not in sources:
                read = partial(_read_item, fetcher, item.link, item.hints)
                sources[item.link] = Source(item.link, item.link, read)
                ahead.append(item.link)

    files, problems = discover(paths)
    failures.extend(problems)
    for file in files:
        if file.suffix.lower() in FEED_SUFFIXES:
            try:
                add_feed(read_bytes(file), str(file))
            except UnreadableArticle as exc:
                failures.append(LoadFailure(str(file), exc.reason))
            continue
        key = str(file.resolve())
        sources.setdefault(key, Source(key, file.name, partial(load_file, file)))
    for url, outcome in zip(urls, fetcher.fetch_all(urls), strict=True):
        if isinstance(outcome, UnreadableArticle):
            failures.append(LoadFailure(url, outcome.reason))
        elif looks_like_feed(outcome.data, outcome.media_type):
            add_feed(outcome.data, url)
        elif url not in sources:
            sources[url] = Source(url, url, partial(read_page, outcome))
    fetcher.queue(ahead)
    return list(sources.values()), failures


def _read_item(fetcher: Fetcher, url: str, hints: Hints) -> list[Article]:
    return read_page(fetcher.get(url), hints)


def read_page(page: Page, hints: Hints | None = None) -> list[Article]:
    """Read the article on a fetched page; its path and URL are the address it was asked by."""
    name = page.url
    if looks_like_feed(page.data, page.media_type):
        raise UnreadableArticle(name, "a feed, not an article: ingest the feed's own URL")
    media_type = page.media_type
    if media_type and media_type not in _HTML_TYPES and media_type not in _TEXT_KINDS:
        raise UnreadableArticle(name, f"not an article page ({media_type})")
    text = decode(page.data, name, page.charset)
    if media_type in _HTML_TYPES or (not media_type and text.lstrip().startswith("<")):
        return [from_html(text, name, name, url=page.url, hints=hints)]
    articles = load_text(text, _TEXT_KINDS.get(media_type, "txt"), name, name)
    return [replace(article, url=page.url) for article in articles]
