"""Dates as an answer shows them: one format throughout ("2 Dec 2025", "Dec 2025", "2 Dec")."""

from __future__ import annotations

import re

_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def display_date(value: str | None) -> str | None:
    """Return a stored date ("2025-12-02", "2025-12", "Dec 2") as "2 Dec 2025" and the like."""
    if not value:
        return None
    text = value.strip()
    match = re.fullmatch(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?(?:[T ].*)?", text)
    if match:
        year, month, day = match.group(1), match.group(2), match.group(3)
        if not month or not 1 <= int(month) <= 12:
            return year
        name = _MONTHS[int(month) - 1]
        return f"{int(day)} {name} {year}" if day else f"{name} {year}"
    # A wire dateline gives "Dec 2" with no year.
    match = re.fullmatch(r"([A-Z][a-z]{2})[a-z]*\.?\s+(\d{1,2})", text)
    if match and match.group(1) in _MONTHS:
        return f"{int(match.group(2))} {match.group(1)}"
    return text


def sort_key(value: str | None) -> str:
    """Return a key that orders stored dates from oldest to newest (undated first)."""
    if value and re.match(r"\d{4}", value):
        return value
    return ""
