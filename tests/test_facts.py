"""Factual answers, summaries and passing mentions, on sentences written for the tests."""

from __future__ import annotations

import pytest

from bot import geo
from bot.answer import Claim, Evidence
from bot.dates import display_date
from bot.evidence import in_passing, mentions
from bot.facts import answer_spans, asks_for
from bot.names import same_word
from bot.summary import contested, fact, gist


def best(sentence: str, kind: str, noun: str | None, question: str, **kw: object) -> str | None:
    spans = answer_spans(sentence, kind, noun, question, [], **kw)  # type: ignore[arg-type]
    return spans[0].text if spans else None


@pytest.mark.parametrize(
    ("sentence", "kind", "noun", "question", "expected"),
    [
        (
            "Varn, which had a pre-war population of around 30,000 people, lies on the river.",
            "how_many",
            "people",
            "How many people lived in Varn before the war?",
            "around 30,000 people",
        ),
        (
            "The Front said it had killed 89 soldiers and destroyed 12 vehicles.",
            "how_many",
            "soldiers",
            "How many soldiers did the Front say it killed?",
            "89 soldiers",
        ),
        (
            "The port is 60 km (37 miles) south of Castlebay.",
            "distance",
            "distance",
            "How far is the port from Castlebay?",
            "60 km",
        ),
        (
            "“We took the last building at 4 a.m.,” a spokesperson said on July 25, 2031.",
            "when",
            "time",
            "At what time did they take the building?",
            "4 a.m.",
        ),
        (
            "Troops had freed the last village under enemy control: Orrin.",
            "which",
            "village",
            "Which village did the army name as the last it freed?",
            "Orrin",
        ),
        (
            "But army spokesman Ari Tessel told reporters the claim was false.",
            "which",
            "spokesman",
            "Which army spokesman rejected the claim?",
            "Ari Tessel",
        ),
    ],
)
def test_the_span_that_answers_each_kind_of_question(
    sentence: str, kind: str, noun: str, question: str, expected: str
) -> None:
    assert best(sentence, kind, noun, question) == expected


def test_a_year_is_no_count_and_a_question_name_is_no_answer() -> None:
    assert best("In 2031 the port reopened.", "how_many", None, "How many ships came?") is None
    assert best("Varn is a town.", "which", "town", "Which town is Varn?") is None


def test_a_place_or_thing_asked_about_is_no_camp_person_or_possessive() -> None:
    sentence = "The Harbour Front denied Tam's claim about the cruiser, SV Orrin, near Varn."
    found = [
        s.text
        for s in answer_spans(
            sentence,
            "which",
            "warship",
            "Which warship was hit?",
            [],
            frozenset({"harbourfront"}),
        )
    ]
    assert "Harbour Front" not in found and "Tam's" not in found
    assert "SV Orrin" in found
    assert asks_for("which", "spokesman") == "person"
    assert asks_for("which", "village") == "place"
    assert asks_for("which", "brigade") == "body"
    assert asks_for("which", "warship") == "thing"


def _claim(side: str, text: str, published: str) -> Claim:
    return Claim(
        side=side,
        claimant=side,
        claim=text,
        evidence=[Evidence(source=1, quote=text)],
        published=published,
    )


def test_the_latest_development_leads_a_contested_summary() -> None:
    claims = [
        _claim("Sylvania", "its troops had taken the port of Varn", "2031-01-13"),
        _claim("Freedonia", "fighting continued in the port", "2031-01-13"),
        _claim("Freedonia", "that its forces had withdrawn from Varn", "2031-01-25"),
    ]
    summary = contested(claims, ["Sylvania", "Freedonia"])
    assert summary.startswith(
        "Contested. Latest, 25 Jan 2031: Freedonia: its forces had withdrawn from Varn."
    )
    assert "Earlier:" in summary and "Sylvania (13 Jan 2031)" in summary


def test_a_summary_of_one_date_names_each_camp_once_with_whole_clauses() -> None:
    long_clause = (
        "the town of Varn, which had some 30,000 people before the war and a busy river port "
        "that once shipped grain to half the region, which was its main trade for a century, "
        "is now held entirely by its forces after six weeks of fighting in the streets"
    )
    claims = [
        _claim("Sylvania", long_clause, "2031-01-13"),
        _claim("Freedonia", "the claim was a lie", "2031-01-13"),
    ]
    summary = contested(claims, ["Sylvania", "Freedonia"])
    assert summary.count("Sylvania") == 1 and summary.count("Freedonia") == 1
    assert "…" not in summary
    # Cut at a clause boundary, never mid-phrase.
    assert gist(claims[0]).endswith(("region", "century", "war and a busy river port"))


def test_a_fact_leads_with_the_span_then_who_says_so() -> None:
    claim = _claim("Sylvania", "some 30,000 people lived in Varn", "2031-02-08")
    assert fact("30,000", claim, "Harbour Gazette") == (
        "30,000, according to Sylvania (Harbour Gazette, 8 Feb 2031)."
    )


@pytest.mark.parametrize(
    ("text", "passing"),
    [
        (
            "Varn has been a focal point of the advance, with other hubs like Orrin and Tessel.",
            True,
        ),
        ("The fall of Varn would bring the army closer to Tessel.", True),
        ("The army said it had captured Tessel on Friday.", False),
        ("Fighting continued in Tessel, the governor said.", False),
    ],
)
def test_a_name_in_a_list_or_a_direction_is_mentioned_in_passing(text: str, passing: bool) -> None:
    assert in_passing(text, ["Tessel"]) is passing


def test_a_name_is_found_in_any_case_and_with_its_punctuation() -> None:
    assert mentions("the carrier SV Ada B. Orrin sailed", ["SV Ada B Orrin"])
    assert mentions("The Orrin sailed at dawn", ["SV Ada B Orrin"])  # its last name word
    assert not mentions("the orrin river", ["SV Ada B Orrin"])


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ("Tesselyi", "Tesseliy", True),
        ("Varkhiv", "Varkhov", True),
        ("Oleksandr", "Oleksander", True),
        ("Tesselyi", "Dorrinsk", False),
        ("Niger", "Nigeria", False),
    ],
)
def test_spellings_of_one_name(one: str, other: str, same: bool) -> None:
    assert same_word(one, other) is same


def test_countries_demonyms_capitals_and_dates() -> None:
    assert geo.country("Norwegians") == geo.country("Norway")
    assert geo.country("U.S.") == geo.country("United States")
    assert geo.capital_of("Oslo") == geo.country("Norway")
    assert geo.country("Varnholm") is None
    assert display_date("2031-02-08") == "8 Feb 2031"
    assert display_date("Dec 2") == "2 Dec"
    assert display_date(None) is None
