"""Dependencies failing: the Chroma server, the index folder, the model provider.

The command line answers with one clear line and exit code 1, Slack with a :warning: reply, the
model path with the embedded answer; nothing hangs (every test is bounded).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chroma_server import ChromaServer, free_port
from click.testing import CliRunner
from fake_slack import FakeSlack
from pydantic import SecretStr

import bot.embeddings
import bot.store
from bot.catalog import CACHE_FILE
from bot.chain import Answerer, WarmAnswerer
from bot.cli import cli
from bot.config import Settings
from bot.ingest import ingest
from bot.slack.app import build_slack_app
from bot.store import open_store

from .fakes import HashEmbeddings
from .support import (
    REPO,
    check_answer,
    child_env,
    dispatch_mention,
    driver_command,
    one_clear_line,
    run,
)

SECRET = "dependency-signing-secret"
SEEDS = REPO / "data" / "articles"


@pytest.fixture(autouse=True)
def fake_embeddings_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    embeddings = HashEmbeddings()
    monkeypatch.setattr(bot.embeddings, "default_embeddings", lambda *a, **k: embeddings)


def invoke(args: list[str], env: dict[str, str] | None = None) -> Any:
    result = CliRunner().invoke(cli, args, env=env or {}, obj={})
    assert not isinstance(result.exception, AssertionError), result.exception
    return result


def assert_one_line_exit_1(result: Any, *needles: str) -> str:
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    line = one_clear_line(result.output)
    assert line.startswith("Error: ")
    for needle in needles:
        assert needle in line, line
    return line


def seeded(index_dir: Path) -> Settings:
    settings = Settings(index_dir=index_dir)
    index = open_store(settings, create=True)
    try:
        ingest([SEEDS], index, HashEmbeddings())
    finally:
        index.close()
    return settings


def slack_reply(settings: Settings, answerer: Any, question: str = "Who controls Pokrovsk?") -> str:
    """Ask through a real Bolt app against a fake Slack; return the text of the one reply."""
    with FakeSlack() as slack:
        app_settings = settings.model_copy(
            update={
                "slack_bot_token": SecretStr("xoxb-0-0-dependency"),
                "slack_signing_secret": SecretStr(SECRET),
                "slack_api_url": slack.url,
            }
        )
        app = build_slack_app(app_settings, answerer)
        try:
            assert dispatch_mention(app, question, "700.1", SECRET) == 200
            assert app.drain(30), "the reply never came"
        finally:
            app.close()
        (posted,) = slack.calls_to("chat.postMessage")
    return str(posted["text"])


# --- the Chroma server ------------------------------------------------------------------------


class SilentServer:
    """Accepts TCP connections on 127.0.0.1 and never answers: a hung Chroma server."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def server_folder(tmp_path: Path) -> Path:
    """An index folder for an index that lives on a (missing) server."""
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    return index_dir


@pytest.mark.timeout(30)
@pytest.mark.parametrize("command", [["ask", "Who controls Pokrovsk?"], ["sources"], ["ingest"]])
def test_chroma_server_down_is_one_line_and_exit_1(server_folder: Path, command: list[str]) -> None:
    if command == ["ingest"]:
        command = ["ingest", str(SEEDS)]
    env = {"NEWSBOT_CHROMA_HOST": "127.0.0.1", "NEWSBOT_CHROMA_PORT": str(free_port())}
    result = invoke([*command, "--index", str(server_folder)], env)
    assert_one_line_exit_1(result, "Chroma server unreachable", "ConnectionRefusedError")


@pytest.mark.timeout(30)
def test_a_hung_chroma_server_is_a_clear_error_within_the_timeout(
    server_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    silent = SilentServer()
    monkeypatch.setattr(bot.store, "CHROMA_CONNECT_TIMEOUT", 1.0)
    try:
        env = {"NEWSBOT_CHROMA_HOST": "127.0.0.1", "NEWSBOT_CHROMA_PORT": str(silent.port)}
        started = time.monotonic()
        result = invoke(["ask", "Who controls Pokrovsk?", "--index", str(server_folder)], env)
        assert time.monotonic() - started < 10
        assert_one_line_exit_1(result, "Chroma server unreachable", "TimeoutError")
    finally:
        silent.close()


@pytest.mark.timeout(120)
def test_a_chroma_server_that_stops_or_stalls_mid_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.store, "CHROMA_TIMEOUT", 2.0)
    with ChromaServer(tmp_path) as server:
        settings = Settings(
            index_dir=tmp_path / "index", chroma_host="127.0.0.1", chroma_port=server.port
        )
        seeded(settings.index_dir)
        index = open_store(settings, create=True)
        ingest([SEEDS], index, HashEmbeddings())
        answerer = Answerer(settings, index, HashEmbeddings())
        check_answer(answerer("Who controls Pokrovsk?"))
        assert server.process is not None
        # Stalled: the process is alive and its port open, but it answers nothing.
        os.kill(server.process.pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            reply = slack_reply(settings, answerer)
            assert time.monotonic() - started < 20
        finally:
            os.kill(server.process.pid, signal.SIGCONT)
        assert reply.startswith(":warning: index unavailable (cannot use the index at 127.0.0.1:")
        assert "ReadTimeout" in reply
        check_answer(answerer("Who controls Pokrovsk?"))  # back once the server is
    # Stopped: the server is gone for good.
    reply = slack_reply(settings, answerer)
    unavailable = ":warning: index unavailable (cannot use the index at 127.0.0.1:"
    assert reply.startswith(unavailable), reply
    env = {"NEWSBOT_CHROMA_HOST": "127.0.0.1", "NEWSBOT_CHROMA_PORT": str(server.port)}
    result = invoke(["ask", "Who controls Pokrovsk?", "--index", str(settings.index_dir)], env)
    assert_one_line_exit_1(result, "Chroma server unreachable")
    index.close()


def test_an_unexpected_failure_below_the_edge_is_still_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = seeded(tmp_path / "index")

    def broken(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a dependency broke in a way nobody foresaw")

    monkeypatch.setattr(Answerer, "retrieve", broken)
    result = invoke(["ask", "Who controls Pokrovsk?", "--index", str(settings.index_dir)])
    line = assert_one_line_exit_1(result, "unexpected error (RuntimeError)")
    assert "nobody foresaw" not in line  # internals stay in the log (-v), not on the screen


# --- the index folder -------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["ask", "Who controls Pokrovsk?"], ["sources"]])
def test_a_missing_index_folder_is_one_line_and_exit_1(tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "nowhere" / "index"
    result = invoke([*command, "--index", str(missing)])
    assert_one_line_exit_1(result, "no index at", str(missing))
    assert not missing.exists()  # asking created nothing


def test_slack_says_the_index_is_missing_with_a_warning(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "nowhere")
    reply = slack_reply(settings, WarmAnswerer(settings))
    assert reply.startswith(":warning: no index at")
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.timeout(120)
def test_a_corrupt_or_deleted_catalog_is_rebuilt_from_chroma(tmp_path: Path) -> None:
    settings = seeded(tmp_path / "index")
    cache = Path(settings.index_dir) / CACHE_FILE
    env = child_env(NEWSBOT_INDEX_DIR=str(settings.index_dir))
    ask = driver_command("ask", "Who controls Pokrovsk?", "--json")
    expected = run(ask, env=env)
    assert expected.returncode == 0, expected.stderr
    assert cache.is_file()
    for command in (ask, driver_command("sources", "--json")):
        cache.write_bytes(b"this is not a database" * 100)
        result = run(command, env=env)
        assert result.returncode == 0, result.stderr
        if command is ask:
            assert result.stdout == expected.stdout
        else:
            assert len(result.stdout.splitlines()) == 2
    for leftover in cache.parent.glob(CACHE_FILE + "*"):
        leftover.unlink()
    again = run(ask, env=env)
    assert again.returncode == 0 and again.stdout == expected.stdout, again.stderr


def _read_only(folder: Path) -> list[str]:
    """Take the write bits off folder; return the command prefix under which that binds.

    Root writes through any mode, so as root the child runs without the capabilities that
    let it (setpriv drops them); any other user is bound by the modes themselves.
    """
    for path in [folder, *folder.rglob("*")]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot make a folder read-only")
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--"]


@pytest.fixture
def readonly_index(tmp_path: Path) -> Iterator[tuple[Path, list[str]]]:
    index_dir = tmp_path / "index"
    seeded(index_dir)
    (index_dir / "feedback.sqlite3").write_bytes(b"")  # nothing may be created or changed
    yield index_dir, _read_only(index_dir)
    for path in [index_dir, *index_dir.rglob("*")]:
        path.chmod(0o700)


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
    }


@pytest.mark.timeout(120)
def test_a_read_only_index_still_answers_and_refuses_ingest(
    readonly_index: tuple[Path, list[str]],
) -> None:
    index_dir, prefix = readonly_index
    before = _snapshot(index_dir)
    env = child_env(NEWSBOT_INDEX_DIR=str(index_dir))
    probe = run([*prefix, "touch", str(index_dir / "probe")], env=env)
    assert probe.returncode != 0, "the folder is still writable"
    asked = run([*prefix, *driver_command("ask", "Who controls Pokrovsk?", "--json")], env=env)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["question"] == "Who controls Pokrovsk?" and answer["status"] != "not_found"
    check_answer(answer)
    listed = run([*prefix, *driver_command("sources", "--json")], env=env)
    assert listed.returncode == 0, listed.stderr
    assert len(listed.stdout.splitlines()) == 2
    refused = run([*prefix, *driver_command("ingest", str(SEEDS))], env=env)
    assert refused.returncode == 1
    line = one_clear_line(refused.stderr)
    assert "read-only" in line, line
    assert _snapshot(index_dir) == before  # not one byte written


# --- the model provider -----------------------------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("behaviour", "note"),
    [("hang", "the model timed out"), ("fail", "the model failed (ConnectionError)")],
)
def test_a_failing_or_hanging_model_gives_the_embedded_answer_and_the_process_exits(
    tmp_path: Path, behaviour: str, note: str
) -> None:
    settings = seeded(tmp_path / "index")
    env = child_env(
        NEWSBOT_INDEX_DIR=str(settings.index_dir),
        NEWSBOT_LLM="stub:model",
        NEWSBOT_LLM_TIMEOUT="1",
    )
    started = time.monotonic()
    # The hanging call sleeps for an hour: the process must still exit once it has answered.
    result = run(
        driver_command("ask", "Who controls Pokrovsk?", "--json", model=behaviour),
        env=env,
        timeout=30,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    answer = json.loads(result.stdout)
    assert any(note in n for n in answer["notes"]), answer["notes"]
    assert note in answer["answer"]
    check_answer(answer)
    assert elapsed < 20, elapsed


def test_an_unknown_model_is_one_line_and_exit_1(tmp_path: Path) -> None:
    settings = seeded(tmp_path / "index")
    env = {"NEWSBOT_LLM": "no-such-provider:model", "NEWSBOT_INDEX_DIR": str(settings.index_dir)}
    result = invoke(["ask", "Who controls Pokrovsk?"], env)
    assert_one_line_exit_1(result, "model 'no-such-provider:model' is unavailable")


@pytest.mark.timeout(60)
def test_slack_gets_the_embedded_answer_when_the_model_hangs(tmp_path: Path) -> None:
    from .test_hostile import ScriptedModel

    class Hanging(ScriptedModel):
        def with_structured_output(self, schema: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            from langchain_core.runnables import RunnableLambda

            return RunnableLambda(lambda messages: time.sleep(3600))

    from langchain_core.messages import AIMessage

    settings = seeded(tmp_path / "index").model_copy(update={"llm_timeout": 1.0})
    model = Hanging(messages=iter([AIMessage(content="")]), sent=[])
    answerer = Answerer(settings, open_store(settings), HashEmbeddings(), model=model)
    embedded = Answerer(settings, answerer.index, HashEmbeddings())("Who controls Pokrovsk?")
    started = time.monotonic()
    reply = slack_reply(settings, answerer)
    assert time.monotonic() - started < 15
    assert reply == embedded.summary
    answerer.index.close()
