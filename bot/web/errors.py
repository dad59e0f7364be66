"""How newsbot's failures become HTTP statuses and one-line messages."""

from __future__ import annotations

from bot.config import Settings
from bot.errors import (
    IndexNotFound,
    InvalidQuestion,
    ModelUnavailable,
    NewsbotError,
    StoreUnavailable,
)

_STATUS: list[tuple[type[NewsbotError], int]] = [
    (InvalidQuestion, 400),
    (IndexNotFound, 404),
    (StoreUnavailable, 503),
    (ModelUnavailable, 503),
]


def status_for(exc: NewsbotError) -> int:
    """Return the HTTP status of a failure: 400 bad input, 404 no index, 503 a dependency down."""
    return next((status for kind, status in _STATUS if isinstance(exc, kind)), 500)


def error_message(exc: NewsbotError | str, settings: Settings) -> str:
    """Return the failure as one line, without any secret newsbot knows of."""
    from bot.slack.command import redact, secret_values

    return redact(" ".join(str(exc).split()), secret_values(settings))
