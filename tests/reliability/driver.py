"""Run the real `newsbot` command line in a subprocess with test doubles for the slow parts.

    python driver.py [--slow S] [--flush N] [--pause S] [--model hang|fail] -- newsbot-args...

The embedding model is replaced by a hashing fake (optionally slow per text, so that a SIGKILL
lands mid-ingest), and with --model the chat model by one that hangs or fails. Everything else,
from argument parsing to the exit code, is the product's own code in its own process. Each
batch embedded and each vector write are reported on stderr ("driver: embedding N", "driver:
vectors N"), so a test can tell where an ingest is, and where it was killed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fakes import HashEmbeddings  # noqa: E402


class _StubModel:
    """A chat model whose structured output hangs or fails."""

    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour

    def with_structured_output(self, schema: Any, **kwargs: Any) -> Any:
        from langchain_core.runnables import RunnableLambda

        def run(messages: Any) -> Any:
            if self.behaviour == "hang":
                time.sleep(3600)
            raise ConnectionError("provider said no")

        return RunnableLambda(run)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slow", type=float, default=0.0)
    parser.add_argument("--model", choices=["hang", "fail"])
    parser.add_argument("--flush", type=int, help="chunks per write batch (more commit points)")
    parser.add_argument(
        "--pause", type=float, default=0.0, help="seconds between a vector write and its commit"
    )
    parser.add_argument("rest", nargs=argparse.REMAINDER)
    options = parser.parse_args()
    arguments = options.rest[1:] if options.rest[:1] == ["--"] else options.rest

    import bot.embeddings
    import bot.ingest
    import bot.llm
    import bot.store

    if options.flush:
        bot.ingest.FLUSH_CHUNKS = options.flush

    embeddings = HashEmbeddings(delay_per_text=options.slow)
    embed = embeddings.embed_documents

    def announced(texts: list[str]) -> list[list[float]]:
        print(f"driver: embedding {len(texts)}", file=sys.stderr, flush=True)
        return embed(texts)

    embeddings.embed_documents = announced  # type: ignore[method-assign]
    bot.embeddings.default_embeddings = lambda *a, **k: embeddings  # type: ignore[assignment]
    if options.model:
        model = _StubModel(options.model)
        bot.llm.load_model = lambda settings: model  # type: ignore[assignment]

    original = bot.store.Index.add_vectors
    written = {"n": 0}

    def add_vectors(self: Any, ids: list[str], *args: Any, **kwargs: Any) -> None:
        original(self, ids, *args, **kwargs)
        written["n"] += len(ids)
        print(f"driver: vectors {written['n']}", file=sys.stderr, flush=True)
        time.sleep(options.pause)  # a slow commit: widens the window a crash must survive

    bot.store.Index.add_vectors = add_vectors  # type: ignore[method-assign]

    from bot.cli import main as newsbot

    sys.argv = ["newsbot", *arguments]
    newsbot()


if __name__ == "__main__":
    main()
