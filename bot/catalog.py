"""The local catalog: a cache, derived from Chroma, of what answering reads many times a question.

Chroma holds the index (`bot.records`); this SQLite file beside it holds a copy of the article
records with an FTS5 table for BM25, and of the chunk vectors (float32, searched by
`bot.vectors`), so that a question costs no round trip per article or per search. It is
built when missing, brought up to date when Chroma's generation stamp changes (`sync`), rebuilt
when unreadable, and safe to delete. An article appears here whole or not at all: each is
copied in one transaction, and only once its Chroma record (the commit marker) exists.
"""

from __future__ import annotations

import fcntl
import json
import logging
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from bot.errors import NewsbotError
from bot.fulltext import FullText
from bot.records import Records, StoredArticle
from bot.vectors import MatrixCache, VectorMatrix, full_vectors, pack, read_matrix

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 4  # of this file; a cache of another version is rebuilt
SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    outlet TEXT,
    published TEXT,
    published_ord INTEGER NOT NULL DEFAULT 0,
    url TEXT,
    path TEXT NOT NULL,
    author TEXT,
    text TEXT NOT NULL,
    chunks INTEGER NOT NULL,
    rev TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY,
    article_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    text, chunk_id UNINDEXED, article_id UNINDEXED, tokenize = 'unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_vocab USING fts5vocab(chunks_fts, 'row');
CREATE TABLE IF NOT EXISTS vectors (
    chunk_rowid INTEGER PRIMARY KEY,
    vec BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS sentences (
    article_id TEXT NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    vec TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sentences_article ON sentences(article_id);
CREATE TABLE IF NOT EXISTS statements (
    article_id TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS statements_article ON statements(article_id);
CREATE TABLE IF NOT EXISTS facts (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    article_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS facts_key ON facts(kind, key);
CREATE INDEX IF NOT EXISTS facts_article ON facts(article_id);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

CACHE_FILE = "cache.sqlite3"
# The catalog of newsbot before the index moved into Chroma; its presence explains an old index.
LEGACY_CATALOG_FILE = "catalog.sqlite3"


@dataclass(frozen=True)
class ArticleRecord:
    """An indexed article as the catalog holds it."""

    id: str
    title: str
    outlet: str | None
    published: str | None
    url: str | None
    path: str
    author: str | None
    chunks: int

    def listing(self) -> dict[str, Any]:
        """Return what `newsbot sources --json` says of the article."""
        return {
            "path": self.path,
            "title": self.title,
            "outlet": self.outlet,
            "published": self.published,
            "url": self.url,
            "chunks": self.chunks,
        }


@dataclass(frozen=True)
class Filters:
    """Restrictions on which articles a question may draw on."""

    outlet: str | None = None
    since: str | None = None
    until: str | None = None

    @property
    def active(self) -> bool:
        """Say whether any restriction is set."""
        return bool(self.outlet or self.since or self.until)


def date_ordinal(value: str | None) -> int:
    """Turn an ISO date (YYYY, YYYY-MM or YYYY-MM-DD) into a sortable integer; 0 if unknown."""
    if not value:
        return 0
    match = re.fullmatch(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", value.strip()[:10])
    if not match:
        return 0
    year, month, day = match.group(1), match.group(2) or "00", match.group(3) or "00"
    return int(year + month + day)


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, check_same_thread=False, timeout=30, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    tables = db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]
    if tables and version != SCHEMA_VERSION:
        raise sqlite3.DatabaseError(f"cache schema {version}, expected {SCHEMA_VERSION}")
    db.executescript(SCHEMA)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return db


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)


class Catalog(FullText):
    """The SQLite cache of the index; safe to share between threads (and processes).

    Its full-text reads (BM25, word frequencies, spellings) are `bot.fulltext.FullText`'s.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._sync_lock = threading.Lock()
        self._matrix = MatrixCache()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = _connect(path)
        except sqlite3.DatabaseError as exc:
            # Derived data: an unreadable or outdated cache is rebuilt from Chroma.
            logger.warning("rebuilding the catalog cache at %s (%s)", path, exc)
            _remove(path)
            self._db = _connect(path)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run statements atomically, holding the file's write lock from the start."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            cur = self._db.execute(sql, tuple(params))
            cur.row_factory = sqlite3.Row
            return cur.fetchall()

    # --- articles -------------------------------------------------------------------------

    def has_article(self, article_id: str) -> bool:
        """Say whether an article is fully indexed."""
        return bool(self._rows("SELECT 1 FROM articles WHERE id = ?", [article_id]))

    def existing(self, article_ids: Iterable[str]) -> set[str]:
        """Return which of these articles are fully indexed."""
        ids = list(set(article_ids))
        if not ids:
            return set()
        marks = ",".join("?" * len(ids))
        return {r[0] for r in self._rows(f"SELECT id FROM articles WHERE id IN ({marks})", ids)}

    def article_for_path(self, path: str) -> str | None:
        """Return the id of the article held by a file (or a URL), if one is indexed."""
        rows = self._rows("SELECT id FROM articles WHERE path = ? LIMIT 1", [path])
        return rows[0][0] if rows else None

    def articles(self) -> list[ArticleRecord]:
        """List indexed articles, newest first."""
        rows = self._rows(
            "SELECT id, title, outlet, published, url, path, author, chunks FROM articles "
            "ORDER BY published_ord DESC, outlet, title"
        )
        return [ArticleRecord(**dict(row)) for row in rows]

    def article(self, article_id: str) -> ArticleRecord | None:
        """Return one article's record."""
        rows = self._rows(
            "SELECT id, title, outlet, published, url, path, author, chunks FROM articles "
            "WHERE id = ?",
            [article_id],
        )
        return ArticleRecord(**dict(rows[0])) if rows else None

    def article_text(self, article_id: str) -> str:
        """Return an article's full text."""
        rows = self._rows("SELECT text FROM articles WHERE id = ?", [article_id])
        return rows[0][0] if rows else ""

    def counts(self) -> tuple[int, int]:
        """Return (articles, chunks) in the catalog."""
        rows = self._rows("SELECT COUNT(*), COALESCE(SUM(chunks), 0) FROM articles")
        return int(rows[0][0]), int(rows[0][1])

    def allowed_articles(self, filters: Filters) -> set[str] | None:
        """Return the ids matching the filters, or None when nothing is filtered."""
        if not filters.active:
            return None
        clauses: list[str] = []
        params: list[str | int] = []
        if filters.outlet:
            clauses.append("LOWER(COALESCE(outlet, '')) LIKE ?")
            params.append(f"%{filters.outlet.lower()}%")
        if filters.since:
            clauses.append("published_ord >= ?")
            params.append(date_ordinal(filters.since))
        if filters.until:
            clauses.append("published_ord > 0 AND published_ord <= ?")
            params.append(date_ordinal(filters.until) or 99999999)
        sql = "SELECT id FROM articles WHERE " + " AND ".join(clauses)
        return {r[0] for r in self._rows(sql, params)}

    # --- keeping up with Chroma -----------------------------------------------------------

    def generation(self) -> str | None:
        """Return the generation of the index this cache last caught up with."""
        rows = self._rows("SELECT value FROM meta WHERE key = 'generation'")
        return str(rows[0][0]) or None if rows else None

    def sync(
        self,
        remote: str | None,
        records: Records,
        vectors: Callable[[list[str]], dict[str, Any]],
        *,
        force: bool = False,
    ) -> str | None:
        """Catch up with the records in Chroma if their generation (`remote`) moved; return it.

        One sync at a time per cache file, across threads and processes. The caller reads the
        generation before the listing: whatever is written after that read comes with a newer
        stamp, so the next sync sees it. Records are fetched a page at a time, outside any
        transaction; each article is applied whole, with its chunk vectors (`vectors` gives
        them for chunk ids), new ones before gone ones are removed. An article whose vectors
        cannot be read now (another process is replacing it) is left for the next sync: the
        cache then keeps its older generation, so the next look at the stamp syncs again.
        """
        with self._syncing():
            if remote == self.generation() and not force:
                return remote
            listing = records.listing()
            local = self._revisions()
            wanted = {a: listed for a, listed in listing.items() if local.get(a) != listed.rev}
            complete = True
            for page in records.fetch(wanted):
                try:
                    found = vectors([cid for article in page for cid in _chunk_ids(article)])
                except NewsbotError as exc:
                    logger.warning(
                        "catalog cache: %d article(s) left for later: %s", len(page), exc
                    )
                    complete = False
                    continue
                for article in page:
                    if not all(c in found for c in _chunk_ids(article)):
                        # Committed articles have their vectors; found lexically meanwhile.
                        logger.warning("catalog cache: article %s has no vectors", article.id)
                with self.transaction() as db:
                    for article in page:
                        if article.id in local:
                            self._remove_article(db, article.id)  # an older revision
                        self._add_article(db, article, found)
                    if page:
                        _new_vectors_token(db)
            gone = [a for a in local if a not in listing]
            with self.transaction() as db:
                for article_id in gone:
                    self._remove_article(db, article_id)
                if gone:
                    _new_vectors_token(db)
                if complete:
                    db.execute(
                        "INSERT OR REPLACE INTO meta(key, value) VALUES ('generation', ?)",
                        (remote or "",),
                    )
            if wanted or gone:
                logger.info("catalog cache: %d article(s) in, %d out", len(wanted), len(gone))
            return remote if complete else self.generation()

    @contextmanager
    def _syncing(self) -> Iterator[None]:
        with self._sync_lock, (self.path.parent / (self.path.name + ".lock")).open("a+b") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _revisions(self, article_ids: Iterable[str] | None = None) -> dict[str, str]:
        if article_ids is None:
            return {r[0]: r[1] for r in self._rows("SELECT id, rev FROM articles")}
        ids = list(article_ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._rows(f"SELECT id, rev FROM articles WHERE id IN ({marks})", ids)
        return {r[0]: r[1] for r in rows}

    def _add_article(
        self, db: sqlite3.Connection, stored: StoredArticle, vectors: dict[str, Any]
    ) -> None:
        article = stored.article
        db.execute(
            "INSERT OR REPLACE INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                article.id,
                article.title,
                article.outlet,
                article.published,
                date_ordinal(article.published),
                article.url,
                article.path,
                article.author,
                article.text,
                len(stored.chunks),
                stored.rev,
            ),
        )
        ids = _chunk_ids(stored)
        db.executemany(
            "INSERT OR REPLACE INTO chunks VALUES (?, ?, ?, ?, ?)",
            [(cid, article.id, p, s, e) for cid, (p, s, e) in zip(ids, stored.chunks, strict=True)],
        )
        # The lexical row shares the chunk row's rowid, so removing an article finds its rows
        # through the chunks index instead of scanning the whole FTS table.
        db.executemany(
            "INSERT INTO chunks_fts(rowid, text, chunk_id, article_id) "
            "SELECT rowid, ?, id, article_id FROM chunks WHERE id = ?",
            [(article.text[s:e], cid) for cid, (_, s, e) in zip(ids, stored.chunks, strict=True)],
        )
        db.executemany(
            "INSERT OR REPLACE INTO vectors(chunk_rowid, vec) "
            "SELECT rowid, ? FROM chunks WHERE id = ?",
            [(pack(vectors[cid]), cid) for cid in ids if vectors.get(cid) is not None],
        )
        db.executemany(
            "INSERT INTO sentences(article_id, start, end, vec) VALUES (?, ?, ?, ?)",
            [(article.id, s, e, vec) for s, e, vec in stored.sentences],
        )
        db.executemany(
            "INSERT INTO statements(article_id, data) VALUES (?, ?)",
            [(article.id, json.dumps(s)) for s in stored.statements],
        )
        db.executemany(
            "INSERT INTO facts(kind, key, value, article_id) VALUES (?, ?, ?, ?)",
            [(kind, key, value, article.id) for kind, key, value in stored.facts],
        )

    def _remove_article(self, db: sqlite3.Connection, article_id: str) -> None:
        for table, column in (("chunks_fts", "rowid"), ("vectors", "chunk_rowid")):
            db.execute(
                f"DELETE FROM {table} WHERE {column} IN "
                "(SELECT rowid FROM chunks WHERE article_id = ?)",
                (article_id,),
            )
        for table, column in (
            ("articles", "id"),
            ("chunks", "article_id"),
            ("statements", "article_id"),
            ("sentences", "article_id"),
            ("facts", "article_id"),
        ):
            db.execute(f"DELETE FROM {table} WHERE {column} = ?", (article_id,))

    # --- reads for answering --------------------------------------------------------------

    def dense_search(
        self, query: Any, limit: int, allowed: set[str] | None = None
    ) -> list[tuple[str, str, float]]:
        """Return the nearest chunks by their cached vectors: (chunk id, article id, cosine)."""
        return self._vectors().search(query, limit, allowed)

    def _chunk_total(self) -> int:
        """Return how many chunks are searched (those with a cached vector, or all)."""
        return len(self._vectors()) or self.counts()[1]

    def _vectors(self) -> VectorMatrix:
        """Return the matrix of every cached vector, reloaded when a sync changed them."""
        rows = self._rows("SELECT value FROM meta WHERE key = 'vectors'")
        return self._matrix.get(str(rows[0][0]) if rows else "", self._read_matrix)

    def _read_matrix(self) -> VectorMatrix:
        # A connection of its own: other reads of the cache go on while the matrix loads.
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            return read_matrix(db, partial(full_vectors, self._rows))
        finally:
            db.close()

    def chunk_spans(self, chunk_ids: Iterable[str]) -> dict[str, tuple[str, int, int, int]]:
        """Return chunk id -> (article id, position, start, end)."""
        ids = list(chunk_ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._rows(
            f"SELECT id, article_id, position, start, end FROM chunks WHERE id IN ({marks})", ids
        )
        return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}

    def chunk_text(self, chunk_id: str) -> str:
        """Return one chunk's text."""
        rows = self._rows("SELECT text FROM chunks_fts WHERE chunk_id = ?", [chunk_id])
        return rows[0][0] if rows else ""

    def statements(self, article_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """Return the attributed statements of each article."""
        ids = list(article_ids)
        result: dict[str, list[dict[str, Any]]] = {a: [] for a in ids}
        if not ids:
            return result
        marks = ",".join("?" * len(ids))
        for row in self._rows(
            f"SELECT article_id, data FROM statements WHERE article_id IN ({marks}) ORDER BY rowid",
            ids,
        ):
            result[row[0]].append(json.loads(row[1]))
        return result

    def sentence_vectors(self, article_ids: Iterable[str]) -> dict[tuple[str, int, int], str]:
        """Return the packed vector of each reported sentence of these articles, by span."""
        ids = list(article_ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._rows(
            f"SELECT article_id, start, end, vec FROM sentences WHERE article_id IN ({marks})",
            ids,
        )
        return {(r[0], r[1], r[2]): r[3] for r in rows}

    def all_facts(self) -> list[tuple[str, str, str]]:
        """Return every (kind, key, value) fact learned at ingest."""
        return [(r[0], r[1], r[2]) for r in self._rows("SELECT kind, key, value FROM facts")]

    def facts(self, kind: str, key: str | None = None) -> list[tuple[str, str]]:
        """Return (key, value) facts of a kind learned at ingest, such as aliases."""
        if key is None:
            rows = self._rows("SELECT key, value FROM facts WHERE kind = ?", [kind])
        else:
            rows = self._rows(
                "SELECT key, value FROM facts WHERE kind = ? AND key = ?", [kind, key]
            )
        return [(r[0], r[1]) for r in rows]


def _chunk_ids(stored: StoredArticle) -> list[str]:
    return [f"{stored.article.id}:{position}" for position, _, _ in stored.chunks]


def _new_vectors_token(db: sqlite3.Connection) -> None:
    """Mark the vectors changed, so every process reloads its matrix before the next search."""
    db.execute(
        "INSERT OR REPLACE INTO meta(key, value) VALUES ('vectors', lower(hex(randomblob(8))))"
    )
