"""Opening the index: a Chroma collection for vectors plus the catalog beside it."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.catalog import CATALOG_FILE, Catalog
from bot.config import Settings
from bot.errors import IndexNotFound, StoreUnavailable

COLLECTION = "newsbot"
logger = logging.getLogger(__name__)


@dataclass
class Index:
    """An open index: the vector collection and the catalog that says what is complete."""

    collection: Any
    catalog: Catalog
    target: str

    def add_vectors(
        self,
        ids: list[str],
        embeddings: list[list[float]],
        documents: list[str],
        metadatas: list[dict[str, Any]],
    ) -> None:
        """Write chunk vectors (replacing any with the same ids)."""
        if ids:
            self.collection.upsert(
                ids=ids, embeddings=embeddings, documents=documents, metadatas=metadatas
            )

    def delete_vectors(self, article_ids: list[str]) -> None:
        """Remove every chunk vector of these articles."""
        for article_id in article_ids:
            self.collection.delete(where={"article_id": article_id})

    def vector_count(self) -> int:
        """Count stored chunk vectors."""
        return int(self.collection.count())

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
        result = self.collection.query(
            query_embeddings=[embedding],
            n_results=min(limit, total),
            where=where,
            include=["metadatas", "distances"],
        )
        hits = []
        for cid, meta, dist in zip(
            result["ids"][0], result["metadatas"][0], result["distances"][0], strict=True
        ):
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
        """Release the catalog."""
        self.catalog.close()


def _client(settings: Settings, index_dir: Path, create: bool) -> tuple[Any, str]:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_host:
        target = f"{settings.chroma_host}:{settings.chroma_port}"
        try:
            client = chromadb.HttpClient(
                host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
            )
            client.heartbeat()
        except Exception as exc:  # the client raises many kinds; all mean "unreachable"
            raise StoreUnavailable(
                target, f"Chroma server unreachable ({type(exc).__name__})"
            ) from exc
        return client, target
    target = str(index_dir)
    try:
        return chromadb.PersistentClient(
            path=str(index_dir / "chroma"), settings=chroma_settings
        ), target
    except Exception as exc:
        raise StoreUnavailable(target, str(exc) or type(exc).__name__) from exc


def open_store(settings: Settings, *, create: bool = False) -> Index:
    """Open the index named by the settings; with create, make it if it does not exist."""
    index_dir = Path(settings.index_dir).expanduser().resolve()
    catalog_path = index_dir / CATALOG_FILE
    if not create and not catalog_path.exists():
        raise IndexNotFound(str(index_dir))
    if create:
        try:
            index_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(str(index_dir), exc.strerror or str(exc)) from exc
    try:
        catalog = Catalog(catalog_path)
    except Exception as exc:
        raise StoreUnavailable(str(index_dir), f"catalog unusable: {exc}") from exc
    try:
        client, target = _client(settings, index_dir, create)
    except StoreUnavailable:
        catalog.close()
        raise
    try:
        # embedding_function=None: vectors always come from our model, never Chroma's default.
        collection = client.get_or_create_collection(
            COLLECTION, metadata={"hnsw:space": "cosine"}, embedding_function=None
        )
    except Exception as exc:
        catalog.close()
        raise StoreUnavailable(target, str(exc) or type(exc).__name__) from exc
    return Index(collection=collection, catalog=catalog, target=target)
