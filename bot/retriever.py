"""newsbot's retrieval behind LangChain's `BaseRetriever`, for LangChain code that wants one.

Answering never loads this module (nor LangChain): it calls `bot.retrieval.search` directly.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from bot.catalog import Filters
from bot.embeddings import MiniLMEmbeddings
from bot.retrieval import Hit, search
from bot.store import Index

# MiniLMEmbeddings implements the interface without importing LangChain; LangChain code that
# checks for an `Embeddings` accepts it from here on.
Embeddings.register(MiniLMEmbeddings)


class NewsRetriever(BaseRetriever):
    """A LangChain retriever over a newsbot index."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: Any
    embeddings: Any
    k: int = 8
    filters: Filters = Filters()

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        hits = search(self.index, self.embeddings, query, self.k, self.filters)
        return hits_to_documents(self.index, hits)


def hits_to_documents(index: Index, hits: list[Hit]) -> list[Document]:
    """Turn hits into Documents carrying their article's metadata."""
    spans = index.catalog.chunk_spans(h.chunk_id for h in hits)
    docs = []
    for hit in hits:
        record = index.catalog.article(hit.article_id)
        if record is None or hit.chunk_id not in spans:
            continue
        _, position, start, end = spans[hit.chunk_id]
        text = index.catalog.article_text(hit.article_id)[start:end]
        docs.append(
            Document(
                page_content=text,
                id=hit.chunk_id,
                metadata={
                    "chunk_id": hit.chunk_id,
                    "article_id": hit.article_id,
                    "title": record.title,
                    "outlet": record.outlet,
                    "published": record.published,
                    "url": record.url,
                    "path": record.path,
                    "position": position,
                    "start": start,
                    "end": end,
                    "score": hit.fused,
                    "similarity": hit.dense,
                },
            )
        )
    return docs
