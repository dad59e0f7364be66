"""Helpers shared by the reliability tests: index audits, subprocess runs, Slack events."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fake_slack import event_body, sign

from bot.config import Settings
from bot.store import open_store

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DRIVER = HERE / "driver.py"
NEWSBOT = Path(sys.executable).parent / "newsbot"
# The real news corpora live beside the repository, never in it.
CORPUS = REPO.parent / "shared" / "corpus"
# The development set's nine articles (seeds and dev), as arguments to `newsbot ingest`.
DEV_ARTICLES = (str(CORPUS / "seeds"), str(CORPUS / "dev"))


# --- index audit ------------------------------------------------------------------------------


def audit(settings: Settings) -> dict[str, Any]:
    """Open an index and return every figure that must agree; raise nothing on disagreement."""
    index = open_store(settings)
    try:
        vector_ids = set(index.collection.get(include=[])["ids"])
        vector_count = index.vector_count()
        listing = index.records.listing()
        data_ids = set(index.records.data.get(include=[])["ids"])
        path_targets = set(index.records.paths().values())
        pending = [m.article_id for m in index.records.pending()]
        index.refresh(force=True)  # the catalog, compared with every record
        catalog = index.catalog
        articles = {r.id: r.chunks for r in catalog.articles()}
        with sqlite3.connect(catalog.path) as db:
            chunk_rows = [r[0] for r in db.execute("SELECT id FROM chunks")]
            fts_rows = [r[0] for r in db.execute("SELECT chunk_id FROM chunks_fts")]
            cached_vectors = [
                r[0]
                for r in db.execute(
                    "SELECT c.id FROM vectors v JOIN chunks c ON c.rowid = v.chunk_rowid"
                )
            ]
            statement_owners = {r[0] for r in db.execute("SELECT article_id FROM statements")}
    finally:
        index.close()
    expected = {f"{a}:{p}" for a, n in articles.items() for p in range(n)}
    return {
        "articles": len(articles),
        "records": set(listing),
        "data": data_ids,
        "cached": set(articles),
        "catalog_chunks": sum(articles.values()),
        "vector_count": vector_count,
        "vector_ids": vector_ids,
        "expected_ids": expected,
        "chunk_rows": chunk_rows,
        "fts_rows": fts_rows,
        "cached_vectors": cached_vectors,
        "pending": pending,
        "unmapped": set(articles) - path_targets,
        "dangling_paths": path_targets - set(articles),
        "orphan_statements": statement_owners - set(articles),
    }


def assert_consistent(settings: Settings) -> dict[str, Any]:
    """Assert that vectors and catalog describe exactly the same chunks, once each."""
    found = audit(settings)
    assert found["records"] == found["cached"], "the catalog is not a copy of the records"
    assert found["data"] == found["records"], "article data without a record, or missing"
    assert found["vector_count"] == found["catalog_chunks"], found["vector_count"]
    assert found["vector_ids"] == found["expected_ids"], "orphaned or missing vectors"
    assert sorted(found["chunk_rows"]) == sorted(found["expected_ids"]), "duplicate chunk rows"
    assert sorted(found["fts_rows"]) == sorted(found["expected_ids"]), "duplicate lexical rows"
    assert sorted(found["cached_vectors"]) == sorted(found["expected_ids"]), "cached vectors"
    assert found["pending"] == []
    assert found["unmapped"] == set(), found["unmapped"]
    assert found["dangling_paths"] == set(), found["dangling_paths"]
    assert found["orphan_statements"] == set()
    return found


# --- subprocesses -----------------------------------------------------------------------------


def child_env(**extra: str) -> dict[str, str]:
    """Return the test's environment (already isolated by conftest) plus extra variables."""
    env = dict(os.environ)
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "COLUMNS": "200"})
    env.update(extra)
    return env


def driver_command(
    *arguments: str,
    slow: float = 0.0,
    model: str | None = None,
    flush: int | None = None,
    pause: float = 0.0,
) -> list[str]:
    """Return the command running `newsbot ARGUMENTS` through the test driver."""
    command = [sys.executable, str(DRIVER), "--slow", str(slow), "--pause", str(pause)]
    if model:
        command += ["--model", model]
    if flush:
        command += ["--flush", str(flush)]
    return [*command, "--", *arguments]


def run(
    command: Sequence[str], *, timeout: float = 120, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion and capture its output as text."""
    kwargs.setdefault("env", child_env())
    return subprocess.run(
        list(command), capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )


def one_clear_line(stderr: str) -> str:
    """Assert that stderr holds exactly one line, an error without a traceback; return it."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1, stderr
    return lines[0]


# --- Slack ------------------------------------------------------------------------------------


def check_answer(answer: Any, gone: frozenset[str] = frozenset()) -> None:
    """Assert that an answer is complete and every quote is verbatim in the file it cites.

    Files in `gone` were deleted on purpose and may be cited until an ingest prunes them.
    """
    from bot.evaluation.metrics import citation_validity

    data = answer.to_dict() if hasattr(answer, "to_dict") else answer
    assert data["status"] in ("contested", "answered", "not_found"), data["status"]
    assert data["summary"] and data["answer"]
    if data["status"] == "not_found":
        assert data["claims"] == [] and data["sources"] == []
        return
    # An answer cites what it says: a camp's claims, or independent voices.
    assert (data["claims"] or data["independent"]) and data["sources"], data
    ids = {s["id"] for s in data["sources"]}
    assert {e["source"] for c in data["claims"] for e in c["evidence"]} <= ids
    citations = citation_validity(data)
    unexplained = [r for r in citations.reasons if not any(path in r for path in gone)]
    assert citations.total > 0 and unexplained == [], unexplained


def mention_body(ts: str, question: str, event_id: str | None = None) -> str:
    """Return the JSON body Slack posts for an @mention of the bot."""
    event = {"type": "app_mention", "user": "U1", "text": f"<@UBOT> {question}", "ts": ts}
    return event_body(event | {"event_ts": ts, "channel": "C1"}, event_id or f"Ev{ts}")


def dispatch(app: Any, body: str, secret: str) -> int:
    """Hand the app a signed event body, as the HTTP endpoint would; return the status."""
    from slack_bolt import BoltRequest

    stamp = int(time.time())
    headers = {
        "content-type": ["application/json"],
        "x-slack-request-timestamp": [str(stamp)],
        "x-slack-signature": [sign(body, stamp, secret)],
    }
    return int(app.dispatch(BoltRequest(body=body, headers=headers)).status)


def dispatch_mention(app: Any, question: str, ts: str, secret: str) -> int:
    """Hand the app a signed app_mention event; return the status."""
    return dispatch(app, mention_body(ts, question), secret)
