"""Article files: finding them under files and folders, and loading each by its kind."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from bot.articles.decoding import decode, size_text
from bot.articles.feeds import FEED_SUFFIXES
from bot.articles.html import from_html
from bot.articles.model import Article, LoadFailure
from bot.articles.records import from_json, from_jsonl
from bot.articles.text import from_text
from bot.errors import UnreadableArticle

SUPPORTED_SUFFIXES: frozenset[str] = frozenset({".txt", ".md", ".html", ".htm", ".json", ".jsonl"})
# Real articles are far below this; a bigger file is almost surely a dump or a mistake, and
# reading it whole would stall ingestion.
MAX_FILE_BYTES: int = 20 * 1024 * 1024


def discover(paths: Iterable[str | Path]) -> tuple[list[Path], list[LoadFailure]]:
    """Find the article and feed files under files and folders, and why others are unusable."""
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
    if path.suffix.lower() not in SUPPORTED_SUFFIXES | FEED_SUFFIXES:
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
    text = decode(read_bytes(path), str(path))
    return load_text(text, suffix.lstrip("."), str(path), str(_real(path)))


def load_text(
    text: str, kind: str, name: str, where: str, *, url: str | None = None
) -> list[Article]:
    """Read the articles of a text of one kind (a file suffix: "html", "json", "md"...).

    `name` is what errors name, `where` the article's path, `url` its web address if any.
    """
    if kind in ("html", "htm"):
        articles = [from_html(text, name, where, url=url)]
    elif kind == "json":
        articles = from_json(text, name, where)
    elif kind == "jsonl":
        articles = from_jsonl(text, name, where)
    else:
        articles = [from_text(text, name, where, markdown=kind == "md", url=url)]
    unique: dict[str, Article] = {}
    for article in articles:
        unique.setdefault(article.id, article)  # one file repeating a text yields it once
    return list(unique.values())


def read_bytes(path: Path) -> bytes:
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
    return f"file too large ({size_text(size, up=True)} > {size_text(MAX_FILE_BYTES)})"


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file or folder"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a file"
    return f"cannot read: {(exc.strerror or str(exc)).lower()}"
