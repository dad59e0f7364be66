"""Load news articles from files (text, markdown, HTML, JSON) into `Article` records.

Metadata comes from front matter, HTML meta tags or JSON fields, and for raw wire text from
datelines such as ``CITY, Dec 2 (Wire) -``, ``SOURCE:`` lines and bylines.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import logging
import math
import os
import re
import stat
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from itertools import islice
from pathlib import Path
from typing import NamedTuple

from charset_normalizer import from_bytes

from bot.errors import UnreadableArticle

logger = logging.getLogger(__name__)

SUPPORTED_SUFFIXES: frozenset[str] = frozenset({".txt", ".md", ".html", ".htm", ".json", ".jsonl"})
# Real articles are far below this; a bigger file is almost surely a dump or a mistake, and
# reading it whole would stall ingestion.
MAX_FILE_BYTES: int = 20 * 1024 * 1024

_TITLE_CHARS = 120
_HEADLINE_MAX_CHARS = 200
# Bylines, dates and datelines sit in the first few lines of wire copy.
_TOP_LINES = 12
_SNIFF_BYTES = 8192
_BINARY_SHARE = 0.10


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
    """A file or folder that could not be used, with a one-line reason."""

    path: str
    reason: str


# --------------------------------------------------------------------------------------------
# identity

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


# --------------------------------------------------------------------------------------------
# discovery


def discover(paths: Iterable[str | Path]) -> tuple[list[Path], list[LoadFailure]]:
    """Find the article files among files and folders, with a failure for each unusable one."""
    if isinstance(paths, str | Path):
        paths = [paths]
    found: list[Path] = []
    failures: list[LoadFailure] = []
    seen: set[Path] = set()
    for raw in paths:
        given = Path(raw)
        try:
            is_dir, exists = given.is_dir(), given.exists()
        except OSError as exc:  # e.g. inside a folder we may not enter
            failures.append(LoadFailure(str(given.absolute()), _os_reason(exc)))
            continue
        if is_dir:
            candidates = sorted(_walk(given, failures))
        elif exists:
            candidates = [given]
        else:
            reason = "broken symbolic link" if given.is_symlink() else "no such file or folder"
            failures.append(LoadFailure(str(given.absolute()), reason))
            continue
        for candidate in candidates:
            key = _real(candidate)
            if key in seen:  # the same file reached twice (argument twice, symlink, loop)
                continue
            seen.add(key)
            problem = _unusable(candidate)
            if problem:
                failures.append(LoadFailure(str(candidate.absolute()), problem))
            else:
                found.append(candidate.absolute())
    return found, failures


def _walk(folder: Path, failures: list[LoadFailure]) -> Iterator[Path]:
    """Yield every non-hidden entry below a folder, following links but never twice."""
    visited: set[Path] = set()
    stack = [folder]
    while stack:
        current = stack.pop()
        real = _real(current)
        if real in visited:  # a symlink loop or a second link to the same folder
            continue
        visited.add(real)
        try:
            entries = sorted(os.scandir(current), key=lambda entry: entry.name)
        except OSError as exc:
            failures.append(LoadFailure(str(current.absolute()), _os_reason(exc)))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            child = Path(entry.path)
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False  # _unusable() reports it
            if is_dir:
                stack.append(child)
            else:
                yield child


def _real(path: Path) -> Path:
    # Path.resolve() raises RuntimeError on symlink loops before Python 3.13; realpath does not.
    return Path(os.path.realpath(path))


def _unusable(path: Path) -> str | None:
    """Say why a discovered path cannot be loaded, or None when it can be tried."""
    try:
        if not path.exists():
            return "broken symbolic link"
        if not path.is_file():
            return "not a regular file"
    except OSError as exc:
        return _os_reason(exc)
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        return _unsupported(path)
    return None


def _unsupported(path: Path) -> str:
    suffix = path.suffix.lower()
    return f"unsupported file type {suffix}" if suffix else "unsupported file type (no extension)"


# --------------------------------------------------------------------------------------------
# loading


def load_file(path: Path | str) -> list[Article]:
    """Load the article(s) in one file, raising UnreadableArticle when there are none."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableArticle(str(path), _unsupported(path))
    text = _decode(_read_bytes(path), path)
    where = str(_real(path))
    if suffix in (".html", ".htm"):
        articles = [_from_html(text, path, where)]
    elif suffix == ".json":
        articles = _from_json(text, path, where)
    elif suffix == ".jsonl":
        articles = _from_jsonl(text, path, where)
    else:
        articles = [_from_text(text, path, where, markdown=suffix == ".md")]
    unique: dict[str, Article] = {}
    for article in articles:
        unique.setdefault(article.id, article)  # one file repeating a text yields it once
    return list(unique.values())


def _read_bytes(path: Path) -> bytes:
    """Read a file whole, refusing what is missing, unreadable, special or too large."""
    name = str(path)
    try:
        info = path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise UnreadableArticle(name, "is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block or never end
            raise UnreadableArticle(name, "not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise UnreadableArticle(name, _too_large(info.st_size))
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise UnreadableArticle(name, _os_reason(exc)) from exc
    if len(data) > MAX_FILE_BYTES:  # grew after stat
        raise UnreadableArticle(name, _too_large(len(data)))
    return data


def _too_large(size: int) -> str:
    # Rounded up, so that a file just over the limit never reads as "20 MB > 20 MB".
    return f"file too large ({_megabytes(size, up=True)} > {_megabytes(MAX_FILE_BYTES)})"


def _megabytes(size: int, *, up: bool = False) -> str:
    if size < 100 * 1024:
        return f"{size} bytes"
    tenths = size * 10 / (1024 * 1024)
    amount = f"{(math.ceil(tenths) if up else round(tenths)) / 10:.1f}".removesuffix(".0")
    return f"{amount} MB"


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file or folder"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a file"
    return f"cannot read: {(exc.strerror or str(exc)).lower()}"


_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _decode(data: bytes, path: Path) -> str:
    """Turn file bytes into text, refusing empty and binary files."""
    name = str(path)
    if not data.strip():
        raise UnreadableArticle(name, "empty file")
    if data.startswith(codecs.BOM_UTF8):
        text = data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    elif data.startswith(_UTF32_BOMS):  # checked first: the UTF-32 LE BOM starts like UTF-16's
        text = data.decode("utf-32", errors="replace")
    elif data.startswith(_UTF16_BOMS):
        text = data.decode("utf-16", errors="replace")
    elif b"\x00" in data[:_SNIFF_BYTES]:
        encoding = _utf16_without_bom(data[:_SNIFF_BYTES])
        if encoding is None:
            raise UnreadableArticle(name, "binary file")
        text = data.decode(encoding, errors="replace")
    else:
        text = _decode_unmarked(data)
    if _looks_binary(text[:_SNIFF_BYTES]):
        raise UnreadableArticle(name, "binary file")
    if not _has_text(text):
        raise UnreadableArticle(name, "empty file")
    return text


_INVISIBLE = frozenset({"Cc", "Cf", "Cs"})


def _has_text(text: str) -> bool:
    """Say whether text holds a visible character (not just spaces, BOMs or zero-widths)."""
    return any(not char.isspace() and unicodedata.category(char) not in _INVISIBLE for char in text)


def _utf16_without_bom(sample: bytes) -> str | None:
    """Name the UTF-16 byte order of mostly-Latin text saved without a BOM, or None."""
    pairs = len(sample) // 2
    if pairs < 8:
        return None
    even = sample[0 : pairs * 2 : 2].count(0)
    odd = sample[1 : pairs * 2 : 2].count(0)
    # Latin text in UTF-16 has a zero in one half of nearly every pair and almost never in the
    # other; binary data has zeros scattered over both.
    if odd >= pairs * 0.6 and even <= pairs * 0.02:
        return "utf-16-le"
    if even >= pairs * 0.6 and odd <= pairs * 0.02:
        return "utf-16-be"
    return None


def _decode_unmarked(data: bytes) -> str:
    """Decode bytes without a BOM: UTF-8 if it mostly is, else charset_normalizer's guess."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    lenient = data.decode("utf-8", errors="replace")
    bad = lenient.count("\ufffd")
    good = len(lenient) - len(lenient.encode("ascii", errors="ignore")) - bad
    # Real UTF-8 with a few broken bytes (a truncated scrape) keeps its many good sequences;
    # a legacy encoding has next to none, so guessing serves it better.
    if good >= bad:
        return lenient
    best = from_bytes(data[: 64 * 1024]).best()
    if best is None:
        return lenient
    try:
        return data.decode(best.encoding, errors="replace")
    except LookupError:
        return lenient


def _looks_binary(sample: str) -> bool:
    if not sample:
        return False
    odd = sum(
        1
        for char in sample
        if char == "\ufffd" or (unicodedata.category(char) == "Cc" and char not in "\t\n\r\f\v")
    )
    return odd / len(sample) > _BINARY_SHARE


# --------------------------------------------------------------------------------------------
# dates

_MONTHS = {
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_MONTH = "(?P<month>(?i:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r"))\.?"
_WEEKDAY = (
    r"(?:(?i:monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    r"|mon|tues|tue|wed|thurs|thur|thu|fri|sat|sun)\.?,?\s+)?"
)
_DATE_PREFIX = re.compile(r"(?i:(?:first\s+)?(?:published|posted|updated|date)(?:\s+on)?\s*:?\s*)")
_DATE_FORMS = (
    re.compile(r"(?P<year>\d{4})[-/](?P<num>\d{1,2})[-/](?P<day>\d{1,2})(?!\d)"),
    re.compile(
        _WEEKDAY + _MONTH + r"\s+(?P<day>\d{1,2})(?i:st|nd|rd|th)?,?\s+(?P<year>\d{4})(?!\d)"
    ),
    re.compile(
        _WEEKDAY + r"(?P<day>\d{1,2})(?i:st|nd|rd|th)?\s+" + _MONTH + r",?\s+(?P<year>\d{4})(?!\d)"
    ),
)
# What may follow a date on its own line: a time, perhaps with a zone ("10:32 AM GMT").
_TIME_TAIL = re.compile(r"[\s,|@–—-]*(?:at\s+)?T?\d{1,2}(?::\d{2}){1,2}(?:\.\d+)?.{0,30}")


def _parse_date(value: str) -> str | None:
    """Return the ISO date a string consists of (a time may follow), or None."""
    value = " ".join(value.split())
    prefix = _DATE_PREFIX.match(value)
    if prefix:
        value = value[prefix.end() :]
    for form in _DATE_FORMS:
        match = form.match(value)
        if not match:
            continue
        rest = value[match.end() :]
        if rest and not _TIME_TAIL.fullmatch(rest):
            return None
        fields = match.groupdict()
        month = int(fields["num"]) if fields.get("num") else _MONTHS[fields["month"].lower()]
        try:
            return date(int(fields["year"]), month, int(fields["day"])).isoformat()
        except ValueError:
            return None
    return None


def _normalise_date(value: str) -> str | None:
    """Return a date as ISO when it parses, else as the trimmed text (never inventing a year)."""
    return _parse_date(value) or (" ".join(value.split()) or None)


# --------------------------------------------------------------------------------------------
# wire-text metadata: datelines, SOURCE lines, bylines, titles

_DATELINE = re.compile(
    r"^(?P<place>[A-Z][A-Z.'’-]+(?:[ ,]+[A-Za-z.'’-]+){0,6}?)"
    r"(?:,\s*(?P<date>" + _MONTH + r"\s+(?P<day>\d{1,2})(?:,?\s+(?P<year>\d{4}))?))?"
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
    | set(_MONTHS)
)
_DANGLING = frozenset(
    {"a", "an", "the", "as", "of", "in", "on", "at", "to", "for", "by", "with", "from", "and"}
    | {"or", "but", "that", "which", "who", "its", "their", "his", "her", "is", "was", "were"}
)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")


class _WireMeta(NamedTuple):
    outlet: str | None
    author: str | None
    published: str | None


def _wire_metadata(text: str) -> _WireMeta:
    """Read outlet, author and date from the shape of raw wire text."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    top = lines[:_TOP_LINES]
    dateline_outlet: str | None = None
    partial_date: str | None = None
    for line in top:
        match = _DATELINE.match(line)
        if match:
            dateline_outlet = match["outlet"].strip()
            if match["date"] and match["year"]:
                partial_date = _parse_date(match["date"]) or " ".join(match["date"].split())
            elif match["date"]:
                partial_date = " ".join(match["date"].split())
            break
    source_outlet: str | None = None
    for line in lines:
        match = _SOURCE_LINE.match(line)
        if match:  # the last one wins: it usually closes the article
            name = _AGENCIES.sub("", match["name"]).strip(" .")
            source_outlet = name or source_outlet
    author = next((name for name in map(_byline_name, top[:6]) if name), None)
    full_date = next((iso for iso in map(_parse_date, top) if iso), None)
    return _WireMeta(
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
    return bool(_byline_name(line) or _parse_date(line) or _SOURCE_LINE.match(line))


def _looks_like_headline(line: str) -> bool:
    if len(line) > _HEADLINE_MAX_CHARS or len(line.split()) < 2:
        return False
    return not line.rstrip("\"'”’").endswith((".", ":", ";", ","))


def _guess_title(text: str, *, headline: bool) -> str | None:
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


# --------------------------------------------------------------------------------------------
# text and markdown

_FIELD_LINE = re.compile(r"^(?P<key>[A-Za-z][A-Za-z0-9_-]*)[ \t]*:[ \t]*(?P<value>.*?)[ \t]*$")
_TITLE_KEYS = ("title", "headline")
_OUTLET_KEYS = ("outlet", "source", "publisher", "site", "site_name", "source_name")
_DATE_KEYS = (
    "published",
    "date",
    "published_at",
    "publishedat",
    "published_date",
    "date_published",
    "datepublished",
    "pubdate",
)
_URL_KEYS = ("url", "link", "canonical", "canonical_url", "source_url")
_AUTHOR_KEYS = ("author", "byline", "authors", "by")
_KNOWN_KEYS = frozenset(_TITLE_KEYS + _OUTLET_KEYS + _DATE_KEYS + _URL_KEYS + _AUTHOR_KEYS)


def _split_front_matter(text: str) -> tuple[dict[str, str], str]:
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
            if not fields.keys() & _KNOWN_KEYS:
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


def _first_field(fields: dict[str, str], keys: tuple[str, ...]) -> str | None:
    return next((fields[key] for key in keys if fields.get(key)), None)


def _from_text(text: str, path: Path, where: str, *, markdown: bool) -> Article:
    fields, body = _split_front_matter(text)
    body = body.strip()
    if not _has_text(body):
        raise UnreadableArticle(str(path), "no article text")
    wire = _wire_metadata(body)
    title = _first_field(fields, _TITLE_KEYS)
    if not title and markdown:
        title = next(
            (line[2:].strip() for line in body.splitlines() if line.startswith("# ")), None
        )
    published = _first_field(fields, _DATE_KEYS)
    return Article(
        id=article_id(body),
        title=title or _guess_title(body, headline=True) or path.stem,
        outlet=_first_field(fields, _OUTLET_KEYS) or wire.outlet,
        published=_normalise_date(published) if published else wire.published,
        url=_first_field(fields, _URL_KEYS),
        path=where,
        text=body,
        author=_first_field(fields, _AUTHOR_KEYS) or wire.author,
    )


# --------------------------------------------------------------------------------------------
# HTML

_SKIPPED_TAGS = frozenset(
    {"script", "style", "nav", "header", "footer", "aside", "noscript", "form", "svg", "iframe"}
    | {"template", "button", "select"}
)
_BLOCK_TAGS = frozenset(
    {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "section", "article"}
    | {"main", "figure", "figcaption", "pre", "ul", "ol", "dl", "dt", "dd", "table", "tr", "td"}
    | {"th", "hr", "body", "caption", "address"}
)
_META_TITLE = ("og:title", "twitter:title")
_META_OUTLET = ("og:site_name", "publisher", "article:publisher", "dc.publisher")
_META_AUTHOR = ("author", "article:author", "byl", "dc.creator", "parsely-author")
_META_DATE = (
    "article:published_time",
    "og:published_time",
    "datepublished",
    "date",
    "pubdate",
    "publishdate",
    "publish-date",
    "dc.date",
    "dc.date.issued",
    "parsely-pub-date",
)
_META_URL = ("og:url",)


class _HTMLText(HTMLParser):
    """Collect the readable text and the metadata of an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.meta: dict[str, str] = {}
        self.title = ""
        self.h1 = ""
        self.canonical: str | None = None
        self.time: str | None = None
        self._pieces: list[str] = []
        self._skipped = 0
        self._in_head = False
        self._in_title = False
        self._in_h1 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Note metadata, enter skipped elements and break blocks."""
        values = {key.lower(): value or "" for key, value in attrs}
        if tag == "meta":
            key = values.get("property") or values.get("name") or values.get("itemprop") or ""
            content = values.get("content", "").strip()
            if key and content:
                self.meta.setdefault(key.lower(), content)
        elif tag == "link" and "canonical" in values.get("rel", "").lower().split():
            self.canonical = self.canonical or values.get("href", "").strip() or None
        elif tag == "time" and self.time is None and values.get("datetime"):
            self.time = values["datetime"]
        elif tag == "head":
            self._in_head = True
        elif tag == "body":
            self._in_head = False
        elif tag == "title" and not self._skipped and not self.title:
            self._in_title = True
        elif tag == "h1" and not self.h1:
            self._in_h1 = True  # even inside a skipped <header>: that is where headlines live
        if tag in _SKIPPED_TAGS:
            self._skipped += 1
        elif tag in _BLOCK_TAGS:
            self._flush()
        elif tag == "br":
            self._pieces.append("\n")

    def handle_endtag(self, tag: str) -> None:
        """Leave skipped elements and break blocks."""
        if tag in _SKIPPED_TAGS:
            self._skipped = max(0, self._skipped - 1)
        elif tag in _BLOCK_TAGS:
            self._flush()
        if tag == "head":
            self._in_head = False
        elif tag == "title":
            self._in_title = False
        elif tag == "h1":
            self._in_h1 = False

    def handle_data(self, data: str) -> None:
        """Keep text that is part of the page body (and the title and first heading)."""
        if self._in_title:
            self.title += data
            return
        if self._in_h1:
            self.h1 += data
        if not self._skipped and not self._in_head:
            # Line breaks in HTML source are plain spaces; only <br> and blocks break lines.
            self._pieces.append(re.sub(r"\s+", " ", data))

    def close(self) -> None:
        """Finish parsing and keep the last block."""
        super().close()
        self._flush()

    def _flush(self) -> None:
        lines = (" ".join(line.split()) for line in "".join(self._pieces).split("\n"))
        block = "\n".join(line for line in lines if line)
        if block:
            self.blocks.append(block)
        self._pieces = []

    def first_meta(self, keys: tuple[str, ...]) -> str | None:
        """Return the first of these meta tags that is present."""
        return next((self.meta[key] for key in keys if self.meta.get(key)), None)


def _from_html(source: str, path: Path, where: str) -> Article:
    parser = _HTMLText()
    parser.feed(source)
    parser.close()
    text = "\n\n".join(parser.blocks)
    if not _has_text(text):
        raise UnreadableArticle(str(path), "no article text")
    wire = _wire_metadata(text)
    title = parser.first_meta(_META_TITLE) or parser.h1 or parser.title
    author = parser.first_meta(_META_AUTHOR)
    if author and author.lower().startswith("by "):
        author = author[3:]
    published = parser.first_meta(_META_DATE) or parser.time
    return Article(
        id=article_id(text),
        title=" ".join(title.split()) or _guess_title(text, headline=False) or path.stem,
        outlet=_not_a_link(parser.first_meta(_META_OUTLET)) or wire.outlet,
        published=_normalise_date(published) if published else wire.published,
        url=parser.canonical or parser.first_meta(_META_URL),
        path=where,
        text=text,
        author=_not_a_link(author) or wire.author,
    )


def _not_a_link(value: str | None) -> str | None:
    """Drop values that are URLs (article:publisher often holds a social media page)."""
    if value and not value.lower().startswith(("http://", "https://")):
        return " ".join(value.split())
    return None


# --------------------------------------------------------------------------------------------
# JSON and JSON Lines

_TEXT_KEYS = ("text", "body", "content", "article", "articlebody", "article_text", "full_text")
_LIST_KEYS = ("articles", "items", "data", "results", "records", "entries")


def _from_json(text: str, path: Path, where: str) -> list[Article]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnreadableArticle(str(path), f"invalid JSON ({exc.msg}, line {exc.lineno})") from exc
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
    articles = _from_records(records, path, where)
    if not articles:
        raise UnreadableArticle(str(path), "no article text")
    return articles


def _from_jsonl(text: str, path: Path, where: str) -> list[Article]:
    records: list[object] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            logger.warning("%s: line %d skipped: invalid JSON (%s)", path, number, exc.msg)
    if not records:
        raise UnreadableArticle(str(path), "no valid JSON lines")
    articles = _from_records(records, path, where)
    if not articles:
        raise UnreadableArticle(str(path), "no article text")
    return articles


def _from_records(records: list[object], path: Path, where: str) -> list[Article]:
    articles = []
    for number, record in enumerate(records, start=1):
        article = _from_record(record, path, where)
        if article is None:
            logger.warning("%s: record %d skipped: no article text", path, number)
        else:
            articles.append(article)
    return articles


def _from_record(record: object, path: Path, where: str) -> Article | None:
    """Build an article from one JSON object, or None when it holds no usable text."""
    if not isinstance(record, dict):
        return None
    fields = {str(key).lower(): value for key, value in record.items()}
    text = next((t for t in (_text_value(fields.get(key)) for key in _TEXT_KEYS) if t), None)
    if text is None:
        return None
    title = _record_field(fields, _TITLE_KEYS)
    published = _record_field(fields, _DATE_KEYS, numbers=False)
    return Article(
        id=article_id(text),
        title=title or _guess_title(text, headline=False) or path.stem,
        outlet=_record_field(fields, _OUTLET_KEYS),
        published=_normalise_date(published) if published else None,
        url=_record_field(fields, _URL_KEYS, numbers=False),
        path=where,
        text=text,
        author=_record_field(fields, _AUTHOR_KEYS),
    )


def _text_value(value: object) -> str | None:
    """Return article text from a string or a list of paragraphs; None for anything else."""
    if isinstance(value, list):
        value = "\n\n".join(item.strip() for item in value if isinstance(item, str))
    return value.strip() if isinstance(value, str) and _has_text(value) else None


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
