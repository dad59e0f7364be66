"""Questions as people type them: markup, chatter, case, names, kinds, sources."""

from __future__ import annotations

import re

import pytest

from bot.question import clean, common, core, requested_source, understand

ARTICLES = (
    "The Harbour Front said it held Port Ellis. Sylvania's army denied that Port Ellis had "
    "fallen. The Okavi Tribal Council (OTC) met in Tesselyi on Monday. Officials in Castlebay "
    "said the OTC had agreed. The general said the bridge was open."
)


class FakeVocabulary:
    """The index's knowledge of words, read from a few sentences written for the tests."""

    def __init__(self, text: str = ARTICLES) -> None:
        self.text = text
        self.asked: list[str] = []

    def frequency(self, phrase: str) -> int:
        self.asked.append(phrase)
        words = phrase.split()
        pattern = r"\b" + r"\W+".join(re.escape(w) for w in words)
        return len(re.findall(pattern, self.text, flags=re.IGNORECASE))

    def near(self, words: list[str]) -> int:
        return self.frequency(" ".join(words))

    def written(self, word: str) -> str | None:
        found = re.findall(rf"(?<![.!?]\s)(?<!^)\b({re.escape(word)})\b", self.text, re.IGNORECASE)
        return max(set(found), key=found.count) if found else None

    def variant(self, word: str) -> str | None:
        from bot.names import fold, same_word

        for token in set(re.findall(r"\w+", self.text)):
            if token.lower() != word.lower() and same_word(token, word):
                return fold(token)
        return None

    def aliases(self) -> dict[str, str]:
        return {"otc": "Okavi Tribal Council", "morrow": "Port Ellis"}


@pytest.mark.parametrize(
    "asked",
    [
        "Who controls Port Ellis?",
        "who controls port ellis?",
        "WHO CONTROLS PORT ELLIS?",
        "Who controls Port Ellis",
        "Hi, quick question: Who controls Port Ellis? Thanks!",
        "Who  controls  Port  Ellis?",
        "<@U123> <!channel> who controls *Port Ellis*? :eyes:",
        "Can you tell me who controls Port Ellis?",
    ],
)
def test_the_same_question_however_typed_is_understood_the_same(asked: str) -> None:
    question = understand(asked, FakeVocabulary())
    assert question.names == ["Port Ellis"]
    assert question.missing == []
    assert question.kind == "who" and question.disputable
    assert question.text.lower().startswith("who controls port ellis")


@pytest.mark.parametrize(
    "asked",
    ["Who controls Varnholm?", "who controls varnholm?", "WHO CONTROLS VARNHOLM?"],
)
def test_a_specific_name_no_article_has_is_missing_however_typed(asked: str) -> None:
    assert understand(asked, FakeVocabulary()).missing == ["Varnholm"]


def test_dates_ordinary_words_and_stray_tokens_are_not_missing_names() -> None:
    question = understand(
        "Did the Harbour Front shell Port Ellis in June 2031?'; DROP TABLE chunks;--",
        FakeVocabulary(),
    )
    assert question.missing == []
    assert "June" in question.dates and "2031" in question.dates
    assert "Port Ellis" in question.names


def test_a_name_of_several_words_is_known_only_with_its_words_together() -> None:
    # The articles name Port Ellis and some airport, never "Port Ellis Airport".
    question = understand("Has Sylvania taken Port Ellis Airport?", FakeVocabulary())
    assert "Port Ellis Airport" in question.missing


def test_an_alias_and_a_spelling_variant_are_known() -> None:
    assert understand("What did the OTC agree?", FakeVocabulary()).missing == []
    question = understand("What happened in Teselyi?", FakeVocabulary())
    assert question.missing == [] and question.spellings == ["tesselyi"]


@pytest.mark.parametrize(
    ("asked", "kind", "noun"),
    [
        ("How many people live in Port Ellis?", "how_many", "people"),
        ("What was the pre-war population of Port Ellis?", "how_many", "population"),
        ("How far is Port Ellis from Castlebay?", "distance", "distance"),
        ("At what time did the Front say it took the port?", "when", "time"),
        ("When did the OTC meet?", "when", None),
        ("Which village did the Front name as its last gain?", "which", "village"),
        ("Which Sylvanian brigade's officer said the bridge held?", "which", "brigade"),
        ("What name does the Front use for Port Ellis?", "what_name", "name"),
        ("Where did the OTC meet?", "where", None),
        ("Has Sylvania captured Port Ellis?", "yes_no", None),
        ("Why is Port Ellis important?", "why", None),
    ],
)
def test_the_kind_of_question_and_the_noun_it_asks_about(
    asked: str, kind: str, noun: str | None
) -> None:
    question = understand(asked, FakeVocabulary())
    assert (question.kind, question.asked_noun) == (kind, noun)


@pytest.mark.parametrize(
    ("asked", "disputable"),
    [
        ("Who caused the blast at Port Ellis?", True),
        ("Who controls Port Ellis?", True),
        ("Has the Front taken Port Ellis?", True),
        ("Who is the Front's spokesman?", False),
        ("Who said the bridge was open?", False),
        ("How many people live in Port Ellis?", False),
    ],
)
def test_disputed_questions_and_factual_ones(asked: str, disputable: bool) -> None:
    assert understand(asked, FakeVocabulary()).disputable is disputable


@pytest.mark.parametrize(
    ("asked", "source"),
    [
        (
            "How many people were killed, according to the monitor cited by the UN?",
            "monitor cited by the UN",
        ),
        ("What did the Harbour Front say about the bridge?", "Harbour Front"),
        ("At what time did the OTC say it met?", "OTC"),
        ("Which village did Sylvania name as its last gain?", "Sylvania"),
        ("Who controls Port Ellis?", None),
    ],
)
def test_whose_word_a_question_asks_for(asked: str, source: str | None) -> None:
    assert requested_source(asked) == source


def test_chat_markup_is_turned_into_plain_text() -> None:
    text = clean(
        "<@U123> is <https://example.org/a|*this* report> true? :thinking_face: "
        "`code` ~old~ _new_ <!here>\n> quoted"
    )
    assert text == "is this report true? code old new quoted"


def test_greetings_and_asking_phrases_are_not_the_question() -> None:
    assert core("Hello! Could you please tell me who runs the port? Cheers") == (
        "who runs the port?"
    )
    assert core("Thanks") == "Thanks"  # nothing else to ask: the words are kept


@pytest.mark.parametrize(
    "asked",
    ["", "???", "the of and", "Кто контролирует порт?", '"', "*", "NEAR(", "AND (", "a" * 900],
)
def test_odd_questions_are_understood_without_error(asked: str) -> None:
    question = understand(asked, FakeVocabulary())
    assert isinstance(question.kind, str)


def test_everyday_words_are_common_and_names_are_not() -> None:
    assert common("retaken") and common("shelled") and common("June")
    assert not common("Tesselyi") and not common("Varnholm")
