"""Opening the index: a Chroma collection for vectors plus the catalog beside it.

Policy for concurrent use: any number of processes may answer from an index while one ingest
writes to it (SQLite WAL for the catalog; Chroma's own locking for the vectors, and the catalog
decides what is visible). Writers take an exclusive lock file in the index folder, so a second
ingest into the same index is refused instead of interleaving with the first: its crash recovery
would otherwise delete the vectors the first is still writing. An index folder the process may
not write is opened read-only: the catalog read-only, the embedded vectors from a scratch copy.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import tempfile
import threading
import urllib.error
import urllib.request
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from bot.catalog import CATALOG_FILE, Catalog
from bot.config import Settings
from bot.errors import IndexNotFound, NewsbotError, StoreUnavailable

COLLECTION = "newsbot"
WRITE_LOCK = "ingest.lock"
# Seconds a Chroma server may take to accept a connection, and to answer one request. Chroma's
# own HTTP client waits forever; a stalled server must give a clear error, never a hang.
CHROMA_CONNECT_TIMEOUT = 5.0
CHROMA_TIMEOUT = 60.0
logger = logging.getLogger(__name__)
T = TypeVar("T")
_REOPEN_LOCK = threading.Lock()


@dataclass
class Index:
    """An open index: the vector collection and the catalog that says what is complete."""

    collection: Any
    catalog: Catalog
    target: str
    readonly: bool = False
    _scratch: Path | None = field(default=None, repr=False)
    _reopen: Callable[[], Any] | None = field(default=None, repr=False)

    def _vectors(self, call: Callable[[], T]) -> T:
        """Run one vector store call; its failures become StoreUnavailable."""
        try:
            return call()
        except NewsbotError:
            raise
        except Exception as exc:  # httpx, chromadb and Rust binding errors alike
            detail = " ".join(str(exc).split())[:200]
            kind = type(exc).__name__ + (f": {detail}" if detail else "")
            raise StoreUnavailable(self.target, f"the vector store failed ({kind})") from exc

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the index's write lock: one writer at a time, readers never wait."""
        folder = self.catalog.path.parent
        if self.readonly:
            raise StoreUnavailable(str(folder), "the index folder is read-only")
        try:
            handle = (folder / WRITE_LOCK).open("a+b")
        except OSError as exc:
            raise StoreUnavailable(str(folder), (exc.strerror or str(exc)).lower()) from exc
        with handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as exc:
                raise StoreUnavailable(
                    str(folder), "another ingest is writing to it; try again when it has finished"
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
        if ids:
            self._vectors(
                lambda: self.collection.upsert(
                    ids=ids, embeddings=embeddings, documents=documents, metadatas=metadatas
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
        if allowed is not None and not allowed:
            return []
        where = {"article_id": {"$in": sorted(allowed)}} if allowed is not None else None
        total = self.vector_count()
        if total == 0:
            return []
        failed = self.collection

        def query() -> Any:
            return self.collection.query(
                query_embeddings=[embedding],
                n_results=min(limit, total),
                where=where,
                include=["metadatas", "distances"],
            )

        try:
            result = self._vectors(query)
        except StoreUnavailable:
            if self._reopen is None:
                raise
            # An embedded store first written by another process after this one opened it
            # cannot be read through the cached handle ("Nothing found on disk"); a fresh
            # handle can.
            with _REOPEN_LOCK:
                if self.collection is failed:
                    logger.info("reopening the vector store at %s", self.target)
                    self.collection = self._vectors(self._reopen)
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
        """Release the catalog (and the scratch copy of a read-only index's vectors)."""
        self.catalog.close()
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


def _fresh_collection(path: Path, target: str) -> Any:
    """Open the embedded collection again, past this process's cached Chroma system."""
    from chromadb.api.shared_system_client import SharedSystemClient

    # Chroma shares one system per folder within a process; the stale one must go.
    for cache in ("_identifier_to_system", "_identifier_to_refcount"):
        getattr(SharedSystemClient, cache, {}).pop(str(path), None)
    return _collection(_embedded_client(path, target))


def writable(index_dir: Path) -> bool:
    """Say whether this process may write the index folder (and its catalog, if present)."""
    catalog = index_dir / CATALOG_FILE
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


def open_store(settings: Settings, *, create: bool = False) -> Index:
    """Open the index named by the settings; with create, make it if it does not exist.

    Without create, an index folder this process may not write is opened read-only: questions
    are answered, writes are refused.
    """
    index_dir = Path(settings.index_dir).expanduser().resolve()
    catalog_path = index_dir / CATALOG_FILE
    if not create and not catalog_path.exists():
        raise IndexNotFound(str(index_dir))
    if create:
        try:
            index_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(str(index_dir), exc.strerror or str(exc)) from exc
    readonly = not writable(index_dir)
    if create and readonly:
        raise StoreUnavailable(str(index_dir), "the folder is read-only; ingest needs to write it")
    try:
        catalog = Catalog(catalog_path, readonly=readonly)
    except Exception as exc:
        raise StoreUnavailable(str(index_dir), f"catalog unusable: {exc}") from exc
    scratch: Path | None = None
    reopen: Callable[[], Any] | None = None
    try:
        if settings.chroma_host:
            client, target = _server_client(settings)
        else:
            target = str(index_dir)
            chroma_dir = index_dir / "chroma"
            if readonly:
                scratch = _scratch_copy(chroma_dir)
                chroma_dir = scratch / "chroma"
            client = _embedded_client(chroma_dir, target)
            reopen = partial(_fresh_collection, chroma_dir, target)
        collection = _collection(client)
    except Exception as exc:
        catalog.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        if isinstance(exc, StoreUnavailable):
            raise
        raise StoreUnavailable(str(index_dir), str(exc) or type(exc).__name__) from exc
    index = Index(
        collection=collection,
        catalog=catalog,
        target=target,
        readonly=readonly,
        _scratch=scratch,
        _reopen=reopen,
    )
    if scratch is not None:
        # Answerers are rarely closed; the scratch copy goes when the index or the process does.
        weakref.finalize(index, shutil.rmtree, scratch, ignore_errors=True)
    return index
