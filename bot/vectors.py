"""Dense search over the chunk vectors the local cache holds: exact cosine, one matrix product.

The cache (`bot.catalog`) keeps a float32 copy of every chunk vector Chroma holds; this module
turns them into one matrix and ranks it against a question's vector. Exact search over a
matrix needs no index to load and no Chroma call per question, which is what lets an answer
start without importing Chroma at all; at 100,000 chunks it is one product of a 100,000 x 384
matrix, a few milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np


def pack(vector: Any) -> bytes:
    """Encode a vector as the cache stores it: float32 bytes."""
    return np.asarray(vector, dtype=np.float32).tobytes()


class VectorMatrix:
    """Every cached chunk vector, one unit-length row each, with its chunk and article."""

    def __init__(self, chunk_ids: list[str], article_ids: list[str], matrix: Any) -> None:
        self.chunk_ids = chunk_ids
        self.article_ids = article_ids
        self.matrix = matrix
        names = sorted(set(article_ids))
        self._article_index = {a: i for i, a in enumerate(names)}
        self._article_of_row = np.fromiter(
            (self._article_index[a] for a in article_ids), dtype=np.int32, count=len(article_ids)
        )

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str, bytes]], count: int) -> VectorMatrix:
        """Build the matrix from (chunk id, article id, packed vector) rows, `count` at most."""
        chunk_ids: list[str] = []
        article_ids: list[str] = []
        matrix: Any = None
        for chunk_id, article_id, blob in rows:
            vector = np.frombuffer(blob, dtype=np.float32)
            if matrix is None:
                matrix = np.empty((count, vector.shape[0]), dtype=np.float32)
            if len(chunk_ids) >= count or vector.shape[0] != matrix.shape[1]:
                continue  # written after the count was taken, or of another model: skip
            matrix[len(chunk_ids)] = vector
            chunk_ids.append(chunk_id)
            article_ids.append(article_id)
        if matrix is None:
            return cls([], [], np.empty((0, 0), dtype=np.float32))
        matrix = matrix[: len(chunk_ids)]
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        matrix /= np.where(norms > 0, norms, 1.0)
        return cls(chunk_ids, article_ids, matrix)

    def __len__(self) -> int:
        return len(self.chunk_ids)

    def search(
        self, query: Any, limit: int, allowed: set[str] | None = None
    ) -> list[tuple[str, str, float]]:
        """Return the nearest chunks: (chunk id, article id, cosine similarity), best first."""
        if not len(self) or limit <= 0:
            return []
        vector = np.asarray(query, dtype=np.float32)
        if vector.shape[0] != self.matrix.shape[1]:
            raise ValueError(
                f"a {vector.shape[0]}-dimensional question against "
                f"{self.matrix.shape[1]}-dimensional chunk vectors: re-ingest with one model"
            )
        norm = float(np.linalg.norm(vector))
        scores = self.matrix @ (vector / norm if norm > 0 else vector)
        if allowed is not None:
            wanted = [self._article_index[a] for a in allowed if a in self._article_index]
            keep = np.isin(self._article_of_row, np.asarray(wanted, dtype=np.int32))
            scores = np.where(keep, scores, -np.inf)
            limit = min(limit, int(keep.sum()))
            if not limit:
                return []
        limit = min(limit, len(self))
        best = np.argpartition(-scores, limit - 1)[:limit]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(self.chunk_ids[i], self.article_ids[i], float(scores[i])) for i in best]
