"""Incremental ingestion: files, pages and feeds -> articles -> chunks -> vectors and catalog rows.

Write order keeps the index consistent if the process dies at any point: an article is marked
pending, its vectors are written, then its catalog rows and the pending mark's removal commit in
one transaction. The next ingest deletes the vectors of anything still pending. Retiring an
article runs the other way round: pending mark and catalog removal in one transaction, then the
vectors, then the mark. Only one ingest writes an index at a time (`Index.writing`), so recovery
never mistakes another live ingest's pending work for a crash's leftovers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.articles import Article, LoadFailure
from bot.chunking import Chunk, chunk_article
from bot.embeddings import Embedder, pack_vector
from bot.errors import UnreadableArticle
from bot.fetch import Fetcher, is_url
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


def recover(index: Index) -> list[str]:
    """Remove the vectors of articles an earlier, interrupted ingest left unfinished."""
    pending = index.catalog.pending()
    if not pending:
        return []
    complete = {a for a in pending if index.catalog.has_article(a)}
    unfinished = [a for a in pending if a not in complete]
    index.delete_vectors(unfinished)
    index.catalog.clear_pending(pending)
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

    Holds the index's write lock throughout: a second ingest into the same index is refused
    with StoreUnavailable rather than run alongside (its recovery would undo this one's work).
    Web pages are fetched with `fetcher` (a default one when None).
    """
    with index.writing(), fetcher or Fetcher() as web:
        return _ingest(paths, index, embeddings, analyse, prune, progress, web)


def _ingest(
    paths: Iterable[str | Path],
    index: Index,
    embeddings: Embedder,
    analyse: Analyser | None,
    prune: bool,
    progress: Progress | None,
    fetcher: Fetcher,
) -> IngestReport:
    report = IngestReport()
    recover(index)
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
            _route(index, article, key, seen, batch, report)
        if sum(len(p.chunks) for p in batch) >= FLUSH_CHUNKS:
            _flush(index, embeddings, analyse, batch, report)
            batch = []
    _flush(index, embeddings, analyse, batch, report)
    if prune:
        report.pruned = prune_missing(index)
    return report


def _route(
    index: Index,
    article: Article,
    key: str,
    seen: set[str],
    batch: list[_Pending],
    report: IngestReport,
) -> None:
    previous = index.catalog.article_for_path(key)
    if index.catalog.has_article(article.id) or article.id in seen:
        if previous != article.id:
            with index.catalog.transaction() as db:
                index.catalog.set_path(db, key, article.id)
            _retire(index, previous)
        _repoint(index, article.id, key)
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
    index: Index,
    embeddings: Embedder,
    analyse: Analyser,
    batch: list[_Pending],
    report: IngestReport,
) -> None:
    if not batch:
        return
    analyses = analyse([p.article for p in batch])
    chunks = [(p.article, c) for p in batch for c in p.chunks]
    said = [(p.article, s) for p, (found, _) in zip(batch, analyses, strict=True) for s in found]
    # Statements are embedded with the chunks, in one pass, so questions can rank them.
    # A statement is embedded under its article's title: "the town" then means the town the
    # article is about.
    texts = [c.text for _, c in chunks] + [
        f"{a.title}\n{a.text[s['start'] : s['end']]}" for a, s in said
    ]
    every = embeddings.embed_documents(texts)
    vectors = every[: len(chunks)]
    for (_, statement), vector in zip(said, every[len(chunks) :], strict=True):
        statement["vec"] = pack_vector(vector)
    index.catalog.mark_pending(p.article.id for p in batch)
    index.add_vectors(
        ids=[c.id for _, c in chunks],
        embeddings=vectors,
        documents=[c.text for _, c in chunks],
        metadatas=[_metadata(a, c) for a, c in chunks],
    )
    retired: list[str] = []
    with index.catalog.transaction() as db:
        for pending, (statements, facts) in zip(batch, analyses, strict=True):
            article = pending.article
            rows = [(c.id, c.position, c.start, c.end, c.text) for c in pending.chunks]
            index.catalog.add_article(db, article, rows, statements, facts)
            key = pending.key
            index.catalog.set_path(db, key, article.id)
            if pending.replaces and index.catalog.orphaned(db, pending.replaces):
                retired.append(pending.replaces)
            (report.updated if pending.replaces else report.added).append(key)
        db.executemany("DELETE FROM pending WHERE article_id = ?", [(p.article.id,) for p in batch])
    report.chunks_embedded += len(chunks)
    for old in retired:
        _retire(index, old)


def _retire(index: Index, article_id: str | None) -> None:
    """Remove an article no file maps to any more: catalog first, then its vectors."""
    if not article_id:
        return
    with index.catalog.transaction() as db:
        if not index.catalog.orphaned(db, article_id):
            return
        db.execute("INSERT OR IGNORE INTO pending(article_id) VALUES (?)", (article_id,))
        index.catalog.remove_article(db, article_id)
    index.delete_vectors([article_id])
    index.catalog.clear_pending([article_id])


def _file_of(key: str) -> Path:
    """Return the file a path key names ("file.jsonl#3" is record 3 of file.jsonl)."""
    match = re.fullmatch(r"(.+)#\d+", key)
    if match and not Path(key).exists():
        return Path(match.group(1))
    return Path(key)


def prune_missing(index: Index) -> list[str]:
    """Forget files that no longer exist and remove articles left without a file or URL."""
    gone = [
        (p, a) for p, a in index.catalog.all_paths() if not is_url(p) and not _file_of(p).exists()
    ]
    with index.catalog.transaction() as db:
        for path, _ in gone:
            index.catalog.drop_path(db, path)
    removed = []
    for _, article_id in gone:
        if index.catalog.has_article(article_id):
            _retire(index, article_id)
            if not index.catalog.has_article(article_id):
                removed.append(article_id)
            else:
                _repoint(index, article_id)
    return [p for p, a in gone if a in removed]


def _repoint(index: Index, article_id: str, preferred: str | None = None) -> None:
    """Make an article cite a file that still holds it, if its recorded file is gone."""
    record = index.catalog.article(article_id)
    if record is None or is_url(record.path) or _file_of(record.path).exists():
        return
    candidates = [preferred] if preferred else []
    candidates += [p for p, a in index.catalog.all_paths() if a == article_id]
    for key in candidates:
        if key and _file_of(key).exists():
            with index.catalog.transaction() as db:
                db.execute(
                    "UPDATE articles SET path = ? WHERE id = ?", (str(_file_of(key)), article_id)
                )
            return
