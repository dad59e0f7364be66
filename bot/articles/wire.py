"""What raw wire copy tells by its shape, which no library reads.

Datelines such as ``CITY, Dec 2 (Wire) -``, ``SOURCE:`` lines, ``By NAME`` bylines, and a title
for text that has none.
"""

from __future__ import annotations

import re
from itertools import islice
from typing import NamedTuple

from bot.articles.dates import normalise_date, parse_date

_TITLE_CHARS = 120
_HEADLINE_MAX_CHARS = 200
# Bylines, dates and datelines sit in the first few lines of wire copy.
_TOP_LINES = 12
# Month names as datelines abbreviate them ("Dec 2", "Sept. 30"); dateparser reads the date.
_MONTH_NAMES = (
    "january february march april may june july august september october november december"
    " jan feb mar apr jun jul aug sep sept oct nov dec"
).split()
_MONTH = "(?i:" + "|".join(sorted(_MONTH_NAMES, key=len, reverse=True)) + r")\.?"

_DATELINE = re.compile(
    r"^(?P<place>[A-Z][A-Z.'’-]+(?:[ ,]+[A-Za-z.'’-]+){0,6}?)"
    r"(?:,\s*(?P<date>" + _MONTH + r"\s+\d{1,2}(?:,?\s+\d{4})?))?"
    r"\s*\((?P<outlet>[A-Z][^()\n]{0,40}?)\)\s*[-–—]\s*"
)
# "TOWN – About 500 ...": a place in capitals and a dash, without an outlet.
_PLAIN_DATELINE = re.compile(r"^[A-Z][A-Z.'’]+(?:[ ,]+[A-Za-z.'’]+){0,4}?\s*[-–—]\s+")
_SOURCE_LINE = re.compile(r"^(?i:source)\s*:\s*(?P<name>.{2,80}?)\s*$")
_AGENCIES = re.compile(r"\s*(?:&|\+|,|\band\b)\s*(?i:agencies)\.?$")
_BYLINE = re.compile(r"^(?:By|BY)\s+(?P<name>[A-Z].{1,80})$")
_NAME_CUT = re.compile(r"\s*(?:,|\||;|\bin\b|\bfor\b)\s*")
_NAME_PARTICLES = frozenset(
    {"and", "&", "de", "del", "der", "van", "von", "bin", "al", "da", "dos", "du", "la", "le"}
)
_MD_HEADING = re.compile(r"^#{1,6}\s+")
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "st", "gen", "col", "lt", "sgt", "capt", "maj", "gov", "sen"}
    | {"rep", "prof", "no", "vs", "etc", "inc", "corp", "ltd", "jr", "sr", "approx"}
    | set(_MONTH_NAMES)
)
_DANGLING = frozenset(
    {"a", "an", "the", "as", "of", "in", "on", "at", "to", "for", "by", "with", "from", "and"}
    | {"or", "but", "that", "which", "who", "its", "their", "his", "her", "is", "was", "were"}
)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")


class WireMeta(NamedTuple):
    """What the shape of wire text tells: outlet, author, date (ISO, or as written)."""

    outlet: str | None
    author: str | None
    published: str | None


def wire_metadata(text: str) -> WireMeta:
    """Read outlet, author and date from the shape of raw wire text."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    top = lines[:_TOP_LINES]
    dateline_outlet: str | None = None
    partial_date: str | None = None
    for line in top:
        match = _DATELINE.match(line)
        if match:
            dateline_outlet = match["outlet"].strip()
            if match["date"]:  # "Dec 2" stays as written: the dateline gives no year
                partial_date = normalise_date(match["date"])
            break
    source_outlet: str | None = None
    for line in lines:
        match = _SOURCE_LINE.match(line)
        if match:  # the last one wins: it usually closes the article
            name = _AGENCIES.sub("", match["name"]).strip(" .")
            source_outlet = name or source_outlet
    author = next((name for name in map(_byline_name, top[:6]) if name), None)
    full_date = next((iso for iso in map(parse_date, top) if iso), None)
    return WireMeta(
        outlet=dateline_outlet or source_outlet,
        author=author,
        published=full_date or partial_date,
    )


def _byline_name(line: str) -> str | None:
    """Return the name in a `By NAME` line, or None when the line is not a byline."""
    match = _BYLINE.match(line)
    if not match:
        return None
    if line.endswith((".", "!", "?")):  # "By Tuesday, the town had fallen." is a sentence
        return None
    name = _NAME_CUT.split(match["name"], maxsplit=1)[0].strip(" .")
    words = name.split()
    if not 2 <= len(words) <= 8:
        return None
    if all(word[0].isupper() or word.lower() in _NAME_PARTICLES for word in words):
        return name
    return None


def _is_furniture(line: str) -> bool:
    """Tell bylines, date lines and SOURCE lines, which are never headline nor first sentence."""
    return bool(_byline_name(line) or parse_date(line) or _SOURCE_LINE.match(line))


def _looks_like_headline(line: str) -> bool:
    if len(line) > _HEADLINE_MAX_CHARS or len(line.split()) < 2:
        return False
    return not line.rstrip("\"'”’").endswith((".", ":", ";", ","))


def guess_title(text: str, *, headline: bool) -> str | None:
    """Guess a title: the opening line when it reads as a headline, else the first sentence."""
    lines = (line.strip() for line in text.splitlines())
    body = list(islice((line for line in lines if line and not _is_furniture(line)), _TOP_LINES))
    if headline and body:
        first = _MD_HEADING.sub("", body[0]).strip()
        is_dateline = _DATELINE.match(first) or _PLAIN_DATELINE.match(first)
        if first and not is_dateline and _looks_like_headline(first):
            return first
    for line in body:
        line = _PLAIN_DATELINE.sub("", _DATELINE.sub("", line)).strip()
        line = _MD_HEADING.sub("", line).strip()
        if line:
            return _shorten(_first_sentence(line)) or None
    return None


def _first_sentence(line: str) -> str:
    for match in _SENTENCE_END.finditer(line):
        before = line[: match.start()].split()
        word = before[-1].rstrip(".!?").strip("\"'“‘(") if before else ""
        # "Mr. Smith", "J.R. Jones", "Dec. 2": a full stop that does not end the sentence.
        if word.lower() in _ABBREVIATIONS or re.fullmatch(r"(?:[A-Za-z]\.)*[A-Za-z]", word):
            continue
        return line[: match.end()].strip()
    return line


def _shorten(sentence: str) -> str:
    if sentence.endswith(".") and not sentence.endswith(".."):
        sentence = sentence[:-1]
    if len(sentence) <= _TITLE_CHARS:
        return sentence
    cut = sentence.rfind(" ", 0, _TITLE_CHARS + 1)
    if cut < _TITLE_CHARS // 2:  # one enormous word: cut inside it
        return sentence[:_TITLE_CHARS] + "…"
    words = sentence[:cut].split(" ")
    # "… in the east…" reads better than "… in the east as an…".
    while len(words) > 1 and words[-1].lower() in _DANGLING:
        words.pop()
    return " ".join(words).rstrip(" ,;:—–-") + "…"


def name_title(name: str) -> str:
    """Name an article after its file or the last part of its URL."""
    last = name.rstrip("/").rsplit("/", 1)[-1]
    return last.rsplit(".", 1)[0] if "." in last[1:] else last
