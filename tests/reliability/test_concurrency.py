"""Concurrency: questions answered in parallel while another process ingests into the same index.

The fast tests run a real `newsbot ingest` process (through the driver, with a slow fake
embedder) against answerers in this process. The slow ones run the real command line with the
real model over the full evaluation corpus, once against the embedded index and once against a
Chroma server.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from chroma_server import ChromaServer
from langchain_core.embeddings import Embeddings

from bot.answer import Answer
from bot.chain import Answerer
from bot.claims import analyse
from bot.config import Settings
from bot.ingest import ingest
from bot.store import open_store

from .fakes import HashEmbeddings
from .support import (
    CORPUS,
    DEV_ARTICLES,
    NEWSBOT,
    REPO,
    assert_consistent,
    check_answer,
    child_env,
    driver_command,
    one_clear_line,
    run,
)

THREADS = 8  # questions in flight at once; the README quotes it
QUESTIONS = [
    "Who controls Pokrovsk?",
    "Has Russia captured Vovchansk?",
    "What was the pre-war population of Pokrovsk?",
    "Who controls Soledar?",
    "Has Russia captured Chasiv Yar?",
    "Who was responsible for the blast at the al-Ahli hospital in Gaza?",
    "Who won the 2022 football World Cup?",
]


@dataclass
class Load:
    """Answers asked from several threads until told to stop, and every failure."""

    answers: list[Answer] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    gone: frozenset[str] = frozenset()
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def ask(self, answerer: Callable[[str], Answer], offset: int, minimum: int) -> None:
        asked = 0
        while asked < minimum or not self.stop.is_set():
            question = QUESTIONS[(offset + asked) % len(QUESTIONS)]
            asked += 1
            try:
                answer = answerer(question)
                check_answer(answer, self.gone)
            except BaseException as exc:  # recorded, so the main thread reports it
                frame = traceback.extract_tb(exc.__traceback__)[-1]
                where = f"{Path(frame.filename).name}:{frame.lineno} in {frame.name}"
                with self.lock:
                    self.errors.append(f"{question}: {type(exc).__name__} at {where}: {exc}")
                return
            with self.lock:
                self.answers.append(answer)


def answer_while(
    settings: Settings,
    embeddings: Embeddings,
    writer: subprocess.Popen[str],
    *,
    minimum: int = 2,
    timeout: float = 240,
    gone: frozenset[str] = frozenset(),
) -> tuple[Load, float]:
    """Ask questions on THREADS threads until the writer process exits; return the load."""
    load = Load(gone=gone)
    shared = Answerer(settings, open_store(settings), embeddings)
    opened = [shared.index]
    answerers: list[Callable[[str], Answer]] = []
    for n in range(THREADS):
        if n < THREADS // 2:
            answerers.append(shared)  # half share one Answerer ...
        else:
            own = Answerer(settings, open_store(settings), embeddings)  # ... half have their own
            opened.append(own.index)
            answerers.append(own)
    threads = [
        threading.Thread(target=load.ask, args=(a, n, minimum), daemon=True)
        for n, a in enumerate(answerers)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    try:
        writer.wait(timeout=timeout)
    finally:
        load.stop.set()
        for thread in threads:
            thread.join(timeout=120)
        for index in opened:
            index.close()
    assert not any(t.is_alive() for t in threads), "a question hung"
    return load, time.monotonic() - started


def seed(settings: Settings, embeddings: Embeddings) -> None:
    index = open_store(settings, create=True)
    try:
        report = ingest([REPO / "data" / "articles"], index, embeddings, analyse=analyse)
        assert len(report.added) == 2
    finally:
        index.close()


def report_load(
    label: str,
    load: Load,
    seconds: float,
    writer: subprocess.Popen[str],
    minimum: int = THREADS * 2,
) -> None:
    stderr = writer.stderr.read() if writer.stderr else ""
    assert writer.returncode == 0, stderr
    assert load.errors == [], load.errors
    assert len(load.answers) >= minimum
    found = sum(a.status != "not_found" for a in load.answers)
    print(
        f"\n{label}: {len(load.answers)} answers ({found} with citations) on {THREADS} threads "
        f"during a {seconds:.0f}s ingest"
    )


def after_ingest(settings: Settings, embeddings: Embeddings) -> None:
    """Once the ingest is over, questions about what it added are answered with citations."""
    answerer = Answerer(settings, open_store(settings), embeddings)
    try:
        for question in ("Who controls Soledar?", "Has Russia captured Chasiv Yar?"):
            answer = answerer(question)
            check_answer(answer)
            assert answer.status == "contested", answer.summary
    finally:
        answerer.index.close()


# --- fast: the driver's slow fake embedder ----------------------------------------------------


@pytest.mark.timeout(180)
def test_questions_in_parallel_while_another_process_ingests(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "index")
    embeddings = HashEmbeddings()
    seed(settings, embeddings)
    writer = subprocess.Popen(
        driver_command("ingest", *DEV_ARTICLES, "--index", str(settings.index_dir), slow=0.02),
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    load, seconds = answer_while(settings, embeddings, writer)
    report_load("embedded index, fake embedder", load, seconds, writer)
    found = assert_consistent(settings)
    assert found["articles"] == 9


@pytest.mark.timeout(180)
def test_questions_in_parallel_while_another_process_replaces_and_prunes(
    tmp_path: Path,
) -> None:
    articles = tmp_path / "articles"
    shutil.copytree(CORPUS / "dev", articles)
    shutil.copytree(CORPUS / "seeds", articles / "seeds")
    settings = Settings(index_dir=tmp_path / "index")
    embeddings = HashEmbeddings()
    index = open_store(settings, create=True)
    try:
        assert len(ingest([articles], index, embeddings, analyse=analyse).added) == 9
    finally:
        index.close()
    files = sorted(articles.glob("*.txt"))
    for path in files[:3]:  # edited: each is replaced, its old vectors deleted
        path.write_text(path.read_text(encoding="utf-8") + "\nEditors updated this report.\n")
    gone = frozenset(str(path) for path in files[3:5])
    for path in files[3:5]:  # deleted: cited until pruned, then gone from the index
        path.unlink()
    writer = subprocess.Popen(
        driver_command(
            "ingest", str(articles), "--prune", "--index", str(settings.index_dir), slow=0.02
        ),
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    load, seconds = answer_while(settings, embeddings, writer, minimum=4, gone=gone)
    report_load("embedded index, replace and prune", load, seconds, writer, minimum=THREADS)
    found = assert_consistent(settings)
    assert found["articles"] == 7


@pytest.mark.timeout(120)
def test_a_second_ingest_into_the_same_index_is_refused_while_the_first_runs(
    tmp_path: Path,
) -> None:
    settings = Settings(index_dir=tmp_path / "index")
    seed(settings, HashEmbeddings())
    index_arg = ["--index", str(settings.index_dir)]
    first = subprocess.Popen(
        driver_command("ingest", str(CORPUS / "dev"), *index_arg, slow=0.1),
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Wait until the first holds the lock: it reports its first (slow) batch.
        assert first.stderr is not None
        line = first.stderr.readline()
        assert line.startswith("driver: embedding"), line
        second = run(driver_command("ingest", str(CORPUS / "seeds"), *index_arg), timeout=60)
        assert second.returncode == 1
        assert "another ingest is writing to it" in one_clear_line(second.stderr)
        assert second.stdout == ""
        first.wait(timeout=90)
        rest = first.stderr.read()
        assert first.returncode == 0, rest
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert_consistent(settings)
    again = run(driver_command("ingest", *DEV_ARTICLES, *index_arg), timeout=60)
    assert again.returncode == 0 and "added 0" in again.stdout, again.stderr
    assert_consistent(settings)


@pytest.mark.timeout(120)
def test_an_answerer_opened_on_an_empty_index_sees_what_another_process_adds(
    tmp_path: Path,
) -> None:
    # A Slack bot started before the first ingest: Chroma's cached handle in this process was
    # made when no vector existed; it must not stay blind (or broken) once another writes.
    settings = Settings(index_dir=tmp_path / "index")
    open_store(settings, create=True).close()
    answerer = Answerer(settings, open_store(settings), HashEmbeddings())
    try:
        assert answerer("Who controls Soledar?").status == "not_found"
        done = run(driver_command("ingest", *DEV_ARTICLES, "--index", str(settings.index_dir)))
        assert done.returncode == 0, done.stderr
        answer = answerer("Who controls Soledar?")
        check_answer(answer)
        assert answer.status != "not_found"
        assert answerer.index.dense_search(HashEmbeddings().embed_query("Soledar"), 3)
    finally:
        answerer.index.close()


def test_writers_in_one_process_take_turns(tmp_path: Path) -> None:
    settings = Settings(index_dir=tmp_path / "index")
    index = open_store(settings, create=True)
    other = open_store(settings)
    try:
        with index.writing(), pytest.raises(Exception, match="another ingest is writing"):
            ingest([REPO / "data" / "articles"], other, HashEmbeddings())
        report = ingest([REPO / "data" / "articles"], other, HashEmbeddings())
        assert len(report.added) == 2
    finally:
        index.close()
        other.close()
    assert_consistent(settings)


# --- slow: the real command line, the real model, the full corpus ------------------------------


def _real_ingest(settings: Settings, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(NEWSBOT), "ingest", *DEV_ARTICLES, "--index", str(settings.index_dir)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_real_ingest_of_the_corpus_while_eight_questions_run_embedded(
    tmp_path: Path, real_embeddings: Any
) -> None:
    settings = Settings(index_dir=tmp_path / "index")
    seed(settings, real_embeddings)
    writer = _real_ingest(settings, child_env())
    load, seconds = answer_while(settings, real_embeddings, writer)
    report_load("embedded index, real model", load, seconds, writer)
    found = assert_consistent(settings)
    assert found["articles"] == 9
    assert any(a.status != "not_found" for a in load.answers)
    after_ingest(settings, real_embeddings)


@pytest.mark.slow
@pytest.mark.timeout(400)
def test_real_ingest_of_the_corpus_while_eight_questions_run_on_a_chroma_server(
    tmp_path: Path, real_embeddings: Any
) -> None:
    with ChromaServer(tmp_path) as server:
        settings = Settings(
            index_dir=tmp_path / "index", chroma_host="127.0.0.1", chroma_port=server.port
        )
        seed(settings, real_embeddings)
        env = child_env(NEWSBOT_CHROMA_HOST="127.0.0.1", NEWSBOT_CHROMA_PORT=str(server.port))
        writer = _real_ingest(settings, env)
        load, seconds = answer_while(settings, real_embeddings, writer)
        report_load("Chroma server, real model", load, seconds, writer)
        found = assert_consistent(settings)
        assert found["articles"] == 9
        assert any(a.status != "not_found" for a in load.answers)
        after_ingest(settings, real_embeddings)
        # The vectors are the server's: nothing was written to an embedded store.
        assert not (Path(settings.index_dir) / "chroma").exists()
        asked = run(
            [str(NEWSBOT), "ask", "Who controls Pokrovsk?", "--json", "--index"]
            + [str(settings.index_dir)],
            env=env,
        )
        assert asked.returncode == 0, asked.stderr
