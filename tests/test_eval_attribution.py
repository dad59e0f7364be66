"""Attribution metrics and the summary key, on invented articles and hand-written answers.

The camps, people and places here are made up; a gold file and two articles are written into
tmp_path and answers are plain dicts, so every count below is known in advance.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console

from bot.errors import DatasetError
from bot.evaluation.attribution import (
    CORRECT,
    UNRESOLVED,
    WRONG,
    camps_named,
    check_attributions,
    judge,
    side_labels,
)
from bot.evaluation.command import eval_command
from bot.evaluation.dataset import Case, Dataset, ExpectedSide, load_dataset
from bot.evaluation.gold import Gold, load_gold
from bot.evaluation.metrics import evaluate_case, summarise, summary_reason
from bot.evaluation.page import render_html
from bot.evaluation.report import print_run
from bot.evaluation.runner import EvalRun, run_cases

FERRY = (
    "ARVEN CITY, May 3 - Arvenia\u2019s defence ministry said its troops had \u201cfully\n"
    "secured the ferry crossing at Tolvik\u201d after a night of shelling.\n"
    "The Belmorian Liberation Front denied the claim, saying its fighters still held the\n"
    "northern pier. An independent monitoring group said both sides had lost boats.\n"
    "Arven City said the crossing would reopen to traffic within a week.\n"
)
HARBOUR = (
    "The U.R. Navy said its patrol boats escorted two grain ships out of the harbour.\n"
    "Coastal League officials said the harbour had been closed since Monday.\n"
)
GOLD = """
sides:
  Arvenia: [Arvenia, Arvenian, Arven City, defence ministry]
  Belmorian Liberation Front: [BLF, Belmorian Liberation Front]
  Belmoria: [Belmoria, Belmorian]
  United Realms: [UR, U.R., United Realms]
  Coastal League: [Coastal League]
  neutral: [monitor, monitoring group]
attributions:
  - file: ferry.txt
    quote: "its troops had \u201cfully secured the ferry crossing at Tolvik\u201d"
    speaker: Arvenia's defence ministry
    side: Arvenia
  - file: ferry.txt
    quote: "its fighters still held the northern pier"
    speaker: the Belmorian Liberation Front
    side: Belmorian Liberation Front
  - file: ferry.txt
    quote: "both sides had lost boats"
    speaker: an independent monitoring group
    side: neutral
  - file: ferry.txt
    quote: "the crossing would reopen to traffic within a week"
    speaker: Arven City (the capital, for Arvenia's government)
    side: [neutral, Arvenia]
  - file: harbour.txt
    quote: "its patrol boats escorted two grain ships"
    speaker: the U.R. Navy
    side: United Realms
  - file: harbour.txt
    quote: "the harbour had been closed since Monday"
    speaker: Coastal League officials
    side: Coastal League
"""

ARVENIA_QUOTE = 'its troops had "fully secured the ferry crossing at Tolvik" after a night'
FRONT_QUOTE = "saying its fighters still held the northern pier"
MONITOR_QUOTE = "An independent monitoring group said both sides had lost boats."
CAPITAL_QUOTE = "Arven City said the crossing would reopen to traffic within a week."
NAVY_QUOTE = "The U.R. Navy said its patrol boats escorted two grain ships out of the harbour."
LEAGUE_QUOTE = "Coastal League officials said the harbour had been closed since Monday."


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "ferry.txt").write_text(FERRY, encoding="utf-8")
    (folder / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    gold = tmp_path / "gold.yaml"
    gold.write_text(GOLD, encoding="utf-8")
    return {"ferry": folder / "ferry.txt", "harbour": folder / "harbour.txt", "gold": gold}


@pytest.fixture
def gold(world: dict[str, Path]) -> Gold:
    return load_gold(world["gold"])


def claim(side: str, quote: str, source: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "side": side,
        "claimant": side,
        "claim": quote,
        "evidence": [{"source": source, "quote": quote}],
        **extra,
    }


def answer(
    world: dict[str, Path],
    claims: list[dict[str, Any]],
    *,
    files: tuple[str, ...] = ("ferry",),
    verification: list[dict[str, Any]] | None = None,
    status: str = "contested",
    summary: str = "Sources disagree.",
) -> dict[str, Any]:
    return {
        "question": "Who holds the ferry crossing?",
        "status": status,
        "summary": summary,
        "answer": summary,
        "claims": claims,
        "verification": verification or [],
        "sources": [
            {"id": number, "title": name, "path": str(world[name])}
            for number, name in enumerate(files, start=1)
        ],
        "retrieved": [],
    }


CROSSING = Case(
    id="crossing",
    question="Who holds the ferry crossing?",
    status="contested",
    sides=(
        ExpectedSide("Arvenia", ("Arvenia",), ("ferry.txt",)),
        ExpectedSide("BLF", ("Belmorian Liberation Front", "BLF"), ("ferry.txt",)),
    ),
)


# --- naming a camp -------------------------------------------------------------------------------

CAMPS = {
    "Arvenia": ("Arvenia", "Arvenian", "Arven City"),
    "Belmorian Liberation Front": ("BLF", "Belmorian Liberation Front"),
    "Belmoria": ("Belmoria", "Belmorian"),
    "United Realms": ("UR", "U.R.", "United Realms"),
}


@pytest.mark.parametrize(
    ("label", "named"),
    [
        ("Arvenia", {"Arvenia"}),
        ("ARVENIAN defence ministry", {"Arvenia"}),
        ("Arvenia\u2019s army", {"Arvenia"}),
        ("Arvenian-backed militia", {"Arvenia"}),
        ("Arven  City", {"Arvenia"}),
        # Whole words only: "UR" is not inside "Urvanian" nor "Arvenia" inside "Arvenias".
        ("Urvanian coast guard", set()),
        ("Arvenias", set()),
        ("U.R. Navy", {"United Realms"}),
        ("the UR", {"United Realms"}),
        ("U.R", {"United Realms"}),
        # A word inside a longer word of another camp belongs to the longer one.
        ("Belmorian Liberation Front", {"Belmorian Liberation Front"}),
        ("Belmorian government", {"Belmoria"}),
        # A piece of two or more words of a camp word names that camp; one word does not.
        ("Liberation Front", {"Belmorian Liberation Front"}),
        ("the Liberation Front", {"Belmorian Liberation Front"}),
        ("Front", set()),
        ("Realms", set()),
        # A label holding two camps' own words names both.
        ("Arvenia and the BLF", {"Arvenia", "Belmorian Liberation Front"}),
        ("Intense", set()),
        ("", set()),
    ],
)
def test_a_label_names_the_camps_it_holds_words_of(label: str, named: set[str]) -> None:
    assert camps_named(label, CAMPS) == named


@pytest.mark.parametrize(
    ("label", "readings", "verdict"),
    [
        ("Arvenia", ("Arvenia",), CORRECT),
        ("Belmorian Liberation Front", ("Arvenia",), WRONG),
        ("Arvenia and the BLF", ("Arvenia",), WRONG),
        ("A military source", ("Arvenia",), UNRESOLVED),
        # A speaker outside the dispute: no camp is right, any camp is wrong.
        ("Independent monitors", ("neutral",), CORRECT),
        ("Arvenia", ("neutral",), WRONG),
        # Two acceptable readings.
        ("Arvenian capital", ("neutral", "Arvenia"), CORRECT),
        ("officials", ("neutral", "Arvenia"), CORRECT),
        ("Belmoria", ("neutral", "Arvenia"), WRONG),
    ],
)
def test_a_label_is_judged_against_the_gold_camp(
    label: str, readings: tuple[str, ...], verdict: str
) -> None:
    assert judge(label, readings, CAMPS) == verdict


# --- checking an answer's claims -----------------------------------------------------------------


def test_claims_quoting_gold_fragments_are_checked_and_counted(
    world: dict[str, Path], gold: Gold
) -> None:
    data = answer(
        world,
        [
            claim("Arvenia", ARVENIA_QUOTE),  # correct
            claim("Arvenia", FRONT_QUOTE),  # wrong: the Front's words under Arvenia
            claim("Tolvik", CAPITAL_QUOTE),  # correct: neutral is an acceptable reading
            claim("Defence", "after a night of shelling"),  # quotes no gold fragment
            claim("Intense", MONITOR_QUOTE),  # correct: names no camp, neutral speaker
        ],
    )
    result = check_attributions(data, gold)
    assert (result.checked, result.correct, result.wrong, result.unresolved) == (4, 3, 1, 0)
    wrong = [c for c in result.claims if c["verdict"] == WRONG]
    assert wrong == [
        {
            "verdict": WRONG,
            "label": "Arvenia",
            "claimant": "Arvenia",
            "verification": False,
            "quote": FRONT_QUOTE,
            "file": "ferry.txt",
            "gold_side": "Belmorian Liberation Front",
            "gold_speaker": "the Belmorian Liberation Front",
        }
    ]


def test_quotes_match_across_quote_marks_spacing_and_case(
    world: dict[str, Path], gold: Gold
) -> None:
    typed = "ITS TROOPS HAD \u201cFULLY  SECURED the ferry\ncrossing at Tolvik\u201d"
    result = check_attributions(answer(world, [claim("Arvenia", typed)]), gold)
    assert (result.checked, result.correct) == (1, 1)


def test_a_fragment_counts_only_in_the_file_it_comes_from(
    world: dict[str, Path], gold: Gold
) -> None:
    # The same words cited from another file are not the gold sentence.
    data = answer(world, [claim("Belmoria", ARVENIA_QUOTE)], files=("harbour",))
    assert check_attributions(data, gold).checked == 0


def test_a_quote_carrying_two_speakers_must_fit_both(world: dict[str, Path], gold: Gold) -> None:
    both = (
        "its troops had \u201cfully\nsecured the ferry crossing at Tolvik\u201d after a night of "
        "shelling.\nThe Belmorian Liberation Front denied the claim, saying its fighters still "
        "held the\nnorthern pier."
    )
    result = check_attributions(answer(world, [claim("Arvenia", both)]), gold)
    assert (result.checked, result.wrong) == (1, 1)
    assert result.claims[0]["gold_side"] == "Belmorian Liberation Front"


def test_only_camps_with_gold_in_the_cited_files_are_in_play(
    world: dict[str, Path], gold: Gold
) -> None:
    # The Coastal League speaks only in harbour.txt: cited, its name is a wrong camp; not
    # cited, it is just words that name no camp in this answer.
    label = "Coastal League observers"
    alone = answer(world, [claim(label, ARVENIA_QUOTE)])
    assert check_attributions(alone, gold).unresolved == 1
    both = answer(world, [claim(label, ARVENIA_QUOTE)], files=("ferry", "harbour"))
    assert check_attributions(both, gold).wrong == 1


def test_acronyms_with_full_stops_name_their_camp(world: dict[str, Path], gold: Gold) -> None:
    data = answer(
        world,
        [claim("U.S.-style U.R. Navy", NAVY_QUOTE), claim("Coastal League", LEAGUE_QUOTE)],
        files=("harbour",),
    )
    result = check_attributions(data, gold)
    assert (result.checked, result.correct) == (2, 2)


def test_a_camps_words_shown_as_verification_name_no_camp(
    world: dict[str, Path], gold: Gold
) -> None:
    data = answer(
        world,
        [],
        verification=[claim("Verification", ARVENIA_QUOTE), claim("Verification", MONITOR_QUOTE)],
    )
    result = check_attributions(data, gold)
    assert (result.checked, result.correct, result.unresolved) == (2, 1, 1)
    assert all(c["verification"] for c in result.claims)


def test_side_labels_count_camps_and_unknown_labels_but_not_independent_voices() -> None:
    data = {
        "claims": [
            {"side": "Arvenia"},
            {"side": "arvenia "},
            {"side": "Belmorian Liberation Front"},
            {"side": "Intense"},
            {"side": "Independent analysts"},
            {"side": "Harbour monitors", "independent": True},
        ],
        "verification": [{"side": "Verification"}],
    }
    assert side_labels(data) == ["Arvenia", "Belmorian Liberation Front", "Intense"]


# --- aggregation ---------------------------------------------------------------------------------


def test_rates_are_sums_over_cases_not_means_of_ratios(world: dict[str, Path], gold: Gold) -> None:
    good = answer(
        world,
        [
            claim("Arvenia", ARVENIA_QUOTE),
            claim("Belmorian Liberation Front", FRONT_QUOTE),
            claim("Arven City", CAPITAL_QUOTE),
            claim("Defence ministry", "after a night of shelling"),
        ],
    )
    bad = answer(world, [claim("Arvenia", FRONT_QUOTE), claim("Tolvik", ARVENIA_QUOTE)])
    results = [
        evaluate_case(good, CROSSING, 0.1, gold=gold),
        evaluate_case(bad, CROSSING, 0.1, gold=gold),
    ]
    assert results[0].attribution is not None
    assert (results[0].attribution["checked"], results[0].attribution["correct"]) == (3, 3)
    assert results[0].labels == {
        "labels": ["Arvenia", "Belmorian Liberation Front", "Arven City", "Defence ministry"],
        "expected": 2,
    }
    metrics = summarise(results)
    assert metrics["attribution_checked"] == 5
    assert metrics["attribution_accuracy"] == pytest.approx(3 / 5)  # not (1 + 0) / 2
    assert metrics["misattribution_rate"] == pytest.approx(1 / 5)
    assert metrics["unresolved_share"] == pytest.approx(1 / 5)
    assert metrics["side_labels_per_side"] == pytest.approx((4 + 2) / (2 + 2))


def test_labels_are_counted_only_in_contested_answers_to_contested_cases(
    world: dict[str, Path], gold: Gold
) -> None:
    one_sided = answer(world, [claim("Arvenia", ARVENIA_QUOTE)], status="answered")
    result = evaluate_case(one_sided, CROSSING, 0.1, gold=gold)
    assert result.labels is None
    assert summarise([result])["side_labels_per_side"] is None
    assert evaluate_case(answer(world, []), CROSSING, 0.1).attribution is None


# --- the one-line summary ------------------------------------------------------------------------


LATEST = Case(
    id="latest",
    question="Who holds the ferry crossing?",
    status="answered",
    summary_any=("withdrew", "pulled out"),
)


def test_the_summary_must_hold_one_of_summary_any(world: dict[str, Path]) -> None:
    said = answer(
        world, [], status="answered", summary="Latest, 4 May: the Front says it PULLED  OUT."
    )
    assert summary_reason(said, LATEST) is None
    result = evaluate_case(said, LATEST, 0.1)
    assert result.passed and result.summary_ok is True

    silent = answer(world, [], status="answered", summary="Arvenia says it holds the crossing.")
    assert summary_reason(silent, LATEST) == (
        "summary does not say 'withdrew' or 'pulled out': arvenia says it holds the crossing."
    )
    failed = evaluate_case(silent, LATEST, 0.1)
    assert not failed.passed and failed.summary_ok is False
    assert summarise([result, failed])["summary_content"] == 0.5
    assert summary_reason(silent, CROSSING) is None  # no summary_any: nothing to check


# --- datasets with gold --------------------------------------------------------------------------


def dataset_text(gold_file: str = "gold.yaml") -> str:
    return (
        "name: ferry\n"
        "corpus: [articles]\n"
        f"attributions: {gold_file}\n"
        "cases:\n"
        "  - id: crossing\n"
        "    question: Who holds the ferry crossing?\n"
        "    status: contested\n"
        "    summary_any: [secured]\n"
        "    variants: [who holds tolvik crossing, 'Tolvik ferry: who has it?']\n"
        "    sides:\n"
        "      - {name: Arvenia, claimant_any: [Arvenia], sources_any: [ferry.txt]}\n"
    )


def test_a_dataset_loads_its_gold_file_next_to_itself(world: dict[str, Path]) -> None:
    path = world["gold"].with_name("ferry.yaml")
    path.write_text(dataset_text())
    dataset = load_dataset(path)
    assert dataset.gold is not None
    assert set(dataset.gold.camps) == {
        "Arvenia",
        "Belmorian Liberation Front",
        "Belmoria",
        "United Realms",
        "Coastal League",
    }
    assert len(dataset.gold.attributions) == 6
    assert dataset.gold.attributions[0].quote == (
        'its troops had "fully secured the ferry crossing at Tolvik"'
    )
    assert dataset.gold.attributions[3].sides == ("neutral", "Arvenia")
    case = dataset.cases[0]
    assert case.summary_any == ("secured",)
    assert case.variants == ("who holds tolvik crossing", "Tolvik ferry: who has it?")


@pytest.mark.parametrize(
    ("gold_text", "reason"),
    [
        ("- a\n", "the top level must be a mapping"),
        ("sides: {A: [a]}\nattributions: []\n", "attributions must be a non-empty list"),
        ("sides: []\nattributions: [x]\n", "sides must map each camp"),
        ("sides: {A: []}\nattributions: [x]\n", "side A: list at least one word"),
        ("sides: {A: [a, 3]}\nattributions: [x]\n", "side A: its words must be a list"),
        (
            "sides: {A: [a]}\nattributions: [{file: f.txt, quote: q, side: B}]\n",
            "attribution 1: side 'B' is not one of the sides: A, neutral",
        ),
        (
            "sides: {A: [a]}\nattributions: [{file: f.txt, side: A}]\n",
            "attribution 1: quote must be a non-empty string",
        ),
    ],
)
def test_a_bad_gold_file_is_refused_with_a_reason(
    tmp_path: Path, gold_text: str, reason: str
) -> None:
    (tmp_path / "gold.yaml").write_text(gold_text)
    path = tmp_path / "set.yaml"
    path.write_text(dataset_text())
    with pytest.raises(DatasetError) as caught:
        load_dataset(path)
    assert caught.value.path == str(tmp_path / "gold.yaml")
    assert reason in caught.value.reason


def test_a_missing_gold_file_is_a_dataset_error(tmp_path: Path) -> None:
    path = tmp_path / "set.yaml"
    path.write_text(dataset_text("absent.yaml"))
    with pytest.raises(DatasetError, match="no such attributions file"):
        load_dataset(path)


# --- reports -------------------------------------------------------------------------------------


def gold_run(world: dict[str, Path], gold: Gold) -> EvalRun:
    dataset = Dataset("ferry", world["gold"].with_name("ferry.yaml"), (), (CROSSING,), gold=gold)
    run = EvalRun(
        dataset="ferry",
        path=str(dataset.path),
        answerer="embedded",
        index="test",
        k=None,
        started="2031-05-03T00:00:00+00:00",
        attributions=True,
    )
    reply = answer(
        world,
        [claim("Arvenia", ARVENIA_QUOTE), claim("Arvenia <b>", FRONT_QUOTE)],
    )
    run.results = run_cases(dataset, lambda q: reply)
    return run


def test_the_terminal_lists_each_misattributed_claim(world: dict[str, Path], gold: Gold) -> None:
    console = Console(record=True, width=200)
    print_run(gold_run(world, gold).to_dict(), console)
    text = console.export_text()
    assert "attribution accuracy" in text and "50.0%" in text
    assert "misattributed claims (1):" in text
    assert (
        "crossing: “saying its fighters still held the northern pier” labelled Arvenia <b>, "
        "gold Belmorian Liberation Front (the Belmorian Liberation Front)"
    ) in text
    assert "misattribution_rate (misattribution rate) is 0.500, above 0.01" in text


def test_the_json_and_html_carry_the_misattributed_claims(
    world: dict[str, Path], gold: Gold
) -> None:
    run = gold_run(world, gold).to_dict()
    assert run["metrics"]["misattribution_rate"] == 0.5
    assert run["misattributed"] == [
        {
            "case": "crossing",
            "verdict": WRONG,
            "label": "Arvenia <b>",
            "claimant": "Arvenia <b>",
            "verification": False,
            "quote": FRONT_QUOTE,
            "file": "ferry.txt",
            "gold_side": "Belmorian Liberation Front",
            "gold_speaker": "the Belmorian Liberation Front",
        }
    ]
    assert "misattribution_rate" in run["gate"]["thresholds"]
    page = render_html(json.loads(json.dumps(run)))
    assert "<h2>Misattributed claims</h2>" in page
    row = page.split("<h2>Misattributed claims</h2>")[1].split("</table>")[0]
    for cell in (
        '<a href="#case-crossing">crossing</a>',
        f"“{FRONT_QUOTE}”",
        "<td>Arvenia &lt;b&gt;</td>",
        "<td>Belmorian Liberation Front</td>",
        "<td>the Belmorian Liberation Front</td>",
    ):
        assert cell in row
    assert "misattribution rate" in page and "side labels per side" in page


def test_fail_under_takes_a_maximum_for_metrics_where_lower_is_better(
    world: dict[str, Path], gold: Gold, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.evaluation import runner

    monkeypatch.setattr(runner, "run_dataset", lambda *args, **kwargs: gold_run(world, gold))
    path = world["gold"].with_name("ferry.yaml")
    path.write_text(dataset_text())
    allowed = CliRunner().invoke(
        eval_command, [str(path), "--fail-under", "misattribution_rate=0.5"]
    )
    assert allowed.exit_code == 0, allowed.output
    missed = CliRunner().invoke(
        eval_command, [str(path), "--fail-under", "misattribution_rate=0.01", "--json"]
    )
    assert missed.exit_code == 1
    assert missed.output.strip().splitlines()[-1] == (
        "Error: threshold missed: misattribution_rate (misattribution rate) is 0.500, above 0.01"
    )
