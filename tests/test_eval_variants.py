"""`newsbot eval --variants`: the same question as people type it, and how consistent answers are.

Questions and answers are invented; the answerer is a function that records what it was asked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console

from bot.errors import InvalidQuestion
from bot.evaluation.command import eval_command
from bot.evaluation.dataset import Case, Dataset
from bot.evaluation.page import render_html
from bot.evaluation.report import print_run
from bot.evaluation.runner import EvalRun, run_cases, run_variants
from bot.evaluation.variants import CHATTER, case_variants, summarise_variants, typed_variants

HARBOUR = Case(id="harbour", question="Who holds the harbour at Tolvik?", status="not_found")
PIER = Case(
    id="pier",
    question="Is the northern pier open?",
    status="not_found",
    variants=(
        "northern pier open or not",
        "Is the northern pier open?",
        "is the northern pier open?",
    ),
)


@pytest.mark.parametrize(
    "question",
    [
        "Who holds the harbour at Tolvik?",
        "How many boats did the Arvenian navy say it lost in May 2031?",
        "Did the U.R. Navy escort the grain ships out of Tolvik harbour?",
    ],
)
def test_the_five_typed_variants_of_any_question(question: str) -> None:
    made = dict(typed_variants(question))
    assert made == {
        "lower": question.lower(),
        "upper": question.upper(),
        "no_question_mark": question[:-1],
        "chatter": CHATTER.format(question=question),
        "double_spaces": question.replace(" ", "  "),
    }
    assert made["chatter"].startswith("Hi, quick question: ") and question in made["chatter"]
    assert "  " in made["double_spaces"] and "  " not in question


def test_a_variant_that_is_the_question_itself_is_not_asked() -> None:
    # Already lower case and without a question mark: those two variants would test nothing.
    assert [kind for kind, _ in typed_variants("who holds tolvik")] == [
        "upper",
        "chatter",
        "double_spaces",
    ]
    assert [kind for kind, _ in typed_variants("  Tolvik?  ")] == [
        "lower",
        "upper",
        "no_question_mark",
        "chatter",
    ]


def test_listed_variants_follow_the_typed_ones_without_repeats() -> None:
    made = case_variants(PIER)
    assert [kind for kind, _ in made] == [
        "lower",
        "upper",
        "no_question_mark",
        "chatter",
        "double_spaces",
        "listed",
    ]
    assert made[-1] == ("listed", "northern pier open or not")


def ask_recording(answers: dict[str, str], asked: list[str]) -> Any:
    """An answerer whose status depends on how the question is typed."""

    def ask(question: str) -> dict[str, Any]:
        asked.append(question)
        if question.isupper():
            raise InvalidQuestion("shouting is not a question")
        status = answers.get(question, "not_found")
        return {"question": question, "status": status, "summary": "", "claims": [], "sources": []}

    return ask


def test_status_consistency_and_pass_rate_per_kind() -> None:
    dataset = Dataset("t", Path("t.yaml"), (), (HARBOUR, PIER))
    # The chatter variant of the harbour question is answered, though the question is not_found.
    answers = {CHATTER.format(question=HARBOUR.question): "answered"}
    asked: list[str] = []
    ask = ask_recording(answers, asked)
    results = run_cases(dataset, ask)
    assert [r.passed for r in results] == [True, True]
    variants = run_variants(dataset, ask, results)
    assert asked[2:] == [text for case in dataset.cases for _, text in case_variants(case)]
    assert len(variants) == 5 + 6

    summary = summarise_variants(variants, canonical_pass_rate=1.0)
    # Upper case raises (no status) for both cases; chatter changes the harbour's status.
    assert summary["metrics"]["status_consistency"] == pytest.approx(8 / 11)
    assert summary["metrics"]["variant_pass_rate"] == pytest.approx(8 / 11)
    assert summary["metrics"]["variant_pass_drop"] == pytest.approx(1 - 8 / 11)
    assert summary["kinds"]["upper"] == {
        "asked": 2,
        "consistent": 0,
        "passed": 0,
        "status_consistency": 0.0,
        "pass_rate": 0.0,
    }
    assert summary["kinds"]["chatter"]["status_consistency"] == 0.5
    assert summary["kinds"]["listed"]["asked"] == 1
    assert summary["kinds"]["lower"]["status_consistency"] == 1.0
    inconsistent = [(v["case"], v["kind"], v["status"]) for v in summary["inconsistent"]]
    assert inconsistent == [
        ("harbour", "upper", None),
        ("harbour", "chatter", "answered"),
        ("pier", "upper", None),
    ]
    shouted = summary["inconsistent"][0]
    assert shouted["reasons"] == ["no answer: shouting is not a question"]
    assert shouted["canonical_status"] == "not_found" and not shouted["passed"]


def test_consistency_compares_with_the_questions_status_not_the_expected_one() -> None:
    dataset = Dataset("t", Path("t.yaml"), (), (HARBOUR,))

    def always_answered(question: str) -> dict[str, Any]:
        return {"question": question, "status": "answered", "claims": [], "sources": []}

    results = run_cases(dataset, always_answered)
    variants = run_variants(dataset, always_answered, results)
    assert all(v.consistent and not v.passed for v in variants)
    summary = summarise_variants(variants, canonical_pass_rate=0.0)
    assert summary["metrics"] == {
        "status_consistency": 1.0,
        "variant_pass_rate": 0.0,
        "variant_pass_drop": 0.0,
    }


def variant_run() -> EvalRun:
    dataset = Dataset("t", Path("t.yaml"), (), (HARBOUR, PIER))
    answers = {CHATTER.format(question=HARBOUR.question): "answered"}
    ask = ask_recording(answers, [])
    run = EvalRun(
        dataset="t",
        path="t.yaml",
        answerer="embedded",
        index="test",
        k=None,
        started="2031-05-03T00:00:00+00:00",
    )
    run.results = run_cases(dataset, ask)
    run.variants = run_variants(dataset, ask, run.results)
    return run


def test_the_run_reports_variants_in_metrics_json_terminal_and_html() -> None:
    run = variant_run().to_dict()
    assert run["metrics"]["status_consistency"] == pytest.approx(8 / 11)
    assert run["gate"]["thresholds"]["status_consistency"] == 0.98
    assert run["gate"]["thresholds"]["variant_pass_drop"] == 0.05
    assert any("status_consistency" in f for f in run["gate"]["failures"])
    assert len(run["variants"]["results"]) == 11

    console = Console(record=True, width=200)
    print_run(run, console)
    text = console.export_text()
    assert "variants: status consistency" in text
    assert "wrapped in chatter" in text and "1 (50.0%)" in text
    assert "variants with another status (3):" in text
    assert (
        "harbour (chatter): “Hi, quick question: Who holds the harbour at Tolvik? Thanks!” "
        "got answered, the question not_found"
    ) in text

    page = render_html(json.loads(json.dumps(run)))
    assert "The same question, typed differently" in page
    assert "Variants with another status (3)" in page
    assert "<td>Hi, quick question: Who holds the harbour at Tolvik? Thanks!</td>" in page


def test_a_run_without_variants_leaves_them_out() -> None:
    run = variant_run()
    run.variants = None
    data = run.to_dict()
    assert data["variants"] is None
    assert "status_consistency" not in data["metrics"]
    assert "status_consistency" not in data["gate"]["thresholds"]
    console = Console(record=True, width=200)
    print_run(data, console)
    assert "variants" not in console.export_text()
    assert "typed differently" not in render_html(data)


def test_the_command_passes_variants_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.evaluation import runner

    seen: dict[str, Any] = {}

    def fake_run(*args: Any, **kwargs: Any) -> EvalRun:
        seen.update(kwargs)
        return variant_run()

    monkeypatch.setattr(runner, "run_dataset", fake_run)
    path = tmp_path / "t.yaml"
    path.write_text("cases: [{id: a, question: Is the pier open, status: not_found}]\n")
    result = CliRunner().invoke(eval_command, [str(path), "--variants", "--json", "--gate"])
    assert seen["variants"] is True
    assert result.exit_code == 1
    assert "status_consistency (variants: status consistency) is 0.727, below 0.98" in (
        result.output
    )
    refused = CliRunner().invoke(eval_command, ["--compare", str(path), str(path), "--variants"])
    assert refused.exit_code == 2
