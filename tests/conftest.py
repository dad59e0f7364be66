"""Shared fixtures: an isolated environment, a deterministic fake embedder, the real model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.embeddings import Embeddings
from reliability.fakes import HashEmbeddings

REPO_ROOT = Path(__file__).resolve().parents[1]
# Environment that would reach outside the test: a model, a server, Slack, paid APIs.
_CLEARED = (
    "NEWSBOT_LLM",
    "NEWSBOT_CHROMA_HOST",
    "NEWSBOT_CHROMA_PORT",
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_API_URL",
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
)


class FakeEmbeddings(HashEmbeddings):
    """The hashing fake of `reliability.fakes`, keeping a record of every call."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, list[str]]] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages, recording them."""
        self.calls.append(("documents", list(texts)))
        return super().embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        """Embed a question, recording it."""
        self.calls.append(("query", [text]))
        return super().embed_query(text)

    @property
    def texts_embedded(self) -> int:
        """Count every text embedded so far."""
        return sum(len(texts) for _, texts in self.calls)

    def reset(self) -> None:
        """Forget the calls recorded so far."""
        self.calls.clear()


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the index at tmp_path, stay offline, and clear credentials and servers."""
    index_dir = tmp_path / "index"
    monkeypatch.setenv("NEWSBOT_INDEX_DIR", str(index_dir))
    for name in _CLEARED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")
    # A developer's .env (say, with NEWSBOT_LLM set) must not reach the tests.
    from bot.config import Settings

    monkeypatch.setitem(Settings.model_config, "env_file", None)
    return index_dir


@pytest.fixture
def index(isolated_env: Path) -> Iterator[Any]:
    """Return a new, empty index in the isolated index folder."""
    from bot.config import Settings
    from bot.store import open_store

    store = open_store(Settings(index_dir=isolated_env, _env_file=None), create=True)
    yield store
    store.close()


@pytest.fixture
def fake_embeddings() -> FakeEmbeddings:
    """Return a fresh deterministic embedder that records what it was sent."""
    return FakeEmbeddings()


@pytest.fixture
def commands_embed_with_fake(
    monkeypatch: pytest.MonkeyPatch, fake_embeddings: FakeEmbeddings
) -> FakeEmbeddings:
    """Make every command embed with the fake (commands import the factory at call time)."""
    import bot.embeddings

    monkeypatch.setattr(bot.embeddings, "default_embeddings", lambda *a, **k: fake_embeddings)
    return fake_embeddings


@pytest.fixture(scope="session")
def real_embeddings() -> Iterator[Embeddings]:
    """Return the bundled MiniLM embeddings, loaded once per session."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TRANSFORMERS_OFFLINE", "1")
        from bot.embeddings import default_embeddings

        embeddings = default_embeddings()
        embeddings.embed_query("warm up")  # pay the model load here, once
    yield embeddings


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """Return the repository root."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def seed_dir(repo_root: Path) -> Path:
    """Return the folder of the two seed reports shipped with the repository."""
    folder = repo_root / "data" / "articles"
    assert sorted(p.name for p in folder.glob("*.txt")), f"no seed articles in {folder}"
    return folder
