"""Benchmark phases, each run in its own process so timings and peak memory are its own.

Usage: python benchmarks/phases.py PHASE WORKDIR [ARGS...]; prints one JSON object.
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
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
INGEST_RUNS = 3  # bare-encoder and ingest runs, alternated
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


def phase_ingest(work: Path, chunks_wanted: int) -> dict[str, Any]:
    """Ingest recombined articles with the real pipeline; compare with the bare encoder."""
    from bot.chunking import chunk_article, reported_sentences, split_sentences
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
    embeddings = default_embeddings()
    articles = [load_file(path)[0] for path in sorted(folder.glob("*.txt"))]
    analyse(articles[:1])  # load spaCy outside the timings
    # Bare encoder and ingest alternate, each run into a fresh index: the machine's speed
    # drifts, and the ratio is of the two medians.
    bare: list[float] = []
    firsts: list[float] = []
    for run in range(INGEST_RUNS):
        started = time.perf_counter()
        model.embed_documents(texts)
        bare.append(len(texts) / (time.perf_counter() - started))
        folder_of_run = work / f"ingest-index-{run}"
        shutil.rmtree(folder_of_run, ignore_errors=True)
        index = open_store(Settings(index_dir=folder_of_run), create=True)
        started = time.perf_counter()
        report = ingest([folder], index, embeddings, analyse=analyse)
        firsts.append(time.perf_counter() - started)
        if run == 0:
            started = time.perf_counter()
            again = ingest([folder], index, embeddings, analyse=analyse)
            second = time.perf_counter() - started
        index.close()
    # Where the time goes: the parser and attribution, and what is encoded besides the chunks.
    started = time.perf_counter()
    analysed = analyse(articles)
    analysis = time.perf_counter() - started
    extra = [
        f"{a.title}\n{a.text[s['start'] : s['end']]}"
        for a, (found, _) in zip(articles, analysed, strict=True)
        for s in found
    ] + [a.text[s:e] for a in articles for s, e in reported_sentences(a.text)]
    started = time.perf_counter()
    model.embed_documents(extra)
    extra_encoding = time.perf_counter() - started
    first = statistics.median(firsts)
    chunks = report.chunks_embedded
    return {
        "articles": number,
        "chunks": chunks,
        "runs": INGEST_RUNS,
        "bare_chunks_per_s": statistics.median(bare),
        "ingest_chunks_per_s": chunks / first,
        "ratio_to_bare": (chunks / first) / statistics.median(bare),
        "first_ingest_s": first,
        "chunk_encoding_s": chunks / statistics.median(bare),
        "analysis_s": analysis,
        "extra_encoding_s": extra_encoding,
        "extra_texts": len(extra),
        "reingest_s": second,
        "reingest_speedup": first / second,
        "reingest_embedded": again.chunks_embedded,
        "peak_rss_mb": peak_rss_mb(),
    }


def phase_build(work: Path, chunks_wanted: int) -> dict[str, Any]:
    """Build an index of about `chunks_wanted` chunks: the real corpus among varied filler news.

    The development corpus goes in through the real ingest (real vectors, statements and
    sentences), so the questions have their real answers; the rest is invented news of many
    shapes and names (`benchmarks/corpus.py`), as an index of years of news would hold. A
    filler chunk's vector is the normalised mean of its sentences' vectors, and each reported
    sentence carries its own, as ingest stores them.
    """
    import numpy as np
    from corpus import filler_articles, sentence_vector, shape_examples

    from bot.articles import Article, article_id
    from bot.chunking import chunk_article, reported_sentences
    from bot.config import Settings
    from bot.embeddings import default_embeddings, pack_vector
    from bot.ingest import ingest
    from bot.records import StoredArticle
    from bot.store import open_store

    settings = Settings(index_dir=work / f"scale-{chunks_wanted}")
    index = open_store(settings, create=True)
    embeddings = default_embeddings()
    started = time.perf_counter()
    total = ingest(CORPUS, index, embeddings).chunks_embedded
    shapes = np.asarray(embeddings.embed_documents(shape_examples()), dtype=np.float32)
    filler = filler_articles(seed=chunks_wanted, pool=max(200, chunks_wanted // 10))
    pending_vectors: list[tuple[Any, list[float]]] = []
    pending_articles: list[StoredArticle] = []
    number = 0
    while total < chunks_wanted:
        title, sentences = next(filler)
        starts: dict[int, Any] = {}
        parts: list[str] = []
        cursor = 0
        for shape, sentence in sentences:
            starts[cursor] = sentence_vector(shapes, shape, sentence)
            parts.append(sentence)
            cursor += len(sentence) + 1
        text = " ".join(parts)
        article = Article(
            id=article_id(text + str(number)),
            title=title,
            outlet=["Wire A", "Wire B", "Daily C"][number % 3],
            published=f"20{20 + number % 10}-0{1 + number % 9}-1{number % 9}",
            url=None,
            path=str(settings.index_dir / f"{number}.txt"),
            text=text,
        )
        chunks = chunk_article(article)
        for chunk in chunks:
            members = [v for at, v in starts.items() if chunk.start <= at < chunk.end]
            mean = np.mean(members or list(starts.values()), axis=0)
            pending_vectors.append((chunk, (mean / np.linalg.norm(mean)).tolist()))
        reported = [
            (s, e, pack_vector(starts[s].tolist()))
            for s, e in reported_sentences(text)
            if s in starts
        ]
        pending_articles.append(
            StoredArticle(article, [(c.position, c.start, c.end) for c in chunks], [], [], reported)
        )
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
            index.records.put_articles(pending_articles)
            index.records.set_paths({a.article.path: a.id for a in pending_articles})
            pending_vectors, pending_articles = [], []
    index.refresh()  # the local catalog (BM25 and all), as an answering host builds it
    built = time.perf_counter() - started
    embeddings.prepare_fast_path(settings.index_dir)
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
