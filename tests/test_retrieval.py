"""Tests for hybrid retrieval over the seed reports with the real embedding model."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.documents import Document

from bot.catalog import Filters
from bot.config import Settings
from bot.ingest import ingest
from bot.retrieval import RRF_K, Hit, diversify, fuse, search
from bot.retriever import NewsRetriever
from bot.store import Index, open_store

QUESTION = "Who controls Pokrovsk?"


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory, seed_dir, real_embeddings) -> Iterator[Index]:
    settings = Settings(index_dir=tmp_path_factory.mktemp("retrieval-index"), _env_file=None)
    index = open_store(settings, create=True)
    report = ingest([seed_dir], index, real_embeddings)
    assert len(report.added) == 2
    yield index
    index.close()


@pytest.fixture(scope="module")
def ids(seed_index) -> dict[str, str]:
    """Map outlet -> article id for the two seeds."""
    return {r.outlet: r.id for r in seed_index.catalog.articles()}


def test_seeds_have_the_expected_outlets_and_dates(seed_index) -> None:
    dates = {r.outlet: r.published for r in seed_index.catalog.articles()}
    assert dates["TRT World"] == "2025-12-01"
    assert not (dates["Reuters"] or "").startswith("20")  # the Reuters text gives no year


def test_who_controls_pokrovsk_draws_on_both_articles(seed_index, ids, real_embeddings) -> None:
    hits = search(seed_index, real_embeddings, QUESTION, 8)
    assert len(hits) == 8
    assert {h.article_id for h in hits} == {ids["Reuters"], ids["TRT World"]}
    assert len({h.chunk_id for h in hits}) == 8
    assert [h.fused for h in hits[:3]] == sorted((h.fused for h in hits[:3]), reverse=True)
    assert max(h.dense for h in hits) > 0.4


def test_a_small_k_still_reaches_both_articles(seed_index, ids, real_embeddings) -> None:
    hits = search(seed_index, real_embeddings, QUESTION, 3)
    assert len(hits) == 3
    assert {h.article_id for h in hits} == {ids["Reuters"], ids["TRT World"]}


def test_the_lexical_ranking_finds_a_rare_word(seed_index, ids, real_embeddings) -> None:
    hits = search(seed_index, real_embeddings, "Solodchuk Myrnohrad", 2)
    text = seed_index.catalog.article_text(ids["Reuters"])
    spans = seed_index.catalog.chunk_spans([hits[0].chunk_id])
    _, _, start, end = spans[hits[0].chunk_id]
    assert "Solodchuk" in text[start:end]


@pytest.mark.parametrize("outlet", ["Reuters", "reuters"])
def test_filter_by_outlet(seed_index, ids, real_embeddings, outlet) -> None:
    hits = search(seed_index, real_embeddings, QUESTION, 8, Filters(outlet=outlet))
    assert hits
    assert {h.article_id for h in hits} == {ids["Reuters"]}


def test_filter_since_keeps_only_dated_articles_on_or_after(
    seed_index, ids, real_embeddings
) -> None:
    hits = search(seed_index, real_embeddings, QUESTION, 8, Filters(since="2025-12-01"))
    assert hits and {h.article_id for h in hits} == {ids["TRT World"]}
    later = search(seed_index, real_embeddings, QUESTION, 8, Filters(since="2025-12-02"))
    assert later == []


def test_filter_until_excludes_later_and_undated_articles(seed_index, ids, real_embeddings) -> None:
    hits = search(seed_index, real_embeddings, QUESTION, 8, Filters(until="2025-12-01"))
    assert hits and {h.article_id for h in hits} == {ids["TRT World"]}
    assert search(seed_index, real_embeddings, QUESTION, 8, Filters(until="2025-11-30")) == []


def test_filters_combine(seed_index, real_embeddings) -> None:
    both = Filters(outlet="Reuters", since="2025-01-01")
    assert search(seed_index, real_embeddings, QUESTION, 8, both) == []


def test_news_retriever_returns_documents_with_metadata(seed_index, real_embeddings) -> None:
    retriever = NewsRetriever(index=seed_index, embeddings=real_embeddings, k=5)
    docs = retriever.invoke(QUESTION)
    assert len(docs) == 5
    outlets = set()
    for doc in docs:
        assert isinstance(doc, Document)
        meta = doc.metadata
        assert {"title", "outlet", "path", "published", "chunk_id", "start", "end"} <= set(meta)
        assert meta["title"]
        outlets.add(meta["outlet"])
        source = Path(meta["path"])
        assert source.is_absolute() and source.is_file()
        assert doc.page_content in source.read_text(encoding="utf-8")
        assert doc.id == meta["chunk_id"]
    assert outlets == {"Reuters", "TRT World"}


def test_news_retriever_applies_its_filters(seed_index, real_embeddings) -> None:
    retriever = NewsRetriever(
        index=seed_index, embeddings=real_embeddings, k=4, filters=Filters(outlet="TRT")
    )
    docs = retriever.invoke(QUESTION)
    assert docs and {d.metadata["outlet"] for d in docs} == {"TRT World"}


# --- fusion and diversity, on synthetic rankings ---------------------------------------------


def test_fuse_is_reciprocal_rank_fusion() -> None:
    dense = [("a", "A", 0.9), ("b", "A", 0.8), ("c", "B", 0.7)]
    lexical = [("c", "B", 12.0), ("a", "A", 3.0), ("d", "B", 1.0)]
    fused = fuse([dense, lexical])
    assert fused["a"] == ("A", pytest.approx(1 / (RRF_K + 1) + 1 / (RRF_K + 2)))
    assert fused["c"] == ("B", pytest.approx(1 / (RRF_K + 3) + 1 / (RRF_K + 1)))
    assert fused["b"] == ("A", pytest.approx(1 / (RRF_K + 2)))
    assert fused["d"] == ("B", pytest.approx(1 / (RRF_K + 3)))
    order = sorted(fused, key=lambda cid: fused[cid][1], reverse=True)
    assert order == ["a", "c", "b", "d"]


def test_fuse_uses_ranks_not_raw_scores() -> None:
    # A huge lexical score must not swamp the dense ranking.
    fused = fuse([[("x", "A", 0.5), ("y", "A", 0.4)], [("y", "A", 1e9), ("x", "A", 1e-9)]])
    assert fused["x"][1] == pytest.approx(fused["y"][1])
    assert fuse([]) == {}


def hits_for(article: str, count: int, top: float) -> list[Hit]:
    return [Hit(f"{article}:{i}", article, top - i * 0.001, 0.5) for i in range(count)]


def test_diversify_caps_one_articles_share_first() -> None:
    ranked = hits_for("long", 12, 1.0) + hits_for("b", 3, 0.5) + hits_for("c", 2, 0.4)
    chosen = diversify(ranked, 6)
    assert len(chosen) == 6
    per_article = Counter(h.article_id for h in chosen)
    assert set(per_article) == {"long", "b", "c"}
    assert per_article["long"] <= 2
    assert chosen[0].chunk_id == "long:0"
    assert len({h.chunk_id for h in chosen}) == 6


def test_diversify_fills_up_from_one_article_when_nothing_else_exists() -> None:
    ranked = hits_for("only", 10, 1.0)
    chosen = diversify(ranked, 8)
    assert [h.chunk_id for h in chosen] == [f"only:{i}" for i in range(8)]


def test_diversify_returns_everything_when_fewer_than_k() -> None:
    ranked = hits_for("a", 2, 1.0) + hits_for("b", 1, 0.5)
    assert sorted(h.chunk_id for h in diversify(ranked, 8)) == ["a:0", "a:1", "b:0"]
    assert diversify([], 5) == []
