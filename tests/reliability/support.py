"""Helpers shared by the reliability tests: index audits, subprocess runs, a fake Slack API."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

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
        path_targets = set(index.records.paths().values())
        pending = [m.article_id for m in index.records.pending()]
        index.refresh(force=True)  # the catalog, compared with every record
        catalog = index.catalog
        articles = {r.id: r.chunks for r in catalog.articles()}
        with sqlite3.connect(catalog.path) as db:
            chunk_rows = [r[0] for r in db.execute("SELECT id FROM chunks")]
            fts_rows = [r[0] for r in db.execute("SELECT chunk_id FROM chunks_fts")]
            statement_owners = {r[0] for r in db.execute("SELECT article_id FROM statements")}
    finally:
        index.close()
    expected = {f"{a}:{p}" for a, n in articles.items() for p in range(n)}
    return {
        "articles": len(articles),
        "records": set(listing),
        "cached": set(articles),
        "catalog_chunks": sum(articles.values()),
        "vector_count": vector_count,
        "vector_ids": vector_ids,
        "expected_ids": expected,
        "chunk_rows": chunk_rows,
        "fts_rows": fts_rows,
        "pending": pending,
        "unmapped": set(articles) - path_targets,
        "dangling_paths": path_targets - set(articles),
        "orphan_statements": statement_owners - set(articles),
    }


def assert_consistent(settings: Settings) -> dict[str, Any]:
    """Assert that vectors and catalog describe exactly the same chunks, once each."""
    found = audit(settings)
    assert found["records"] == found["cached"], "the catalog is not a copy of the records"
    assert found["vector_count"] == found["catalog_chunks"], found["vector_count"]
    assert found["vector_ids"] == found["expected_ids"], "orphaned or missing vectors"
    assert sorted(found["chunk_rows"]) == sorted(found["expected_ids"]), "duplicate chunk rows"
    assert sorted(found["fts_rows"]) == sorted(found["expected_ids"]), "duplicate lexical rows"
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


def sign(body: str, timestamp: int, secret: str) -> str:
    """Sign a request body the way Slack does."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class FakeSlack:
    """Plays the Slack Web API on 127.0.0.1 and records every call (thread-safe)."""

    def __init__(self, *, fail_posts_with: str | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self.lock = threading.Lock()
        self.fail_posts_with = fail_posts_with
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._ts = 0

    def __enter__(self) -> FakeSlack:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        with self.lock:
            return [data for name, data, _ in self.calls if name == method]

    def methods(self) -> list[str]:
        with self.lock:
            return [name for name, _, _ in self.calls]

    def wait_for(self, method: str, count: int = 1, timeout: float = 20.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.calls_to(method)) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.calls_to(method)

    def _reply(self, method: str, data: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        with self.lock:
            self.calls.append((method, data, headers))
            self._ts += 1
            ts = f"2000000000.{self._ts:06d}"
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "B1", "team_id": "T1"}
        if method == "chat.postMessage" and self.fail_posts_with is not None:
            # A misbehaving proxy that echoes the request's credentials in its error.
            return {
                "ok": False,
                "error": self.fail_posts_with,
                "echo": headers.get("authorization", ""),
            }
        if method == "chat.postMessage":
            return {"ok": True, "channel": data.get("channel"), "ts": ts}
        return {"ok": True}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if "json" in (self.headers.get("Content-Type") or ""):
                    data = json.loads(raw or "{}")
                else:
                    data = {k: v[0] for k, v in parse_qs(raw).items()}
                if isinstance(data.get("blocks"), str):
                    data["blocks"] = json.loads(data["blocks"])
                headers = {k.lower(): v for k, v in self.headers.items()}
                method = self.path.rsplit("/", 1)[-1]
                reply = json.dumps(fake._reply(method, data, headers)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def block_texts(blocks: list[dict[str, Any]]) -> list[str]:
    """Return every text object's text in Block Kit blocks."""
    found: list[str] = []
    for block in blocks:
        if "text" in block:
            found.append(block["text"]["text"])
        for element in block.get("elements", []):
            text = element.get("text")
            found.append(text if isinstance(text, str) else (text or {}).get("text", ""))
    return found


# --- a Chroma server --------------------------------------------------------------------------


def free_port() -> int:
    """Return a TCP port nothing listens on (yet)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ChromaServer:
    """A real `chroma run` on a free local port, started and stopped by a test."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ChromaServer:
        import urllib.request

        binary = Path(sys.executable).parent / "chroma"
        log = self.folder / "chroma.log"
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(binary), "run", "--path", str(self.folder / "data")]
                + ["--host", "127.0.0.1", "--port", str(self.port)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        url = f"http://127.0.0.1:{self.port}/api/v2/heartbeat"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chroma exited: {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("chroma did not start within 60 s")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


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
    return json.dumps(
        {
            "token": "verification-token",
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id or f"Ev{ts}",
            "event_time": int(time.time()),
            "event": {
                "type": "app_mention",
                "user": "U1",
                "text": f"<@UBOT> {question}",
                "ts": ts,
                "event_ts": ts,
                "channel": "C1",
            },
        }
    )


def dispatch_mention(app: Any, question: str, ts: str, secret: str) -> int:
    """Hand the app a signed app_mention event, as the HTTP endpoint would; return the status."""
    from slack_bolt import BoltRequest

    body = mention_body(ts, question)
    stamp = int(time.time())
    headers = {
        "content-type": ["application/json"],
        "x-slack-request-timestamp": [str(stamp)],
        "x-slack-signature": [sign(body, stamp, secret)],
    }
    return int(app.dispatch(BoltRequest(body=body, headers=headers)).status)
