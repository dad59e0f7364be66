"""A fast question encoder: the bundled MiniLM exported once to ONNX, run with onnxruntime.

Importing torch and sentence-transformers costs seconds; a question needs neither. The export
happens at ingest (torch is loaded there anyway), is cached beside the index, carries a
fingerprint of the model files so a changed model is exported again, and is only used after it
has been checked to reproduce the sentence-transformers embeddings.
"""

from __future__ import annotations

import hashlib
import json
import logging
import warnings
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

ONNX_DIR = "onnx"
MAX_TOKENS = 256
MIN_COSINE = 0.9999
CHECK_SENTENCES = [
    "Who controls the city?",
    "The ministry said its forces had captured the town after weeks of fighting.",
    "A spokesperson denied the report, calling it propaganda.",
    "Ceasefire talks resumed on Monday, officials said, according to state media.",
    "x",
]


def fingerprint(model_dir: Path) -> str:
    """Identify a model by the names, sizes and start of its files."""
    digest = hashlib.sha256()
    for path in sorted(model_dir.rglob("*")):
        if path.is_file():
            digest.update(f"{path.relative_to(model_dir)}:{path.stat().st_size}".encode())
            with path.open("rb") as handle:
                digest.update(handle.read(65536))
    return digest.hexdigest()[:16]


class OnnxEncoder:
    """Mean-pooled, normalised MiniLM embeddings computed with onnxruntime and tokenizers."""

    def __init__(self, onnx_path: Path, model_dir: Path) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(
            str(onnx_path), options, providers=["CPUExecutionProvider"]
        )
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.enable_padding()
        self.inputs = {i.name for i in self.session.get_inputs()}

    def encode(self, texts: list[str]) -> Any:
        """Return one normalised vector per text, as a float32 matrix."""
        import numpy as np

        batch = self.tokenizer.encode_batch(texts)
        ids = np.asarray([e.ids for e in batch], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in batch], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = self.session.run(None, feed)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


def _paths(index_dir: Path) -> tuple[Path, Path]:
    folder = index_dir / ONNX_DIR
    return folder / "model.onnx", folder / "model.json"


def load(index_dir: Path, model_dir: Path) -> OnnxEncoder | None:
    """Return the cached encoder if it exists, matches the model and was verified."""
    onnx_path, meta_path = _paths(index_dir)
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, ValueError):
        return None
    if meta.get("fingerprint") != fingerprint(model_dir) or not meta.get("verified"):
        return None
    try:
        return OnnxEncoder(onnx_path, model_dir)
    except Exception:  # a corrupt or foreign file: fall back to sentence-transformers
        logger.warning("cannot load %s; questions use sentence-transformers", onnx_path)
        return None


def export(index_dir: Path, model_dir: Path, reference: Any) -> bool:
    """Export the model to ONNX beside the index and verify it against `reference`.

    `reference(texts)` returns sentence-transformers embeddings. Returns whether the export is
    usable; a failed check leaves it unused.
    """
    import numpy as np
    import torch
    from transformers import AutoModel

    onnx_path, meta_path = _paths(index_dir)
    stamp = fingerprint(model_dir)
    try:
        if json.loads(meta_path.read_text()).get("fingerprint") == stamp and onnx_path.exists():
            return True
    except (OSError, ValueError):
        pass
    onnx_path.parent.mkdir(parents=True, exist_ok=True)
    bert = AutoModel.from_pretrained(str(model_dir))
    bert.eval()

    class _Hidden(torch.nn.Module):
        # Keyword arguments: positional order of the model's forward differs across versions.
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=token_type_ids,
            ).last_hidden_state

    model = _Hidden()
    sample = {
        "input_ids": torch.ones((1, 8), dtype=torch.long),
        "attention_mask": torch.ones((1, 8), dtype=torch.long),
        "token_type_ids": torch.zeros((1, 8), dtype=torch.long),
    }
    partial = onnx_path.with_suffix(".partial")
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer chatter about constant shapes; checked below
        torch.onnx.export(
            model,
            (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"]),
            str(partial),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                "input_ids": axes,
                "attention_mask": axes,
                "token_type_ids": axes,
                "last_hidden_state": axes,
            },
            opset_version=17,
            dynamo=False,
        )
    partial.replace(onnx_path)
    encoder = OnnxEncoder(onnx_path, model_dir)
    theirs = np.asarray(reference(CHECK_SENTENCES), dtype=np.float32)
    # Checked in a padded batch and one by one: questions arrive alone.
    batch = encoder.encode(CHECK_SENTENCES)
    single = np.vstack([encoder.encode([s]) for s in CHECK_SENTENCES])
    cosine = float(
        min(np.min(np.sum(batch * theirs, axis=1)), np.min(np.sum(single * theirs, axis=1)))
    )
    verified = cosine >= MIN_COSINE
    meta_path.write_text(json.dumps({"fingerprint": stamp, "verified": verified, "cosine": cosine}))
    if not verified:
        logger.warning("ONNX export gave cosine %.5f < %s; not used", cosine, MIN_COSINE)
    return verified
