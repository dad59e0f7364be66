"""Feedback on answers (👍/👎 clicks), kept in SQLite beside the index."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

FEEDBACK_FILE = "feedback.sqlite3"

Value = Literal["up", "down"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    channel TEXT NOT NULL,
    thread TEXT NOT NULL,
    time TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    answer_id TEXT NOT NULL,
    user TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    channel TEXT NOT NULL,
    thread TEXT NOT NULL,
    value TEXT NOT NULL CHECK (value IN ('up', 'down')),
    time TEXT NOT NULL,
    PRIMARY KEY (answer_id, user)
);
CREATE INDEX IF NOT EXISTS feedback_value_time ON feedback (value, time);
"""


@dataclass(frozen=True)
class Feedback:
    """One user's latest click on one answer."""

    answer_id: str
    question: str
    answer: str  # the Answer as JSON, as it was posted
    user: str
    channel: str
    thread: str
    value: Value
    time: str  # ISO 8601, UTC


class FeedbackStore:
    """Answers as posted and the clicks on them; one short connection per call, so thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @classmethod
    def beside(cls, index_dir: Path) -> FeedbackStore:
        """Return the store that lives in the index folder."""
        return cls(Path(index_dir).expanduser() / FEEDBACK_FILE)

    def remember(
        self, answer_id: str, *, question: str, answer: str, channel: str, thread: str
    ) -> None:
        """Keep a posted answer so that a later click can be stored with it."""
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO answers (id, question, answer, channel, thread, time)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (answer_id, question, answer, channel, thread, _now()),
            )

    def record(
        self,
        answer_id: str,
        *,
        user: str,
        value: Value,
        channel: str,
        thread: str,
        fallback_answer: str = "",
    ) -> Feedback:
        """Store a click; a later click by the same user on the same answer replaces it."""
        with self._write() as db:
            row = db.execute(
                "SELECT question, answer, channel, thread FROM answers WHERE id = ?", (answer_id,)
            ).fetchone()
            # An answer posted before this store existed is kept with what the click carries.
            question, answer = (row[0], row[1]) if row else ("", fallback_answer)
            channel = channel or (row[2] if row else "")
            thread = thread or (row[3] if row else "")
            feedback = Feedback(answer_id, question, answer, user, channel, thread, value, _now())
            db.execute(
                "INSERT INTO feedback"
                " (answer_id, user, question, answer, channel, thread, value, time)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (answer_id, user) DO UPDATE SET"
                " value = excluded.value, time = excluded.time,"
                " channel = excluded.channel, thread = excluded.thread",
                (
                    feedback.answer_id,
                    feedback.user,
                    feedback.question,
                    feedback.answer,
                    feedback.channel,
                    feedback.thread,
                    feedback.value,
                    feedback.time,
                ),
            )
        return feedback

    def counts(self) -> dict[str, int]:
        """Return how many answers are rated up and down (latest click per user)."""
        counts = {"up": 0, "down": 0}
        with self._read() as db:
            if db is not None:
                for value, n in db.execute("SELECT value, COUNT(*) FROM feedback GROUP BY value"):
                    counts[value] = n
        return counts

    def latest_negative(self, n: int = 10) -> list[Feedback]:
        """Return the n most recent 👎, newest first."""
        with self._read() as db:
            if db is None:
                return []
            rows = db.execute(
                "SELECT answer_id, question, answer, user, channel, thread, value, time"
                " FROM feedback WHERE value = 'down' ORDER BY time DESC, rowid DESC LIMIT ?",
                (n,),
            ).fetchall()
        return [Feedback(*row) for row in rows]

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """Open the store, creating it if needed, inside one transaction."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=10)) as db:
            db.executescript(_SCHEMA)
            with db:
                yield db

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection | None]:
        """Open the store for reading; None when nothing has been stored yet."""
        if not self.path.exists():
            yield None
            return
        with self._write() as db:
            yield db


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")
