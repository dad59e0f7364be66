"""Dense search over the cache's vectors, and an embedded index answered without Chroma."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from samples import FLOOD, LAWSUIT, STRIKE, write

from bot.config import Settings
from bot.ingest import ingest
from bot.records import STAMP_FILE, read_stamp
from bot.retrieval import search
from bot.store import open_store
from bot.vectors import VectorMatrix, pack


def matrix(rows: dict[str, tuple[str, list[float]]]) -> VectorMatrix:
    packed = [(cid, art, pack(vec)) for cid, (art, vec) in rows.items()]
    return VectorMatrix.from_rows(iter(packed), len(packed))


ROWS = {
    "a:0": ("a", [1.0, 0.0, 0.0]),
    "a:1": ("a", [0.6, 0.8, 0.0]),
    "b:0": ("b", [0.0, 2.0, 0.0]),  # not unit length: normalised on load
    "c:0": ("c", [0.0, 0.0, -1.0]),
}


def test_the_nearest_chunks_come_first_with_their_cosine() -> None:
    found = matrix(ROWS).search([0.0, 1.0, 0.0], 3)
    assert [(cid, art) for cid, art, _ in found] == [("b:0", "b"), ("a:1", "a"), ("a:0", "a")]
    assert [round(score, 4) for _, _, score in found] == [1.0, 0.8, 0.0]


def test_a_query_is_normalised_and_the_limit_caps_the_hits() -> None:
    found = matrix(ROWS).search([5.0, 0.0, 0.0], 1)
    assert found == [("a:0", "a", pytest.approx(1.0))]
    assert len(matrix(ROWS).search([5.0, 0.0, 0.0], 50)) == len(ROWS)


def test_allowed_articles_restrict_the_hits() -> None:
    found = matrix(ROWS).search([0.0, 1.0, 0.0], 10, allowed={"a", "unknown"})
    assert [cid for cid, _, _ in found] == ["a:1", "a:0"]
    assert matrix(ROWS).search([0.0, 1.0, 0.0], 10, allowed={"unknown"}) == []


def test_an_empty_cache_finds_nothing_and_another_model_is_refused() -> None:
    assert VectorMatrix.from_rows(iter([]), 0).search([1.0, 0.0], 5) == []
    with pytest.raises(ValueError, match="re-ingest with one model"):
        matrix(ROWS).search([1.0, 0.0], 2)


def test_rows_beyond_the_count_are_skipped() -> None:
    packed = [(cid, art, pack(vec)) for cid, (art, vec) in ROWS.items()]
    loaded = VectorMatrix.from_rows(iter(packed), 2)
    assert len(loaded) == 2 and loaded.matrix.dtype == np.float32


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    articles = tmp_path / "articles"
    write(articles, "strike.txt", STRIKE)
    write(articles, "lawsuit.md", LAWSUIT)
    return articles


def test_a_current_embedded_cache_answers_without_opening_chroma(
    tmp_path: Path, folder: Path, fake_embeddings
) -> None:
    settings = Settings(index_dir=tmp_path / "index")
    writer = open_store(settings, create=True)
    ingest([folder], writer, fake_embeddings)
    stamped = read_stamp(settings.index_dir)
    assert stamped == writer.records.generation()
    reader = open_store(settings)
    try:
        assert reader._chroma is None  # nothing asked of Chroma yet
        vector = fake_embeddings.embed_query("dockworkers strike Vellmar")
        hits = reader.dense_search(vector, 5)
        assert hits and reader._chroma is None
        assert search(reader, fake_embeddings, "dockworkers strike", k=3)
        assert reader._chroma is None and reader.generation == stamped
        # Another ingest moves the stamp and brings the shared cache up to date as it ends:
        # the reader's next search finds the new article, still without Chroma.
        assert len(reader.catalog.articles()) == 2
        write(folder, "flood.txt", FLOOD)
        ingest([folder], writer, fake_embeddings)
        flood = fake_embeddings.embed_query("Floods close the Tessel crossing")
        assert "Floods" in reader.catalog.chunk_text(reader.dense_search(flood, 1)[0][0])
        assert len(reader.catalog.articles()) == 3 and reader._chroma is None
        assert reader.generation == read_stamp(settings.index_dir) != stamped
    finally:
        reader.close()
        writer.close()


@pytest.mark.parametrize("stamp", ["missing", "stale"])
def test_without_a_current_stamp_the_reader_asks_chroma(
    tmp_path: Path, folder: Path, fake_embeddings, stamp: str
) -> None:
    settings = Settings(index_dir=tmp_path / "index")
    writer = open_store(settings, create=True)
    ingest([folder], writer, fake_embeddings)
    writer.close()
    stamp_file = settings.index_dir / STAMP_FILE
    if stamp == "missing":
        stamp_file.unlink()
    else:
        stamp_file.write_text("an-old-generation\n")
    reader = open_store(settings)
    try:
        assert reader._chroma is not None  # opened at once: the cache cannot be trusted
        vector = fake_embeddings.embed_query("dockworkers strike Vellmar")
        assert reader.dense_search(vector, 5)
        assert reader.generation == reader.records.generation()
    finally:
        reader.close()


# --- lexical search at scale ------------------------------------------------------------------


@pytest.mark.parametrize("large", [False, True])
def test_words_most_chunks_hold_are_left_out_of_lexical_search_in_a_large_index(
    tmp_path: Path, fake_embeddings, monkeypatch: pytest.MonkeyPatch, large: bool
) -> None:
    import bot.fulltext

    folder = tmp_path / "articles"
    for number in range(12):
        extra = " A zebra crossed the quay at dawn." if number == 3 else ""
        write(
            folder,
            f"{number}.txt",
            f"title: Port report {number}\noutlet: Harbour Gazette\n---\n"
            f"The harbour master said cargo volume number {number} was steady.{extra}\n",
        )
    index = open_store(Settings(index_dir=tmp_path / "index"), create=True)
    try:
        ingest([folder], index, fake_embeddings)
        if large:  # this small index searched as a large one would be
            monkeypatch.setattr(bot.fulltext, "COMMON_FROM", 10)
        hits = index.catalog.lexical_search("harbour zebra", 20)
        zebra = {h[1] for h in hits if "zebra" in index.catalog.chunk_text(h[0])}
        assert len(zebra) == 1 and hits[0][1] in zebra  # the rare word ranks first either way
        assert len(hits) == (1 if large else 12)
        # Only common words: the rarest is searched, not nothing.
        assert len(index.catalog.lexical_search("harbour master", 20)) == 12
    finally:
        index.close()
