"""Tests for incremental ingestion: skip, replace, prune, duplicates, bad files, interruption."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from samples import FLOOD, LAWSUIT, STRIKE, write

import bot.articles.files
import bot.ingest
import bot.records
from bot.chunking import reported_sentences
from bot.config import Settings
from bot.ingest import ingest
from bot.records import Records
from bot.retrieval import search
from bot.store import Index, open_store


@pytest.fixture
def articles_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "articles"
    write(folder, "strike.txt", STRIKE)
    write(folder, "lawsuit.md", LAWSUIT)
    write(folder, "flood.txt", FLOOD)
    return folder


def vector_ids(index: Index) -> set[str]:
    return set(index.collection.get(include=[])["ids"])


def catalog_rows(index: Index, sql: str) -> list[tuple]:
    with sqlite3.connect(index.catalog.path) as db:
        return db.execute(sql).fetchall()


def assert_consistent(index: Index) -> None:
    """Vectors, catalog chunks and lexical entries describe exactly the same chunks."""
    records = index.catalog.articles()
    expected = {f"{r.id}:{p}" for r in records for p in range(r.chunks)}
    assert vector_ids(index) == expected
    assert index.vector_count() == sum(r.chunks for r in records) == index.catalog.counts()[1]
    assert {r[0] for r in catalog_rows(index, "SELECT id FROM chunks")} == expected
    assert {r[0] for r in catalog_rows(index, "SELECT chunk_id FROM chunks_fts")} == expected
    cached = "SELECT c.id FROM vectors v JOIN chunks c ON c.rowid = v.chunk_rowid"
    assert sorted(r[0] for r in catalog_rows(index, cached)) == sorted(expected)
    assert index.records.pending() == []
    assert set(index.records.listing()) == {r.id for r in records}


def titles(index: Index) -> set[str]:
    return {r.title for r in index.catalog.articles()}


# --- incremental ----------------------------------------------------------------------------


def test_first_ingest_adds_every_article(index, articles_dir, fake_embeddings) -> None:
    report = ingest([articles_dir], index, fake_embeddings)
    assert len(report.added) == 3 and not report.failed and not report.skipped
    assert titles(index) == {
        "Dockworkers strike at Vellmar",
        "Tribal council sues Brightwater Mining",
        "Floods close the Tessel crossing",
    }
    assert report.chunks_embedded == index.vector_count() > 0
    # Each chunk and each sentence an answer may quote is embedded once (no statements here).
    texts = [index.catalog.article_text(r.id) for r in index.catalog.articles()]
    sentences = sum(len(reported_sentences(t)) for t in texts)
    assert sentences > 0
    assert fake_embeddings.texts_embedded == report.chunks_embedded + sentences
    stored = index.catalog.sentence_vectors(r.id for r in index.catalog.articles())
    assert len(stored) == sentences
    assert_consistent(index)


def test_second_ingest_skips_everything_and_embeds_nothing(
    index, articles_dir, fake_embeddings
) -> None:
    ingest([articles_dir], index, fake_embeddings)
    before = vector_ids(index)
    fake_embeddings.reset()
    report = ingest([articles_dir], index, fake_embeddings)
    assert fake_embeddings.calls == []
    assert report.chunks_embedded == 0
    assert len(report.skipped) == 3
    assert not report.added and not report.updated and not report.failed
    assert vector_ids(index) == before
    assert "skipped 3" in report.summary()


def test_reopened_index_still_skips_unchanged_files(
    isolated_env, articles_dir, fake_embeddings
) -> None:
    settings = Settings(index_dir=isolated_env, _env_file=None)
    first = open_store(settings, create=True)
    ingest([articles_dir], first, fake_embeddings)
    first.close()
    fake_embeddings.reset()
    second = open_store(settings)
    try:
        report = ingest([articles_dir], second, fake_embeddings)
        assert fake_embeddings.calls == [] and len(report.skipped) == 3
    finally:
        second.close()


def test_a_changed_file_replaces_its_chunks(index, articles_dir, fake_embeddings) -> None:
    ingest([articles_dir], index, fake_embeddings)
    old_id = next(r.id for r in index.catalog.articles() if "Vellmar" in r.title)
    old_ids = {i for i in vector_ids(index) if i.startswith(old_id)}
    changed = STRIKE.replace("Traders warned of shortages.", "Quarantined grain rotted.")
    write(articles_dir, "strike.txt", changed)
    fake_embeddings.reset()

    report = ingest([articles_dir], index, fake_embeddings)

    assert [Path(p).name for p in report.updated] == ["strike.txt"]
    assert len(report.skipped) == 2 and not report.added
    assert not index.catalog.has_article(old_id)
    assert not old_ids & vector_ids(index)
    # Only the changed article was embedded again.
    embedded = [t for _, texts in fake_embeddings.calls for t in texts]
    assert embedded and all("Lawyers" not in t and "Floods" not in t for t in embedded)
    assert index.catalog.lexical_search("quarantined", 5)
    assert index.catalog.lexical_search("traders", 5) == []
    assert len(index.catalog.articles()) == 3
    assert_consistent(index)


def test_prune_removes_articles_whose_file_is_gone(index, articles_dir, fake_embeddings) -> None:
    ingest([articles_dir], index, fake_embeddings)
    (articles_dir / "flood.txt").unlink()

    kept = ingest([articles_dir], index, fake_embeddings)
    assert kept.pruned == [] and len(index.catalog.articles()) == 3

    report = ingest([articles_dir], index, fake_embeddings, prune=True)
    assert [Path(p).name for p in report.pruned] == ["flood.txt"]
    assert "pruned 1" in report.summary()
    assert "Floods close the Tessel crossing" not in titles(index)
    assert len(index.catalog.articles()) == 2
    assert index.catalog.lexical_search("floods", 5) == []
    assert_consistent(index)


def test_the_same_text_at_two_paths_is_stored_once(index, articles_dir, fake_embeddings) -> None:
    copy = write(articles_dir / "mirror", "copy-of-strike.txt", STRIKE)
    report = ingest([articles_dir], index, fake_embeddings)
    assert len(report.added) == 3 and len(report.skipped) == 1
    assert len(index.catalog.articles()) == 3
    assert_consistent(index)

    # Removing one of the two files keeps the article: the other still holds it.
    copy.unlink()
    report = ingest([articles_dir], index, fake_embeddings, prune=True)
    assert report.pruned == []  # no article was removed, only a path forgotten
    assert "Dockworkers strike at Vellmar" in titles(index)
    assert str(copy.resolve()) not in index.records.paths()
    assert_consistent(index)


def test_editing_one_of_two_identical_files_keeps_the_other(
    index, articles_dir, fake_embeddings
) -> None:
    write(articles_dir, "copy.txt", STRIKE)
    ingest([articles_dir], index, fake_embeddings)
    write(articles_dir, "copy.txt", STRIKE.replace("Traders", "Fishermen"))
    report = ingest([articles_dir], index, fake_embeddings)
    assert len(report.added) + len(report.updated) == 1
    assert len(index.catalog.articles()) == 4
    assert index.catalog.lexical_search("traders", 5)
    assert index.catalog.lexical_search("fishermen", 5)
    assert_consistent(index)


def test_the_same_text_with_other_whitespace_and_quotes_is_one_article(
    index, tmp_path, fake_embeddings
) -> None:
    body = "Jane Okafor said “the strike goes on.” The port stayed shut."
    write(tmp_path / "a", "one.txt", body)
    write(tmp_path / "a", "two.txt", body.replace("“", '"').replace("”", '"').replace(" ", "  "))
    report = ingest([tmp_path / "a"], index, fake_embeddings)
    assert len(report.added) == 1 and len(report.skipped) == 1
    assert len(index.catalog.articles()) == 1


# --- bad input -------------------------------------------------------------------------------


def test_bad_files_are_reported_and_good_ones_indexed(
    index, articles_dir, fake_embeddings, monkeypatch
) -> None:
    monkeypatch.setattr(bot.articles.files, "MAX_FILE_BYTES", 2000)
    assert all(p.stat().st_size < 2000 for p in articles_dir.iterdir())
    write(articles_dir, "empty.txt", "")
    write(articles_dir, "blank.md", "   \n\n\t\n")
    write(articles_dir, "binary.txt", bytes(range(256)) * 4)
    write(articles_dir, "huge.txt", "Vellmar harbour news. " * 200)
    write(articles_dir, "photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    write(articles_dir, "notes.docx", "Not an article format.")
    latin1 = "Le syndicat a déclaré que la grève continuerait à Vellmar. Les dockers sont restés."
    write(articles_dir, "latin1.txt", latin1.encode("latin-1"))

    report = ingest([articles_dir, articles_dir / "missing.txt"], index, fake_embeddings)

    reasons = {Path(f.path).name: f.reason for f in report.failed}
    assert set(reasons) == {
        "empty.txt",
        "blank.md",
        "binary.txt",
        "huge.txt",
        "photo.png",
        "notes.docx",
        "missing.txt",
    }
    assert "empty" in reasons["empty.txt"] and "empty" in reasons["blank.md"]
    assert "binary" in reasons["binary.txt"]
    assert "too large" in reasons["huge.txt"]
    assert "unsupported" in reasons["photo.png"] and ".png" in reasons["photo.png"]
    assert "unsupported" in reasons["notes.docx"]
    assert "no such file" in reasons["missing.txt"]
    added = {Path(p).name for p in report.added}
    assert added == {"strike.txt", "lawsuit.md", "flood.txt", "latin1.txt"}
    latin = next(r for r in index.catalog.articles() if r.path.endswith("latin1.txt"))
    assert "déclaré" in index.catalog.article_text(latin.id)
    assert "failed 7" in report.summary()
    assert_consistent(index)


def test_invalid_utf8_bytes_do_not_stop_a_mostly_utf8_file(
    index, tmp_path, fake_embeddings
) -> None:
    text = "Governor Ada Marlow said the café in Tessel – “the last one” – would reopen. "
    data = text.encode("utf-8") * 3 + b"\xff\xfe broken tail.\n"
    write(tmp_path / "in", "scrape.txt", data)
    report = ingest([tmp_path / "in"], index, fake_embeddings)
    assert not report.failed and len(report.added) == 1
    (record,) = index.catalog.articles()
    assert "café" in index.catalog.article_text(record.id)


# --- interruption ----------------------------------------------------------------------------


@pytest.mark.parametrize("flush_chunks", [1, bot.ingest.FLUSH_CHUNKS])
def test_an_interrupted_ingest_leaves_no_orphan_vectors(
    isolated_env, articles_dir, fake_embeddings, monkeypatch, flush_chunks
) -> None:
    monkeypatch.setattr(bot.ingest, "FLUSH_CHUNKS", flush_chunks)
    settings = Settings(index_dir=isolated_env, _env_file=None)
    original = Records.put_articles
    written = {"n": 0}

    def crash_on_second(self, articles):
        # Dies before committing the batch that holds the second article.
        written["n"] += len(articles)
        if written["n"] >= 2:
            raise KeyboardInterrupt("simulated crash before the records are written")
        return original(self, articles)

    store = open_store(settings, create=True)
    with monkeypatch.context() as patch:
        patch.setattr(Records, "put_articles", crash_on_second)
        with pytest.raises(KeyboardInterrupt):
            ingest([articles_dir], store, fake_embeddings)
    committed = store.catalog.articles()
    # The crash left vectors that no article record accounts for ...
    assert store.vector_count() > sum(r.chunks for r in committed)
    # ... yet the index still answers, from committed articles only.
    hits = search(store, fake_embeddings, "strike lawsuit floods Vellmar", 10)
    assert {h.article_id for h in hits} <= {r.id for r in committed}
    store.close()

    reopened = open_store(settings)
    try:
        fake_embeddings.reset()
        report = ingest([articles_dir], reopened, fake_embeddings)
        assert not report.failed
        assert len(report.added) + len(report.skipped) == 3
        assert len(report.skipped) == len(committed)
        assert len(reopened.catalog.articles()) == 3
        assert_consistent(reopened)
    finally:
        reopened.close()


def test_a_crash_while_replacing_keeps_the_old_version_answerable(
    index, articles_dir, fake_embeddings, monkeypatch
) -> None:
    ingest([articles_dir], index, fake_embeddings)
    write(articles_dir, "strike.txt", STRIKE.replace("Traders", "Fishermen"))

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(Records, "put_articles", crash)
        with pytest.raises(RuntimeError):
            ingest([articles_dir], index, fake_embeddings)
    assert index.catalog.lexical_search("traders", 5)
    assert len(index.catalog.articles()) == 3

    report = ingest([articles_dir], index, fake_embeddings)
    assert [Path(p).name for p in report.updated] == ["strike.txt"]
    assert index.catalog.lexical_search("traders", 5) == []
    assert_consistent(index)


def test_ingest_follows_a_moved_folder_without_re_embedding(
    index, articles_dir, fake_embeddings, tmp_path
) -> None:
    ingest([articles_dir], index, fake_embeddings)
    moved = tmp_path / "moved"
    shutil.move(articles_dir, moved)
    fake_embeddings.reset()
    report = ingest([moved], index, fake_embeddings, prune=True)
    assert fake_embeddings.calls == []
    assert len(report.skipped) == 3 and report.pruned == []
    assert len(index.catalog.articles()) == 3
    assert {Path(p).parent for p in index.records.paths()} == {moved.resolve()}
    assert_consistent(index)


def test_a_moved_article_is_cited_at_its_new_path(
    index, articles_dir, fake_embeddings, tmp_path
) -> None:
    ingest([articles_dir], index, fake_embeddings)
    moved = tmp_path / "moved"
    shutil.move(articles_dir, moved)
    ingest([moved], index, fake_embeddings, prune=True)
    for record in index.catalog.articles():
        assert Path(record.path).is_file(), record.path


def test_deleting_the_first_of_two_identical_files_moves_the_citation(
    index, tmp_path, fake_embeddings
) -> None:
    first = write(tmp_path / "in", "a.txt", STRIKE)
    write(tmp_path / "in", "b.txt", STRIKE)
    ingest([tmp_path / "in"], index, fake_embeddings)
    (record,) = index.catalog.articles()
    assert record.path == str(first.resolve())
    first.unlink()
    ingest([tmp_path / "in"], index, fake_embeddings, prune=True)
    (record,) = index.catalog.articles()
    assert Path(record.path).is_file(), record.path


def test_prune_removes_every_article_of_a_deleted_jsonl_file(
    index, tmp_path, fake_embeddings
) -> None:
    folder = tmp_path / "feeds"
    lines = [
        '{"title": "Strike", "text": "Dockworkers walked out at Vellmar on Monday."}',
        '{"title": "Suit", "text": "The Okavi council sued Brightwater Mining on Tuesday."}',
    ]
    feed = write(folder, "feed.jsonl", "\n".join(lines) + "\n")
    write(folder, "flood.txt", FLOOD)
    report = ingest([folder], index, fake_embeddings)
    assert len(report.added) == 3
    feed.unlink()
    report = ingest([folder], index, fake_embeddings, prune=True)
    assert len(report.pruned) == 2
    assert titles(index) == {"Floods close the Tessel crossing"}
    assert_consistent(index)


def test_prune_keeps_a_present_file_whose_name_contains_a_hash(
    index, tmp_path, fake_embeddings
) -> None:
    write(tmp_path / "in", "strike#2.txt", STRIKE)
    ingest([tmp_path / "in"], index, fake_embeddings)
    report = ingest([tmp_path / "in"], index, fake_embeddings, prune=True)
    assert report.pruned == []
    assert titles(index) == {"Dockworkers strike at Vellmar"}


# --- crash recovery and other writers ---------------------------------------------------------


def _mark(index: Index, article_id: str, *, owner: str, pid: int, age: float) -> None:
    """Leave a mark of a write in flight as another ingest would have."""
    import time

    from bot.records import placeholder

    mark = f"pending:other:{article_id}"
    index.records.meta.upsert(
        ids=[mark],
        embeddings=[placeholder(mark)],
        metadatas=[
            {"kind": "pending", "article_id": article_id, "run": "other", "owner": owner}
            | {"pid": pid, "since": time.time() - age}
        ],
    )


@pytest.mark.parametrize(
    ("who", "age", "recovered"),
    [
        ("dead process here", 0.0, True),
        ("live process here", 0.0, False),
        ("another host, recently", 60.0, False),
        ("another host, long ago", bot.records.STALE_AFTER + 60, True),
    ],
)
def test_recovery_undoes_dead_ingests_only(
    index, articles_dir, fake_embeddings, who, age, recovered
) -> None:
    import os
    import subprocess

    from bot.records import owner

    ingest([articles_dir], index, fake_embeddings)
    vectors = index.collection.get(include=["embeddings", "documents", "metadatas"])
    # Half-written: an article's vectors without its record, as a writer leaves them mid-way.
    half = "0123456789abcdef"
    index.add_vectors(
        ids=[f"{half}:0"],
        embeddings=[list(vectors["embeddings"][0])],
        documents=[vectors["documents"][0]],
        metadatas=[{**vectors["metadatas"][0], "article_id": half}],
    )
    if who == "dead process here":
        finished = subprocess.Popen(["true"])
        finished.wait()
        pid, host = finished.pid, owner()
    elif who == "live process here":
        pid, host = os.getppid(), owner()
    else:
        pid, host = 1, "elsewhere/boot"
    _mark(index, half, owner=host, pid=pid, age=age)

    ingest([articles_dir], index, fake_embeddings)  # recovery runs first
    left = {m.article_id for m in index.records.pending()}
    assert (f"{half}:0" not in vector_ids(index)) is recovered
    assert (half not in left) is recovered
    assert len(index.catalog.articles()) == 3  # readers never saw the half-written article
