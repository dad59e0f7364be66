"""End-to-end answers over the seed reports: statuses, sides, verbatim citations, the contract."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.answer import Answer
from bot.articles import load_file
from bot.chain import Answerer, build_answerer, validate_question
from bot.claims import analyse
from bot.config import MAX_QUESTION_CHARS, Settings
from bot.conversation import Conversation, condense
from bot.errors import InvalidQuestion
from bot.ingest import ingest
from bot.store import open_store

POKROVSK = "Who controls Pokrovsk?"
WORLD_CUP = "Who won the 2022 football World Cup?"
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'", "«": '"', "»": '"'})


def normalise(text: str) -> str:
    return " ".join(text.translate(_QUOTES).split())


@pytest.fixture(scope="module")
def answerer(tmp_path_factory, seed_dir, real_embeddings) -> Iterator[Answerer]:
    settings = Settings(index_dir=tmp_path_factory.mktemp("answers-index"), _env_file=None)
    index = open_store(settings, create=True)
    report = ingest([seed_dir], index, real_embeddings, analyse=analyse)
    assert len(report.added) == 2
    yield build_answerer(settings, index=index, embeddings=real_embeddings)
    index.close()


@pytest.fixture(scope="module")
def pokrovsk(answerer) -> Answer:
    return answerer(POKROVSK)


def all_evidence(answer: Answer):
    for claim in [*answer.claims, *answer.verification]:
        yield from claim.evidence


def test_who_controls_pokrovsk_is_contested_between_two_sides(pokrovsk) -> None:
    assert pokrovsk.status == "contested"
    sides = pokrovsk.sides()
    assert len(sides) >= 2
    assert any("Russia" in side for side in sides)
    assert any("Ukrain" in side for side in sides)
    assert not any("Russia" in side and "Ukrain" in side for side in sides)
    assert pokrovsk.summary.startswith("Contested")
    for claim in pokrovsk.claims:
        assert claim.claimant and claim.claim and claim.evidence


def test_each_side_cites_the_article_that_reports_it(pokrovsk) -> None:
    by_outlet = {s.id: s.outlet for s in pokrovsk.sources}
    ukraine = [c for c in pokrovsk.claims if "Ukrain" in c.side]
    assert ukraine
    # The Ukrainian denial is only in the Reuters report.
    assert all(by_outlet[e.source] == "Reuters" for c in ukraine for e in c.evidence)
    russia = [c for c in pokrovsk.claims if "Russia" in c.side]
    assert russia and all(by_outlet[e.source] for c in russia for e in c.evidence)


def test_every_quote_is_verbatim_in_the_file_it_cites(pokrovsk) -> None:
    paths = {s.id: Path(s.path) for s in pokrovsk.sources}
    quotes = list(all_evidence(pokrovsk))
    assert quotes
    for item in quotes:
        assert item.source in paths
        text = normalise(paths[item.source].read_text(encoding="utf-8"))
        assert len(item.quote.split()) >= 3, item.quote
        assert normalise(item.quote) in text, item.quote


def test_source_ids_are_consistent(pokrovsk) -> None:
    ids = [s.id for s in pokrovsk.sources]
    assert ids == list(range(1, len(ids) + 1))
    cited = {e.source for e in all_evidence(pokrovsk)}
    assert cited == set(ids), "every source is cited, and only listed sources are cited"
    assert len({s.path for s in pokrovsk.sources}) == len(ids)
    for source in pokrovsk.sources:
        path = Path(source.path)
        assert path.is_absolute() and path.is_file()
        assert source.snippet
        # The chunk a source points at belongs to the article in that very file.
        (article,) = load_file(path)
        assert source.chunk_id and source.chunk_id.startswith(f"{article.id}:")
        assert source.title == article.title and source.outlet == article.outlet
    refs = {int(ref) for ref in re.findall(r"\[(\d+)\]", pokrovsk.answer)}
    assert refs == set(ids)


def test_the_outlets_own_verification_is_not_a_side(pokrovsk) -> None:
    assert all(c.claimant != "Reuters" for c in pokrovsk.claims if c.side != "Reported")
    assert any("independently verify" in e.quote for v in pokrovsk.verification for e in v.evidence)


def test_claims_carry_their_articles_date(pokrovsk) -> None:
    dated = {s.id: s.published for s in pokrovsk.sources}
    for claim in pokrovsk.claims:
        assert claim.published == dated[claim.evidence[0].source]


def test_an_absent_subject_is_not_found_with_no_sources(answerer) -> None:
    answer = answerer(WORLD_CUP)
    assert answer.status == "not_found"
    assert answer.sources == [] and answer.claims == [] and answer.verification == []
    assert "World Cup" in answer.summary
    assert re.search(r"\[\d+\]", answer.answer) is None


def test_an_unrelated_question_without_names_is_not_found(answerer) -> None:
    answer = answerer("What is the best recipe for sourdough bread?")
    assert answer.status == "not_found"
    assert answer.sources == []


def test_a_factual_question_is_answered_from_the_reports(answerer) -> None:
    answer = answerer("What was the pre-war population of Pokrovsk?")
    assert answer.status == "answered"
    assert "60,000" in answer.answer
    assert answer.sources


def test_the_json_contract(pokrovsk) -> None:
    data = json.loads(pokrovsk.to_json())
    assert {"question", "status", "summary", "answer", "claims", "sources"} <= set(data)
    assert data["question"] == POKROVSK
    assert data["status"] in ("contested", "answered", "not_found")
    assert data["answer"] == pokrovsk.to_text()
    assert data["claims"]
    for claim in data["claims"]:
        assert {"side", "claimant", "claim", "evidence"} <= set(claim)
        for item in claim["evidence"]:
            assert set(item) == {"source", "quote"}
            assert isinstance(item["source"], int) and isinstance(item["quote"], str)
    for source in data["sources"]:
        expected = {"id", "title", "outlet", "published", "url", "path", "chunk_id", "snippet"}
        assert expected <= set(source)
        assert isinstance(source["id"], int)
    assert json.loads(pokrovsk.to_json(indent=None)) == data
    assert "\n" not in pokrovsk.to_json(indent=None)


def test_the_json_of_not_found(answerer) -> None:
    data = json.loads(answerer(WORLD_CUP).to_json())
    assert data["status"] == "not_found" and data["sources"] == [] and data["claims"] == []


# --- questions and follow-ups ----------------------------------------------------------------


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_validate_question_rejects_empty(question) -> None:
    with pytest.raises(InvalidQuestion):
        validate_question(question)


def test_validate_question_rejects_over_long_and_strips() -> None:
    with pytest.raises(InvalidQuestion, match=str(MAX_QUESTION_CHARS)):
        validate_question("x" * (MAX_QUESTION_CHARS + 1))
    assert validate_question("  " + "x" * MAX_QUESTION_CHARS + " \n") == "x" * MAX_QUESTION_CHARS
    assert validate_question("  Who controls Pokrovsk?\n") == POKROVSK


def test_the_answerer_rejects_an_empty_question(answerer) -> None:
    with pytest.raises(InvalidQuestion):
        answerer("   ")


def test_condense_a_follow_up() -> None:
    assert condense(POKROVSK, "and Vovchansk?") == "Who controls Vovchansk?"
    assert condense(POKROVSK, "What about Myrnohrad?") == "Who controls Myrnohrad?"
    assert condense(None, "and Vovchansk?") == "and Vovchansk?"
    assert condense(POKROVSK, "Who is Valery Gerasimov?") == "Who is Valery Gerasimov?"


def test_conversation_keeps_the_thread() -> None:
    conversation = Conversation()
    first = conversation.standalone(POKROVSK)
    conversation.add(POKROVSK, first)
    second = conversation.standalone("and Vovchansk?")
    conversation.add("and Vovchansk?", second)
    assert second == "Who controls Vovchansk?"
    assert conversation.standalone("and Myrnohrad?") == "Who controls Myrnohrad?"


def test_a_follow_up_is_answered_about_its_own_subject(answerer) -> None:
    answer = answerer(condense(POKROVSK, "and Vovchansk?"))
    assert answer.question == "Who controls Vovchansk?"
    assert answer.status != "not_found"
    quotes = " ".join(e.quote for e in all_evidence(answer))
    assert "Vovchansk" in quotes
