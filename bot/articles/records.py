"""JSON and JSON Lines: one article per object, as news APIs and scrapers write them."""

from __future__ import annotations

import json
import logging

from bot.articles.dates import normalise_date
from bot.articles.decoding import has_text
from bot.articles.model import Article, article_id
from bot.articles.text import AUTHOR_KEYS, DATE_KEYS, OUTLET_KEYS, TITLE_KEYS, URL_KEYS
from bot.articles.wire import guess_title, name_title
from bot.errors import UnreadableArticle

logger = logging.getLogger(__name__)

_TEXT_KEYS = ("text", "body", "content", "article", "articlebody", "article_text", "full_text")
_LIST_KEYS = ("articles", "items", "data", "results", "records", "entries")


def from_json(text: str, name: str, where: str) -> list[Article]:
    """Read the articles of a JSON document: one object, a list, or a wrapped list."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnreadableArticle(name, f"invalid JSON ({exc.msg}, line {exc.lineno})") from exc
    records: list[object]
    if isinstance(document, list):
        records = document
    elif isinstance(document, dict):
        # News API dumps wrap their articles: {"status": "ok", "articles": [...]}.
        nested = next(
            (document[key] for key in _LIST_KEYS if isinstance(document.get(key), list)), None
        )
        has_text = any(key.lower() in _TEXT_KEYS for key in document)
        records = nested if nested is not None and not has_text else [document]
    else:
        records = []
    articles = _from_records(records, name, where)
    if not articles:
        raise UnreadableArticle(name, "no article text")
    return articles


def from_jsonl(text: str, name: str, where: str) -> list[Article]:
    """Read one article per line of JSON Lines, skipping lines that are not JSON."""
    records: list[object] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            logger.warning("%s: line %d skipped: invalid JSON (%s)", name, number, exc.msg)
    if not records:
        raise UnreadableArticle(name, "no valid JSON lines")
    articles = _from_records(records, name, where)
    if not articles:
        raise UnreadableArticle(name, "no article text")
    return articles


def _from_records(records: list[object], name: str, where: str) -> list[Article]:
    articles = []
    for number, record in enumerate(records, start=1):
        article = _from_record(record, name, where)
        if article is None:
            logger.warning("%s: record %d skipped: no article text", name, number)
        else:
            articles.append(article)
    return articles


def _from_record(record: object, name: str, where: str) -> Article | None:
    """Build an article from one JSON object, or None when it holds no usable text."""
    if not isinstance(record, dict):
        return None
    fields = {str(key).lower(): value for key, value in record.items()}
    text = next((t for t in (_text_value(fields.get(key)) for key in _TEXT_KEYS) if t), None)
    if text is None:
        return None
    title = _record_field(fields, TITLE_KEYS)
    published = _record_field(fields, DATE_KEYS, numbers=False)
    return Article(
        id=article_id(text),
        title=title or guess_title(text, headline=False) or name_title(name),
        outlet=_record_field(fields, OUTLET_KEYS),
        published=normalise_date(published) if published else None,
        url=_record_field(fields, URL_KEYS, numbers=False),
        path=where,
        text=text,
        author=_record_field(fields, AUTHOR_KEYS),
    )


def _text_value(value: object) -> str | None:
    """Return article text from a string or a list of paragraphs; None for anything else."""
    if isinstance(value, list):
        value = "\n\n".join(item.strip() for item in value if isinstance(item, str))
    return value.strip() if isinstance(value, str) and has_text(value) else None


def _record_field(
    fields: dict[str, object], keys: tuple[str, ...], *, numbers: bool = True
) -> str | None:
    """Return the first usable value among keys, as one line of text."""
    for key in keys:
        value = fields.get(key)
        if isinstance(value, dict):  # {"source": {"id": null, "name": "Example Wire"}}
            value = value.get("name")
        elif isinstance(value, list):  # several authors
            value = ", ".join(s for s in map(_scalar, value) if s and s.strip())
        if not numbers and isinstance(value, int | float):
            continue  # a number is no date or URL: a Unix time would need guessing its unit
        text = _scalar(value)
        if text and text.strip():
            return " ".join(text.split())
    return None


def _scalar(value: object) -> str | None:
    """Coerce strings and numbers to text; booleans, None and containers are not text."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None
