"""Fakes with no test-framework imports, so that driver scripts in subprocesses can use them."""

from __future__ import annotations

import hashlib
import math
import re
import time

from langchain_core.embeddings import Embeddings

DIMENSIONS = 384
_WORD = re.compile(r"\w+", re.UNICODE)


class HashEmbeddings(Embeddings):
    """Deterministic hashing bag-of-words vectors; optionally slow, to widen crash windows."""

    def __init__(self, delay_per_text: float = 0.0) -> None:
        self.delay_per_text = delay_per_text

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * DIMENSIONS
        for word in _WORD.findall(text.lower()):
            digest = hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest()
            slot = int.from_bytes(digest[:4], "big") % DIMENSIONS
            vector[slot] += 1.0 if digest[4] % 2 else -1.0
        norm = math.sqrt(sum(v * v for v in vector))
        if norm == 0.0:
            vector[0], norm = 1.0, 1.0
        return [v / norm for v in vector]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if self.delay_per_text:
            time.sleep(self.delay_per_text * len(texts))
        return [self._vector(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)

    def prepare_fast_path(self, index_dir: object) -> bool:
        return False
