"""Choosing which statements answer a question: focus, hearing each side, disputes."""

from __future__ import annotations

from bot.evidence import Candidate, Evidence, on_focus
from bot.hearing import CLAIM_MARGIN, SIDE_FLOOR, SIDE_MARGIN, disagree, heard

TEXT = (
    "The Sylvanian army said it had taken Port Ellis. "
    "Freedonia's ministry said its troops still held Port Ellis. "
    "Officials in Marlow said the bridge at Castlebay was intact. "
    "The union said talks would resume."
)


def _at(sentence: str, places: list[str] | None = None) -> Candidate:
    start = TEXT.index(sentence)
    return Candidate("a", start, start + len(sentence), 1.0, places=places or [])


def test_a_statement_about_another_place_is_not_about_the_focus() -> None:
    held = _at("Freedonia's ministry said its troops still held Port Ellis.", places=["Port Ellis"])
    bridge = _at(
        "Officials in Marlow said the bridge at Castlebay was intact.", places=["Castlebay"]
    )
    talks = _at("The union said talks would resume.")
    focus = ["Port Ellis"]
    assert on_focus(held, TEXT, focus, focus)
    assert not on_focus(bridge, TEXT, focus, focus)
    # A statement naming no place is read in the light of its article, which names the focus.
    assert on_focus(talks, TEXT, focus, focus)
    assert not on_focus(talks, TEXT, ["Vuhledar"], ["Vuhledar"])
    # A common name the question also uses ("Sylvania") does not make another place's
    # statement about the topic.
    sylvanian = _at("The Sylvanian army said it had taken Port Ellis.", places=["Port Ellis"])
    assert not on_focus(sylvanian, TEXT, ["Castlebay", "Sylvania"], ["Castlebay"])


def test_each_side_is_heard_through_its_best_statement() -> None:
    best = 1.0
    strong = Candidate("a", 0, 10, best, side="Sylvania")
    weak_side = Candidate("b", 0, 10, best - SIDE_MARGIN + 0.05, side="Freedonia")
    unheard = Candidate("c", 0, 10, SIDE_FLOOR - 0.01, side="Marlow")
    same_side_far = Candidate("a", 20, 30, best - CLAIM_MARGIN - 0.1, side="Sylvania")
    other_outlet = Candidate("d", 0, 10, best - CLAIM_MARGIN - 0.1, side="Sylvania")
    kept = heard([strong, weak_side, unheard, same_side_far, other_outlet], best, SIDE_MARGIN)
    assert strong in kept and weak_side in kept
    assert unheard not in kept
    # Far below its side's best, a statement stays only as the best its own outlet reports.
    assert other_outlet in kept
    assert same_side_far not in kept
    # Informational questions hear only sides close to the best.
    assert weak_side not in heard([strong, weak_side], best, CLAIM_MARGIN)


def test_disputes_are_denials_or_different_numbers() -> None:
    texts = {"a": "They said 300 died. Officials said 500 died. Rebels denied the report."}
    evidence = Evidence({}, texts, [], [], [], set())
    first = Candidate("a", 0, 19, 1.0, side="Health")
    second = Candidate("a", 20, 44, 1.0, side="Army")
    denial = Candidate("a", 45, 70, 1.0, side="Rebels")
    assert disagree([first, second], evidence)  # 300 against 500
    assert disagree([first, denial], evidence)
    assert not disagree([first, Candidate("a", 0, 19, 1.0, side="Army")], evidence)
