"""Tests for the evaluation harness: evaluators on hand-built answers, datasets, reports, CLI.

Fast and offline: no index, no model. Citations are checked against real files in tmp_path.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console

from bot.errors import DatasetError, InvalidQuestion
from bot.evaluation import GATE, TARGETS
from bot.evaluation.citations import file_views
from bot.evaluation.command import eval_command, parse_threshold
from bot.evaluation.dataset import Case, Dataset, ExpectedSide, load_dataset
from bot.evaluation.metrics import (
    answered_content,
    citation_validity,
    evaluate_case,
    normalise,
    percentile,
    retrieval_recall,
    side_coverage,
    status_reasons,
    summarise,
)
from bot.evaluation.page import render_html, write_html
from bot.evaluation.report import print_run
from bot.evaluation.runner import EvalRun, run_cases
from bot.evaluation.thresholds import VARIANT_GATE, Bar, bar, gate, shortfalls

REPO = Path(__file__).resolve().parents[1]
# The development sets and their corpora live beside the repository (CI has them there too).
SHARED_EVALS = REPO.parent / "shared" / "evals"

REUTERS = (
    "MOSCOW, Dec 2 (Reuters) - President Vladimir Putin hailed what his commanders said was\n"
    "Russia\u2019s full capture of Pokrovsk.\n\n"
    "\u201cWith its statement about the capture of Pokrovsk, the enemy is trying to sell its\n"
    "desires for reality,\u201d Ukraine\u2019s 7th Rapid Response Corps said.\n"
    "Pokrovsk had a pre-war population of about 60,000.\n"
)
TRT = "Russia\u2019s military chief of staff, Valery Gerasimov, said the city was liberated.\n"

PUTIN_QUOTE = "what his commanders said was Russia's full capture of Pokrovsk"
CORPS_QUOTE = (
    '"With its statement about the capture of Pokrovsk, the enemy is trying to sell its '
    "desires for reality,\" Ukraine's 7th Rapid Response Corps said."
)
GERASIMOV_QUOTE = "Valery Gerasimov, said the city was liberated."


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEWSBOT_INDEX_DIR", str(tmp_path / "index"))
    for name in ("NEWSBOT_LLM", "NEWSBOT_CHROMA_HOST"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def corpus(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "corpus"
    folder.mkdir()
    reuters = folder / "000_reuters.txt"
    reuters.write_text(REUTERS, encoding="utf-8")
    trt = folder / "001_trt.txt"
    trt.write_text(TRT, encoding="utf-8")
    return {"reuters": reuters, "trt": trt}


def source(number: int, path: Path, snippet: str = "") -> dict[str, Any]:
    return {
        "id": number,
        "title": path.stem,
        "outlet": None,
        "published": None,
        "url": None,
        "path": str(path),
        "chunk_id": None,
        "snippet": snippet,
    }


def claim(side: str, claimant: str, *evidence: tuple[int, str]) -> dict[str, Any]:
    return {
        "side": side,
        "claimant": claimant,
        "claim": evidence[0][1] if evidence else "",
        "evidence": [{"source": s, "quote": q} for s, q in evidence],
        "published": None,
    }


def answer(
    status: str = "contested",
    claims: list[dict[str, Any]] | None = None,
    sources: list[dict[str, Any]] | None = None,
    text: str = "",
    retrieved: list[Path] | None = None,
) -> dict[str, Any]:
    return {
        "question": "Who controls Pokrovsk?",
        "status": status,
        "summary": text.splitlines()[0] if text else "",
        "answer": text,
        "claims": claims or [],
        "verification": [],
        "notes": [],
        "sources": sources or [],
        "retrieved": [
            {"chunk_id": f"c{i}", "path": str(p), "score": 1.0}
            for i, p in enumerate(retrieved or [])
        ],
    }


CONTROL = Case(
    id="pokrovsk-control",
    question="Who controls Pokrovsk?",
    status="contested",
    sides=(
        ExpectedSide("Russia", ("Putin", "Russia", "Kremlin"), ("000_reuters.txt", "001_trt.txt")),
        ExpectedSide("Ukraine", ("Ukraine", "Rapid Response Corps"), ("000_reuters.txt",)),
    ),
)
POPULATION = Case(
    id="pokrovsk-population",
    question="What was the pre-war population of Pokrovsk?",
    status="answered",
    answer_any=("60,000",),
    sources_any=("000_reuters.txt",),
)
NOWHERE = Case(id="worldcup", question="Who won the 2022 World Cup?", status="not_found")


def good_contested(corpus: dict[str, Path]) -> dict[str, Any]:
    return answer(
        claims=[
            claim("Russia", "President Vladimir Putin", (1, PUTIN_QUOTE)),
            claim("Ukraine", "Ukraine's 7th Rapid Response Corps", (1, CORPS_QUOTE)),
        ],
        sources=[source(1, corpus["reuters"])],
        retrieved=[corpus["reuters"], corpus["reuters"]],
    )


# --- normalisation and citation validity ---------------------------------------------------------


def test_normalise_folds_typographic_quotes_and_whitespace() -> None:
    assert normalise("\u201cHe\u2019s\n  here,\u201d\tshe said ") == '"He\'s here," she said'


def test_quotes_found_across_line_breaks_and_typographic_marks(corpus: dict[str, Path]) -> None:
    result = citation_validity(good_contested(corpus))
    assert (result.valid, result.total, result.reasons) == (2, 2, [])


def test_a_quote_not_in_the_file_is_invalid(corpus: dict[str, Path]) -> None:
    made_up = "Russian forces withdrew from Pokrovsk on Monday."
    data = answer(
        claims=[claim("Russia", "Kremlin", (1, PUTIN_QUOTE), (1, made_up))],
        sources=[source(1, corpus["reuters"])],
    )
    result = citation_validity(data)
    assert (result.valid, result.total) == (1, 2)
    assert not result.ok
    assert "quote not in 000_reuters.txt" in result.reasons[0]
    assert "withdrew" in result.reasons[0]


def test_a_quote_from_another_file_is_invalid(corpus: dict[str, Path]) -> None:
    data = answer(
        claims=[claim("Russia", "Gerasimov", (1, GERASIMOV_QUOTE))],
        sources=[source(1, corpus["reuters"])],
    )
    assert citation_validity(data).valid == 0


def test_the_file_on_disk_decides_not_the_snippet(corpus: dict[str, Path]) -> None:
    invented = "Ukraine conceded Pokrovsk."
    data = answer(
        claims=[claim("Ukraine", "Kyiv", (1, invented))],
        sources=[source(1, corpus["reuters"], snippet=invented)],
    )
    assert citation_validity(data).valid == 0


def test_a_dangling_source_id_is_invalid(corpus: dict[str, Path]) -> None:
    data = answer(
        claims=[claim("Russia", "Putin", (1, PUTIN_QUOTE), (7, PUTIN_QUOTE))],
        sources=[source(1, corpus["reuters"])],
    )
    result = citation_validity(data)
    assert (result.valid, result.total) == (1, 2)
    assert "[7]" in result.reasons[0] and "dangling" in result.reasons[0]


def test_a_missing_file_and_an_empty_quote_are_invalid(corpus: dict[str, Path]) -> None:
    data = answer(
        claims=[claim("Russia", "Putin", (1, PUTIN_QUOTE), (2, "   "))],
        sources=[source(1, corpus["reuters"].with_name("gone.txt")), source(2, corpus["trt"])],
    )
    result = citation_validity(data)
    assert (result.valid, result.total) == (0, 2)
    assert "cannot be read" in result.reasons[0]
    assert "empty quote" in result.reasons[1]


def test_verification_quotes_are_checked_too(corpus: dict[str, Path]) -> None:
    data = good_contested(corpus)
    data["verification"] = [claim("Verification", "Reuters", (1, "Reuters verified everything."))]
    result = citation_validity(data)
    assert (result.valid, result.total) == (2, 3)


def test_html_files_are_checked_as_a_reader_sees_them(tmp_path: Path) -> None:
    page = tmp_path / "a.html"
    page.write_text("<p>Officials said the <b>bridge</b> was &ldquo;destroyed&rdquo;.</p>")
    data = answer(
        claims=[claim("X", "Officials", (1, 'the bridge was "destroyed".'))],
        sources=[source(1, page)],
    )
    assert citation_validity(data).ok


# --- side coverage -------------------------------------------------------------------------------


def test_both_sides_covered(corpus: dict[str, Path]) -> None:
    result = side_coverage(good_contested(corpus), CONTROL)
    assert (result.covered, result.total) == (2, 2)
    assert result.matched == {"Russia": 0, "Ukraine": 1}


def test_a_side_citing_the_wrong_file_is_not_covered(corpus: dict[str, Path]) -> None:
    data = answer(
        claims=[
            claim("Russia", "Putin", (1, PUTIN_QUOTE)),
            claim("Ukraine", "Ukrainian military", (2, GERASIMOV_QUOTE)),
        ],
        sources=[source(1, corpus["reuters"]), source(2, corpus["trt"])],
    )
    result = side_coverage(data, CONTROL)
    assert (result.covered, result.total) == (1, 2)
    assert result.reasons == ["side Ukraine: its claims cite 001_trt.txt, not 000_reuters.txt"]


def test_a_missing_side_is_named(corpus: dict[str, Path]) -> None:
    data = answer(
        claims=[claim("Russia", "Putin", (1, PUTIN_QUOTE))],
        sources=[source(1, corpus["reuters"])],
    )
    result = side_coverage(data, CONTROL)
    assert not result.ok
    assert result.reasons[0].startswith("side Ukraine missing: no claim by or for Ukraine")


def test_one_claim_cannot_cover_two_sides(corpus: dict[str, Path]) -> None:
    data = answer(
        claims=[claim("Both", "officials of Russia and Ukraine", (1, PUTIN_QUOTE))],
        sources=[source(1, corpus["reuters"])],
    )
    result = side_coverage(data, CONTROL)
    assert (result.covered, result.total) == (1, 2)
    assert "already counted for" in result.reasons[0]


def test_sides_are_matched_to_claims_as_well_as_possible(corpus: dict[str, Path]) -> None:
    # The first claim fits both sides; taking it for Russia would leave Ukraine uncovered.
    data = answer(
        claims=[
            claim("Ukraine", "a Kremlin critic in Ukraine", (1, CORPS_QUOTE)),
            claim("Russia", "Kremlin", (1, PUTIN_QUOTE)),
        ],
        sources=[source(1, corpus["reuters"])],
    )
    assert side_coverage(data, CONTROL).covered == 2


def test_side_names_match_case_insensitively_in_side_or_claimant(corpus: dict[str, Path]) -> None:
    data = answer(
        claims=[
            claim("RUSSIA", "the defence ministry", (1, PUTIN_QUOTE)),
            claim("Kyiv", "7th rapid response corps", (1, CORPS_QUOTE)),
        ],
        sources=[source(1, corpus["reuters"])],
    )
    assert side_coverage(data, CONTROL).ok


def test_a_claim_with_only_a_dangling_citation_covers_nothing(corpus: dict[str, Path]) -> None:
    data = answer(
        claims=[
            claim("Russia", "Putin", (3, PUTIN_QUOTE)),
            claim("Ukraine", "Ukraine", (1, CORPS_QUOTE)),
        ],
        sources=[source(1, corpus["reuters"])],
    )
    assert side_coverage(data, CONTROL).covered == 1


# --- status and answered content -----------------------------------------------------------------


def test_a_not_found_case_that_answered_anyway_fails(corpus: dict[str, Path]) -> None:
    result = evaluate_case(good_contested(corpus), NOWHERE, 0.1)
    assert not result.passed
    assert result.reasons[0] == "expected not_found but it answered anyway (contested)"
    assert "should cite nothing" in result.reasons[1]
    assert summarise([result])["status_not_found"] == 0.0


def test_a_not_found_that_says_so_passes() -> None:
    data = answer(status="not_found", text="Not found: nothing in the indexed articles.")
    result = evaluate_case(data, NOWHERE, 0.1)
    assert result.passed and result.reasons == []
    assert result.citations == {"valid": 0, "total": 0}


def test_a_wrong_status_is_said_in_words() -> None:
    data = answer(status="not_found", text="Not found: nothing mentions Pokrovsk.")
    assert status_reasons(data, CONTROL) == [
        "expected contested, got not_found: Not found: nothing mentions Pokrovsk."
    ]


def test_answered_content_needs_the_text_and_an_expected_file(corpus: dict[str, Path]) -> None:
    population = "Pokrovsk had a pre-war population of about 60,000."
    good = answer(
        status="answered",
        claims=[claim("Reported", "Reuters", (1, population))],
        sources=[source(1, corpus["reuters"])],
        text=f'Reuters reports: "{population}" [1]',
    )
    assert answered_content(good, POPULATION) is not None
    assert evaluate_case(good, POPULATION, 0.2).passed

    wrong_number = dict(good, answer="Reuters reports: about 70,000 people lived there.")
    content = answered_content(wrong_number, POPULATION)
    assert content is not None and not content.text_ok
    assert content.reasons == ["answer does not contain '60,000'"]

    wrong_file = answer(
        status="answered",
        claims=[claim("Reported", "TRT", (1, GERASIMOV_QUOTE))],
        sources=[source(1, corpus["trt"])],
        text="60,000 people, says TRT [1]",
    )
    content = answered_content(wrong_file, POPULATION)
    assert content is not None and content.text_ok and not content.cited_ok
    assert content.reasons == ["cites 001_trt.txt, not 000_reuters.txt"]


# --- retrieval recall, latency, aggregation ------------------------------------------------------


def test_retrieval_recall_counts_expected_files_among_retrieved(corpus: dict[str, Path]) -> None:
    recall = retrieval_recall(good_contested(corpus), CONTROL)
    assert recall is not None
    assert recall.found == ["000_reuters.txt"]
    assert recall.expected == ["000_reuters.txt", "001_trt.txt"]
    assert recall.value == 0.5
    assert retrieval_recall(answer(status="not_found"), NOWHERE) is None


def test_percentiles_interpolate() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0], 95) == pytest.approx(3.85)
    assert percentile([0.7], 95) == 0.7
    assert percentile([], 50) is None


def test_summary_aggregates_every_metric(corpus: dict[str, Path]) -> None:
    missing_side = answer(
        claims=[claim("Russia", "Putin", (1, PUTIN_QUOTE))],
        sources=[source(1, corpus["reuters"])],
        retrieved=[corpus["reuters"], corpus["trt"]],
    )
    results = [
        evaluate_case(good_contested(corpus), CONTROL, 1.0),
        evaluate_case(missing_side, CONTROL, 2.0),
        evaluate_case(answer(status="answered", text="Argentina"), NOWHERE, 3.0),
        evaluate_case(answer(status="not_found"), NOWHERE, 4.0),
    ]
    metrics = summarise(results)
    assert metrics["cases"] == 4
    assert metrics["side_coverage"] == 0.75
    assert metrics["citation_validity"] == 1.0
    assert metrics["status_contested"] == 1.0
    assert metrics["status_not_found"] == 0.5
    assert metrics["status_answered"] is None
    assert metrics["status_accuracy"] == 0.75
    assert metrics["retrieval_recall"] == 0.75
    assert metrics["pass_rate"] == 0.5
    assert metrics["latency_p50"] == 2.5
    assert metrics["latency_p95"] == pytest.approx(3.85)


def test_the_gate_holds_the_bars_of_the_answer_quality_issues() -> None:
    assert GATE == {
        "pass_rate": 0.9,
        "side_coverage": 0.95,
        "citation_validity": 1.0,
        "status_not_found": 1.0,
        "attribution_accuracy": 0.95,
        "misattribution_rate": 0.01,
        "side_labels_per_side": 1.3,
    }
    assert VARIANT_GATE == {"status_consistency": 0.98, "variant_pass_drop": 0.05}
    assert TARGETS == {"answered": 0.8}
    assert gate(variants=False) == GATE
    assert gate(variants=True) == {**GATE, **VARIANT_GATE}


def test_shortfalls_name_each_missed_minimum_and_maximum() -> None:
    wanted = {
        "side_coverage": 0.9,
        "citation_validity": 1.0,
        "misattribution_rate": 0.01,
        "side_labels_per_side": 1.3,
        "variant_pass_drop": 0.05,
    }
    met = {
        "side_coverage": 0.95,
        "citation_validity": 1.0,
        "misattribution_rate": 0.01,
        "side_labels_per_side": 1.3,
        "variant_pass_drop": -0.1,
    }
    assert shortfalls(met, wanted) == []
    missed = {
        "side_coverage": 0.85,
        "misattribution_rate": 0.02,
        "side_labels_per_side": 1.31,
        "variant_pass_drop": 0.06,
    }
    assert shortfalls(missed, wanted) == [
        "side_coverage (side coverage) is 0.850, below 0.9",
        "citation_validity (citation validity) was not measured; it must be at least 1",
        "misattribution_rate (misattribution rate) is 0.020, above 0.01",
        "side_labels_per_side (side labels per side) is 1.310, above 1.3",
        "variant_pass_drop (variants: pass rate drop) is 0.060, above 0.05",
    ]
    assert shortfalls({}, {"unresolved_share": 0.1}) == [
        "unresolved_share (unresolved share) was not measured; it must be at most 0.1"
    ]


def test_a_bar_knows_its_direction() -> None:
    assert bar("misattribution_rate") == Bar(0.01, enforced=True, maximum=True)
    assert bar("status_consistency") == Bar(0.98, enforced=True, maximum=False)
    assert bar("answered") == Bar(0.8, enforced=False, maximum=False)
    assert bar("retrieval_recall") is None
    limit = Bar(1.3, enforced=True, maximum=True)
    assert limit.met(1.3) and limit.met(0.9) and not limit.met(1.4) and not limit.met(None)
    assert limit.sign == "≤" and Bar(0.9, True, False).sign == "≥"
    # Rates are floats: a difference that is the bar in decimals meets it.
    assert Bar(0.08, enforced=True, maximum=True).met(0.44 - 0.36)
    assert Bar(0.3, enforced=True, maximum=False).met(0.1 + 0.2 - 1e-12)
    assert not Bar(0.3, enforced=True, maximum=False).met(0.29)


# --- running ------------------------------------------------------------------------------------


def test_run_cases_times_each_question_and_records_errors(tmp_path: Path) -> None:
    dataset = Dataset("t", tmp_path / "t.yaml", (), (CONTROL, NOWHERE))
    asked: list[str] = []

    def ask(question: str) -> dict[str, Any]:
        asked.append(question)
        if question == CONTROL.question:
            raise InvalidQuestion("the question is empty")
        return answer(status="not_found")

    results = run_cases(dataset, ask)
    assert asked == [CONTROL.question, NOWHERE.question]
    assert results[0].reasons == ["no answer: the question is empty"]
    assert results[0].sides == {"covered": 0, "total": 2, "matched": {}}
    assert results[1].passed
    assert all(r.seconds >= 0 for r in results)


# --- datasets ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dev", "dev2"])
def test_the_development_sets_are_valid(name: str) -> None:
    dataset = load_dataset(SHARED_EVALS / f"{name}.yaml")
    assert dataset.name == name
    assert dataset.corpus and all(path.exists() for path in dataset.corpus)
    assert {c.status for c in dataset.cases} == {"contested", "answered", "not_found"}
    # Every gold fragment is in the corpus file it names, as a quote would be checked.
    assert dataset.gold is not None and dataset.gold.camps
    files = {p.name: p for folder in dataset.corpus for p in folder.iterdir()}
    for item in dataset.gold.attributions:
        assert item.file in files, item.file
        views = file_views(str(files[item.file]))
        assert views is not None and item.quote in views[0], (item.file, item.quote)


def test_a_dataset_resolves_its_corpus_next_to_itself(tmp_path: Path) -> None:
    path = tmp_path / "sets" / "mine.yaml"
    path.parent.mkdir()
    path.write_text(
        "corpus: [../articles]\n"
        "cases:\n"
        "  - id: 1\n"
        "    question: ' What was the population? '\n"
        "    status: answered\n"
        "    answer_any: [60000]\n"
        "    sources_any: [corpus/a.txt]\n"
        "    notes: extra keys that are not near-misses are allowed\n"
    )
    dataset = load_dataset(path)
    assert dataset.name == "mine"
    assert dataset.corpus == ((tmp_path / "articles").resolve(),)
    case = dataset.cases[0]
    assert (case.id, case.question, case.answer_any, case.sources_any) == (
        "1",
        "What was the population?",
        ("60000",),
        ("a.txt",),
    )


VALID_SIDE = "      - {name: A, claimant_any: [a], sources_any: [a.txt]}\n"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("cases: [\n", "not valid YAML at line"),
        ("- a\n- b\n", "the top level must be a mapping"),
        ("name: x\n", "cases must be a non-empty list"),
        ("cases: []\n", "cases must be a non-empty list"),
        ("corpus: 3\ncases: [{id: a, question: q, status: answered}]\n", "corpus must be a list"),
        ("cases: [{question: q, status: answered}]\n", "case 1: id must be a non-empty string"),
        ("cases: [{id: a, question: '', status: answered}]\n", "question must be a non-empty"),
        ("cases: [{id: a, question: q, status: maybe}]\n", "status must be one of contested"),
        ("cases: [{id: a, question: q, status: contested}]\n", "needs a non-empty list of sides"),
        (
            "cases:\n  - id: a\n    question: q\n    status: contested\n    sides:\n"
            "      - {name: A, claimant_any: [a]}\n",
            "side 1 (A): sources_any must list at least one file",
        ),
        (
            "cases:\n  - id: a\n    question: q\n    status: contested\n    sides:\n"
            "      - {name: A, claimant_any: [], sources_any: [a.txt]}\n",
            "claimant_any must list at least one name",
        ),
        (
            "cases:\n  - id: a\n    question: q\n    status: contested\n    sides:\n"
            + VALID_SIDE
            + VALID_SIDE,
            "two sides have the same name",
        ),
        (
            "cases:\n  - id: a\n    question: q\n    status: contested\n    sides:\n"
            "      - {name: A, claimants_any: [a], sources_any: [a.txt]}\n",
            "unknown key 'claimants_any' (did you mean 'claimant_any'?)",
        ),
        (
            "cases: [{id: a, question: q, status: answered, answer_anyy: [x]}]\n",
            "unknown key 'answer_anyy'",
        ),
        (
            "cases: [{id: a, question: q, status: answered, sides: []}]\n",
            "only a contested case has sides",
        ),
        (
            "cases: [{id: a, question: q, status: not_found, answer_any: [x]}]\n",
            "a not_found case expects nothing cited",
        ),
        (
            "cases: [{id: a, question: q, status: answered, answer_any: [[x]]}]\n",
            "answer_any must be a list of strings",
        ),
        (
            "cases:\n  - {id: a, question: q, status: not_found}\n"
            "  - {id: a, question: r, status: not_found}\n",
            "id 'a' is used twice",
        ),
        (
            "cases: [{id: a, question: '" + "x" * 1001 + "', status: not_found}]\n",
            "longer than 1000 characters",
        ),
    ],
)
def test_bad_datasets_are_refused_with_a_reason(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(DatasetError) as caught:
        load_dataset(path)
    assert caught.value.path == str(path)
    assert reason in caught.value.reason


def test_a_missing_dataset_file_is_a_dataset_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file"):
        load_dataset(tmp_path / "absent.yaml")


# --- reports -------------------------------------------------------------------------------------


def saved_run(corpus: dict[str, Path], *, good: bool, answerer: str = "embedded") -> EvalRun:
    contested = good_contested(corpus)
    if not good:
        contested["claims"] = contested["claims"][:1]
    dataset = Dataset("unit", corpus["reuters"].parent / "unit.yaml", (), (CONTROL, NOWHERE))
    run = EvalRun(
        dataset=dataset.name,
        path=str(dataset.path),
        answerer=answerer,
        index="test",
        k=None,
        started="2025-12-02T00:00:00+00:00",
    )
    answers = {CONTROL.question: contested, NOWHERE.question: answer(status="not_found")}
    run.results = run_cases(dataset, lambda q: answers[q])
    return run


def test_the_terminal_table_gives_failing_reasons(corpus: dict[str, Path]) -> None:
    console = Console(record=True, width=200)
    print_run(saved_run(corpus, good=False).to_dict(), console)
    text = console.export_text()
    assert "pokrovsk-control" in text and "FAIL" in text
    assert "side Ukraine missing: no claim by or for Ukraine" in text
    assert (
        "gate failed: pass_rate (cases passed) is 0.500, below 0.9; "
        "side_coverage (side coverage) is 0.500, below 0.95"
    ) in text
    # Without gold attributions the attribution bars are not part of this run's gate.
    assert "attribution_accuracy" not in text.split("gate failed:")[1]


def test_the_html_report_is_self_contained_and_escapes_article_text(
    corpus: dict[str, Path], tmp_path: Path
) -> None:
    run = saved_run(corpus, good=True).to_dict()
    hostile = "<script>alert('x')</script> & <!channel>"
    run["cases"][0]["answer"]["answer"] = hostile
    run["cases"][0]["answer"]["claims"][0]["claimant"] = "<img src=x onerror=alert(1)>"
    page = render_html(run)
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;!channel&gt;" in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page
    assert "<svg" in page and "side coverage" in page
    assert "Who controls Pokrovsk?" in page
    written = write_html(run, tmp_path / "report.html")
    assert written.read_text(encoding="utf-8") == page


# --- the command line ----------------------------------------------------------------------------


@pytest.fixture
def dataset_file(tmp_path: Path) -> Path:
    """A valid dataset on disk, for command lines that only need one to exist."""
    path = tmp_path / "unit.yaml"
    path.write_text(
        "name: unit\ncases:\n  - {id: nowhere, question: Who won the cup, status: not_found}\n"
    )
    return path


def save(run: EvalRun, path: Path) -> Path:
    path.write_text(json.dumps(run.to_dict()), encoding="utf-8")
    return path


def test_compare_prints_two_runs_side_by_side(corpus: dict[str, Path], tmp_path: Path) -> None:
    a = save(saved_run(corpus, good=False), tmp_path / "embedded.json")
    b = save(saved_run(corpus, good=True, answerer="openai:gpt-4o-mini"), tmp_path / "model.json")
    result = CliRunner().invoke(eval_command, ["--compare", str(a), str(b)])
    assert result.exit_code == 0, result.output
    assert "embedded.json" in result.output and "model.json" in result.output
    assert "openai:gpt-4o-mini" in result.output
    assert "side coverage" in result.output
    assert "+50.0 pt" in result.output


def test_compare_as_json(corpus: dict[str, Path], tmp_path: Path) -> None:
    a = save(saved_run(corpus, good=False), tmp_path / "a.json")
    b = save(saved_run(corpus, good=True), tmp_path / "b.json")
    result = CliRunner().invoke(eval_command, ["--compare", str(a), str(b), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["metrics"]["side_coverage"] == {"a": 0.5, "b": 1.0}


def test_compare_refuses_a_file_that_is_not_a_saved_run(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    result = CliRunner().invoke(eval_command, ["--compare", str(bad), str(bad)])
    assert result.exit_code == 1
    assert "not a result saved by `newsbot eval --json`" in result.output
    assert "Traceback" not in result.output


def test_compare_takes_no_dataset(tmp_path: Path, dataset_file: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text("{}")
    result = CliRunner().invoke(
        eval_command, [str(dataset_file), "--compare", str(path), str(path)]
    )
    assert result.exit_code == 2


def test_a_dataset_or_compare_is_required() -> None:
    result = CliRunner().invoke(eval_command, [])
    assert result.exit_code == 2
    assert "give a DATASET" in result.output


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("side_coverage=0.9", ("side_coverage", 0.9)),
        (" answered = 1 ", ("answered", 1.0)),
        ("misattribution_rate=0.01", ("misattribution_rate", 0.01)),
        ("side_labels_per_side=1.3", ("side_labels_per_side", 1.3)),
        ("status_consistency=0.98", ("status_consistency", 0.98)),
        ("variant_pass_drop=-0.1", ("variant_pass_drop", -0.1)),
    ],
)
def test_fail_under_parses_metric_equals_value(text: str, parsed: tuple[str, float]) -> None:
    assert parse_threshold(text) == parsed


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("side_coverage", "is not METRIC=VALUE"),
        ("=0.9", "is not METRIC=VALUE"),
        ("coverage=0.9", "unknown metric 'coverage'"),
        ("side_coverage=high", "'high' is not a number"),
        ("side_coverage=90", "between 0 and 1"),
        ("latency_p95=1", "unknown metric 'latency_p95'"),
        ("misattribution_rate=2", "between 0 and 1"),
        ("side_labels_per_side=-1", "side_labels_per_side must be 0 or more"),
        ("variant_pass_drop=1.5", "variant_pass_drop must be between -1 and 1"),
    ],
)
def test_fail_under_refuses_bad_values(text: str, message: str, dataset_file: Path) -> None:
    with pytest.raises(ValueError, match=message):
        parse_threshold(text)
    result = CliRunner().invoke(eval_command, [str(dataset_file), "--fail-under", text])
    assert result.exit_code == 2
    assert "--fail-under" in result.output


def test_fail_under_exits_1_with_a_clear_line(
    corpus: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dataset_file: Path
) -> None:
    from bot.evaluation import runner

    run = saved_run(corpus, good=False)
    monkeypatch.setattr(runner, "run_dataset", lambda *args, **kwargs: run)
    dataset = str(dataset_file)
    report = tmp_path / "report.html"

    passing = CliRunner().invoke(
        eval_command, [dataset, "--json", "--fail-under", "citation_validity=1"]
    )
    assert passing.exit_code == 0, passing.output
    assert json.loads(passing.output)["metrics"]["side_coverage"] == 0.5

    failing = CliRunner().invoke(
        eval_command,
        [
            dataset,
            "--report",
            str(report),
            "--fail-under",
            "side_coverage=0.9",
            "--fail-under",
            "pass_rate=0.4",
        ],
    )
    assert failing.exit_code == 1
    last = failing.output.strip().splitlines()[-1]
    assert last == "Error: threshold missed: side_coverage (side coverage) is 0.500, below 0.9"
    assert report.is_file()

    gated = CliRunner().invoke(eval_command, [dataset, "--gate"])
    assert gated.exit_code == 1
    assert "side_coverage (side coverage) is 0.500, below 0.95" in gated.output


def test_eval_is_registered_and_cheap_to_import() -> None:
    import subprocess
    import sys

    code = (
        "import sys, bot.cli; "
        "heavy = [m for m in ('chromadb', 'torch', 'sentence_transformers') if m in sys.modules]; "
        "assert 'eval' in bot.cli.cli.commands; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
