"""Follow-up questions: turning "and Vovchansk?" into a question that stands on its own."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_FOLLOW_UP = re.compile(
    r"^\s*(?:and what about|and|what about|how about|also|same for|what of)\b"
    r"\s*(?P<rest>.*?)\s*\??\s*$",
    re.IGNORECASE,
)
_SUBJECT_NAME = re.compile(r"(?:[A-Z][\w'’-]+)(?:\s+[A-Z][\w'’-]+)*")


@dataclass
class Turn:
    """One exchange: what was asked, what it meant, and the answer."""

    asked: str
    standalone: str
    answer: Any = None


@dataclass
class Conversation:
    """A thread of questions; the same mechanism serves the terminal chat and Slack threads."""

    turns: list[Turn] = field(default_factory=list)

    def standalone(self, question: str) -> str:
        """Return the question rewritten to stand on its own, given the thread so far."""
        previous = self.turns[-1].standalone if self.turns else None
        return condense(previous, question)

    def add(self, asked: str, standalone: str, answer: Any = None) -> None:
        """Record an exchange."""
        self.turns.append(Turn(asked, standalone, answer))


def condense(previous: str | None, question: str) -> str:
    """Rewrite a follow-up against the previous standalone question.

    "Who controls Port Ellis?" then "and Castlebay?" becomes "Who controls Castlebay?": the
    follow-up's subject replaces the last name the previous question asked about.
    """
    match = _FOLLOW_UP.match(question)
    if previous is None or match is None:
        return question.strip()
    rest = match.group("rest").strip(" ?")
    if not rest:
        return previous
    names = [m for m in _SUBJECT_NAME.finditer(previous) if m.start() > 0]
    if not names:
        return f"{previous.rstrip(' ?')} and {rest}?"
    last = names[-1]
    return previous[: last.start()] + rest + previous[last.end() :]
