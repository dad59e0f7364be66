"""Hybrid retrieval: dense and BM25 rankings fused, then spread across articles."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.catalog import Filters
from bot.store import Index

if TYPE_CHECKING:
    from bot.embeddings import Embedder

RRF_K = 60
CANDIDATES = 40
_NAME = re.compile(r"\b[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)*")


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk with its scores."""

    chunk_id: str
    article_id: str
    fused: float
    dense: float


def expand_query(question: str, index: Index) -> str:
    """Add the names articles give as aliases of places or things the question names."""
    aliases = index.catalog.facts("alias")
    if not aliases:
        return question
    lowered = question.lower()
    extra = []
    for alias, name in aliases:
        if re.search(rf"\b{re.escape(alias)}\b", lowered) and name.lower() not in lowered:
            extra.append(name)
        elif re.search(rf"\b{re.escape(name.lower())}\b", lowered) and alias not in lowered:
            extra.append(alias)
    return question + (" " + " ".join(sorted(set(extra))) if extra else "")


def fuse(rankings: list[list[tuple[str, str, float]]]) -> dict[str, tuple[str, float]]:
    """Combine rankings by reciprocal rank fusion: chunk id -> (article id, fused score)."""
    fused: dict[str, tuple[str, float]] = {}
    for ranking in rankings:
        for rank, (chunk_id, article_id, _) in enumerate(ranking):
            prior = fused.get(chunk_id, (article_id, 0.0))[1]
            fused[chunk_id] = (article_id, prior + 1.0 / (RRF_K + rank + 1))
    return fused


def diversify(hits: list[Hit], k: int) -> list[Hit]:
    """Pick k hits in score order, with no article taking more than its share at first."""
    cap = max(2, math.ceil(k / 3))
    chosen: list[Hit] = []
    deferred: list[Hit] = []
    per_article: dict[str, int] = {}
    for hit in hits:
        if len(chosen) >= k:
            break
        if per_article.get(hit.article_id, 0) >= cap:
            deferred.append(hit)
            continue
        per_article[hit.article_id] = per_article.get(hit.article_id, 0) + 1
        chosen.append(hit)
    chosen.extend(deferred[: k - len(chosen)])
    return chosen


def search(
    index: Index,
    embeddings: Embedder,
    question: str,
    k: int,
    filters: Filters | None = None,
    query_vector: list[float] | None = None,
) -> list[Hit]:
    """Return up to k chunks for a question, fused from dense and lexical rankings."""
    filters = filters or Filters()
    allowed = index.catalog.allowed_articles(filters)
    query = expand_query(question, index)
    vector = query_vector if query_vector is not None else embeddings.embed_query(query)
    limit = max(CANDIDATES, 3 * k)
    dense = index.dense_search(vector, limit, allowed)
    lexical = index.catalog.lexical_search(query, limit, allowed)
    known = index.catalog.existing(h[1] for h in dense)
    # Vectors of an article whose catalog row is not committed yet are not answerable.
    dense = [h for h in dense if h[1] in known]
    dense_score = {cid: score for cid, _, score in dense}
    fused = fuse([dense, lexical])
    ranked = sorted(fused.items(), key=lambda item: item[1][1], reverse=True)
    hits = [Hit(cid, art, score, dense_score.get(cid, 0.0)) for cid, (art, score) in ranked]
    return diversify(hits, k)
