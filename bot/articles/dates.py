"""Dates as articles state them, turned into ISO dates by `dateparser`; a year is never guessed."""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from typing import Any

# "Published: 5 March 2024", "First published on Mon 2 Dec 2024 10.00 GMT": labels, not dates.
_LABEL = re.compile(r"(?i:(?:first\s+)?(?:published|posted|updated|date)(?:\s+on)?\s*:?\s*)")
_YEAR = re.compile(r"(?<!\d)\d{4}(?!\d)")
# A date on a line of its own, perhaps with a weekday and a time, is never longer than this.
_MAX_CHARS = 60
_SETTINGS = {
    "PARSERS": ["custom-formats", "absolute-time"],  # no "2 days ago", no Unix times
    "REQUIRE_PARTS": ["day", "month", "year"],  # "Dec 2" stays text: no year is invented
    "STRICT_PARSING": True,
    "RETURN_AS_TIMEZONE_AWARE": False,
}


def parse_date(value: str) -> str | None:
    """Return the ISO date that a string consists of (a time may follow), or None."""
    value = " ".join(value.split())
    label = _LABEL.match(value)
    if label:
        value = value[label.end() :]
    if not value or len(value) > _MAX_CHARS or not _YEAR.search(value):
        return None
    try:  # the common case, and free: ISO 8601 as written, time zone ignored
        return datetime.fromisoformat(value).date().isoformat()
    except ValueError:
        pass
    try:
        found = _parser().get_date_data(value).date_obj
    except (ValueError, OverflowError, TypeError):  # dates past year 9999 and similar
        return None
    return found.date().isoformat() if isinstance(found, datetime) else None


def normalise_date(value: str) -> str | None:
    """Return a date as ISO when it parses, else as the trimmed text (never inventing a year)."""
    return parse_date(value) or (" ".join(value.split()) or None)


@cache
def _parser() -> Any:
    # Imported and built on first use: it costs about a second, and most dates are ISO.
    from dateparser.date import DateDataParser

    return DateDataParser(languages=["en"], settings=_SETTINGS)
