"""Opening the index: Chroma (chunk vectors and the records beside them) and the local catalog.

Chroma is the source of truth: the chunk vectors (collection `newsbot`) and the records of
`bot.records`. Any number of processes, on any hosts, may answer from one Chroma server while
others ingest into it; each keeps a local catalog (`bot.catalog`) derived from the records and
brought up to date when the generation stamp moves, checked at most once a second. A Chroma
server serializes writes itself, so ingests into it may run at once (their upserts are keyed by
content); an embedded store is one folder written by one process at a time, so there an ingest
holds a lock file and a second one is refused. An index folder this process may not write is
opened read-only: the embedded vectors from a scratch copy, the catalog built in scratch space.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import tempfile
import threading
import time
import urllib.error
import urllib.request
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from bot.catalog import CACHE_FILE, LEGACY_CATALOG_FILE, Catalog
from bot.config import Settings
from bot.errors import IndexNotFound, StoreUnavailable
from bot.records import Records, guarded

COLLECTION = "newsbot"
WRITE_LOCK = "ingest.lock"
CHECK_INTERVAL = 1.0  # seconds between looks at the generation stamp
# Seconds a Chroma server may take to accept a connection, and to answer one request. Chroma's
# own HTTP client waits forever; a stalled server must give a clear error, never a hang.
CHROMA_CONNECT_TIMEOUT = 5.0
CHROMA_TIMEOUT = 60.0
MAX_BATCH = 1000  # records per write request, below Chroma's own limit
SETTLE = 0.5  # seconds to give a server's vector index to reach its disk before asking again
logger = logging.getLogger(__name__)
T = TypeVar("T")
_REOPEN_LOCK = threading.Lock()


class Index:
    """An open index: the chunk vectors, the records, and the catalog derived from them.

    `catalog` is what answering reads; reading it first brings it up to date with Chroma when
    this process wrote, or when the generation stamp moved (looked at once a second at most).
    """

    def __init__(
        self,
        *,
        client: Any,
        collection: Any,
        records: Records,
        catalog: Catalog,
        target: str,
        folder: Path,
        embedded: bool,
        readonly: bool = False,
        scratch: Path | None = None,
        reopen: Callable[[], Any] | None = None,
    ) -> None:
        self.client = client
        self.collection = collection
        self.records = records
        self.target = target
        self.folder = folder
        self.embedded = embedded
        self.readonly = readonly
        self._catalog = catalog
        self._scratch = scratch
        self._reopen = reopen
        self._refresh_lock = threading.Lock()
        self._next_check = 0.0
        self._written = 0  # records.written seen at the last refresh
        self.generation: str | None = None  # the generation the catalog serves
        # The generation the vector handle was opened at: an embedded store's vector index is
        # read once per handle, so another process's writes need a fresh one.
        self._opened = guarded(target, records.generation) if reopen is not None else None

    @property
    def catalog(self) -> Catalog:
        """Return the catalog, brought up to date with Chroma if it may be behind."""
        if len(self.records.written) != self._written or time.monotonic() >= self._next_check:
            self.refresh()
        return self._catalog

    def refresh(self, *, force: bool = False) -> str | None:
        """Catch up with Chroma if anything changed there; return the generation served."""
        with self._refresh_lock:
            own = len(self.records.written) != self._written
            if not (force or own or time.monotonic() >= self._next_check):
                return self.generation
            self._next_check = time.monotonic() + CHECK_INTERVAL
            self._written = len(self.records.written)
            remote = self.records.generation()
            if remote != self._opened and remote not in self.records.written:
                self._rebind()
            self._opened = remote
            self.generation = self._catalog.sync(self.records, force=force)
            return self.generation

    def _rebind(self) -> None:
        """Reopen an embedded store another process wrote: this one's vector index is stale."""
        if self._reopen is None:
            return
        with _REOPEN_LOCK:
            logger.info("reopening the vector store at %s", self.target)
            self.client = guarded(self.target, self._reopen)
            self.collection = guarded(self.target, partial(_collection, self.client))
            guarded(self.target, partial(self.records.bind, self.client))

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

    def dense_search(
        self, embedding: list[float], limit: int, allowed: set[str] | None = None
    ) -> list[tuple[str, str, float]]:
        """Return the nearest chunks: (chunk id, article id, cosine similarity)."""
        if (allowed is not None and not allowed) or not self.catalog.counts()[1]:
            # Nothing committed yet: and Chroma fails to query a vector index it has not yet
            # written to disk ("Nothing found on disk") rather than finding nothing.
            return []
        where = {"article_id": {"$in": sorted(allowed)}} if allowed is not None else None
        failed = self.collection

        def query() -> Any:
            # Chroma returns fewer results when it holds fewer: no count first, one round trip.
            return self.collection.query(
                query_embeddings=[embedding],
                n_results=limit,
                where=where,
                include=["metadatas", "distances"],
            )

        try:
            result = self._vectors(query)
        except StoreUnavailable as exc:
            # Chroma cannot read a vector index it has not written to disk yet ("Nothing found
            # on disk"): an embedded store another process wrote after this handle was opened
            # (a fresh handle can), or a server's collection just written to (a moment later
            # it can).
            if self._reopen is not None:
                if self.collection is failed:
                    self._rebind()
            elif "Nothing found on disk" in exc.reason:
                time.sleep(SETTLE)
            else:
                raise
            result = self._vectors(query)
        hits = []
        for cid, meta, dist in zip(
            result["ids"][0], result["metadatas"][0], result["distances"][0], strict=True
        ):
            if not meta or "article_id" not in meta:
                # Deleted by another process since this one loaded its copy of the vector
                # index: the vector is still found, its record is gone. Not a hit.
                continue
            hits.append((cid, str(meta["article_id"]), 1.0 - float(dist)))
        return hits

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


def _server_client(settings: Settings) -> tuple[Any, str]:
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
    return client, target


def _embedded_client(path: Path, target: str) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    try:
        return chromadb.PersistentClient(
            path=str(path), settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False)
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


def _records(client: Any, target: str, *, create: bool, hint: str | None) -> Records:
    from chromadb.errors import NotFoundError

    try:
        return Records(client, target, create=create)
    except NotFoundError as exc:
        raise IndexNotFound(target, hint) from exc
    except Exception as exc:
        raise StoreUnavailable(target, str(exc) or type(exc).__name__) from exc


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
        hint: str | None
        if server:
            client, target = _server_client(settings)
            hint = (
                f"run `newsbot ingest PATH` with NEWSBOT_CHROMA_HOST={settings.chroma_host} "
                f"and NEWSBOT_CHROMA_PORT={settings.chroma_port} first"
            )
        else:
            target, hint = str(index_dir), _legacy_hint(index_dir)
            if readonly:
                scratch = _scratch_copy(chroma_dir)
                chroma_dir = scratch / "chroma"
            client = _embedded_client(chroma_dir, target)
            reopen = partial(_fresh_client, chroma_dir, target)
        records = _records(client, target, create=create, hint=hint)
        collection = guarded(target, partial(_collection, client))
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
        client=client,
        collection=collection,
        records=records,
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
