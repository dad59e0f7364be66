"""Opening the index: Chroma (chunk vectors and the records beside them) and the local catalog.

Chroma is the source of truth: the chunk vectors (collection `newsbot`) and the records of
`bot.records`. Any number of processes, on any hosts, may answer from one Chroma server while
others ingest into it; each keeps a local catalog (`bot.catalog`) derived from the records and
the chunk vectors, brought up to date when the generation stamp moves, and searches it: a
question costs Chroma one look at the stamp, and an embedded store none when the copy of the
stamp beside it says the catalog is current (Chroma is then not even imported). A Chroma
server serializes writes itself, so ingests into it may run at once (their upserts are keyed by
content); an embedded store is one folder written by one process at a time, so there an ingest
holds a lock file and a second one is refused. An index folder this process may not write is
opened read-only: the embedded vectors from a scratch copy, the catalog built in scratch space.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import sqlite3
import tempfile
import threading
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from bot.catalog import CACHE_FILE, LEGACY_CATALOG_FILE, SCHEMA_VERSION, Catalog
from bot.config import Settings
from bot.errors import IndexNotFound, StoreUnavailable
from bot.records import Records, guarded, read_stamp, written_tokens

COLLECTION = "newsbot"
WRITE_LOCK = "ingest.lock"
CHECK_INTERVAL = 1.0  # seconds between looks at the generation stamp
# Seconds a Chroma server may take to accept a connection, and to answer one request. Chroma's
# own HTTP client waits forever; a stalled server must give a clear error, never a hang.
CHROMA_CONNECT_TIMEOUT = 5.0
CHROMA_TIMEOUT = 60.0
MAX_BATCH = 1000  # records per write request, below Chroma's own limit
logger = logging.getLogger(__name__)
T = TypeVar("T")
# Chroma shares one system per folder within a process and keeps it in class-level caches that
# opening and reopening both touch: one thread at a time.
_REOPEN_LOCK = threading.RLock()


@dataclass
class Chroma:
    """The open Chroma side of an index: the client, the chunk vectors and the records."""

    client: Any
    collection: Any
    records: Records
    opened: str | None = None  # the generation an embedded store's handle was opened at


class Index:
    """An open index: the chunk vectors, the records, and the catalog derived from them.

    `catalog` is what answering reads; reading it first brings it up to date with Chroma when
    this process wrote, or when the generation stamp moved (looked at once per question, and
    once a second at most between questions).
    An embedded store whose cache is current is answered without opening Chroma at all: the
    stamp file beside it says when it is not (`bot.records.STAMP_FILE`), and Chroma is opened
    on first need (a sync, a write).
    """

    def __init__(
        self,
        *,
        connect: Callable[[], Chroma],
        catalog: Catalog,
        target: str,
        folder: Path,
        embedded: bool,
        readonly: bool = False,
        scratch: Path | None = None,
        reopen: Callable[[], Any] | None = None,
        chroma: Chroma | None = None,
    ) -> None:
        self.target = target
        self.folder = folder
        self.embedded = embedded
        self.readonly = readonly
        self._connect = connect
        self._chroma = chroma
        self._connect_lock = threading.Lock()
        self._catalog = catalog
        self._scratch = scratch
        self._reopen = reopen
        self._refresh_lock = threading.Lock()
        self._next_check = 0.0
        self._own = written_tokens(target)  # generation tokens this process wrote
        self._written = 0  # len(self._own) at the last refresh
        self.generation: str | None = None  # the generation the catalog serves

    # --- Chroma, opened on first need -----------------------------------------------------

    def chroma(self) -> Chroma:
        """Return the open Chroma side, opening it now if this is its first use."""
        with self._connect_lock:
            if self._chroma is None:
                self._chroma = self._connect()
            return self._chroma

    @property
    def client(self) -> Any:
        """Return the Chroma client."""
        return self.chroma().client

    @property
    def collection(self) -> Any:
        """Return the chunk vectors' collection."""
        return self.chroma().collection

    @property
    def records(self) -> Records:
        """Return the records kept beside the vectors."""
        return self.chroma().records

    @property
    def catalog(self) -> Catalog:
        """Return the catalog, brought up to date with Chroma if it may be behind."""
        if len(self._own) != self._written or time.monotonic() >= self._next_check:
            self.refresh()
        return self._catalog

    def refresh(self, *, force: bool = False, now: bool = False) -> str | None:
        """Catch up with Chroma if anything changed there; return the generation served.

        The generation is looked at once a second at most, or now when asked: once per
        question, so that a Chroma server gone away is said at once, not a second later.
        """
        with self._refresh_lock:
            own = len(self._own) != self._written
            if not (force or now or own or time.monotonic() >= self._next_check):
                return self.generation
            self._next_check = time.monotonic() + CHECK_INTERVAL
            self._written = len(self._own)
            if self.embedded and not force:
                # Every write that moves the generation (this process's too) stamps it in the
                # Chroma folder as well.
                stamped = read_stamp(self.folder / "chroma")
                if stamped is not None and stamped == self._catalog.generation():
                    self.generation = stamped
                    return stamped
            chroma = self.chroma()
            remote = chroma.records.generation()
            if remote != chroma.opened and remote not in self._own:
                self._rebind()
            chroma.opened = remote
            self.generation = self._catalog.sync(
                remote, chroma.records, self.chunk_vectors, force=force
            )
            return self.generation

    def _rebind(self) -> None:
        """Reopen an embedded store another process wrote: this one's vector index is stale."""
        if self._reopen is None:
            return
        chroma = self.chroma()
        with _REOPEN_LOCK:
            logger.info("reopening the vector store at %s", self.target)
            chroma.client = guarded(self.target, self._reopen)
            chroma.collection = guarded(self.target, partial(_collection, chroma.client))
            guarded(self.target, partial(chroma.records.bind, chroma.client))

    def _vectors(self, call: Callable[[], T]) -> T:
        """Run one vector store call; its failures become StoreUnavailable."""
        return guarded(self.target, call)

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Allow writing: refused for a read-only folder; one writer at a time if embedded."""
        if self.readonly and self.embedded:
            raise StoreUnavailable(str(self.folder), "the index folder is read-only")
        if not self.embedded:
            # A Chroma server orders concurrent writes itself; content-keyed upserts make
            # two ingests of the same article one article.
            yield
            return
        try:
            handle = (self.folder / WRITE_LOCK).open("a+b")
        except OSError as exc:
            raise StoreUnavailable(str(self.folder), (exc.strerror or str(exc)).lower()) from exc
        with handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise StoreUnavailable(
                    str(self.folder),
                    "another ingest is writing to it; try again when it has finished",
                ) from exc
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def add_vectors(
        self,
        ids: list[str],
        embeddings: list[list[float]],
        documents: list[str],
        metadatas: list[dict[str, Any]],
    ) -> None:
        """Write chunk vectors (replacing any with the same ids)."""
        for start in range(0, len(ids), MAX_BATCH):
            end = start + MAX_BATCH
            self._vectors(
                partial(
                    self.collection.upsert,
                    ids=ids[start:end],
                    embeddings=embeddings[start:end],
                    documents=documents[start:end],
                    metadatas=metadatas[start:end],
                )
            )

    def delete_vectors(self, article_ids: list[str]) -> None:
        """Remove every chunk vector of these articles."""
        for article_id in article_ids:
            self._vectors(partial(self.collection.delete, where={"article_id": article_id}))

    def vector_count(self) -> int:
        """Count stored chunk vectors."""
        return int(self._vectors(self.collection.count))

    def chunk_vectors(self, chunk_ids: list[str]) -> dict[str, Any]:
        """Return the stored vectors of these chunks (those Chroma has), by chunk id.

        An embedded handle can fail to find vectors another process just replaced; a fresh
        handle is tried once before the failure is given.
        """
        found: dict[str, Any] = {}
        for start in range(0, len(chunk_ids), MAX_BATCH):
            ids = chunk_ids[start : start + MAX_BATCH]
            try:
                page = self._vectors(partial(self.collection.get, ids=ids, include=["embeddings"]))
            except StoreUnavailable:
                if self._reopen is None:
                    raise
                self._rebind()
                page = self._vectors(partial(self.collection.get, ids=ids, include=["embeddings"]))
            vectors = page["embeddings"]
            for cid, vector in zip(page["ids"], [] if vectors is None else vectors, strict=True):
                found[cid] = vector
        return found

    def dense_search(
        self, embedding: list[float], limit: int, allowed: set[str] | None = None
    ) -> list[tuple[str, str, float]]:
        """Return the nearest chunks: (chunk id, article id, cosine similarity).

        Searched in the cache's copy of the vectors, after one look at the generation: a
        question costs Chroma one small call (an embedded store whose stamp file says the cache
        is current, none).
        """
        if allowed is not None and not allowed:
            return []
        self.refresh(now=True)
        return self._catalog.dense_search(embedding, limit, allowed)

    def as_langchain(self, embeddings: Any) -> Any:
        """Return a langchain_chroma.Chroma over the same collection, for LangChain users."""
        from langchain_chroma import Chroma

        return Chroma(
            client=self.collection._client,
            collection_name=COLLECTION,
            embedding_function=embeddings,
        )

    def close(self) -> None:
        """Release the catalog (and the scratch copy of a read-only index)."""
        self._catalog.close()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)


def _probe(host: str, port: int) -> None:
    """Fail fast, with a bounded wait, when no Chroma server answers at host:port."""
    url = f"http://{host}:{port}/api/v2/heartbeat"
    with urllib.request.urlopen(url, timeout=CHROMA_CONNECT_TIMEOUT) as response:
        response.read(1024)


def _bound_requests(client: Any) -> None:
    """Give the Chroma HTTP client's session a timeout (it has none of its own)."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(CHROMA_TIMEOUT, connect=CHROMA_CONNECT_TIMEOUT)


def _server_client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    host, port = str(settings.chroma_host), settings.chroma_port
    target = f"{host}:{port}"
    try:
        _probe(host, port)
        client = chromadb.HttpClient(
            host=host, port=port, settings=ChromaSettings(anonymized_telemetry=False)
        )
        _bound_requests(client)
        client.heartbeat()
    except Exception as exc:  # refused, timed out, not Chroma: all mean "unreachable"
        cause = getattr(exc, "reason", None) if isinstance(exc, urllib.error.URLError) else None
        kind = type(cause if isinstance(cause, BaseException) else exc).__name__
        raise StoreUnavailable(target, f"Chroma server unreachable ({kind})") from exc
    return client


def _embedded_client(path: Path, target: str) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    try:
        with _REOPEN_LOCK:
            return chromadb.PersistentClient(
                path=str(path),
                settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False),
            )
    except Exception as exc:
        raise StoreUnavailable(target, str(exc) or type(exc).__name__) from exc


def _collection(client: Any) -> Any:
    # embedding_function=None: vectors always come from our model, never Chroma's default.
    return client.get_or_create_collection(
        COLLECTION, metadata={"hnsw:space": "cosine"}, embedding_function=None
    )


def _fresh_client(path: Path, target: str) -> Any:
    """Open the embedded store again, past this process's cached Chroma system."""
    from chromadb.api.shared_system_client import SharedSystemClient

    # Chroma shares one system per folder within a process; the stale one must go.
    for cache in ("_identifier_to_system", "_identifier_to_refcount"):
        getattr(SharedSystemClient, cache, {}).pop(str(path), None)
    return _embedded_client(path, target)


def _records(
    client: Any, target: str, *, create: bool, hint: str | None, stamp_folder: Path | None
) -> Records:
    from chromadb.errors import NotFoundError

    try:
        return Records(client, target, create=create, stamp_folder=stamp_folder)
    except NotFoundError as exc:
        raise IndexNotFound(target, hint) from exc
    except Exception as exc:
        raise StoreUnavailable(target, str(exc) or type(exc).__name__) from exc


def _cache_current(index_dir: Path, chroma_dir: Path) -> bool:
    """Say whether the cache in a folder serves the generation stamped in its Chroma folder."""
    stamped = read_stamp(chroma_dir)
    cache = index_dir / CACHE_FILE
    if stamped is None or not cache.is_file():
        return False
    try:
        # Read-only, without creating or migrating anything: Catalog does that when opened.
        with contextlib.closing(sqlite3.connect(f"file:{cache}?mode=ro", uri=True)) as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            row = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
    except sqlite3.Error:
        return False
    return version == SCHEMA_VERSION and row is not None and row[0] == stamped


def writable(index_dir: Path) -> bool:
    """Say whether this process may write the index folder (and its catalog, if present)."""
    catalog = index_dir / CACHE_FILE
    if not os.access(index_dir, os.W_OK):
        return False
    return not catalog.exists() or os.access(catalog, os.W_OK)


def _scratch_copy(chroma_dir: Path) -> Path:
    """Copy a read-only index's vector store to a private folder Chroma may write to."""
    scratch = Path(tempfile.mkdtemp(prefix="newsbot-readonly-"))
    target = scratch / "chroma"
    if chroma_dir.is_dir():
        shutil.copytree(chroma_dir, target, copy_function=shutil.copyfile)
    else:
        target.mkdir()
    for folder, _, files in os.walk(scratch):
        os.chmod(folder, 0o700)
        for name in files:
            os.chmod(Path(folder) / name, 0o600)
    return scratch


def _legacy_hint(index_dir: Path) -> str | None:
    if (index_dir / LEGACY_CATALOG_FILE).exists():
        return (
            "it was built by an older newsbot, which kept articles outside Chroma; "
            f"run `newsbot ingest PATH --index {index_dir}` again"
        )
    return None


def open_store(settings: Settings, *, create: bool = False) -> Index:
    """Open the index named by the settings; with create, make it if it does not exist.

    Without create, an index folder this process may not write is opened read-only: questions
    are answered, writes are refused. With a Chroma server, the folder holds only the local
    catalog (and the question encoder), so an empty or new folder answers at once.
    """
    index_dir = Path(settings.index_dir).expanduser().resolve()
    server = bool(settings.chroma_host)
    chroma_dir = index_dir / "chroma"
    if not server and not create and not chroma_dir.is_dir():
        raise IndexNotFound(str(index_dir), _legacy_hint(index_dir))
    if create or server:
        try:
            index_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            if create:
                raise StoreUnavailable(str(index_dir), exc.strerror or str(exc)) from exc
    readonly = not index_dir.is_dir() or not writable(index_dir)
    if create and readonly and not server:
        raise StoreUnavailable(str(index_dir), "the folder is read-only; ingest needs to write it")
    scratch: Path | None = None
    try:
        reopen: Callable[[], Any] | None = None
        open_client: Callable[[], Any]
        hint: str | None
        if server:
            target = f"{settings.chroma_host}:{settings.chroma_port}"
            open_client = partial(_server_client, settings)
            hint = (
                f"run `newsbot ingest PATH` with NEWSBOT_CHROMA_HOST={settings.chroma_host} "
                f"and NEWSBOT_CHROMA_PORT={settings.chroma_port} first"
            )
        else:
            target, hint = str(index_dir), _legacy_hint(index_dir)
            if readonly:
                scratch = _scratch_copy(chroma_dir)
                chroma_dir = scratch / "chroma"
            open_client = partial(_embedded_client, chroma_dir, target)
            reopen = partial(_fresh_client, chroma_dir, target)
        stamp_folder = None if server or readonly else chroma_dir

        def connect() -> Chroma:
            client = open_client()
            records = _records(client, target, create=create, hint=hint, stamp_folder=stamp_folder)
            collection = guarded(target, partial(_collection, client))
            opened = guarded(target, records.generation) if reopen is not None else None
            return Chroma(client, collection, records, opened)

        # An embedded reader whose cache is current answers without opening Chroma.
        lazy = stamp_folder is not None and not create and _cache_current(index_dir, chroma_dir)
        chroma = None if lazy else connect()
        if readonly and scratch is None:
            scratch = Path(tempfile.mkdtemp(prefix="newsbot-catalog-"))
        try:
            catalog = Catalog((scratch if readonly and scratch else index_dir) / CACHE_FILE)
        except Exception as exc:
            raise StoreUnavailable(str(index_dir), f"catalog unusable: {exc}") from exc
    except Exception as exc:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        if isinstance(exc, IndexNotFound | StoreUnavailable):
            raise
        raise StoreUnavailable(str(index_dir), str(exc) or type(exc).__name__) from exc
    index = Index(
        connect=connect,
        chroma=chroma,
        catalog=catalog,
        target=target,
        folder=index_dir,
        embedded=not server,
        readonly=readonly,
        scratch=scratch,
        reopen=reopen,
    )
    if scratch is not None:
        # Answerers are rarely closed; the scratch copy goes when the index or the process does.
        weakref.finalize(index, shutil.rmtree, scratch, ignore_errors=True)
    return index
