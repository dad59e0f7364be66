"""The catalog: a SQLite file beside the vectors holding articles, the BM25 index and claims.

Chroma keeps the chunk vectors; the catalog is the record of what is complete. An article is
visible to questions only once its catalog row is committed, which is written after its vectors,
so an interrupted ingest never exposes half an article.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bot.articles import Article

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
    chunks INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS paths (
    path TEXT PRIMARY KEY,
    article_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS paths_article ON paths(article_id);
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
CREATE TABLE IF NOT EXISTS pending (
    article_id TEXT PRIMARY KEY
);
"""

CATALOG_FILE = "catalog.sqlite3"
# Function words carry no evidence of topic and would make every chunk a lexical match.
STOPWORDS = frozenset(
    """a an the and or but of in on at to for from by with as is are was were be been being has
    have had do does did will would can could should may might who what when where why how
    which whose whom this that these those it its they them their he she his her we our you
    your i me my not no than then so if about into over after before there here also just""".split()
)
_WORD = re.compile(r"\w+", re.UNICODE)


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


def _open_readonly(path: Path) -> sqlite3.Connection:
    """Open the catalog for reading only, even in a folder this process may not write."""
    quoted = quote(str(path))
    db = sqlite3.connect(f"file:{quoted}?mode=ro", uri=True, check_same_thread=False, timeout=30)
    try:
        db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.OperationalError:
        # A WAL database needs its -shm file, which a read-only folder cannot hold. Nobody can
        # write there either, so the file may be read as immutable, without locks.
        db.close()
    db = sqlite3.connect(
        f"file:{quoted}?mode=ro&immutable=1", uri=True, check_same_thread=False, timeout=30
    )
    db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    return db


class Catalog:
    """SQLite access to the catalog; safe to share between threads."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        self._lock = threading.RLock()
        if readonly:
            self._db = _open_readonly(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(SCHEMA)
        self._db.execute("PRAGMA synchronous=NORMAL")

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run statements atomically."""
        with self._lock, self._db:
            yield self._db

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
        """Return the id of the article last ingested from a file."""
        rows = self._rows("SELECT article_id FROM paths WHERE path = ?", [path])
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

    def all_paths(self) -> list[tuple[str, str]]:
        """Return every (path, article id) mapping."""
        return [(r[0], r[1]) for r in self._rows("SELECT path, article_id FROM paths")]

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

    # --- writes ---------------------------------------------------------------------------

    def mark_pending(self, article_ids: Iterable[str]) -> None:
        """Record that vectors are about to be written or removed for these articles."""
        with self.transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO pending(article_id) VALUES (?)",
                [(a,) for a in article_ids],
            )

    def pending(self) -> list[str]:
        """Return articles whose vector writes may not have finished."""
        return [r[0] for r in self._rows("SELECT article_id FROM pending")]

    def clear_pending(self, article_ids: Iterable[str]) -> None:
        """Forget pending marks once the vectors are settled."""
        with self.transaction() as db:
            db.executemany("DELETE FROM pending WHERE article_id = ?", [(a,) for a in article_ids])

    def add_article(
        self,
        db: sqlite3.Connection,
        article: Article,
        chunks: list[tuple[str, int, int, int, str]],
        statements: list[dict[str, Any]],
        facts: list[tuple[str, str, str]],
    ) -> None:
        """Insert an article with its chunks, lexical entries and statements (in a transaction)."""
        db.execute(
            "INSERT OR REPLACE INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                len(chunks),
            ),
        )
        db.executemany(
            "INSERT OR REPLACE INTO chunks VALUES (?, ?, ?, ?, ?)",
            [(cid, article.id, pos, start, end) for cid, pos, start, end, _ in chunks],
        )
        db.executemany(
            "INSERT INTO chunks_fts(text, chunk_id, article_id) VALUES (?, ?, ?)",
            [(text, cid, article.id) for cid, _, _, _, text in chunks],
        )
        db.executemany(
            "INSERT INTO statements(article_id, data) VALUES (?, ?)",
            [(article.id, json.dumps(s)) for s in statements],
        )
        db.executemany(
            "INSERT INTO facts(kind, key, value, article_id) VALUES (?, ?, ?, ?)",
            [(kind, key, value, article.id) for kind, key, value in facts],
        )

    def remove_article(self, db: sqlite3.Connection, article_id: str) -> None:
        """Delete an article and everything derived from it (in a transaction)."""
        db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
        db.execute("DELETE FROM chunks WHERE article_id = ?", (article_id,))
        db.execute("DELETE FROM chunks_fts WHERE article_id = ?", (article_id,))
        db.execute("DELETE FROM statements WHERE article_id = ?", (article_id,))
        db.execute("DELETE FROM facts WHERE article_id = ?", (article_id,))
        db.execute("DELETE FROM paths WHERE article_id = ?", (article_id,))

    def set_path(self, db: sqlite3.Connection, path: str, article_id: str) -> str | None:
        """Map a file to an article; return the article it mapped to before, if different."""
        row = db.execute("SELECT article_id FROM paths WHERE path = ?", (path,)).fetchone()
        db.execute(
            "INSERT OR REPLACE INTO paths(path, article_id) VALUES (?, ?)", (path, article_id)
        )
        previous = row[0] if row else None
        return previous if previous != article_id else None

    def drop_path(self, db: sqlite3.Connection, path: str) -> None:
        """Forget a file."""
        db.execute("DELETE FROM paths WHERE path = ?", (path,))

    def orphaned(self, db: sqlite3.Connection, article_id: str) -> bool:
        """Say whether no file maps to an article any more."""
        row = db.execute(
            "SELECT 1 FROM paths WHERE article_id = ? LIMIT 1", (article_id,)
        ).fetchone()
        return row is None

    # --- reads for answering --------------------------------------------------------------

    def lexical_search(
        self, query: str, limit: int, allowed: set[str] | None = None
    ) -> list[tuple[str, str, float]]:
        """Rank chunks by BM25 for the words of a query: (chunk id, article id, score)."""
        words = sorted(
            {w.lower() for w in _WORD.findall(query) if len(w) > 1 and w.lower() not in STOPWORDS}
        )
        if not words:
            return []
        match = " OR ".join('"' + w.replace('"', "") + '"' for w in words)
        fetch = limit if allowed is None else limit * 4
        rows = self._rows(
            "SELECT chunk_id, article_id, bm25(chunks_fts) AS score FROM chunks_fts "
            "WHERE chunks_fts MATCH ? ORDER BY score LIMIT ?",
            [match, fetch],
        )
        hits = [(r[0], r[1], -float(r[2])) for r in rows]
        if allowed is not None:
            hits = [h for h in hits if h[1] in allowed]
        return hits[:limit]

    def document_frequency(self, term: str, *, prefix: bool = False) -> int:
        """Count the chunks that contain a word or phrase (its last word as a prefix)."""
        words = _WORD.findall(term)
        if not words:
            return 0
        phrase = '"' + " ".join(words).replace('"', "") + '"' + (" *" if prefix else "")
        rows = self._rows("SELECT COUNT(*) FROM chunks_fts WHERE chunks_fts MATCH ?", [phrase])
        return int(rows[0][0])

    def near_frequency(self, words: list[str], distance: int = 3) -> int:
        """Count the chunks holding all these words (or phrases) within a few words."""
        terms = [" ".join(_WORD.findall(w)) for w in words]
        terms = [t for t in terms if t]
        if not terms:
            return 0
        if len(terms) == 1:
            return self.document_frequency(terms[0], prefix=True)
        query = "NEAR(" + " ".join(f'"{t}"' for t in terms) + f", {distance})"
        rows = self._rows("SELECT COUNT(*) FROM chunks_fts WHERE chunks_fts MATCH ?", [query])
        return int(rows[0][0])

    def written(self, word: str) -> str | None:
        """Return how the articles mostly write a word inside sentences ("Tessel", "OKC")."""
        parts = _WORD.findall(word)
        if not parts:
            return None
        phrase = '"' + " ".join(parts).replace('"', "") + '"'
        try:
            rows = self._rows(
                "SELECT text FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT 8", [phrase]
            )
        except sqlite3.OperationalError:
            return None
        pattern = re.compile(
            r"(?<![\w.!?])\s*(" + r"[\W_]+".join(re.escape(p) for p in parts) + r")(?!\w)",
            re.IGNORECASE,
        )
        forms: dict[str, int] = {}
        for (text,) in rows:
            for match in pattern.finditer(text):
                before = text[: match.start(1)].rstrip()
                if not before or before[-1] in '.!?:"“\n':
                    continue  # a sentence's first word is capitalised whatever it is
                forms[match.group(1)] = forms.get(match.group(1), 0) + 1
        return max(forms, key=lambda f: forms[f]) if forms else None

    def variant(self, word: str) -> str | None:
        """Return an indexed spelling of a word ("Tesseliy" for "Tesselyi"), if there is one."""
        from bot.names import fold, same_word

        folded = fold(word)
        if len(folded) < 5:
            return None
        try:
            rows = self._rows(
                "SELECT term FROM chunks_vocab WHERE term >= ? AND term < ? ORDER BY doc DESC",
                [folded[0], chr(ord(folded[0]) + 1)],
            )
        except sqlite3.OperationalError:
            return None
        for (term,) in rows:
            if abs(len(term) - len(folded)) <= 3 and term != folded and same_word(term, folded):
                return str(term)
        return None

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
