"""Tests against a real Chroma server started by the test (`chroma run`), then stopped."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from chroma_server import ChromaServer, free_port

from bot.catalog import CACHE_FILE
from bot.config import Settings
from bot.errors import IndexNotFound, StoreUnavailable
from bot.ingest import ingest
from bot.retrieval import search
from bot.store import COLLECTION, open_store


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[int]:
    """Run `chroma run` on a free local port for one test; yield the port."""
    if not (Path(sys.executable).parent / "chroma").exists():
        pytest.skip("no chroma executable beside the interpreter")
    with ChromaServer(tmp_path) as server:
        yield server.port


def test_ingest_and_query_through_a_chroma_server(
    chroma_server, seed_dir, tmp_path, fake_embeddings, monkeypatch
) -> None:
    index_dir = tmp_path / "index"
    settings = Settings(
        chroma_host="127.0.0.1", chroma_port=chroma_server, index_dir=index_dir, _env_file=None
    )
    store = open_store(settings, create=True)
    try:
        assert store.target == f"127.0.0.1:{chroma_server}"
        report = ingest([seed_dir], store, fake_embeddings)
        assert len(report.added) == 2 and not report.failed
        chunks = sum(r.chunks for r in store.catalog.articles())
        assert store.vector_count() == chunks > 0
    finally:
        store.close()

    # Everything lives on the server; the folder holds only the catalog derived from it.
    assert (index_dir / CACHE_FILE).is_file()
    assert not (index_dir / "chroma").exists()
    import chromadb

    client = chromadb.HttpClient(host="127.0.0.1", port=chroma_server)
    assert client.get_collection(COLLECTION).count() == chunks

    # A second process configured only through the environment reaches the same server.
    monkeypatch.setenv("NEWSBOT_CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("NEWSBOT_CHROMA_PORT", str(chroma_server))
    monkeypatch.setenv("NEWSBOT_INDEX_DIR", str(index_dir))
    from_env = Settings()
    assert from_env.chroma_host == "127.0.0.1" and from_env.chroma_port == chroma_server
    reopened = open_store(from_env)
    try:
        hits = search(reopened, fake_embeddings, "Who controls Pokrovsk?", 8)
        assert len(hits) == 8
        assert {h.article_id for h in hits} == {r.id for r in reopened.catalog.articles()}
        assert any(h.dense > 0 for h in hits), "no dense hit came back from the server"
        fake_embeddings.reset()
        again = ingest([seed_dir], reopened, fake_embeddings)
        assert len(again.skipped) == 2 and fake_embeddings.calls == []
    finally:
        reopened.close()


def test_an_unreachable_server_raises_store_unavailable(tmp_path) -> None:
    port = free_port()  # nothing listens there
    settings = Settings(
        chroma_host="127.0.0.1", chroma_port=port, index_dir=tmp_path / "index", _env_file=None
    )
    with pytest.raises(StoreUnavailable) as caught:
        open_store(settings, create=True)
    assert caught.value.target == f"127.0.0.1:{port}"
    assert "unreachable" in str(caught.value)


def test_a_server_without_an_index_says_how_to_make_one(chroma_server, tmp_path) -> None:
    settings = Settings(
        chroma_host="127.0.0.1", chroma_port=chroma_server, index_dir=tmp_path / "i", _env_file=None
    )
    with pytest.raises(IndexNotFound) as caught:
        open_store(settings)
    assert caught.value.path == f"127.0.0.1:{chroma_server}"
    assert f"NEWSBOT_CHROMA_HOST=127.0.0.1 and NEWSBOT_CHROMA_PORT={chroma_server}" in str(
        caught.value
    )
