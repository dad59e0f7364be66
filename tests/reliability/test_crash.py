"""Crashes: an ingest killed with SIGKILL at random points leaves an index the next one repairs.

The fast test kills the real command line (through the driver: a slow fake embedder and small
write batches, so most kills land mid-write); the slow one kills the real `newsbot ingest` with
the real model. After every kill the index must still answer from what was committed; after
the last, one ingest completes it with no duplicate and no orphaned chunk.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from bot.chain import Answerer
from bot.config import Settings
from bot.retrieval import search
from bot.store import Index, open_store

from .fakes import HashEmbeddings
from .support import (
    NEWSBOT,
    assert_consistent,
    audit,
    check_answer,
    child_env,
    driver_command,
    run,
)

KILLS = 5  # SIGKILLs in the fast test; the README quotes these three
MORE_KILLS = 15  # in the slow one
REAL_KILLS = 3  # SIGKILLs of the real command line with the real model (slow)
REAL_ARTICLES = 300
TOWNS = ["Avdiro", "Belmar", "Corvin", "Dunmore", "Eskel", "Farrow", "Galloway", "Harlen"]


def write_corpus(folder: Path, count: int, seed: int) -> None:
    """Write count distinct articles, each with attributed claims and several chunks."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        town = TOWNS[n % len(TOWNS)]
        lines = [
            f"title: Report {n} on the fighting near {town}",
            f"outlet: Wire {n % 5}",
            f"date: 2031-0{1 + n % 9}-{10 + n % 18}",
            "---",
        ]
        for k in range(rng.randint(6, 10)):
            lines.append(
                rng.choice(
                    [
                        f"The northern command said on day {k} that its forces held {town}.",
                        f"Southern officials said report {n} overstated the gains at {town}.",
                        f"Residents of {town} said shelling continued through night {k}.",
                        f"A spokesman for the governor denied that {town} had been encircled.",
                        f"Aid groups said {10 * k + n} families had left {town} in report {n}.",
                    ]
                )
            )
        (folder / f"report_{n:04d}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def kill_mid_ingest(command: list[str], rng: random.Random, env: dict[str, str]) -> str:
    """Start an ingest, SIGKILL it at a random point of its writing; say where it died."""
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    events: list[str] = []
    assert process.stderr is not None
    stream = process.stderr

    def follow() -> None:
        for line in stream:
            events.append(line.strip())

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    # Wait for a random number of write events, then a random moment more: kills land while
    # embedding, between the vector write and the record commit, or inside either.
    wanted = rng.randint(1, 4)
    deadline = time.monotonic() + 60
    while len(events) < wanted and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(rng.uniform(0.0, 0.4))
    if process.poll() is not None:
        return "finished before the kill"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    return events[-1] if events else "before any write"


def open_as_a_new_process(settings: Settings) -> Index:
    """Open the index as a separate process (a user's next command) would see it.

    Chroma keeps one embedded system per folder in a process, and this test process looks at
    the index between kills of other processes; a user's next command starts with none. So the
    look starts from a fresh system, not from the one an earlier look left cached.
    """
    from chromadb.api.shared_system_client import SharedSystemClient

    chroma = str(Path(settings.index_dir) / "chroma")
    for cache in ("_identifier_to_system", "_identifier_to_refcount"):
        getattr(SharedSystemClient, cache, {}).pop(chroma, None)
    return open_store(settings)


def assert_answers_from_committed(settings: Settings) -> None:
    """The index a kill left behind opens, and questions see only committed articles."""
    index = open_as_a_new_process(settings)
    try:
        committed = {r.id for r in index.catalog.articles()}
        hits = search(index, HashEmbeddings(), "Who holds Corvin?", 8)
        assert {h.article_id for h in hits} <= committed
        answer = Answerer(settings, index, HashEmbeddings())("Who holds Corvin?")
        check_answer(answer)
    finally:
        index.close()


def kill_repeatedly_then_complete(tmp_path: Path, articles: int, kills: int) -> list[str]:
    """Kill an ingest `kills` times at random points, then let one finish; check everything."""
    corpus = tmp_path / "corpus"
    write_corpus(corpus, articles, seed=7)
    settings = Settings(index_dir=tmp_path / "index")
    command = driver_command(
        "ingest", str(corpus), "--index", str(settings.index_dir), slow=0.002, flush=16, pause=0.3
    )
    rng = random.Random()
    where = []
    stranded = 0
    for _ in range(kills):
        where.append(kill_mid_ingest(command, rng, child_env()))
        if (Path(settings.index_dir) / "chroma").exists():
            assert_answers_from_committed(settings)
            stranded += forget_articles_in_flight(settings)
    survived = [w for w in where if w.startswith("driver:")]
    print(
        f"\nkilled {len(survived)} of {kills} runs mid-ingest, at: {where}; "
        f"{stranded} half-written articles' files then deleted"
    )
    assert len(survived) == kills, where  # the corpus is big enough to be killed mid-way
    assert stranded > 0, "no kill landed between a vector write and its record commit"
    before = audit(settings)
    final = run(command, timeout=240)
    assert final.returncode == 0, final.stderr
    assert "failed 0" in final.stdout
    found = assert_consistent(settings)  # the stranded vectors are gone: no orphan
    remaining = len(list(corpus.iterdir()))
    assert found["articles"] == remaining == articles - stranded
    # Nothing was embedded twice: the final run added exactly what the killed runs had not.
    added = int(final.stdout.split("added ")[1].split(",")[0])
    assert added == remaining - before["articles"]
    assert_answers_from_committed(settings)
    return survived


def forget_articles_in_flight(settings: Settings) -> int:
    """Delete the files of articles a kill left with vectors but no record.

    As a user might after a crash. Their vectors can then only go through crash recovery:
    no later ingest re-adds (and so overwrites) them.
    """
    index = open_as_a_new_process(settings)
    try:
        committed = set(index.records.listing())
        found = index.collection.get(include=["metadatas"])
    finally:
        index.close()
    rows = [m for m in found["metadatas"] if m["article_id"] not in committed]
    if not rows:
        return 0
    paths = {Path(str(meta["path"])) for meta in rows}
    for path in paths:
        path.unlink(missing_ok=True)
    return len(paths)


@pytest.mark.timeout(300)
def test_ingest_killed_at_random_points_is_completed_by_the_next(tmp_path: Path) -> None:
    kill_repeatedly_then_complete(tmp_path, articles=90, kills=KILLS)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_many_more_kills(tmp_path: Path) -> None:
    kill_repeatedly_then_complete(tmp_path, articles=250, kills=MORE_KILLS)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_real_ingest_command_killed_at_random_moments(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    write_corpus(corpus, REAL_ARTICLES, seed=11)
    index_dir = tmp_path / "index"
    command = [str(NEWSBOT), "ingest", str(corpus), "--index", str(index_dir)]
    rng = random.Random()
    moments: list[str] = []
    killed = 0
    while killed < REAL_KILLS and len(moments) < 2 * REAL_KILLS:
        process = subprocess.Popen(
            command, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        # The model takes seconds to load; the kill falls anywhere from loading to writing.
        moment = rng.uniform(4.0, 10.0)
        try:
            process.wait(timeout=moment)
            moments.append(f"finished before {moment:.1f}s")
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            moments.append(f"{moment:.1f}s")
            killed += 1
    print(f"\nreal ingest killed at: {moments}")
    assert killed == REAL_KILLS, moments
    final = run(command, timeout=300)
    assert final.returncode == 0, final.stderr
    settings = Settings(index_dir=index_dir)
    found = assert_consistent(settings)
    assert found["articles"] == REAL_ARTICLES
    asked = run(
        [str(NEWSBOT), "ask", "Who holds Corvin?", "--json", "--index", str(index_dir)],
        timeout=120,
    )
    assert asked.returncode == 0, asked.stderr
    check_answer(json.loads(asked.stdout))
