"""Dense search over the cache's vectors, and an embedded index answered without Chroma."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from samples import FLOOD, LAWSUIT, STRIKE, write

from bot.config import Settings
from bot.errors import ModelMismatch, StoreUnavailable
from bot.ingest import ingest
from bot.records import STAMP_FILE, read_stamp
from bot.retrieval import search
from bot.store import Index, open_store
from bot.vectors import VectorMatrix, pack


def matrix(rows: dict[str, tuple[str, list[float]]]) -> VectorMatrix:
    packed = [(n, cid, art, pack(vec)) for n, (cid, (art, vec)) in enumerate(rows.items())]
    return VectorMatrix.load(iter(packed), len(packed))


ROWS = {
    "a:0": ("a", [1.0, 0.0, 0.0]),
    "a:1": ("a", [0.6, 0.8, 0.0]),
    "b:0": ("b", [0.0, 2.0, 0.0]),  # not unit length: normalised on load
    "c:0": ("c", [0.0, -0.5, -1.0]),
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
    assert VectorMatrix.load(iter([]), 0).search([1.0, 0.0], 5) == []
    with pytest.raises(ModelMismatch, match="re-ingest with one model"):
        matrix(ROWS).search([1.0, 0.0], 2)


def test_rows_beyond_the_count_are_skipped() -> None:
    packed = [(n, cid, art, pack(vec)) for n, (cid, (art, vec)) in enumerate(ROWS.items())]
    loaded = VectorMatrix.load(iter(packed), 2)
    assert len(loaded) == 2 and loaded.matrix.dtype == np.float32


def clustered(count: int, width: int, seed: int) -> np.ndarray:
    """Unit vectors near a few main directions, as sentence embeddings are: most of their
    length in a dozen directions, a little spread over all the others."""
    shared = np.random.default_rng(0).standard_normal((12, width))  # the same for every call
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((count, 12)) @ shared + 0.3 * rng.standard_normal((count, width))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def test_a_large_matrix_held_projected_ranks_by_the_exact_cosine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import bot.vectors

    monkeypatch.setattr(bot.vectors, "REDUCED", 16)
    monkeypatch.setattr(bot.vectors, "RESCORED", 64)
    vectors = clustered(3000, 64, seed=5)
    rows = [(n * 7, f"a{n // 3}:{n % 3}", f"a{n // 3}", pack(v)) for n, v in enumerate(vectors)]
    stored = {rowid: (chunk_id, blob) for rowid, chunk_id, _, blob in rows}
    fetched: list[int] = []

    def fetch(rowids: list[int]) -> dict[int, tuple[str, bytes]]:
        fetched.extend(rowids)
        return {r: stored[r] for r in rowids}

    exact = VectorMatrix.load(iter(rows), len(rows))
    reduced = VectorMatrix.load(iter(rows), len(rows), sample=vectors[::5], fetch=fetch)
    assert reduced.matrix.shape == (16, 3000) and exact.matrix.shape == (64, 3000)
    found = 0
    for query in clustered(40, 64, seed=9):
        truth = exact.search(query, 10)
        approx = reduced.search(query, 10)
        assert len(fetched) == 64  # only the candidates' full vectors are read back
        fetched.clear()
        found += len({h[0] for h in truth} & {h[0] for h in approx})
        scores = dict((cid, score) for cid, _, score in truth)
        for cid, _, score in approx:
            assert score == pytest.approx(
                float(vectors[int(cid[1:].split(":")[0]) * 3 + int(cid.split(":")[1])] @ query),
                abs=1e-5,
            )
            if cid in scores:
                assert score == pytest.approx(scores[cid], abs=1e-5)
    assert found / 400 >= 0.9  # recall of the exact top ten
    allowed = reduced.search(clustered(1, 64, seed=1)[0], 5, allowed={"a7", "a8"})
    assert {h[1] for h in allowed} <= {"a7", "a8"} and len(allowed) == 5


def test_a_row_another_chunk_took_since_loading_is_not_scored_with_its_vector(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import bot.vectors

    monkeypatch.setattr(bot.vectors, "REDUCED", 8)
    monkeypatch.setattr(bot.vectors, "RESCORED", 16)
    vectors = clustered(200, 32, seed=3)
    rows = [(n, f"a{n}:0", f"a{n}", pack(v)) for n, v in enumerate(vectors)]
    stored = {rowid: (chunk_id, blob) for rowid, chunk_id, _, blob in rows}

    def fetch(rowids: list[int]) -> dict[int, tuple[str, bytes]]:
        return {r: stored[r] for r in rowids if r in stored}

    matrix = VectorMatrix.load(iter(rows), len(rows), sample=vectors, fetch=fetch)
    query = vectors[7]
    assert matrix.search(query, 1)[0][0] == "a7:0"
    # Chunk a7:0 is removed, and a new chunk takes its row (with the same text and vector).
    stored[7] = ("b1:0", pack(vectors[7]))
    hits = matrix.search(query, 5)
    assert "a7:0" not in {h[0] for h in hits} and len(hits) == 5


def test_a_process_holding_a_large_matrix_keeps_blas_to_one_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from threadpoolctl import threadpool_info

    import bot.vectors

    monkeypatch.setattr(bot.vectors, "ONE_BLAS_THREAD_FROM", 50)
    vectors = clustered(60, 16, seed=2)
    rows = [(n, f"a{n}:0", f"a{n}", pack(v)) for n, v in enumerate(vectors)]
    VectorMatrix.load(iter(rows), len(rows))
    assert {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"} == {1}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    articles = tmp_path / "articles"
    write(articles, "strike.txt", STRIKE)
    write(articles, "lawsuit.md", LAWSUIT)
    return articles


@pytest.fixture
def writer(tmp_path: Path, folder: Path, fake_embeddings) -> Iterator[Index]:
    """An embedded index in tmp_path/index with the folder's articles ingested; its writer."""
    index = open_store(Settings(index_dir=tmp_path / "index"), create=True)
    try:
        ingest([folder], index, fake_embeddings)
        yield index
    finally:
        index.close()


def test_a_current_embedded_cache_answers_without_opening_chroma(
    tmp_path: Path, folder: Path, fake_embeddings, writer: Index
) -> None:
    settings = Settings(index_dir=tmp_path / "index")
    stamped = read_stamp(settings.index_dir / "chroma")
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
        assert reader.generation == read_stamp(settings.index_dir / "chroma") != stamped
    finally:
        reader.close()


@pytest.mark.parametrize("stamp", ["missing", "stale"])
def test_without_a_current_stamp_the_reader_asks_chroma(
    tmp_path: Path, folder: Path, fake_embeddings, writer: Index, stamp: str
) -> None:
    settings = Settings(index_dir=tmp_path / "index")
    writer.close()
    stamp_file = settings.index_dir / "chroma" / STAMP_FILE
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
    if stamp == "missing":
        # An ingest that changes nothing (the index was written before stamps existed, say)
        # stamps the generation, and readers stop asking Chroma.
        writer = open_store(settings)
        try:
            assert not ingest([folder], writer, fake_embeddings).added
        finally:
            writer.close()
        assert read_stamp(stamp_file.parent) == reader.generation
        reader = open_store(settings)
        try:
            assert reader.dense_search(vector, 5) and reader._chroma is None
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


def test_a_generation_that_fails_to_move_leaves_no_stamp_to_trust(
    tmp_path: Path, writer: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    stamp_folder = tmp_path / "index" / "chroma"
    assert read_stamp(stamp_folder) is not None

    def down(**_: object) -> None:
        raise ConnectionError("the store went away")

    monkeypatch.setattr(writer.records.meta, "upsert", down)
    with pytest.raises(StoreUnavailable):
        writer.records.bump()
    assert read_stamp(stamp_folder) is None  # readers ask Chroma


def test_a_sync_that_cannot_read_vectors_keeps_the_older_generation_and_retries(
    tmp_path: Path, folder: Path, fake_embeddings, writer: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = writer.generation
    reader = open_store(Settings(index_dir=tmp_path / "index"))
    try:
        real = reader.chunk_vectors
        calls = []

        def busy(chunk_ids: list[str]) -> dict:
            calls.append(chunk_ids)
            raise StoreUnavailable("test", "Error finding id")

        monkeypatch.setattr(reader, "chunk_vectors", busy)
        monkeypatch.setattr(writer, "refresh", lambda **_: None)  # the reader catches up alone
        write(folder, "flood.txt", FLOOD)
        ingest([folder], writer, fake_embeddings)
        assert reader.refresh(force=True) == before != writer.records.generation()
        assert calls and len(reader.catalog.articles()) == 2  # answers go on from the cache
        monkeypatch.setattr(reader, "chunk_vectors", real)
        assert reader.refresh(force=True) == writer.records.generation()
        assert len(reader.catalog.articles()) == 3
    finally:
        reader.close()


def test_a_large_index_is_searched_projected_through_the_cache(
    tmp_path: Path, fake_embeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.vectors

    folder = tmp_path / "articles"
    for number in range(30):
        write(
            folder,
            f"{number}.txt",
            f"title: Port report {number}\noutlet: Harbour Gazette\n---\n"
            f"The harbour master said cargo volume {number} was steady at berth {number * 7}.\n",
        )
    index = open_store(Settings(index_dir=tmp_path / "index"), create=True)
    try:
        ingest([folder], index, fake_embeddings)
        query = fake_embeddings.embed_query("cargo volume 12 steady at berth 84")
        exact = index.dense_search(query, 5)
        monkeypatch.setattr(bot.vectors, "EXACT_UP_TO", 10)
        monkeypatch.setattr(bot.vectors, "REDUCED", 8)
        index.catalog._matrix = bot.vectors.MatrixCache()  # loaded again, now projected
        projected = index.dense_search(query, 5)
        assert index.catalog._vectors().basis is not None
        assert projected[0] == pytest.approx(exact[0])  # same best chunk, same exact cosine
        # The same cosines in the same order (chunks that tie may trade places).
        assert [round(h[2], 5) for h in projected] == [round(h[2], 5) for h in exact]
    finally:
        index.close()
