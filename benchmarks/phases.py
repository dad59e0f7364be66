"""Benchmark phases, each run in its own process so timings and peak memory are its own.

Usage: python benchmarks/phases.py PHASE WORKDIR [ARGS...]; prints one JSON object.
"""

from __future__ import annotations

import json
import os
import random
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

REPO = Path(__file__).resolve().parents[1]
# The development set's articles, read where they live, beside the repository.
CORPUS = [REPO.parent / "shared" / "corpus" / "seeds", REPO.parent / "shared" / "corpus" / "dev"]
QUESTION = "Who controls Pokrovsk?"
QUESTIONS = [
    "Who controls Pokrovsk?",
    "Has Russia captured Vovchansk?",
    "What was the pre-war population of Pokrovsk?",
    "Who controls Soledar?",
    "Were Ukrainian troops encircled in Soledar?",
    "Has Russia captured Chasiv Yar?",
    "Who was responsible for the blast at the al-Ahli hospital in Gaza?",
    "How many people were killed in the Gaza hospital blast?",
    "Why is Pokrovsk strategically important?",
    "How far is Pokrovsk from Chasiv Yar?",
]


def peak_rss_mb() -> float:
    """Return this process's peak resident memory in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def real_articles() -> list[Any]:
    """Load the development corpus."""
    from bot.articles import discover, load_file

    files, _ = discover(CORPUS)
    return [a for f in files for a in load_file(f)]


def synthetic_articles(count: int, seed: int = 7) -> list[tuple[str, list[int]]]:
    """Recombine the corpus's sentences into `count` articles: (title, sentence ids)."""
    from bot.chunking import split_sentences

    sentences = [a.text[s:e] for a in real_articles() for s, e in split_sentences(a.text)]
    rng = random.Random(seed)
    made = []
    for number in range(count):
        picked = rng.sample(range(len(sentences)), k=rng.randint(8, 16))
        made.append((f"Synthetic report {number}", picked))
    return made


def phase_ingest(work: Path, chunks_wanted: int) -> dict[str, Any]:
    """Ingest recombined articles with the real pipeline; compare with the bare encoder."""
    from bot.chunking import chunk_article, split_sentences
    from bot.claims import analyse
    from bot.config import Settings
    from bot.embeddings import BATCH_SIZE, _sentence_transformer, default_embeddings
    from bot.ingest import ingest
    from bot.store import open_store

    sentences = [a.text[s:e] for a in real_articles() for s, e in split_sentences(a.text)]
    folder = work / "ingest-corpus"
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(11)
    texts: list[str] = []
    total = 0
    number = 0
    from bot.articles import load_file

    while total < chunks_wanted:
        body = "\n".join(rng.sample(sentences, k=rng.randint(8, 16)))
        path = folder / f"{number:05d}.txt"
        path.write_text(f"title: Recombined report {number}\noutlet: Bench\n---\n{body}\n")
        article = load_file(path)[0]
        chunk_texts = [c.text for c in chunk_article(article)]
        texts.extend(chunk_texts)
        total += len(chunk_texts)
        number += 1

    model = _sentence_transformer()
    model.embed_documents(texts[:BATCH_SIZE])  # load and warm the model outside the timings
    started = time.perf_counter()
    model.embed_documents(texts)
    bare = len(texts) / (time.perf_counter() - started)

    settings = Settings(index_dir=work / "ingest-index")
    index = open_store(settings, create=True)
    embeddings = default_embeddings()
    analyse([load_file(folder / "00000.txt")[0]])  # load spaCy outside the timings
    started = time.perf_counter()
    report = ingest([folder], index, embeddings, analyse=analyse)
    first = time.perf_counter() - started
    started = time.perf_counter()
    again = ingest([folder], index, embeddings, analyse=analyse)
    second = time.perf_counter() - started
    index.close()
    return {
        "articles": number,
        "chunks": report.chunks_embedded,
        "bare_chunks_per_s": bare,
        "ingest_chunks_per_s": report.chunks_embedded / first,
        "ratio_to_bare": (report.chunks_embedded / first) / bare,
        "first_ingest_s": first,
        "reingest_s": second,
        "reingest_speedup": first / second,
        "reingest_embedded": again.chunks_embedded,
        "peak_rss_mb": peak_rss_mb(),
    }


def phase_build(work: Path, chunks_wanted: int) -> dict[str, Any]:
    """Build an index of about `chunks_wanted` chunks from recombined real sentences.

    Each distinct sentence of the corpus is embedded once with the real model; a chunk's vector
    is the normalised mean of its sentences' vectors, its statements are the statements the
    real analysis found in those sentences, and its reported sentences carry their own vectors,
    as ingest stores them. Retrieval and attribution then run on real vectors
    and real statements at the scale asked for, without hours of embedding.
    """
    import numpy as np

    from bot.articles import Article, article_id
    from bot.chunking import chunk_article, reported_sentences, split_sentences
    from bot.claims import analyse
    from bot.config import Settings
    from bot.embeddings import default_embeddings, pack_vector
    from bot.records import StoredArticle
    from bot.store import open_store

    originals = real_articles()
    sentences: list[str] = []
    said: dict[int, list[dict[str, Any]]] = {}
    for article, (statements, _) in zip(originals, analyse(originals), strict=True):
        for s, e in split_sentences(article.text):
            sid = len(sentences)
            sentences.append(article.text[s:e])
            for st in statements:
                if st["start"] >= s and st["end"] <= e:
                    said.setdefault(sid, []).append(
                        {**st, "start": st["start"] - s, "end": st["end"] - s}
                    )
    embeddings = default_embeddings()
    vectors = np.asarray(embeddings.embed_documents(sentences), dtype=np.float32)
    packed = [pack_vector(v.tolist()) for v in vectors]
    statement_vecs = {sid: [packed[sid]] * len(items) for sid, items in said.items()}
    settings = Settings(index_dir=work / f"scale-{chunks_wanted}")
    index = open_store(settings, create=True)
    rng = random.Random(chunks_wanted)
    total = 0
    number = 0
    pending_vectors: list[tuple[Any, list[float]]] = []
    pending_articles: list[tuple[Any, list[Any], list[dict[str, Any]]]] = []
    started = time.perf_counter()
    while total < chunks_wanted:
        ids = rng.sample(range(len(sentences)), k=rng.randint(8, 16))
        offsets = []
        parts = []
        cursor = 0
        for sid in ids:
            offsets.append((sid, cursor))
            parts.append(sentences[sid])
            cursor += len(sentences[sid]) + 1
        text = "\n".join(parts)
        article = Article(
            id=article_id(text + str(number)),
            title=f"Recombined report {number}",
            outlet=rng.choice(["Wire A", "Wire B", "Daily C"]),
            published="2025-12-01",
            url=None,
            path=str(work / f"scale-{chunks_wanted}" / f"{number}.txt"),
            text=text,
        )
        chunks = chunk_article(article)
        statements = []
        for sid, at in offsets:
            for st, vec in zip(said.get(sid, []), statement_vecs.get(sid, []), strict=True):
                statements.append(
                    {**st, "start": st["start"] + at, "end": st["end"] + at, "vec": vec}
                )
        for chunk in chunks:
            members = [sid for sid, at in offsets if chunk.start <= at < chunk.end]
            mean = vectors[members].mean(axis=0)
            pending_vectors.append((chunk, (mean / np.linalg.norm(mean)).tolist()))
        starts = {at: sid for sid, at in offsets}
        # A reported sentence is one of the corpus's sentences: its real vector, embedded once.
        reported = [
            (s, e, packed[starts[s]])
            for s, e in reported_sentences(text)
            if s in starts and e - s == len(sentences[starts[s]])
        ]
        pending_articles.append((article, chunks, statements, reported))
        total += len(chunks)
        number += 1
        if len(pending_vectors) >= 2000 or total >= chunks_wanted:
            index.add_vectors(
                ids=[c.id for c, _ in pending_vectors],
                embeddings=[v for _, v in pending_vectors],
                documents=[c.text for c, _ in pending_vectors],
                metadatas=[
                    {"article_id": c.article_id, "position": c.position} for c, _ in pending_vectors
                ],
            )
            index.records.put_articles(
                [
                    StoredArticle(
                        art, [(c.position, c.start, c.end) for c in cs], found, [], reported
                    )
                    for art, cs, found, reported in pending_articles
                ]
            )
            index.records.set_paths({art.path: art.id for art, _, _, _ in pending_articles})
            pending_vectors, pending_articles = [], []
    index.refresh()  # the local catalog (BM25 and all), as an answering host builds it
    built = time.perf_counter() - started
    embeddings.prepare_fast_path(work / f"scale-{chunks_wanted}")
    count = index.vector_count()
    index.close()
    return {"chunks": count, "articles": number, "build_s": built, "peak_rss_mb": peak_rss_mb()}


def phase_warm(work: Path, chunks_wanted: int, rounds: int) -> dict[str, Any]:
    """Answer the question set repeatedly in one warm process; report latency percentiles."""
    from bot.chain import build_answerer
    from bot.config import Settings

    index_dir = work / f"scale-{chunks_wanted}"
    settings = Settings(index_dir=index_dir)
    started = time.perf_counter()
    answerer = build_answerer(settings)
    answerer.index.refresh()  # the local catalog: built by the build phase, checked here
    opened = time.perf_counter() - started
    for question in QUESTIONS:  # warm every cache once
        answerer(question)
    timings = []
    for _ in range(rounds):
        for question in QUESTIONS:
            started = time.perf_counter()
            answerer(question)
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "chunks": chunks_wanted,
        "questions": len(timings),
        "p50_ms": statistics.median(timings),
        "p95_ms": timings[int(0.95 * (len(timings) - 1))],
        "fast_encoder": answerer.embeddings._fast() is not None,  # type: ignore[attr-defined]
        "open_s": opened,
        "peak_rss_mb": peak_rss_mb(),
    }


def phase_serve(work: Path, chunks_wanted: int, clients: int, rounds: int) -> dict[str, Any]:
    """Time POST /api/ask on a warm `newsbot serve` with `clients` clients asking at once."""
    import http.client
    import socket
    import subprocess
    import threading

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    command = [sys.executable, "-m", "bot", "serve", "--port", str(port)]
    command += ["--index", str(work / f"scale-{chunks_wanted}")]
    env = {**os.environ, "NEWSBOT_RATE_LIMIT": "0", "NEWSBOT_API_TOKEN": ""}
    server = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)

    def ask(connection: http.client.HTTPConnection, question: str) -> float:
        started = time.perf_counter()
        connection.request(
            "POST",
            "/api/ask",
            json.dumps({"question": question}),
            {"content-type": "application/json"},
        )
        response = connection.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200 or "status" not in json.loads(body):
            raise RuntimeError(f"{response.status}: {body[:200]!r}")
        return elapsed

    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                connection.request("GET", "/healthz")
                health = connection.getresponse()
                health.read()
                if health.status == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {server.stderr.read()}")  # type: ignore[union-attr]
            time.sleep(0.2)
        for question in QUESTIONS:  # warm every cache once
            ask(connection, question)
        timings: list[float] = []
        failures: list[str] = []

        def client(number: int) -> None:
            own = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                for turn in range(rounds * len(QUESTIONS)):
                    timings.append(ask(own, QUESTIONS[(number + turn) % len(QUESTIONS)]))
            except Exception as exc:  # reported below; the phase fails
                failures.append(repr(exc))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        if failures:
            raise RuntimeError(failures[0])
        status = Path(f"/proc/{server.pid}/status").read_text()
        peak = next(
            int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    timings.sort()
    return {
        "chunks": chunks_wanted,
        "clients": clients,
        "answers": len(timings),
        "p50_ms": statistics.median(timings),
        "p95_ms": timings[int(0.95 * (len(timings) - 1))],
        "answers_per_s": len(timings) / wall,
        "server_peak_rss_mb": peak / 1024,
    }


def phase_baseline_build(work: Path) -> dict[str, Any]:
    """Build the plain LangChain RAG index (langchain_chroma over the same seed chunks)."""
    from langchain_chroma import Chroma
    from langchain_huggingface import HuggingFaceEmbeddings

    from bot.articles import discover, load_file
    from bot.chunking import chunk_article
    from bot.embeddings import model_path

    files, _ = discover([REPO / "data" / "articles"])
    texts = [c.text for f in files for a in load_file(f) for c in chunk_article(a)]
    embeddings = HuggingFaceEmbeddings(model_name=str(model_path()))
    Chroma.from_texts(texts, embeddings, persist_directory=str(work / "baseline"))
    return {"chunks": len(texts)}


def phase_baseline_ask(work: Path) -> dict[str, Any]:
    """What a plain LangChain RAG process does for one question (timed from outside)."""
    from langchain_chroma import Chroma
    from langchain_huggingface import HuggingFaceEmbeddings

    from bot.embeddings import model_path

    embeddings = HuggingFaceEmbeddings(model_name=str(model_path()))
    store = Chroma(persist_directory=str(work / "baseline"), embedding_function=embeddings)
    for doc in store.similarity_search(QUESTION, k=4):
        print(doc.page_content[:200])
    return {}


def main() -> None:
    """Run one phase and print its JSON result."""
    phase, work = sys.argv[1], Path(sys.argv[2])
    args = [int(a) for a in sys.argv[3:]]
    result = globals()[f"phase_{phase}"](work, *args)
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
