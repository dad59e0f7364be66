"""Tests for the `newsbot` command line, through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from samples import LAWSUIT, STRIKE

from bot.cli import cli


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(autouse=True)
def fake_model(commands_embed_with_fake):
    """Every command embeds with the fake."""
    return commands_embed_with_fake


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "strike.txt").write_text(STRIKE, encoding="utf-8")
    (articles / "lawsuit.md").write_text(LAWSUIT, encoding="utf-8")
    return articles


@pytest.fixture
def indexed(runner, folder, fake_embeddings) -> Path:
    result = runner.invoke(cli, ["ingest", str(folder)])
    assert result.exit_code == 0, result.output
    fake_embeddings.reset()
    return folder


def test_ingest_prints_a_summary_and_creates_the_index(
    runner, folder, isolated_env, fake_embeddings
) -> None:
    result = runner.invoke(cli, ["ingest", str(folder)])
    assert result.exit_code == 0, result.output
    assert "added 2" in result.stdout and "failed 0" in result.stdout
    assert isolated_env.is_dir()  # NEWSBOT_INDEX_DIR
    assert fake_embeddings.texts_embedded > 0


def test_a_second_ingest_skips_and_embeds_nothing(runner, indexed, fake_embeddings) -> None:
    result = runner.invoke(cli, ["ingest", str(indexed)])
    assert result.exit_code == 0, result.output
    assert "skipped 2" in result.stdout and "(0 chunks embedded)" in result.stdout
    assert fake_embeddings.calls == []


def test_ingest_reports_bad_files_and_keeps_going(runner, folder) -> None:
    (folder / "empty.txt").write_text("")
    (folder / "slides.pptx").write_bytes(b"PK\x03\x04")
    result = runner.invoke(cli, ["ingest", "--json", str(folder), str(folder / "nope.txt")])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert len(report["added"]) == 2
    failed = {Path(f["path"]).name: f["reason"] for f in report["failed"]}
    assert set(failed) == {"empty.txt", "slides.pptx", "nope.txt"}
    assert all(reason for reason in failed.values())


def test_ingest_into_an_explicit_index(runner, folder, tmp_path) -> None:
    other = tmp_path / "elsewhere"
    result = runner.invoke(cli, ["ingest", str(folder), "--index", str(other)])
    assert result.exit_code == 0, result.output
    listed = runner.invoke(cli, ["sources", "--json", "--index", str(other)])
    assert listed.exit_code == 0 and len(listed.stdout.splitlines()) == 2


def test_sources_json_lists_each_article(runner, indexed) -> None:
    result = runner.invoke(cli, ["sources", "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 2
    for row in rows:
        assert set(row) == {"path", "title", "outlet", "published", "url", "chunks"}
        assert Path(row["path"]).is_file() and row["chunks"] >= 1
    by_title = {row["title"]: row for row in rows}
    strike = by_title["Dockworkers strike at Vellmar"]
    assert strike["outlet"] == "Harbour Gazette"
    assert strike["published"] == "2025-03-04"
    assert strike["url"] == "https://example.org/vellmar-strike"
    assert strike["path"] == str((indexed / "strike.txt").resolve())
    assert by_title["Tribal council sues Brightwater Mining"]["url"] is None
    assert [row["published"] for row in rows] == ["2025-03-04", "2025-02-11"]  # newest first


def test_sources_table(runner, indexed) -> None:
    result = runner.invoke(cli, ["sources"])
    assert result.exit_code == 0, result.output
    assert "Harbour Gazette" in result.stdout and "Okavi Courier" in result.stdout
    assert "2 articles" in result.stdout


def one_clean_error_line(result) -> str:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_ask_without_an_index_fails_with_one_line(runner, isolated_env) -> None:
    result = runner.invoke(cli, ["ask", "Who controls Vellmar?"])
    assert result.exit_code == 1
    line = one_clean_error_line(result)
    assert "no index" in line and str(isolated_env) in line
    assert result.stdout == ""


def test_sources_without_an_index_fails_with_one_line(runner) -> None:
    result = runner.invoke(cli, ["sources", "--json"])
    assert result.exit_code == 1
    assert "no index" in one_clean_error_line(result)


@pytest.mark.parametrize(
    "arguments",
    [
        ["ask", "Who controls Vellmar?", "-k", "0"],
        ["ask", "Who controls Vellmar?", "-k", "101"],
        ["ask", "Who controls Vellmar?", "--since", "last week"],
        ["ask"],
        ["ingest"],
    ],
)
def test_usage_errors_exit_2(runner, arguments) -> None:
    result = runner.invoke(cli, arguments)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "Usage" in result.stderr or "Error" in result.stderr


def test_an_empty_question_is_a_clean_failure(runner, indexed) -> None:
    result = runner.invoke(cli, ["ask", "   "])
    assert result.exit_code == 1
    assert "empty" in one_clean_error_line(result)


def test_ask_json_prints_the_contract(runner, indexed) -> None:
    result = runner.invoke(cli, ["ask", "--json", "Why did the dockworkers strike at Vellmar?"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["question"] == "Why did the dockworkers strike at Vellmar?"
    assert data["status"] in ("contested", "answered", "not_found")
    assert {"summary", "answer", "claims", "sources"} <= set(data)
    for source in data["sources"]:
        assert Path(source["path"]).is_file()


def test_ask_dash_answers_each_line_of_stdin_as_json_lines(
    runner, indexed, fake_embeddings
) -> None:
    questions = [
        "Why did the dockworkers strike at Vellmar?",
        "What did the Okavi tribal council claim?",
        "Who won the 2022 football World Cup?",
    ]
    stdin = "\n".join(questions[:2]) + "\n\n" + questions[2] + "\n"
    result = runner.invoke(cli, ["ask", "-", "--json"], input=stdin)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 3  # blank input lines are not questions
    answers = [json.loads(line) for line in lines]
    assert [a["question"] for a in answers] == questions
    assert answers[2]["status"] == "not_found" and answers[2]["sources"] == []
    asked = [texts[0] for kind, texts in fake_embeddings.calls if kind == "query"]
    assert any("Okavi" in text for text in asked)


def test_ask_plain_text_when_piped(runner, indexed) -> None:
    result = runner.invoke(cli, ["ask", "Who won the 2022 football World Cup?"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Not found")
    assert "\x1b[" not in result.stdout  # no terminal colour codes in a pipe


def test_ask_honours_the_outlet_filter(runner, indexed) -> None:
    question = "What did the Okavi tribal council claim about the Brightwater mine?"
    unfiltered = json.loads(runner.invoke(cli, ["ask", "--json", question]).stdout)
    assert "Okavi Courier" in {s["outlet"] for s in unfiltered["sources"]}
    result = runner.invoke(cli, ["ask", "--json", "--outlet", "Harbour", question])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {s["outlet"] for s in data["sources"]} <= {"Harbour Gazette"}


def test_chat_condenses_follow_ups(runner, indexed, fake_embeddings) -> None:
    stdin = "Why did the dockworkers strike at Vellmar?\nand Brightwater?\n\n"
    result = runner.invoke(cli, ["chat"], input=stdin)
    assert result.exit_code == 0, result.output
    asked = [texts[0] for kind, texts in fake_embeddings.calls if kind == "query"]
    assert any("Brightwater" in text and "Vellmar" not in text for text in asked), asked
    assert "Traceback" not in result.output
