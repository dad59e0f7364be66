"""The ONNX question encoder gives the same embeddings as sentence-transformers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from bot import onnx_encoder
from bot.embeddings import MiniLMEmbeddings, model_path

SENTENCES = [
    "Who controls the bridge over the river?",
    "The union said the strike would continue until wages rose.",
    "“We deny every allegation,” a company spokesman told reporters on Friday evening.",
    "Short.",
]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index_dir = tmp_path_factory.mktemp("index")
    assert MiniLMEmbeddings().prepare_fast_path(index_dir)
    return index_dir


def test_onnx_matches_sentence_transformers(exported: Path) -> None:
    slow = np.asarray(MiniLMEmbeddings().embed_documents(SENTENCES))
    fast_embeddings = MiniLMEmbeddings(onnx_dir=exported)
    fast = np.asarray(fast_embeddings.embed_documents(SENTENCES))
    assert fast_embeddings._fast() is not None  # the ONNX path really ran
    cosines = np.sum(slow * fast, axis=1)
    assert cosines.min() >= onnx_encoder.MIN_COSINE
    single = np.asarray(fast_embeddings.embed_query(SENTENCES[2]))
    assert float(single @ slow[2]) >= onnx_encoder.MIN_COSINE


def test_a_changed_model_is_not_used_until_exported_again(exported: Path, tmp_path: Path) -> None:
    copy = tmp_path / "index"
    shutil.copytree(exported, copy)
    meta = copy / onnx_encoder.ONNX_DIR / "model.json"
    stale = json.loads(meta.read_text())
    stale["fingerprint"] = "0" * 16
    meta.write_text(json.dumps(stale))
    assert onnx_encoder.load(copy, model_path()) is None
    assert onnx_encoder.load(exported, model_path()) is not None


def test_an_unverified_export_is_not_used(exported: Path, tmp_path: Path) -> None:
    copy = tmp_path / "index"
    shutil.copytree(exported, copy)
    meta = copy / onnx_encoder.ONNX_DIR / "model.json"
    data = json.loads(meta.read_text())
    data["verified"] = False
    meta.write_text(json.dumps(data))
    assert onnx_encoder.load(copy, model_path()) is None
