"""Tests for attribution on sentences written for the tests (invented people, places, bodies)."""

from __future__ import annotations

from typing import Any

import pytest
from samples import FLOOD, LAWSUIT, STRIKE, article, fields_and_body

from bot.articles import Article
from bot.claims import analyse, analyse_article, learn_aliases

OUTLET = "Harbour Gazette"


def make_article(text: str, outlet: str | None = OUTLET) -> Article:
    return article(text, outlet)


def statements(text: str, outlet: str | None = OUTLET) -> list[dict[str, Any]]:
    found, _ = analyse_article(make_article(text, outlet))
    for statement in found:
        # Offsets are into the article text, and the claim is the article's own words.
        assert 0 <= statement["start"] < statement["end"] <= len(text)
        span = text[statement["start"] : statement["end"]]
        assert span == span.strip()
        assert statement["claim"] in text
        assert statement["kind"] in ("claim", "verification")
    return found


def evidence(text: str, statement: dict[str, Any]) -> str:
    return text[statement["start"] : statement["end"]]


def about(text: str, found: list[dict[str, Any]], words: str) -> dict[str, Any]:
    """Return the one statement whose evidence holds these words."""
    matching = [s for s in found if words in evidence(text, s)]
    assert len(matching) == 1, [(s["claimant"], evidence(text, s)) for s in found]
    return matching[0]


# --- sentence shapes -------------------------------------------------------------------------


def test_quote_first_then_speaker() -> None:
    text = (
        "Dockworkers walked off the job at the port of Vellmar on Monday. "
        "“We will not yield,” the union's spokeswoman Jane Okafor said."
    )
    found = statements(text)
    assert len(found) == 1  # the first sentence is the outlet's narration, not a statement
    (statement,) = found
    assert "Jane Okafor" in statement["claimant"]
    assert statement["claim"] == "We will not yield"
    assert (
        evidence(text, statement)
        == "“We will not yield,” the union's spokeswoman Jane Okafor said."
    )
    assert statement["kind"] == "claim" and statement["negated"] is False


def test_speaker_then_colon_and_quote() -> None:
    text = "Union spokeswoman Jane Okafor said: “We will not yield until every worker is paid.”"
    (statement,) = statements(text)
    assert "Jane Okafor" in statement["claimant"]
    assert statement["claim"] == "We will not yield until every worker is paid"
    assert evidence(text, statement).endswith("paid.”")


def test_quote_then_said_and_speaker_with_role() -> None:
    text = "“The mine has poisoned our river,” said Elena Varga, chair of the Okavi tribal council."
    (statement,) = statements(text)
    assert statement["claimant"].startswith("Elena Varga")
    assert "Okavi tribal council" in statement["claimant"]
    assert statement["claim"] == "The mine has poisoned our river"


def test_according_to_an_organisation() -> None:
    text = "The strike has halted all shipping at Vellmar, according to the Vellmar Port Authority."
    (statement,) = statements(text)
    assert statement["claimant"] == "Vellmar Port Authority"
    assert statement["verb"] == "according to"
    assert "halted all shipping" in statement["claim"]
    assert evidence(text, statement) == text


def test_according_to_a_person_keeps_the_role() -> None:
    text = (
        "At least 40 workers were hurt in the blast at the Brightwater mine, according to "
        "Dr. Samuel Oduya, the chief medical officer of the Okavi district."
    )
    (statement,) = statements(text)
    assert "Samuel Oduya" in statement["claimant"]
    assert "chief medical officer" in statement["claimant"]


def test_pronoun_speaker_is_the_last_named_speaker() -> None:
    text = (
        "Governor Ada Marlow of Sylvania said the border crossing at Tessel remained open. "
        "The Freedonian army has blocked the road, she said. "
        "Later, she said the blockade was illegal."
    )
    found = statements(text)
    first = about(text, found, "remained open")
    blocked = about(text, found, "blocked the road")
    illegal = about(text, found, "was illegal")
    assert "Ada Marlow" in first["claimant"] and first["side"] == "Sylvania"
    for statement in (blocked, illegal):
        assert "Ada Marlow" in statement["claimant"]
        assert statement["side"] == "Sylvania"
    assert blocked["claim"] == "The Freedonian army has blocked the road"


def test_pronoun_follows_the_most_recent_of_two_speakers() -> None:
    text = (
        "Governor Ada Marlow of Sylvania said the crossing at Tessel was open. "
        "Freedonian Interior Minister Tomas Greer said the crossing had been closed since dawn. "
        "He said no trucks had passed."
    )
    found = statements(text)
    greer = about(text, found, "closed since dawn")
    pronoun = about(text, found, "no trucks had passed")
    assert "Tomas Greer" in pronoun["claimant"] and "Marlow" not in pronoun["claimant"]
    assert pronoun["side"] == greer["side"] == "Freedonian"


def test_a_pronoun_with_no_named_speaker_before_it_is_not_attributed() -> None:
    text = "The port stayed shut on Tuesday. She said the talks had failed."
    assert statements(text) == []


def test_multi_sentence_quote_is_one_statement_covering_every_sentence() -> None:
    text = (
        "Union leader Jane Okafor addressed the crowd outside the gates. "
        "“We have waited three years for a raise. The company has ignored every letter. "
        "We will stay out until they listen,” Okafor said."
    )
    found = statements(text)
    (statement,) = found
    assert "Okafor" in statement["claimant"]
    quoted = evidence(text, statement)
    assert quoted.startswith("“We have waited three years for a raise.")
    assert quoted.endswith("until they listen,” Okafor said.")


def test_multi_sentence_quote_with_speaker_after_the_quote_and_a_role() -> None:
    text = (
        "Talks collapsed on Friday. “We have waited three years for a raise. The company has "
        "ignored every letter,” said Jane Okafor, the union's spokeswoman."
    )
    statement = about(text, statements(text), "ignored every letter")
    assert statement["claimant"].startswith("Jane Okafor")
    assert evidence(text, statement).startswith("“We have waited")


def test_questions_in_the_text_are_not_statements() -> None:
    assert statements("Did the union say it would strike again? Nobody would answer.") == []


# --- sides -----------------------------------------------------------------------------------


def test_possessive_and_demonym_sides() -> None:
    text = (
        "Freedonia's Defence Ministry said its troops had captured the town of Tessel. "
        "The Sylvanian army denied that Tessel had fallen."
    )
    found = statements(text)
    captured = about(text, found, "had captured")
    denied = about(text, found, "denied")
    assert "Freedonia" in captured["side"]
    assert "Freedonia's Defence Ministry" in captured["claimant"]
    assert captured["negated"] is False
    assert "Sylvanian" in denied["side"]
    assert denied["negated"] is True


def test_a_stated_affiliation_gives_the_side() -> None:
    text = "Lawyers for Brightwater Mining said in a statement that the lawsuit was baseless."
    (statement,) = statements(text)
    assert statement["side"] == "Brightwater Mining"
    assert statement["claim"] == "that the lawsuit was baseless"


def test_a_negated_report_is_marked_negated() -> None:
    text = "The Sylvanian army did not confirm that Tessel had fallen."
    (statement,) = statements(text)
    assert statement["negated"] is True
    assert "Sylvanian" in statement["side"]


# --- the outlet's own voice ------------------------------------------------------------------


def test_the_outlets_own_voice_is_verification() -> None:
    text = (
        "Freedonia's Defence Ministry said its troops had captured the town of Tessel. "
        "Reuters could not independently verify the claim."
    )
    found = statements(text, outlet="Reuters")
    assert about(text, found, "captured")["kind"] == "claim"
    verification = about(text, found, "could not independently verify")
    assert verification["kind"] == "verification"


@pytest.mark.parametrize(
    "dateline",
    [
        "VELLMAR (Harbour Gazette) - ",
        "VELLMAR, Dec 2 (Harbour Gazette) - ",
        "VELLMAR, Ostria (Harbour Gazette) \u2014 ",
        "PORT VELLMAR, North Ostria, Jan 11 (Harbour Gazette) - ",
    ],
)
def test_a_wire_dateline_is_not_the_speaker_of_the_lead(dateline: str) -> None:
    text = dateline + "The dockworkers' union said on Tuesday that the strike would go on."
    (statement,) = statements(text)
    assert statement["claimant"] == "dockworkers' union"
    assert text[statement["start"] :].startswith("The dockworkers")


def test_another_outlet_named_in_the_text_is_not_the_articles_voice() -> None:
    text = "Reuters could not independently verify the union's account."
    (statement,) = statements(text, outlet=OUTLET)
    assert statement["kind"] == "claim"
    (own,) = statements(text.replace("Reuters", OUTLET), outlet=OUTLET)
    assert own["kind"] == "verification"


# --- several articles, aliases ---------------------------------------------------------------


def test_analyse_returns_one_result_per_article_in_order() -> None:
    first = make_article("Jane Okafor said the strike would go on.")
    second = make_article("The harbour was quiet on Sunday.")
    third = make_article("The Okavi tribal council claimed the mine had poisoned the river.")
    results = analyse([first, second, third])
    assert len(results) == 3
    assert [len(found) for found, _ in results] == [1, 0, 1]
    assert results[2][0][0]["claimant"] == "Okavi tribal council"


def test_articles_parsed_in_one_stream_read_as_each_alone() -> None:
    # One parser stream serves the whole batch: each article must get its own sentences back.
    stories = [make_article(fields_and_body(s)[1]) for s in (STRIKE, LAWSUIT, FLOOD, STRIKE)]
    together = analyse(stories)
    assert together == [analyse_article(story) for story in stories]
    assert all(found for found, _ in together[:2])


def test_aliases_an_article_states_are_learned() -> None:
    text = (
        "Sylvania, which uses the old name of Tesselburg to refer to Tessel, sent troops. "
        "The village of Arden (formerly Morrow) was quiet."
    )
    assert set(learn_aliases(text)) == {
        ("alias", "tesselburg", "Tessel"),
        ("alias", "morrow", "Arden"),
    }
    _, facts = analyse_article(make_article(text))
    assert ("alias", "tesselburg", "Tessel") in facts


@pytest.mark.parametrize(
    ("text", "full", "side"),
    [
        (
            "President Tomas Greer of Freedonia visited the front. "
            "Greer said the army would not retreat.",
            "Tomas Greer",
            "Freedonia",
        ),
        (
            "Union leader Jane Okafor addressed the crowd. Okafor said the strike would go on.",
            "Jane Okafor",
            None,
        ),
    ],
)
def test_a_short_name_is_resolved_to_its_full_mention(
    text: str, full: str, side: str | None
) -> None:
    statement = about(text, statements(text), " said ")
    assert full in statement["claimant"]
    # A capitalised first word ("Union leader") may be read as the body she leads.
    assert statement["side"] == side or (side is None and statement["side"] == "Union")


def test_a_pronoun_speaker_is_a_person_whose_side_can_be_learned_elsewhere() -> None:
    text = "Governor Ada Marlow said the port was shut. He said it would reopen on Monday."
    statements, _ = analyse_article(make_article(text))
    said = [s for s in statements if text[s["start"] : s["end"]].startswith("He said")]
    assert said and said[0]["claimant"].endswith("Ada Marlow")
    assert said[0]["person"] is True


# --- speakers the article's grammar hides -----------------------------------------------------


def test_the_subject_of_a_participle_is_the_main_clauses() -> None:
    text = (
        "Freedonia has rejected claims by Sylvania of a victory at Tessel, saying fighting "
        "continues for the town."
    )
    found = statements(text)
    saying = about(text, found, "fighting continues")
    assert "Freedonia" in saying["claimant"]
    # A claim named inside another speaker's denial is not the claimant's own statement.
    assert all("Sylvania" not in s["claimant"] for s in found)


def test_a_claim_in_an_adjunct_is_its_owners_own_statement() -> None:
    text = (
        "Freedonia's army has denied that Sylvanian forces captured Tessel, after claims by the "
        "head of the Harbour Front, Ari Tam, that the town had fallen."
    )
    found = statements(text)
    tam = [s for s in found if "Ari Tam" in s["claimant"]]
    assert tam and "that the town had fallen" in evidence(text, tam[0])
    army = about(text, found, "denied")
    assert "the town had fallen" not in evidence(text, army)  # each speaker its own clause


def test_a_pronoun_takes_the_nearest_antecedent_of_its_gender() -> None:
    text = (
        "Freedonia's interior minister Tomas Greer met the union's spokeswoman Jane Okafor. "
        "She said the strike would go on."
    )
    found = statements(text)
    assert "Jane Okafor" in about(text, found, "strike would go on")["claimant"]


def test_it_is_the_body_last_named_as_a_subject() -> None:
    text = (
        "The Sylvanian General Staff said its units held the bridge. "
        '"The enemy is trying to cross the river," it said.'
    )
    statement = about(text, statements(text), "cross the river")
    assert "General Staff" in statement["claimant"]


def test_a_quote_standing_alone_after_a_quoted_speaker_continues_the_quote() -> None:
    text = (
        '"The enemy is shelling the port," Ari Tam told the Harbour Gazette. '
        '"Our units are holding every street."'
    )
    continued = about(text, statements(text), "holding every street")
    assert "Ari Tam" in continued["claimant"]


def test_a_video_a_body_released_is_its_claim() -> None:
    text = "Video footage released by the Sylvanian Defence Ministry showed troops in Tessel."
    (statement,) = statements(text)
    assert "Defence Ministry" in statement["claimant"]


def test_rival_voices_claiming_together_are_marked_as_each_claiming() -> None:
    text = "Sylvania's army and the Harbour Front both claimed they controlled Tessel."
    (statement,) = statements(text)
    assert statement["each"] is True and statement["allies"]


def test_a_verb_the_tagger_read_as_a_noun_still_has_its_speaker() -> None:
    text = "Sylvania says the region is now part of Sylvania, a claim Freedonia rejects as absurd."
    found = statements(text)
    assert any(s["claimant"] == "Freedonia" for s in found) or all(
        "a claim Freedonia rejects" not in evidence(text, s)
        for s in found
        if s["claimant"] == "Sylvania"
    )
