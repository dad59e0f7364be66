"""Incremental ingestion: files, pages and feeds -> articles -> chunks -> records in Chroma.

Write order keeps the index consistent if the process, or the Chroma server, dies at any point:
a batch's articles are marked pending, their vectors are written, then their records (each an
article's commit marker: readers see nothing of an article without one), then their paths, and
the marks are cleared. The next ingest deletes the vectors that a dead ingest left pending
without a record. Retiring an article runs the other way: mark, record, vectors, mark. Every
write is keyed by content, so ingests of overlapping folders run at once against a Chroma
server leave each article once (an embedded index takes one ingest at a time: `Index.writing`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.articles import Article, LoadFailure
from bot.chunking import Chunk, chunk_article, reported_sentences
from bot.embeddings import Embedder, pack_vector
from bot.errors import NewsbotError, UnreadableArticle
from bot.fetch import Fetcher, is_url
from bot.records import StoredArticle, end_run, live, start_run
from bot.sources import gather
from bot.store import Index

logger = logging.getLogger(__name__)

FLUSH_CHUNKS = 256

Analyser = Callable[[list[Article]], list[tuple[list[dict[str, Any]], list[tuple[str, str, str]]]]]
Progress = Callable[[str, int, int], None]


@dataclass
class IngestReport:
    """What an ingest did: counts, and each failure with its reason."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    failed: list[LoadFailure] = field(default_factory=list)
    chunks_embedded: int = 0

    def summary(self) -> str:
        """Return the one-line summary printed after an ingest."""
        line = (
            f"added {len(self.added)}, updated {len(self.updated)}, "
            f"skipped {len(self.skipped)}, failed {len(self.failed)}"
        )
        if self.pruned:
            line += f", pruned {len(self.pruned)}"
        return line + f" ({self.chunks_embedded} chunks embedded)"


@dataclass
class _Pending:
    article: Article
    key: str
    chunks: list[Chunk]
    replaces: str | None


@dataclass
class _Writer:
    """One ingest run: the index, the run's token, and what the index held when last looked."""

    index: Index
    run: str
    articles: dict[str, str] = field(default_factory=dict)  # committed article -> cited file
    paths: dict[str, str] = field(default_factory=dict)  # path key -> article

    def look(self) -> None:
        """Take a fresh look at the committed articles and the paths (two requests)."""
        self.articles = {a: listed.path for a, listed in self.index.records.listing().items()}
        self.paths = self.index.records.paths()


def recover(index: Index) -> list[str]:
    """Remove the vectors of articles that dead ingests left unfinished; return their ids.

    Marks of live ingests (this process's runs, live processes on this machine, and marks
    younger than `bot.records.STALE_AFTER` from other machines) are left alone.
    """
    marks = index.records.pending()
    dead = [m for m in marks if not live(m)]
    if not dead:
        return []
    busy = {m.article_id for m in marks if live(m)}
    candidates = {m.article_id for m in dead} - busy
    unfinished = sorted(candidates - index.records.existing(candidates))
    index.delete_vectors(unfinished)
    index.records.drop_data(unfinished)
    index.records.clear_pending(m.id for m in dead)
    # A dead ingest may have committed records without stamping a generation after them.
    index.records.bump()
    if unfinished:
        logger.info("removed %d unfinished article(s) from an interrupted ingest", len(unfinished))
    return unfinished


def _no_analysis(
    articles: list[Article],
) -> list[tuple[list[dict[str, Any]], list[tuple[str, str, str]]]]:
    return [([], []) for _ in articles]


def ingest(
    paths: Iterable[str | Path],
    index: Index,
    embeddings: Embedder,
    *,
    analyse: Analyser | None = None,
    prune: bool = False,
    progress: Progress | None = None,
    fetcher: Fetcher | None = None,
) -> IngestReport:
    """Load, chunk, embed and store the articles of files, folders, article URLs and feeds.

    Against a Chroma server, ingests may run at once (each article ends up once); an embedded
    index is written by one ingest at a time, and a second is refused with StoreUnavailable.
    Web pages are fetched with `fetcher` (a default one when None).
    """
    with index.writing(), fetcher or Fetcher() as web:
        run = start_run()
        try:
            report = _ingest(paths, _Writer(index, run), embeddings, analyse, prune, progress, web)
            index.records.restamp()  # an index from before stamps, or one left without
        finally:
            end_run(run)
    try:
        # The local cache catches up now, so the next question on this host starts at once.
        index.refresh()
    except NewsbotError as exc:
        logger.warning("the local cache will catch up on the next question: %s", exc)
    return report


def _ingest(
    paths: Iterable[str | Path],
    writer: _Writer,
    embeddings: Embedder,
    analyse: Analyser | None,
    prune: bool,
    progress: Progress | None,
    fetcher: Fetcher,
) -> IngestReport:
    report = IngestReport()
    recover(writer.index)
    writer.look()
    sources, failures = gather(paths, fetcher)
    report.failed.extend(failures)
    analyse = analyse or _no_analysis
    batch: list[_Pending] = []
    seen: set[str] = set()
    for number, source in enumerate(sources, 1):
        if progress:
            progress(source.name, number, len(sources))
        try:
            articles = source.read()
        except UnreadableArticle as exc:
            report.failed.append(LoadFailure(source.key, exc.reason))
            continue
        for position, article in enumerate(articles):
            key = source.key if len(articles) == 1 else f"{source.key}#{position}"
            _route(writer, article, key, seen, batch, report)
        if sum(len(p.chunks) for p in batch) >= FLUSH_CHUNKS:
            _flush(writer, embeddings, analyse, batch, report)
            batch = []
    _flush(writer, embeddings, analyse, batch, report)
    if prune:
        report.pruned = _prune(writer)
    return report


def _route(
    writer: _Writer,
    article: Article,
    key: str,
    seen: set[str],
    batch: list[_Pending],
    report: IngestReport,
) -> None:
    previous = writer.paths.get(key)
    if article.id in writer.articles or article.id in seen:
        if previous != article.id:
            writer.index.records.set_paths({key: article.id})
            writer.paths[key] = article.id
            _retire(writer, previous)
        _repoint(writer, article.id, key)
        report.skipped.append(key)
        return
    chunks = chunk_article(article)
    if not chunks:
        report.failed.append(LoadFailure(key, "no article text"))
        return
    seen.add(article.id)
    batch.append(_Pending(article=article, key=key, chunks=chunks, replaces=previous))


def _metadata(article: Article, chunk: Chunk) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "article_id": article.id,
        "position": chunk.position,
        "start": chunk.start,
        "end": chunk.end,
        "title": article.title,
        "path": article.path,
    }
    for key in ("outlet", "published", "url"):
        value = getattr(article, key)
        if value:
            meta[key] = value
    return meta


def _flush(
    writer: _Writer,
    embeddings: Embedder,
    analyse: Analyser,
    batch: list[_Pending],
    report: IngestReport,
) -> None:
    if not batch:
        return
    index = writer.index
    analyses = analyse([p.article for p in batch])
    chunks = [(p.article, c) for p in batch for c in p.chunks]
    said = [(p.article, s) for p, (found, _) in zip(batch, analyses, strict=True) for s in found]
    reported = [(p.article.id, s, e) for p in batch for s, e in reported_sentences(p.article.text)]
    texts_of = {p.article.id: p.article.text for p in batch}
    # Statements and reported sentences are embedded with the chunks, in one pass, so questions
    # can rank them without embedding anything but themselves. A statement is embedded under
    # its article's title: "the town" then means the town the article is about.
    texts = (
        [c.text for _, c in chunks]
        + [f"{a.title}\n{a.text[s['start'] : s['end']]}" for a, s in said]
        + [texts_of[a][s:e] for a, s, e in reported]
    )
    every = embeddings.embed_documents(texts)
    vectors = every[: len(chunks)]
    for (_, statement), vector in zip(
        said, every[len(chunks) : len(chunks) + len(said)], strict=True
    ):
        statement["vec"] = pack_vector(vector)
    sentences: dict[str, list[tuple[int, int, str]]] = {p.article.id: [] for p in batch}
    for (article_id, s, e), vector in zip(reported, every[len(chunks) + len(said) :], strict=True):
        sentences[article_id].append((s, e, pack_vector(vector)))
    marks = index.records.mark_pending(writer.run, (p.article.id for p in batch))
    index.add_vectors(
        ids=[c.id for _, c in chunks],
        embeddings=vectors,
        documents=[c.text for _, c in chunks],
        metadatas=[_metadata(a, c) for a, c in chunks],
    )
    index.records.put_articles(
        [
            StoredArticle(
                p.article,
                [(c.position, c.start, c.end) for c in p.chunks],
                found,
                facts,
                sentences[p.article.id],
            )
            for p, (found, facts) in zip(batch, analyses, strict=True)
        ]
    )
    index.records.set_paths({p.key: p.article.id for p in batch})
    index.records.clear_pending(marks)
    for pending in batch:
        writer.articles[pending.article.id] = pending.article.path
        writer.paths[pending.key] = pending.article.id
        (report.updated if pending.replaces else report.added).append(pending.key)
    report.chunks_embedded += len(chunks)
    for pending in batch:
        _retire(writer, pending.replaces)


def _retire(writer: _Writer, article_id: str | None) -> bool:
    """Remove an article no file maps to any more: record first, then its vectors."""
    records = writer.index.records
    if not article_id or records.paths_of(article_id):
        return False
    marks = records.mark_pending(writer.run, [article_id])
    records.delete_article(article_id)
    writer.index.delete_vectors([article_id])
    records.clear_pending(marks)
    writer.articles.pop(article_id, None)
    return True


def _file_of(key: str) -> Path:
    """Return the file a path key names ("file.jsonl#3" is record 3 of file.jsonl)."""
    match = re.fullmatch(r"(.+)#\d+", key)
    if match and not Path(key).exists():
        return Path(match.group(1))
    return Path(key)


def _prune(writer: _Writer) -> list[str]:
    """Forget files that no longer exist and remove articles left without a file or URL."""
    gone = [
        (p, a)
        for p, a in writer.index.records.paths().items()
        if not is_url(p) and not _file_of(p).exists()
    ]
    writer.index.records.drop_paths(p for p, _ in gone)
    for path, _ in gone:
        writer.paths.pop(path, None)
    removed = set()
    for _, article_id in gone:
        if article_id in removed:
            continue
        if _retire(writer, article_id):
            removed.add(article_id)
        else:
            _repoint(writer, article_id)
    return [p for p, a in gone if a in removed]


def _repoint(writer: _Writer, article_id: str, preferred: str | None = None) -> None:
    """Make an article cite a file that still holds it, if its recorded file is gone."""
    recorded = writer.articles.get(article_id)
    if recorded is None or is_url(recorded) or _file_of(recorded).exists():
        return
    candidates = [preferred] if preferred else []
    candidates += [p for p, a in writer.paths.items() if a == article_id]
    for key in candidates:
        if key and _file_of(key).exists():
            writer.index.records.move_article(article_id, str(_file_of(key)))
            writer.articles[article_id] = str(_file_of(key))
            return
