"""Secrets: planted tokens and keys never reach output, errors, logs, reports or JSON."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from chroma_server import free_port
from click.testing import CliRunner
from fake_slack import FakeSlack, sign

import bot.embeddings
from bot.cli import cli

from .fakes import HashEmbeddings
from .support import (
    NEWSBOT,
    REPO,
    child_env,
    mention_body,
)

PLANTED = {
    "SLACK_BOT_TOKEN": "xoxb-4242-4242-PLANTEDbot0token",
    "SLACK_APP_TOKEN": "xapp-1-A42-PLANTEDapp0token",
    "SLACK_SIGNING_SECRET": "PLANTED0signing0secret0e1f",
    "OPENAI_API_KEY": "sk-PLANTED0openai0key0000",
    "ANTHROPIC_API_KEY": "sk-ant-PLANTED0anthropic0key",
    "SOME_SERVICE_TOKEN": "PLANTED0service0token",
}
SEEDS = REPO / "data" / "articles"
DATASET = """name: secrets
corpus: [{corpus}]
cases:
  - id: pokrovsk
    question: Who controls Pokrovsk?
    status: contested
    sides:
      - name: Russia
        claimant_any: [Putin, Russia]
        sources_any: [000_40cc14212c343330.txt, 001_ccc8396b4396ac85.txt]
  - id: absent
    question: Who won the 2022 football World Cup?
    status: not_found
"""


def leaks(text: str) -> list[str]:
    """Return every planted value (or its distinctive part) found in text."""
    found = [name for name, value in PLANTED.items() if value in text]
    if "PLANTED" in text:
        found.append("PLANTED")
    return found


@pytest.fixture
def planted(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    for name, value in PLANTED.items():
        monkeypatch.setenv(name, value)
    embeddings = HashEmbeddings()
    monkeypatch.setattr(bot.embeddings, "default_embeddings", lambda *a, **k: embeddings)
    caplog.set_level(logging.DEBUG)


def test_no_command_output_error_report_or_log_carries_a_secret(
    planted: None, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    index = str(tmp_path / "index")
    dataset = tmp_path / "set.yaml"
    dataset.write_text(DATASET.format(corpus=SEEDS), encoding="utf-8")
    report = tmp_path / "report.html"
    unreachable = f"http://127.0.0.1:{free_port()}/api/"
    runs: list[tuple[list[str], dict[str, str]]] = [
        (["-v", "ingest", str(SEEDS), "--index", index, "--json"], {}),
        (["-v", "ingest", str(SEEDS), str(tmp_path / "missing.txt"), "--index", index], {}),
        (["-v", "sources", "--index", index, "--json"], {}),
        (["-v", "sources", "--index", index], {}),
        (["-v", "ask", "Who controls Pokrovsk?", "--index", index, "--json"], {}),
        (["-v", "ask", "Who controls Pokrovsk?", "--index", index], {}),
        (["-v", "ask", "x" * 2000, "--index", index], {}),
        (["-v", "ask", "Who?", "--index", str(tmp_path / "nowhere")], {}),
        (["-v", "ask", "Who?", "--index", index], {"NEWSBOT_LLM": "no-such:model"}),
        (["-v", "ask", "Who?", "--index", index], {"NEWSBOT_TOP_K": PLANTED["OPENAI_API_KEY"]}),
        (["-v", "ask", "Who?", "--index", index], {"SLACK_API_URL": "{not a url"}),
        (["-v", "eval", str(dataset), "--json", "--report", str(report)], {}),
        (["-v", "eval", str(dataset), "--gate"], {}),
        (["-v", "feedback", "--index", index, "--json"], {}),
        (["-v", "slack", "--http"], {"SLACK_SIGNING_SECRET": "", "SLACK_API_URL": unreachable}),
        (["-v", "slack"], {"SLACK_APP_TOKEN": " ", "SLACK_API_URL": unreachable}),
        (["-v", "slack", "--http", "--port", str(free_port())], {"SLACK_API_URL": unreachable}),
    ]
    outputs, stdouts = [], []
    for args, env in runs:
        result = CliRunner().invoke(cli, args, env=env, obj={})
        outputs.append(result.output)
        stdouts.append(result.stdout)
        assert not leaks(result.output), (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), args
    assert "Contested" in outputs[5] or "contested" in outputs[4]
    assert "invalid configuration: NEWSBOT_TOP_K" in outputs[9]
    assert "SLACK_SIGNING_SECRET is not set" in outputs[-3]
    assert "SLACK_APP_TOKEN is not set" in outputs[-2]
    assert "cannot start the Slack app: the Slack API is unreachable" in outputs[-1]
    assert json.loads(stdouts[11])["cases"]  # the eval JSON was printed, and is clean
    assert not leaks(report.read_text(encoding="utf-8"))
    assert not leaks("\n".join(caplog.messages)), "a log record carries a secret"
    assert not leaks("\n".join(r.exc_text or "" for r in caplog.records))


def test_the_web_server_never_answers_or_logs_a_secret(
    planted: None, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi.testclient import TestClient

    from bot.config import Settings
    from bot.web.app import create_app

    index = tmp_path / "index"
    assert CliRunner().invoke(cli, ["ingest", str(SEEDS), "--index", str(index)]).exit_code == 0
    monkeypatch.setenv("NEWSBOT_API_TOKEN", "PLANTED0api0token")
    monkeypatch.setenv("NEWSBOT_CHROMA_HOST", PLANTED["SOME_SERVICE_TOKEN"])  # named in errors
    bearer = {"Authorization": "Bearer PLANTED0api0token"}
    with TestClient(create_app(Settings(index_dir=index, _env_file=None))) as client:
        replies = [
            client.post("/api/ask", json={"question": "Who controls Pokrovsk?"}),
            client.post("/api/ask", json={"question": "Who controls Pokrovsk?"}, headers=bearer),
            client.get("/api/sources", headers=bearer),
            client.get("/healthz"),
            client.get("/", params={"q": "Who controls Pokrovsk?"}),
        ]
    assert [r.status_code for r in replies] == [401, 503, 503, 503, 503]
    assert "cannot use the index at [redacted]" in replies[1].json()["error"]
    for reply in replies:
        assert not leaks(reply.text), reply.text
    assert not leaks("\n".join(caplog.messages)), "a log record carries a secret"


@pytest.mark.timeout(90)
def test_the_slack_process_never_logs_its_tokens(tmp_path: Path) -> None:
    # The Slack API (a misbehaving proxy) echoes the request's Authorization header in its
    # errors: the exception newsbot logs then carries the bot token, and must be redacted.
    with FakeSlack(fail_posts_with="invalid_auth") as slack:
        port = free_port()
        env = child_env(
            **PLANTED,
            SLACK_API_URL=slack.url,
            NEWSBOT_INDEX_DIR=str(tmp_path / "index"),
        )
        process = subprocess.Popen(
            [str(NEWSBOT), "-v", "slack", "--http", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            url = f"http://127.0.0.1:{port}/slack/events"
            deadline = time.monotonic() + 60
            status = None
            while time.monotonic() < deadline and process.poll() is None:
                body = mention_body("900.1", "Who controls Pokrovsk?")
                stamp = int(time.time())
                request = urllib.request.Request(url, data=body.encode(), method="POST")
                request.add_header("Content-Type", "application/json")
                request.add_header("X-Slack-Request-Timestamp", str(stamp))
                request.add_header(
                    "X-Slack-Signature", sign(body, stamp, PLANTED["SLACK_SIGNING_SECRET"])
                )
                try:
                    with urllib.request.urlopen(request, timeout=10) as response:
                        status = response.status
                        break
                except urllib.error.URLError:
                    time.sleep(0.3)
            assert status == 200, process.stderr.read() if process.stderr else ""
            # No index, so a :warning: reply; posting it fails with the echoing error.
            assert len(slack.wait_for("chat.postMessage", 1, timeout=30)) == 1
            time.sleep(1.0)  # let the log lines of that failure be written
        finally:
            process.terminate()
            stdout, stderr = process.communicate(timeout=30)
    authorizations = [h.get("authorization", "") for _, _, h in slack.calls]
    assert f"Bearer {PLANTED['SLACK_BOT_TOKEN']}" in authorizations  # it was used, and sent
    assert "could not post to C1" in stderr and "invalid_auth" in stderr
    assert "[redacted]" in stderr
    assert not leaks(stdout + stderr), stderr


def test_dot_env_is_git_ignored_and_the_example_holds_no_secret() -> None:
    checked = subprocess.run(
        ["git", "check-ignore", "-q", ".env"], cwd=REPO, check=False, capture_output=True
    )
    assert checked.returncode == 0, ".env is not git-ignored"
    tracked = subprocess.run(
        ["git", "ls-files", "--", ".env", "*.env", ".env.*"],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert tracked == [".env.example"] or tracked == [], tracked
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    secret_name = re.compile(r"(TOKEN|SECRET|KEY|PASSWORD)", re.IGNORECASE)
    for line in example.splitlines():
        assignment = re.match(r"^\s*#?\s*([A-Z][A-Z0-9_]*)\s*=\s*(.*)$", line)
        if assignment and secret_name.search(assignment.group(1)):
            assert assignment.group(2).strip() in ("", '""', "''"), line
    assert not re.search(r"\b(xox[abposre]-\w{6}|xapp-\w{6}|sk-\w{8})", example)


def test_the_redaction_filter_scrubs_messages_arguments_and_tracebacks() -> None:
    from bot.slack.command import RedactSecrets

    secret = PLANTED["SLACK_SIGNING_SECRET"]
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Collect()
    handler.addFilter(RedactSecrets([secret]))
    log = logging.getLogger("newsbot.test.redaction")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("token %s and secret %s", PLANTED["SLACK_BOT_TOKEN"], secret)
        try:
            raise RuntimeError(f"provider echoed {secret}")
        except RuntimeError:
            log.exception("failed")
    finally:
        log.removeHandler(handler)
    text = "\n".join(records)
    assert "RuntimeError" in text and text.count("[redacted]") == 3
    assert not leaks(text)
