"""Reading an answer's JSON dict: normalised text, its sources, its claims and their evidence."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

AnswerDict = Mapping[str, Any]

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
    }
)
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Collapse whitespace and turn typographic quote marks into ASCII ones."""
    return _SPACE.sub(" ", text.translate(_QUOTES)).strip()


def shorten(text: str, limit: int = 80) -> str:
    """Return text on one line, cut to limit characters with an ellipsis."""
    flat = normalise(text)
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def source_files(answer: AnswerDict) -> dict[int, str]:
    """Map each source id of an answer to the path it gives."""
    files: dict[int, str] = {}
    for source in answer.get("sources") or []:
        if isinstance(source, Mapping) and isinstance(source.get("id"), int):
            files[source["id"]] = str(source.get("path") or "")
    return files


def claims_of(answer: AnswerDict) -> list[Mapping[str, Any]]:
    """Return the answer's claims (the sides' statements, not the verification notes)."""
    return [c for c in answer.get("claims") or [] if isinstance(c, Mapping)]


def verification_of(answer: AnswerDict) -> list[Mapping[str, Any]]:
    """Return the answer's verification notes: the reporting outlets' own voice."""
    return [c for c in answer.get("verification") or [] if isinstance(c, Mapping)]


def independent_of(answer: AnswerDict) -> list[Mapping[str, Any]]:
    """Return the answer's independent voices: monitors, analysts, witnesses, outside a camp."""
    return [c for c in answer.get("independent") or [] if isinstance(c, Mapping)]


def all_claims(answer: AnswerDict) -> list[Mapping[str, Any]]:
    """Return the claims, independent voices and verification notes (all carry quotes)."""
    return claims_of(answer) + independent_of(answer) + verification_of(answer)


def evidence_of(claim: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Yield a claim's evidence items (source id and quote), skipping malformed ones."""
    for item in claim.get("evidence") or []:
        if isinstance(item, Mapping):
            yield item


def cited_names(claim: Mapping[str, Any], files: Mapping[int, str]) -> list[str]:
    """Return the file names (basenames) a claim's evidence cites; dangling ids are left out."""
    names = [Path(files[e["source"]]).name for e in evidence_of(claim) if e.get("source") in files]
    return list(dict.fromkeys(names))
