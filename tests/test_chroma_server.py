"""Tests against a real Chroma server started by the test (`chroma run`), then stopped."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.catalog import CACHE_FILE
from bot.config import Settings
from bot.errors import StoreUnavailable
from bot.ingest import ingest
from bot.retrieval import search
from bot.store import COLLECTION, open_store

STARTUP_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def chroma_binary() -> Path:
    # The console script sits next to the interpreter running the tests (not resolved:
    # a venv's python is a symlink to the system one).
    binary = Path(sys.executable).parent / "chroma"
    if not binary.exists():
        pytest.skip(f"no chroma executable at {binary}")
    return binary


def wait_for_heartbeat(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    url = f"http://127.0.0.1:{port}/api/v2/heartbeat"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"chroma exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"chroma did not answer within {STARTUP_TIMEOUT:.0f}s:\n{log.read_text()[-2000:]}")


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[int]:
    """Run `chroma run` on a free local port for one test; yield the port."""
    port = free_port()
    log = tmp_path / "chroma.log"
    data = tmp_path / "chroma-server-data"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(chroma_binary()),
                "run",
                "--path",
                str(data),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_heartbeat(process, port, log)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


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

    # The vectors live on the server, not in a local embedded index.
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
