"""Camps: who speaks for whom, on articles written for the tests (invented events)."""

from __future__ import annotations

from typing import Any

import pytest
from samples import article as sample_article

from bot.claims import analyse_article
from bot.identity import Knowledge
from bot.parties import assign


def camps(*texts: str) -> list[tuple[str, str | None, bool, str]]:
    """Return (evidence, camp, independent, claimant) for every statement of the articles."""
    statements: list[dict[str, Any]] = []
    facts: list[tuple[str, str, str]] = []
    owners: list[str] = []
    for text in texts:
        article = sample_article(text)
        found, learned = analyse_article(article)
        statements += found
        facts += learned
        owners += [text] * len(found)
    voices = assign(statements, Knowledge.from_facts(facts), articles=owners)
    return [
        (text[s["start"] : s["end"]], v.camp, v.independent, s["claimant"])
        for s, v, text in zip(statements, voices, owners, strict=True)
    ]


def camp_of(found: list[tuple[str, str | None, bool, str]], words: str) -> str | None:
    matching = [camp for evidence, camp, _, _ in found if words in evidence]
    assert len(matching) == 1, found
    return matching[0]


def test_a_countrys_bodies_people_and_capital_are_one_camp() -> None:
    found = camps(
        "Norway's defence ministry said its troops had taken the island of Varn. "
        "The Norwegian army's 3rd Brigade said the island was quiet. "
        "Oslo said the operation was over. "
        "Sweden's foreign ministry denied that Norwegian forces held Varn."
    )
    for words in ("had taken the island", "was quiet", "operation was over"):
        assert camp_of(found, words) == "Norway"
    assert camp_of(found, "denied") == "Sweden"
    assert {camp for _, camp, _, _ in found} == {"Norway", "Sweden"}


def test_a_rebel_army_of_the_same_country_is_its_own_camp() -> None:
    found = camps(
        "Chile's army said it had retaken the port of Varn. "
        "The Harbour Liberation Front, a rebel group, said its fighters still held the port. "
        "A spokesman for the army denied the claim by the Harbour Liberation Front. "
        "Chile has been torn by a conflict between the army and the Harbour Liberation Front."
    )
    rebels = camp_of(found, "still held the port")
    army = camp_of(found, "had retaken the port")
    assert rebels == "Harbour Liberation Front"
    assert army != rebels
    assert camp_of(found, "denied the claim") == army
    # The country is at war with itself: its army's camp is named by the army, not the country.
    assert army is not None and "army" in army.lower()


def test_outside_voices_are_independent_not_camps() -> None:
    found = camps(
        "Norway's defence ministry said it held Varn. "
        "Military analyst Ida Berg said the island had likely changed hands twice. "
        "A monitoring group said fighting continued. "
        "Residents said they heard shelling overnight."
    )
    independent = {claimant for _, _, ind, claimant in found if ind}
    assert any("Ida Berg" in c for c in independent)
    assert any("monitoring group" in c for c in independent)
    assert any("Residents" in c for c in independent)
    assert camp_of(found, "it held Varn") == "Norway"


def test_a_group_set_against_one_camp_joins_the_other() -> None:
    found = camps(
        "Norway's defence ministry said its troops had taken Varn. "
        "The Tessel Brigades also said they had taken Varn. "
        "Sweden's army denied claims by the Tessel Brigades that Varn had fallen. "
        "Sweden's army said Norwegian claims were propaganda."
    )
    assert camp_of(found, "also said they had taken Varn") == "Norway"
    assert camp_of(found, "claims were propaganda") == "Sweden"


def test_a_body_run_by_a_group_speaks_for_the_group() -> None:
    found = camps(
        "The Harbour Front, the group that rules Varn, said it would hold elections. "
        "The health minister in the Harbour Front-run government of Varn, Ida Berg, "
        "said 40 people were killed. "
        "Varn's health ministry said the toll had risen to 60."
    )
    for words in ("would hold elections", "40 people were killed", "risen to 60"):
        assert camp_of(found, words) == "Harbour Front"


def test_voices_that_speak_together_are_one_camp() -> None:
    found = camps(
        "Norway's army said the Tessel Brigades shelled the port. "
        "The Tessel Brigades and the Varn Guard denied the claim, calling it a lie."
    )
    assert camp_of(found, "denied the claim") == "Tessel Brigades"
    assert camp_of(found, "shelled the port") == "Norway"


def test_a_third_country_keeps_its_own_camp() -> None:
    found = camps(
        "Norway's defence ministry said its troops had taken Varn. "
        "Sweden's army denied that Varn had fallen. "
        "Finnish President Ida Berg said the fighting must stop."
    )
    assert camp_of(found, "must stop") == "Finland"
    assert len({camp for _, camp, _, _ in found}) == 3


def test_a_person_named_in_another_article_carries_that_articles_camp() -> None:
    found = camps(
        "Norwegian Defence Minister Tor Vik visited the front on Monday.",
        "Vik said the island of Varn was secure.",
    )
    assert camp_of(found, "was secure") == "Norway"


@pytest.mark.parametrize(
    ("first", "second"),
    [("Tor Viktorovych", "Tor Viktorovich"), ("Ada Zelinskyy", "Ada Zelinsky")],
)
def test_a_transliterated_surname_is_the_same_person(first: str, second: str) -> None:
    found = camps(
        f"Norwegian Defence Minister {first} visited the front on Monday.",
        f"{second.split()[-1]} said the island of Varn was secure.",
    )
    assert camp_of(found, "was secure") == "Norway"


def test_names_sharing_all_their_words_are_one_camp_and_one_shared_word_is_not() -> None:
    found = camps(
        "The United Dock Workers Union said the strike would go on. "
        "The dock workers union said pay talks had failed. "
        "Acme Shipping said the union's demands were unaffordable. "
        "The Acme Shipping board denied that talks had failed."
    )
    union = camp_of(found, "strike would go on")
    assert camp_of(found, "pay talks had failed") == union
    assert camp_of(found, "unaffordable") == camp_of(found, "denied that talks") != union


def test_a_demonym_and_its_place_are_one_camp_even_when_unknown_to_the_data() -> None:
    found = camps(
        "Sylvania's defence ministry said its troops had taken Varn. "
        "The Sylvanian army said the island was quiet. "
        "Freedonia's army denied that Varn had fallen."
    )
    assert camp_of(found, "had taken Varn") == camp_of(found, "island was quiet")
    assert camp_of(found, "denied") != camp_of(found, "had taken Varn")


@pytest.mark.parametrize(("one", "other"), [("Iran", "Iraq"), ("Mali", "Malawi")])
def test_names_that_differ_only_at_the_end_are_two_camps(one: str, other: str) -> None:
    found = camps(f"{one}'s army said it held Varn. {other}'s army denied that it held Varn.")
    assert camp_of(found, "said it held") == one
    assert camp_of(found, "denied") == other


def test_a_named_person_whose_role_is_its_or_his_speaks_for_its_owner() -> None:
    found = camps(
        "The Harbour Liberation Front said its fighters held the port of Varn. "
        "Its spokesman, Ari Tamsin, said the port was calm. "
        "Chile's army denied that the Harbour Liberation Front held Varn."
    )
    front = camp_of(found, "fighters held the port")
    assert camp_of(found, "port was calm") == front
    assert front != camp_of(found, "denied")
