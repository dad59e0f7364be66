"""Citation validity: every evidence quote must be found verbatim in the file it cites.

Files are read from disk (never trusted from what the answer says a source contains); HTML and
JSON files are also read as a reader sees them, and each version of a file is read once.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.evaluation.reading import (
    AnswerDict,
    all_claims,
    evidence_of,
    normalise,
    shorten,
    source_files,
)

_TAG = re.compile(r"<[^>]+>")


@dataclass
class Citations:
    """How many evidence quotes are found verbatim in the file they cite."""

    valid: int = 0
    total: int = 0
    reasons: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Say whether every quote checks out."""
        return self.valid == self.total


def citation_validity(answer: AnswerDict) -> Citations:
    """Check each evidence quote against the file at its cited source's path, read from disk."""
    files = source_files(answer)
    result = Citations()
    for claim in all_claims(answer):
        for evidence in evidence_of(claim):
            result.total += 1
            problem = check_quote(evidence, files)
            if problem is None:
                result.valid += 1
            else:
                result.reasons.append(problem)
    return result


def check_quote(evidence: Mapping[str, Any], files: Mapping[int, str]) -> str | None:
    """Return why one evidence quote is not found in the file it cites, or None when it is."""
    source = evidence.get("source")
    quote = normalise(str(evidence.get("quote") or ""))
    if not isinstance(source, int) or source not in files:
        return f"evidence cites source [{source}], which is not in the sources (dangling id)"
    if not quote:
        return f"an empty quote cites [{source}]"
    path = files[source]
    views = file_views(path)
    if views is None:
        return f"[{source}] cites {path or 'no path'}, which cannot be read"
    if any(quote in view for view in views):
        return None
    return f"quote not in {Path(path).name}: \u201c{shorten(quote, 90)}\u201d"


def file_views(path: str) -> tuple[str, ...] | None:
    """Return the normalised texts a quote may be found in, or None when the file is unreadable."""
    try:
        stat = Path(path).stat()
    except (OSError, ValueError):
        return None
    return _views(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=256)
def _views(path: str, mtime_ns: int, size: int) -> tuple[str, ...] | None:
    """Read a file once per version: its raw text, and for HTML/JSON the text a reader sees."""
    del mtime_ns, size  # part of the cache key only
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    text = _decode(data)
    views = [text]
    suffix = Path(path).suffix.lower()
    if suffix in (".html", ".htm"):
        views.append(html.unescape(_TAG.sub(" ", text)))
    elif suffix in (".json", ".jsonl"):
        views.append("\n".join(_json_strings(text)))
    return tuple(normalise(v) for v in views)


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig",):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return str(best) if best is not None else data.decode("utf-8", errors="replace")


def _json_strings(text: str) -> Iterator[str]:
    docs: list[Any] = []
    try:
        docs.append(json.loads(text))
    except json.JSONDecodeError:
        for line in text.splitlines():
            try:
                docs.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    stack = docs
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
