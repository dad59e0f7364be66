"""The index's records in Chroma, its source of truth beside the chunk vectors.

Four collections next to the chunk vectors (`bot.store`), keyed by stable ids:

- articles: one small record per article, its id the content hash, holding the file it cites
  and a revision. Written after everything else of the article, it is the commit marker: an
  article without one is not indexed.
- article data: per article, one JSON blob (metadata, text, chunk spans, the statements as
  `bot.claims` produced them, the facts learned from it), read only when a reader copies the
  article. Kept apart so that listing the articles stays small, and out of Chroma documents,
  which Chroma indexes for full-text search at a cost this data has no use for.
- paths: which file (a path key, "file.jsonl#3" for a record of a file) holds which article.
- meta: the generation stamp, a fresh token written after every change readers should see, and
  marks of writes in flight, so that the next ingest can undo what a crash left half-written.
  An embedded store also gets the token in a file beside it (`STAMP_FILE`), so that a reader
  can tell its cache is current without opening Chroma.

Every write is an idempotent upsert keyed by content, so two ingests writing the same article
leave one. Records hold no vectors; Chroma still wants one, so each gets a tiny placeholder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from bot.articles import Article
from bot.errors import NewsbotError, StoreUnavailable

ARTICLES = "newsbot_articles"
ARTICLE_DATA = "newsbot_article_data"
PATHS = "newsbot_paths"
META = "newsbot_meta"
FORMAT = 1  # of the article blob; a reader refuses records of a format it does not know
GENERATION = "generation"
# In an embedded store's Chroma folder: the generation last stamped. Kept inside it so that a
# Chroma folder restored or copied from elsewhere brings its own stamp (or none).
STAMP_FILE = "newsbot-generation"
PAGE = 100  # article blobs fetched or written per request (each holds a whole article)
LIST_PAGE = 5000  # ids or small metadata fetched per request
# A mark of a write in flight left by another host is trusted to be live this long. A batch's
# vectors and records are written within seconds; a mark this old belongs to a dead ingest.
STALE_AFTER = 15 * 60.0
T = TypeVar("T")
logger = logging.getLogger(__name__)

# Runs of `ingest` active in this process: their marks are live whatever their age.
_ACTIVE_RUNS: set[str] = set()
_ACTIVE_LOCK = threading.Lock()
# Generation tokens written by this process, per store: its own writes need no reopening.
_WRITTEN: dict[str, set[str]] = {}


@dataclass(frozen=True)
class StoredArticle:
    """An article as Chroma holds it: the article, its chunk spans, statements and facts."""

    article: Article
    chunks: list[tuple[int, int, int]]  # (position, start, end)
    statements: list[dict[str, Any]]
    facts: list[tuple[str, str, str]]  # (kind, key, value)
    # (start, end, packed vector) of each sentence an answer may quote as the outlet's own
    # reporting (`bot.chunking.reported_sentences`); older records have none.
    sentences: list[tuple[int, int, str]] = field(default_factory=list)
    rev: str = field(default_factory=lambda: uuid.uuid4().hex[:12])

    @property
    def id(self) -> str:
        """Return the article's id (its content hash)."""
        return self.article.id


@dataclass(frozen=True)
class Listed:
    """An article as a listing shows it: its record's revision and the file it cites."""

    rev: str
    path: str


@dataclass(frozen=True)
class PendingMark:
    """A write in flight: which ingest run started writing or removing which article, when."""

    id: str
    article_id: str
    run: str
    owner: str
    pid: int
    since: float


def guarded(target: str, call: Callable[[], T]) -> T:
    """Run one Chroma call; its failures become StoreUnavailable."""
    try:
        return call()
    except NewsbotError:
        raise
    except Exception as exc:  # httpx, chromadb and Rust binding errors alike
        detail = " ".join(str(exc).split())[:200]
        kind = type(exc).__name__ + (f": {detail}" if detail else "")
        raise StoreUnavailable(target, f"the vector store failed ({kind})") from exc


def written_tokens(target: str) -> set[str]:
    """Return the generation tokens this process wrote to a store (its own writes)."""
    return _WRITTEN.setdefault(target, set())


def read_stamp(folder: Path) -> str | None:
    """Return the generation stamped beside an embedded store, if there is one to read."""
    try:
        return (folder / STAMP_FILE).read_text(encoding="ascii").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def write_stamp(folder: Path, token: str) -> None:
    """Stamp a generation beside an embedded store, atomically (written, then renamed)."""
    partial_file = folder / f".{STAMP_FILE}.{os.getpid()}.tmp"
    partial_file.write_text(token + "\n", encoding="ascii")
    os.replace(partial_file, folder / STAMP_FILE)


def placeholder(key: str) -> list[float]:
    """Return the stand-in vector of a record that has none: distinct points on a circle."""
    angle = int(hashlib.blake2b(key.encode("utf-8"), digest_size=4).hexdigest(), 16) % 3600
    return [math.cos(angle / 10), math.sin(angle / 10)]


def _path_id(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def owner() -> str:
    """Name this machine (host name and boot), so marks can be judged live or dead."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        boot = ""
    return f"{socket.gethostname()}/{boot}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_run() -> str:
    """Register an ingest run of this process; its marks stay live until `end_run`."""
    run = uuid.uuid4().hex[:16]
    with _ACTIVE_LOCK:
        _ACTIVE_RUNS.add(run)
    return run


def end_run(run: str) -> None:
    """Forget a finished (or failed) ingest run of this process."""
    with _ACTIVE_LOCK:
        _ACTIVE_RUNS.discard(run)


def live(mark: PendingMark, *, here: str | None = None, now: float | None = None) -> bool:
    """Say whether a mark may belong to an ingest that is still writing."""
    with _ACTIVE_LOCK:
        if mark.run in _ACTIVE_RUNS:
            return True
    if mark.owner == (here or owner()):
        return mark.pid != os.getpid() and _pid_alive(mark.pid)
    return (now or time.time()) - mark.since < STALE_AFTER


def encode(stored: StoredArticle) -> tuple[str, dict[str, Any]]:
    """Return an article's data blob and the metadata of its record."""
    article = stored.article
    blob = {
        "format": FORMAT,
        "title": article.title,
        "outlet": article.outlet,
        "published": article.published,
        "url": article.url,
        "author": article.author,
        "text": article.text,
        "chunks": [list(c) for c in stored.chunks],
        "statements": stored.statements,
        "facts": [list(f) for f in stored.facts],
        "sentences": [list(s) for s in stored.sentences],
    }
    return json.dumps(blob, ensure_ascii=False), {"path": article.path, "rev": stored.rev}


def decode(article_id: str, listed: Listed, blob_text: str) -> StoredArticle:
    """Read an article back from its record (as listed) and its data blob."""
    blob = json.loads(blob_text)
    if blob.get("format") != FORMAT:
        raise NewsbotError(
            f"article {article_id} was written by another version of newsbot "
            f"(format {blob.get('format')}, this one reads {FORMAT}); upgrade, or ingest again"
        )
    article = Article(
        id=article_id,
        title=str(blob["title"]),
        outlet=blob["outlet"],
        published=blob["published"],
        url=blob["url"],
        path=listed.path,
        text=blob["text"],
        author=blob["author"],
    )
    return StoredArticle(
        article=article,
        chunks=[(int(p), int(s), int(e)) for p, s, e in blob["chunks"]],
        statements=list(blob["statements"]),
        facts=[(str(k), str(key), str(v)) for k, key, v in blob["facts"]],
        sentences=[(int(s), int(e), str(v)) for s, e, v in blob.get("sentences", [])],
        rev=listed.rev,
    )


class Records:
    """The article, path and meta collections of one Chroma store."""

    def __init__(
        self, client: Any, target: str, *, create: bool, stamp_folder: Path | None = None
    ) -> None:
        self.target = target
        self.written = written_tokens(target)  # tokens this process wrote
        self.stamp_folder = stamp_folder  # an embedded store's folder, where bump stamps too
        self.bind(client, create=create)

    def bind(self, client: Any, *, create: bool = False) -> None:
        """Use the collections of this client (a fresh one after another process wrote)."""

        def open_(name: str) -> Any:
            if create:
                return client.get_or_create_collection(name, embedding_function=None)
            return client.get_collection(name, embedding_function=None)

        self.articles = open_(ARTICLES)
        self.data = open_(ARTICLE_DATA)
        self.paths_ = open_(PATHS)
        self.meta = open_(META)

    def _call(self, call: Callable[[], T]) -> T:
        return guarded(self.target, call)

    def _every(self, collection: Any) -> Iterator[tuple[str, dict[str, Any]]]:
        """Yield every (id, metadata) of a collection, a page of `LIST_PAGE` at a time."""
        offset = 0
        while True:
            page = self._call(
                partial(collection.get, include=["metadatas"], limit=LIST_PAGE, offset=offset)
            )
            for record_id, meta in zip(page["ids"], page["metadatas"] or [], strict=True):
                yield record_id, meta or {}
            if len(page["ids"]) < LIST_PAGE:
                return
            offset += LIST_PAGE

    # --- the generation stamp -------------------------------------------------------------

    def generation(self) -> str | None:
        """Return the current generation token (None before the first ingest)."""
        found = self._call(lambda: self.meta.get(ids=[GENERATION], include=["metadatas"]))
        metas = found["metadatas"] or []
        return str(metas[0]["token"]) if metas and metas[0] else None

    def bump(self) -> str:
        """Write a fresh generation token: readers then know to refresh."""
        token = uuid.uuid4().hex
        self.written.add(token)
        if self.stamp_folder is not None:
            # No stamp while the generation moves: a crash before the new one is written
            # leaves readers asking Chroma, never trusting an older stamp.
            with contextlib.suppress(OSError):
                (self.stamp_folder / STAMP_FILE).unlink(missing_ok=True)
        self._call(
            lambda: self.meta.upsert(
                ids=[GENERATION],
                embeddings=[placeholder(GENERATION)],
                metadatas=[{"kind": GENERATION, "token": token, "format": FORMAT}],
            )
        )
        if self.stamp_folder is not None:
            self._stamp(self.stamp_folder, token)
        return token

    def restamp(self) -> None:
        """Stamp the current generation beside an embedded store that has no stamp.

        A store written before stamps existed, or whose last stamp could not be written, has
        none, and its readers open Chroma for every question until the generation moves. The
        caller holds the store's write lock: no generation moves meanwhile.
        """
        if self.stamp_folder is None or read_stamp(self.stamp_folder) is not None:
            return
        token = self.generation()
        if token is not None:
            self._stamp(self.stamp_folder, token)

    @staticmethod
    def _stamp(folder: Path, token: str) -> None:
        try:
            write_stamp(folder, token)
        except OSError as exc:
            # Readers then open Chroma to look at the generation: slower, never wrong.
            logger.warning("cannot stamp the generation in %s: %s", folder, exc)

    # --- articles -------------------------------------------------------------------------

    def listing(self) -> dict[str, Listed]:
        """Return every committed article id with its record's revision and cited file."""
        found: dict[str, Listed] = {}
        for article_id, meta in self._every(self.articles):
            found[article_id] = Listed(str(meta.get("rev", "")), str(meta.get("path", "")))
        return found

    def existing(self, article_ids: Iterable[str]) -> set[str]:
        """Return which of these articles are committed."""
        ids = sorted(set(article_ids))
        found: set[str] = set()
        for start in range(0, len(ids), LIST_PAGE):
            part = ids[start : start + LIST_PAGE]
            found.update(self._call(partial(self.articles.get, ids=part, include=[]))["ids"])
        return found

    def fetch(self, wanted: dict[str, Listed]) -> Iterator[list[StoredArticle]]:
        """Yield these listed articles whole, a page at a time (any deleted since are skipped)."""
        ids = list(wanted)
        for start in range(0, len(ids), PAGE):
            part = ids[start : start + PAGE]
            page = self._call(partial(self.data.get, ids=part, include=["metadatas"]))
            yield [
                decode(article_id, wanted[article_id], str(meta["blob"]))
                for article_id, meta in zip(page["ids"], page["metadatas"] or [], strict=True)
                if meta and "blob" in meta
            ]

    def put_articles(self, articles: list[StoredArticle]) -> None:
        """Commit articles (after their vectors): data, then records, then a new generation."""
        for start in range(0, len(articles), PAGE):
            part = articles[start : start + PAGE]
            encoded = [encode(a) for a in part]
            self._call(
                partial(
                    self.data.upsert,
                    ids=[a.id for a in part],
                    embeddings=[placeholder(a.id) for a in part],
                    metadatas=[{"blob": blob} for blob, _ in encoded],
                )
            )
            self._call(
                partial(
                    self.articles.upsert,
                    ids=[a.id for a in part],
                    embeddings=[placeholder(a.id) for a in part],
                    metadatas=[meta for _, meta in encoded],
                )
            )
        if articles:
            self.bump()

    def delete_article(self, article_id: str) -> None:
        """Remove an article's record (before its vectors) and its data; stamp a generation."""
        self._call(lambda: self.articles.delete(ids=[article_id]))
        self.bump()
        self.drop_data([article_id])

    def drop_data(self, article_ids: Iterable[str]) -> None:
        """Remove the data blobs of articles that have no record (any more)."""
        ids = sorted(set(article_ids))
        if ids:
            self._call(partial(self.data.delete, ids=ids))

    def move_article(self, article_id: str, path: str) -> None:
        """Make an article cite another file that holds it."""
        rev = uuid.uuid4().hex[:12]
        self._call(
            lambda: self.articles.update(ids=[article_id], metadatas=[{"path": path, "rev": rev}])
        )
        self.bump()

    def article_path(self, article_id: str) -> str | None:
        """Return the file an article cites, or None if it is not committed."""
        found = self._call(lambda: self.articles.get(ids=[article_id], include=["metadatas"]))
        metas = found["metadatas"] or []
        return str(metas[0].get("path", "")) if metas and metas[0] else None

    # --- paths ----------------------------------------------------------------------------

    def paths(self) -> dict[str, str]:
        """Return every path key with the article it holds."""
        return {
            str(meta["path"]): str(meta["article_id"])
            for _, meta in self._every(self.paths_)
            if meta
        }

    def set_paths(self, mapping: dict[str, str]) -> None:
        """Record which article each path key holds now."""
        if not mapping:
            return
        keys = sorted(mapping)
        self._call(
            lambda: self.paths_.upsert(
                ids=[_path_id(k) for k in keys],
                embeddings=[placeholder(k) for k in keys],
                metadatas=[{"path": k, "article_id": mapping[k]} for k in keys],
            )
        )

    def drop_paths(self, keys: Iterable[str]) -> None:
        """Forget path keys."""
        ids = [_path_id(k) for k in keys]
        if ids:
            self._call(lambda: self.paths_.delete(ids=ids))

    def paths_of(self, article_id: str) -> list[str]:
        """Return the path keys that hold an article."""
        found = self._call(
            lambda: self.paths_.get(where={"article_id": article_id}, include=["metadatas"])
        )
        return sorted(str(m["path"]) for m in found["metadatas"] or [] if m)

    # --- writes in flight -----------------------------------------------------------------

    def mark_pending(self, run: str, article_ids: Iterable[str]) -> list[str]:
        """Note that this run is about to write or remove these articles' vectors."""
        ids = sorted(set(article_ids))
        if not ids:
            return []
        here, pid, now = owner(), os.getpid(), time.time()
        marks = [f"pending:{run}:{a}" for a in ids]
        self._call(
            lambda: self.meta.upsert(
                ids=marks,
                embeddings=[placeholder(m) for m in marks],
                metadatas=[
                    {"kind": "pending", "article_id": a, "run": run}
                    | {"owner": here, "pid": pid, "since": now}
                    for a in ids
                ],
            )
        )
        return marks

    def pending(self) -> list[PendingMark]:
        """Return every mark of a write in flight, of any run."""
        found = self._call(lambda: self.meta.get(where={"kind": "pending"}, include=["metadatas"]))
        return [
            PendingMark(
                id=mark_id,
                article_id=str(m["article_id"]),
                run=str(m["run"]),
                owner=str(m["owner"]),
                pid=int(m["pid"]),
                since=float(m["since"]),
            )
            for mark_id, m in zip(found["ids"], found["metadatas"] or [], strict=True)
            if m
        ]

    def clear_pending(self, mark_ids: Iterable[str]) -> None:
        """Remove marks once their writes are settled."""
        ids = list(mark_ids)
        if ids:
            self._call(lambda: self.meta.delete(ids=ids))
