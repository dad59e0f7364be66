"""Plain text and markdown articles, with an optional front matter of `key: value` lines."""

from __future__ import annotations

import re

from bot.articles.dates import normalise_date
from bot.articles.decoding import has_text
from bot.articles.model import Article, article_id
from bot.articles.wire import guess_title, name_title, wire_metadata
from bot.errors import UnreadableArticle

_FIELD_LINE = re.compile(r"^(?P<key>[A-Za-z][A-Za-z0-9_-]*)[ \t]*:[ \t]*(?P<value>.*?)[ \t]*$")
TITLE_KEYS = ("title", "headline")
OUTLET_KEYS = ("outlet", "source", "publisher", "site", "site_name", "source_name")
DATE_KEYS = (
    "published",
    "date",
    "published_at",
    "publishedat",
    "published_date",
    "date_published",
    "datepublished",
    "pubdate",
)
URL_KEYS = ("url", "link", "canonical", "canonical_url", "source_url")
AUTHOR_KEYS = ("author", "byline", "authors", "by")
KNOWN_KEYS = frozenset(TITLE_KEYS + OUTLET_KEYS + DATE_KEYS + URL_KEYS + AUTHOR_KEYS)


def split_front_matter(text: str) -> tuple[dict[str, str], str]:
    """Split `key: value` lines closed by `---` (optionally opened by `---`) from the body."""
    lines = text.splitlines(keepends=True)
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    fenced = start < len(lines) and lines[start].strip() == "---"
    if fenced:
        start += 1
    fields: dict[str, str] = {}
    for index in range(start, len(lines)):
        line = lines[index].rstrip("\r\n")
        if line.strip() == "---":
            if not fields.keys() & KNOWN_KEYS:
                break
            return fields, "".join(lines[index + 1 :])
        if not line.strip():
            continue
        match = _FIELD_LINE.match(line)
        if match:
            fields.setdefault(match["key"].lower(), _unquote(match["value"]))
        elif not (fenced and fields and line[:1] in " \t"):  # YAML lists and nested values
            break
    return {}, text


def _unquote(value: str) -> str:
    """Strip one layer of matching quotes, unless the quotes inside show they are separate."""
    if len(value) < 2 or value[0] != value[-1] or value[0] not in "\"'":
        return value
    inner = value[1:-1]
    if value[0] == "'" and "'" not in inner.replace("''", ""):
        return inner.replace("''", "'")
    if value[0] == '"' and '"' not in inner.replace('\\"', ""):
        return inner.replace('\\"', '"')
    return value  # "'Fakes' — says 'no'": two quotations, not one quoted value


def first_field(fields: dict[str, str], keys: tuple[str, ...]) -> str | None:
    """Return the value of the first of these keys that has one."""
    return next((fields[key] for key in keys if fields.get(key)), None)


def from_text(
    text: str, name: str, where: str, *, markdown: bool = False, url: str | None = None
) -> Article:
    """Build an article from text; `name` is for errors, `where` its path, `url` a default."""
    fields, body = split_front_matter(text)
    body = body.strip()
    if not has_text(body):
        raise UnreadableArticle(name, "no article text")
    wire = wire_metadata(body)
    title = first_field(fields, TITLE_KEYS)
    if not title and markdown:
        title = next(
            (line[2:].strip() for line in body.splitlines() if line.startswith("# ")), None
        )
    published = first_field(fields, DATE_KEYS)
    return Article(
        id=article_id(body),
        title=title or guess_title(body, headline=True) or name_title(name),
        outlet=first_field(fields, OUTLET_KEYS) or wire.outlet,
        published=normalise_date(published) if published else wire.published,
        url=first_field(fields, URL_KEYS) or url,
        path=where,
        text=body,
        author=first_field(fields, AUTHOR_KEYS) or wire.author,
    )
