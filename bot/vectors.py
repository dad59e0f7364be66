"""Dense search over the chunk vectors the local cache holds, without Chroma and without an index.

The cache (`bot.catalog`) keeps a float32 copy of every chunk vector Chroma holds; this module
turns them into one matrix and ranks it against a question's vector, so an answer needs no
Chroma call and no index to load. Up to `EXACT_UP_TO` chunks the matrix holds the vectors
themselves and the search is exact. Above that, holding and scanning every 384-float vector
would cost a warm process its memory and each question tens of milliseconds, so the matrix
holds each vector projected on its `REDUCED` main directions (found from a sample of the
vectors themselves): the projected scores pick `RESCORED` candidates, and their full vectors,
read back from the cache, give the exact cosine that ranks them.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

import numpy as np

from bot.errors import ModelMismatch

EXACT_UP_TO = 50_000  # chunks searched exactly, every vector held whole
REDUCED = 128  # directions kept above that
RESCORED = 512  # candidates of the projected search whose exact cosine is computed
SAMPLE = 20_000  # vectors the directions are found from
BLOCK = 8192  # vectors projected at a time while loading
# From this many chunks a question's product is large enough for NumPy's BLAS to wake its
# threads; they then spin, waiting for more work, while the question encoder (onnxruntime, with
# threads of its own) needs the same cores. On 2 cores a warm answer at 100,000 chunks took
# 41-53 ms with OpenBLAS's default threads and 29-30 ms with one, so a process holding a matrix
# this large keeps BLAS to one thread.
ONE_BLAS_THREAD_FROM = 10_000

Rows = Iterable[tuple[int, str, str, bytes]]  # (vector row id, chunk id, article id, vector)
# vector row ids -> (chunk id, packed vector) of each row still cached
Fetch = Callable[[list[int]], dict[int, tuple[str, bytes]]]


def pack(vector: Any) -> bytes:
    """Encode a vector as the cache stores it: float32 bytes."""
    return np.asarray(vector, dtype=np.float32).tobytes()


def _unit(rows: Any) -> Any:
    """Scale each row to unit length, in place (no temporary the size of the matrix)."""
    norms = np.sqrt(np.einsum("ij,ij->i", rows, rows))[:, None]
    rows /= np.where(norms > 0, norms, 1.0)
    return rows


def directions(sample: Iterable[Any], count: int | None = None) -> Any:
    """Return the main directions of sample vectors (`REDUCED` of them) as a basis, one a column.

    The vectors are read `BLOCK` at a time into their Gram matrix, so a large sample costs no
    more memory than one block.
    """
    gram: Any = None
    for block in _blocks(sample):
        rows = _unit(np.array(block, dtype=np.float32))
        gram = rows.T @ rows if gram is None else gram + rows.T @ rows
    if gram is None:
        return None
    _, eigenvectors = np.linalg.eigh(gram)
    return np.ascontiguousarray(eigenvectors[:, ::-1][:, : count or REDUCED], dtype=np.float32)


def _blocks(vectors: Iterable[Any]) -> Iterable[list[Any]]:
    block: list[Any] = []
    for vector in vectors:
        block.append(vector)
        if len(block) == BLOCK:
            yield block
            block = []
    if block:
        yield block


class VectorMatrix:
    """Every cached chunk vector, one column each, with its chunk, article and cache row id."""

    def __init__(
        self,
        chunk_ids: list[str],
        article_ids: list[str],
        matrix: Any,
        *,
        rowids: Any = None,
        basis: Any = None,
        fetch: Fetch | None = None,
    ) -> None:
        self.chunk_ids = chunk_ids
        self.article_ids = article_ids
        # One column per chunk (a question's scores are then one fast row-times-matrix): the
        # unit vectors, or their projections on `basis`.
        self.matrix = matrix
        self.rowids = rowids
        self.basis = basis
        self._fetch = fetch
        names = sorted(set(article_ids))
        self._article_index = {a: i for i, a in enumerate(names)}
        self._article_of_row = np.fromiter(
            (self._article_index[a] for a in article_ids), dtype=np.int32, count=len(article_ids)
        )

    @classmethod
    def load(
        cls,
        rows: Rows,
        count: int,
        *,
        sample: Iterable[Any] | None = None,
        fetch: Fetch | None = None,
    ) -> VectorMatrix:
        """Build the matrix from the cache's rows, `count` at most.

        With a sample of the vectors (and a way to fetch full vectors back), the rows are
        held projected on the sample's main directions; without, held whole. The matrix is
        allocated once and filled a block at a time: loading costs little more than holding.
        """
        if count >= ONE_BLAS_THREAD_FROM:
            _one_blas_thread()
        basis = directions(sample) if sample is not None else None
        chunk_ids: list[str] = []
        article_ids: list[str] = []
        rowids: list[int] = []
        names: dict[str, str] = {}  # one string per article, however many chunks it has
        matrix: Any = None
        block: list[Any] = []
        width = 0
        for rowid, chunk_id, article_id, blob in rows:
            vector = np.frombuffer(blob, dtype=np.float32)
            width = width or vector.shape[0]
            if len(chunk_ids) >= count or vector.shape[0] != width:
                continue  # written after the count was taken, or of another model: skip
            if matrix is None:
                held = width if basis is None else basis.shape[1]
                matrix = np.empty((held, count), dtype=np.float32)
            block.append(vector)
            chunk_ids.append(chunk_id)
            article_ids.append(names.setdefault(article_id, article_id))
            rowids.append(rowid)
            if len(block) == BLOCK:
                _fill(matrix, len(chunk_ids) - len(block), block, basis)
                block = []
        if matrix is None:
            return cls([], [], np.empty((0, 0), dtype=np.float32))
        _fill(matrix, len(chunk_ids) - len(block), block, basis)
        if len(chunk_ids) < count:  # rows skipped: keep only those filled
            matrix = np.ascontiguousarray(matrix[:, : len(chunk_ids)])
        return cls(
            chunk_ids,
            article_ids,
            matrix,
            rowids=np.asarray(rowids, dtype=np.int64),
            basis=basis,
            fetch=fetch if basis is not None else None,
        )

    def __len__(self) -> int:
        return len(self.chunk_ids)

    def search(
        self, query: Any, limit: int, allowed: set[str] | None = None
    ) -> list[tuple[str, str, float]]:
        """Return the nearest chunks: (chunk id, article id, cosine similarity), best first."""
        if not len(self) or limit <= 0:
            return []
        vector = np.asarray(query, dtype=np.float32)
        width = self.matrix.shape[0] if self.basis is None else self.basis.shape[0]
        if vector.shape[0] != width:
            raise ModelMismatch(
                f"a {vector.shape[0]}-dimensional question against {width}-dimensional chunk "
                "vectors: re-ingest with one model"
            )
        norm = float(np.linalg.norm(vector))
        vector = vector / norm if norm > 0 else vector
        probe = vector if self.basis is None else vector @ self.basis
        scores = probe @ self.matrix
        if allowed is not None:
            wanted = [self._article_index[a] for a in allowed if a in self._article_index]
            keep = np.isin(self._article_of_row, np.asarray(wanted, dtype=np.int32))
            scores = np.where(keep, scores, -np.inf)
            limit = min(limit, int(keep.sum()))
            if not limit:
                return []
        limit = min(limit, len(self))
        if self.basis is None or self._fetch is None:
            best = _top(scores, limit)
            return [(self.chunk_ids[i], self.article_ids[i], float(scores[i])) for i in best]
        candidates = _top(scores, min(len(self), max(RESCORED, limit)))
        candidates = candidates[np.isfinite(scores[candidates])]
        picked = list(zip(candidates.tolist(), self.rowids[candidates].tolist(), strict=True))
        full = self._fetch([rowid for _, rowid in picked])
        # A candidate removed from the cache since the matrix was loaded is left out, and so is
        # one whose row another chunk has taken since.
        kept: list[tuple[int, int]] = []
        for i, rowid in picked:
            chunk_id, blob = full.get(rowid, ("", b""))
            if chunk_id == self.chunk_ids[i] and len(blob) == 4 * width:
                kept.append((i, rowid))
        if not kept:
            return []
        blobs = b"".join(full[rowid][1] for _, rowid in kept)
        whole = np.frombuffer(blobs, dtype=np.float32).reshape(len(kept), width)
        lengths = np.sqrt(np.einsum("ij,ij->i", whole, whole))
        exact = (whole @ vector) / np.where(lengths > 0, lengths, 1.0)
        order = np.argsort(-exact, kind="stable")[:limit]
        return [
            (self.chunk_ids[kept[j][0]], self.article_ids[kept[j][0]], float(exact[j]))
            for j in order.tolist()
        ]


class MatrixCache:
    """One process's matrix of a cache's vectors, loaded again when their token changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: tuple[str, VectorMatrix] | None = None

    def get(self, token: str, load: Callable[[], VectorMatrix]) -> VectorMatrix:
        """Return the matrix for this token, loading it if the one held is older."""
        with self._lock:
            if self._held is None or self._held[0] != token:
                self._held = (token, load())
            return self._held[1]


def full_vectors(
    rows: Callable[[str, list[int]], list[Any]], rowids: list[int]
) -> dict[int, tuple[str, bytes]]:
    """Return the chunk and cached vector of these vector rows (`rows` queries the cache)."""
    if not rowids:
        return {}
    marks = ",".join("?" * len(rowids))
    found = rows(
        "SELECT v.chunk_rowid, c.id, v.vec FROM vectors v JOIN chunks c ON c.rowid = v.chunk_rowid "
        f"WHERE v.chunk_rowid IN ({marks})",
        rowids,
    )
    return {int(r[0]): (str(r[1]), bytes(r[2])) for r in found}


def read_matrix(db: sqlite3.Connection, fetch: Fetch) -> VectorMatrix:
    """Load the matrix from the cache's `vectors` table, in one read transaction."""
    db.execute("BEGIN")
    try:
        count = int(db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])
        sample = None
        if count > EXACT_UP_TO:
            step = count // SAMPLE + 1
            sample = (
                np.frombuffer(r[0], dtype=np.float32)
                for r in db.execute("SELECT vec FROM vectors WHERE chunk_rowid % ? = 0", (step,))
            )
        cursor = db.execute(
            "SELECT v.chunk_rowid, c.id, c.article_id, v.vec FROM vectors v "
            "JOIN chunks c ON c.rowid = v.chunk_rowid"
        )
        return VectorMatrix.load(cursor, count, sample=sample, fetch=fetch)
    finally:
        db.execute("COMMIT")


@cache
def _one_blas_thread() -> Any:
    """Limit NumPy's BLAS to one thread for the rest of the process (the limiter is kept)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _fill(matrix: Any, start: int, block: list[Any], basis: Any) -> None:
    """Write a block of vectors, made unit length (and projected on `basis`), from row `start`."""
    if not block:
        return
    rows = _unit(np.array(block, dtype=np.float32))
    matrix[:, start : start + len(block)] = (rows if basis is None else rows @ basis).T


def _top(scores: Any, count: int) -> Any:
    best = np.argpartition(-scores, count - 1)[:count]
    return best[np.argsort(-scores[best], kind="stable")]
