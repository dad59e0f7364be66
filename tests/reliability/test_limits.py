"""Limits: over-long questions are refused politely; numeric options are validated clearly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import bot.embeddings
from bot.chain import WarmAnswerer
from bot.config import MAX_QUESTION_CHARS, Settings
from bot.errors import InvalidQuestion
from bot.ingest import ingest
from bot.store import open_store

from .fakes import HashEmbeddings
from .support import REPO, one_clear_line
from .test_dependencies import slack_reply

TOO_LONG = "Who controls Pokrovsk? " + "x" * MAX_QUESTION_CHARS


class CountingEmbeddings(HashEmbeddings):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def embed_query(self, text: str) -> list[float]:
        self.calls += 1
        return super().embed_query(text)


@pytest.fixture
def embeddings(monkeypatch: pytest.MonkeyPatch) -> CountingEmbeddings:
    counting = CountingEmbeddings()
    monkeypatch.setattr(bot.embeddings, "default_embeddings", lambda *a, **k: counting)
    return counting


@pytest.fixture
def index_dir(tmp_path: Path, embeddings: CountingEmbeddings) -> Path:
    folder = tmp_path / "index"
    index = open_store(Settings(index_dir=folder), create=True)
    try:
        ingest([REPO / "data" / "articles"], index, HashEmbeddings())
    finally:
        index.close()
    return folder


def invoke(args: list[str], env: dict[str, str] | None = None, stdin: str | None = None) -> Any:
    from bot.cli import cli

    return CliRunner().invoke(cli, args, env=env or {}, input=stdin, obj={})


# --- questions --------------------------------------------------------------------------------


def test_an_over_long_question_is_refused_politely_on_the_command_line(
    index_dir: Path, embeddings: CountingEmbeddings
) -> None:
    result = invoke(["ask", TOO_LONG, "--index", str(index_dir)])
    assert result.exit_code == 1
    line = one_clear_line(result.output)
    assert line == (
        f"Error: the question is {len(TOO_LONG)} characters long; the limit is {MAX_QUESTION_CHARS}"
    )
    assert embeddings.calls == 0  # refused before any work
    piped = invoke(["ask", "-", "--json", "--index", str(index_dir)], stdin=TOO_LONG + "\n")
    assert piped.exit_code == 1 and "the limit is" in one_clear_line(piped.stderr)


def test_a_question_at_the_limit_is_answered(index_dir: Path) -> None:
    question = ("Who controls Pokrovsk? " * 60)[:MAX_QUESTION_CHARS]
    result = invoke(["ask", question, "--json", "--index", str(index_dir)])
    assert result.exit_code == 0, result.output


def test_chat_refuses_an_over_long_line_and_carries_on(index_dir: Path) -> None:
    result = invoke(
        ["chat", "--index", str(index_dir)], stdin=f"{TOO_LONG}\nWho controls Pokrovsk?\n"
    )
    assert result.exit_code == 0, result.output
    assert "error: the question is" in result.stderr
    assert "Pokrovsk" in result.stdout


def test_slack_refuses_an_over_long_question_with_a_warning(
    index_dir: Path, embeddings: CountingEmbeddings
) -> None:
    settings = Settings(index_dir=index_dir)
    answerer = WarmAnswerer(settings)
    reply = slack_reply(settings, answerer, question=TOO_LONG)
    assert reply.startswith(":warning: the question is ")
    assert reply.endswith(f"the limit is {MAX_QUESTION_CHARS}")
    assert embeddings.calls == 0
    with pytest.raises(InvalidQuestion):
        answerer(TOO_LONG)


# --- numeric options --------------------------------------------------------------------------

OPTIONS = [
    (["ask", "q", "-k", "0"], "Invalid value for '-k': 0 is not in the range 1<=x<=100."),
    (["ask", "q", "-k", "101"], "Invalid value for '-k': 101 is not in the range 1<=x<=100."),
    (["ask", "q", "-k", "-3"], "Invalid value for '-k': -3 is not in the range 1<=x<=100."),
    (["ask", "q", "-k", "many"], "Invalid value for '-k': 'many' is not a valid integer"),
    (["chat", "-k", "0"], "Invalid value for '-k': 0 is not in the range 1<=x<=100."),
    (["eval", "x.yaml", "-k", "0"], "Invalid value for '-k': 0 is not in the range 1<=x<=100."),
    (["slack", "--port", "0"], "Invalid value for '--port': 0 is not in the range 1<=x<=65535."),
    (["slack", "--port", "70000"], "Invalid value for '--port': 70000 is not in the range"),
    (["feedback", "-n", "-1"], "Invalid value for '-n': -1 is not in the range 0<=x<=1000."),
    (["ask", "q", "--since", "yesterday"], "'yesterday' is not a date (YYYY-MM-DD)"),
    (["serve", "--port", "0"], "Invalid value for '--port': 0 is not in the range 1<=x<=65535."),
]
VARIABLES = [
    ({"NEWSBOT_TOP_K": "0"}, "NEWSBOT_TOP_K: Input should be greater than or equal to 1"),
    ({"NEWSBOT_TOP_K": "1000"}, "NEWSBOT_TOP_K: Input should be less than or equal to 100"),
    ({"NEWSBOT_TOP_K": "eight"}, "NEWSBOT_TOP_K: Input should be a valid integer"),
    ({"NEWSBOT_LLM_TIMEOUT": "0"}, "NEWSBOT_LLM_TIMEOUT: Input should be greater than 0"),
    ({"NEWSBOT_LLM_TIMEOUT": "-5"}, "NEWSBOT_LLM_TIMEOUT: Input should be greater than 0"),
    ({"NEWSBOT_CHROMA_PORT": "70000"}, "NEWSBOT_CHROMA_PORT: 70000 is not a port (1-65535)"),
    ({"NEWSBOT_CHROMA_PORT": "0"}, "NEWSBOT_CHROMA_PORT: 0 is not a port (1-65535)"),
    ({"NEWSBOT_CHROMA_PORT": "http"}, "NEWSBOT_CHROMA_PORT: Input should be a valid integer"),
    (
        {"NEWSBOT_RATE_LIMIT": "-1"},
        "NEWSBOT_RATE_LIMIT: Input should be greater than or equal to 0",
    ),
    ({"NEWSBOT_RATE_LIMIT": "lots"}, "NEWSBOT_RATE_LIMIT: Input should be a valid integer"),
    (
        {"NEWSBOT_MAX_REQUEST_BYTES": "100"},
        "NEWSBOT_MAX_REQUEST_BYTES: Input should be greater than or equal to 1024",
    ),
]


@pytest.mark.parametrize(("args", "message"), OPTIONS)
def test_numeric_options_are_validated_with_a_clear_message(
    tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "x.yaml").write_text("name: x\ncases: []\n")
    import os

    here = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = invoke(args)
    finally:
        os.chdir(here)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and message in errors[0], result.output


@pytest.mark.parametrize(("env", "message"), VARIABLES)
def test_numeric_settings_are_validated_with_a_clear_message(
    env: dict[str, str], message: str
) -> None:
    result = invoke(["ask", "Who controls Pokrovsk?"], env)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    assert errors[0].startswith(f"Error: invalid configuration: {message}"), errors[0]
    assert "Traceback" not in result.output and "errors.pydantic.dev" not in result.output
