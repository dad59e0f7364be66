"""The article record, load failures, and the content identity of an article's text."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Article:
    """One news article and what is known about where it comes from."""

    id: str
    title: str
    outlet: str | None
    published: str | None
    url: str | None
    path: str
    text: str
    author: str | None = None


@dataclass(frozen=True)
class LoadFailure:
    """A file, folder or URL that could not be used, with a one-line reason."""

    path: str
    reason: str


_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        # Invisible characters that scrapers leave in or drop at random.
        "\u200b": None,
        "\u2060": None,
        "\ufeff": None,
        "\u00ad": None,
    }
)


def normalise_text(text: str) -> str:
    """Normalise text for identity: NFKC, ASCII quote marks, single spaces, no case change."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    return " ".join(text.split())


def article_id(text: str) -> str:
    """Return the content identity of an article text (16 hex chars of a SHA-256)."""
    return hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()[:16]
