"""One Chroma server, several hosts: the index lives in Chroma, threads live in Slack.

Each test starts a real `chroma run`. Ingests and questions run in processes of their own, each
with its own index folder, as they would on separate hosts: the ingest host's folder A, empty
folders for the answering hosts. The embedding model is the driver's hashing fake; everything
else, attribution included, is the product's own code.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chroma_server import ChromaServer
from fake_slack import FakeSlack, block_texts, event_body
from pydantic import SecretStr

import bot.embeddings
from bot.articles import discover, load_file
from bot.chain import Answerer, WarmAnswerer
from bot.claims import analyse
from bot.config import Settings
from bot.ingest import ingest
from bot.slack.app import NewsbotApp, build_slack_app
from bot.store import CHECK_INTERVAL, open_store

from .fakes import HashEmbeddings
from .support import (
    CORPUS,
    assert_consistent,
    check_answer,
    child_env,
    dispatch,
    driver_command,
    one_clear_line,
    run,
)
from .test_crash import write_corpus

SECRET = "shared-index-signing-secret"
HARBOUR = """title: Rebels claim the Harwick ferry terminal
outlet: Coastline Wire
date: 2031-05-02
---
The Tarn Liberation Front said on Friday that its fighters had taken the Harwick ferry terminal.
The Tarn interior ministry said government troops still held the Harwick ferry terminal.
"""
HARBOUR_EDITED = HARBOUR + "The interior ministry later said the terminal had been evacuated.\n"
BRIDGE = """title: Fighting for the Lusk bridge
outlet: Valley Courier
date: 2031-05-03
---
Colonel Ines Marrow of the Tarn army said her troops had retaken the Lusk bridge on Saturday.
A spokesman for the Tarn Liberation Front said its units still controlled the Lusk bridge.
"""
QUESTIONS = [
    "Who controls Pokrovsk?",
    "Who controls Soledar?",
    "Who controls the Harwick ferry terminal?",
    "Who controls the Lusk bridge?",
]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ChromaServer]:
    with ChromaServer(tmp_path) as started:
        yield started


@pytest.fixture(autouse=True)
def fake_embeddings_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    # The Slack app builds its answerer from the settings, as `newsbot slack` does.
    embeddings = HashEmbeddings()
    monkeypatch.setattr(bot.embeddings, "default_embeddings", lambda *a, **k: embeddings)


def on(server: ChromaServer, folder: Path) -> Settings:
    """Return the settings of a host whose index folder is `folder`, using the server."""
    return Settings(index_dir=folder, chroma_host="127.0.0.1", chroma_port=server.port)


def server_env(server: ChromaServer) -> dict[str, str]:
    return child_env(NEWSBOT_CHROMA_HOST="127.0.0.1", NEWSBOT_CHROMA_PORT=str(server.port))


def ask_all(server: ChromaServer, folder: Path) -> list[str]:
    """Ask every question in a new `newsbot ask - --json` process; return its JSON lines."""
    asked = run(
        driver_command("ask", "-", "--json", "--index", str(folder)),
        env=server_env(server),
        input="\n".join(QUESTIONS) + "\n",
    )
    assert asked.returncode == 0, asked.stderr
    return asked.stdout.splitlines()


def article_ids(*folders: Path) -> set[str]:
    files, failures = discover(list(folders))
    assert not failures
    return {article.id for file in files for article in load_file(file)}


# --- one ingest host, other hosts answering ---------------------------------------------------


@pytest.mark.timeout(300)
def test_hosts_with_empty_folders_answer_alike_and_see_the_next_ingest(
    tmp_path: Path, server: ChromaServer
) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    host_a, host_b = tmp_path / "host-a", tmp_path / "host-b"
    ingest_a = driver_command("ingest", str(corpus), "--index", str(host_a))
    first = run(ingest_a, env=server_env(server), timeout=240)
    count = len(article_ids(corpus))
    assert first.returncode == 0 and f"added {count}," in first.stdout, first.stderr

    host_b.mkdir()
    on_a, on_b = ask_all(server, host_a), ask_all(server, host_b)
    assert on_b == on_a  # ids, claims, sources: byte for byte
    answers = [json.loads(line) for line in on_b]
    for answer in answers:
        check_answer(answer)
    assert answers[2]["status"] != "not_found"
    assert answers[3]["status"] == "not_found"  # the bridge is not indexed yet

    # A long-running answerer on host B (a Slack replica, say), started now ...
    reader = Answerer(on(server, host_b), open_store(on(server, host_b)), HashEmbeddings())
    try:
        assert [reader(q).to_json(indent=None) for q in QUESTIONS] == on_b
        old_harbour = {s["path"]: s for s in answers[2]["sources"]}
        assert any(path.endswith("harbour.txt") for path in old_harbour)

        # ... sees the next ingest on host A, one article changed and one new, unrestarted.
        (corpus / "harbour.txt").write_text(HARBOUR_EDITED, encoding="utf-8")
        (corpus / "bridge.txt").write_text(BRIDGE, encoding="utf-8")
        second = run(ingest_a, env=server_env(server), timeout=240)
        assert second.returncode == 0, second.stderr
        assert f"added 1, updated 1, skipped {count - 1}," in second.stdout
        time.sleep(CHECK_INTERVAL)  # a reader looks at the generation stamp once a second

        bridge = reader("Who controls the Lusk bridge?")
        check_answer(bridge)
        assert bridge.status != "not_found"
        assert {Path(s.path).name for s in bridge.sources} == {"bridge.txt"}
        records = {Path(r.path).name: r for r in reader.index.catalog.articles()}
        assert len(records) == count + 1 == len(article_ids(corpus))
        edited = reader.index.catalog.article_text(records["harbour.txt"].id)
        assert "evacuated" in edited
        assert records["harbour.txt"].id in article_ids(corpus / "harbour.txt")
        # The new state reads the same from every host, a fresh process on A included.
        assert ask_all(server, host_a) == [reader(q).to_json(indent=None) for q in QUESTIONS]
    finally:
        reader.index.close()
    assert_consistent(on(server, tmp_path / "audit"))


# --- ingests at once --------------------------------------------------------------------------


@pytest.mark.timeout(300)
def test_two_ingests_of_overlapping_folders_at_once_leave_every_article_once(
    tmp_path: Path, server: ChromaServer
) -> None:
    left, right = tmp_path / "left", tmp_path / "right"
    shutil.copytree(CORPUS, left)
    shutil.copytree(CORPUS / "dev", right / "dev")  # the same articles at other paths
    write_corpus(left / "extra", 12, seed=3)
    write_corpus(right / "extra", 12, seed=3)  # the same again
    write_corpus(right / "more", 12, seed=4)
    env = server_env(server)
    writers = [
        subprocess.Popen(
            driver_command("ingest", str(folder), "--index", str(tmp_path / name), slow=0.005),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for folder, name in ((left, "host-a"), (right, "host-c"))
    ]
    # Questions asked all the while, on two more hosts.
    errors: list[str] = []
    answered: list[Any] = []
    stop = threading.Event()

    def ask_until_done(offset: int) -> None:
        settings = on(server, tmp_path / f"host-b{offset}")
        index = None
        while index is None and not stop.is_set():
            try:
                index = open_store(settings)
            except Exception:  # the first ingest may not have created the index yet
                time.sleep(0.2)
        if index is None:
            return
        answerer = Answerer(settings, index, HashEmbeddings())
        asked = 0
        try:
            while not stop.is_set() or asked < 3:
                question = QUESTIONS[(offset + asked) % 2]
                asked += 1
                try:
                    answer = answerer(question)
                    check_answer(answer)
                    answered.append(answer)
                except BaseException as exc:
                    errors.append(f"{question}: {type(exc).__name__}: {exc}")
                    return
        finally:
            index.close()

    threads = [threading.Thread(target=ask_until_done, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    try:
        for writer in writers:
            writer.wait(timeout=240)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    for writer in writers:
        assert writer.returncode == 0, writer.stderr.read() if writer.stderr else ""
    assert errors == [] and len(answered) >= 6, errors

    found = assert_consistent(on(server, tmp_path / "audit"))
    expected = article_ids(left, right)
    assert found["records"] == expected and found["articles"] == len(expected)
    index = open_store(on(server, tmp_path / "audit"))
    try:
        paths = index.records.paths()
    finally:
        index.close()
    files, _ = discover([left, right])
    assert {str(f.resolve()) for f in files} <= set(paths)


# --- the server going away --------------------------------------------------------------------


@pytest.mark.timeout(300)
def test_a_server_that_dies_mid_ingest_and_comes_back_is_completed_by_a_rerun(
    tmp_path: Path, server: ChromaServer
) -> None:
    corpus = tmp_path / "corpus"
    write_corpus(corpus, 40, seed=5)
    host_a = tmp_path / "host-a"
    command = driver_command(
        "ingest", str(corpus), "--index", str(host_a), slow=0.002, flush=16, pause=0.3
    )
    process = subprocess.Popen(
        command, env=server_env(server), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    lines: list[str] = []
    while len([line for line in lines if line.startswith("driver: vectors")]) < 2:
        line = process.stderr.readline()
        assert line, "the ingest ended before writing: " + "".join(lines)
        lines.append(line)
    server.stop(kill=True)  # mid-write: vectors of a batch are in, their records are not
    rest = process.stderr.read()
    assert process.wait(timeout=120) == 1
    said = "".join(lines) + rest
    error = one_clear_line(
        "\n".join(line for line in said.splitlines() if not line.startswith("driver:"))
    )
    assert f"cannot use the index at 127.0.0.1:{server.port}" in error, error

    server.start()
    rerun = run(command, env=server_env(server), timeout=240)
    assert rerun.returncode == 0 and "failed 0" in rerun.stdout, rerun.stderr
    found = assert_consistent(on(server, tmp_path / "audit"))
    assert found["records"] == article_ids(corpus) and found["articles"] == 40
    answerer = Answerer(
        on(server, tmp_path / "host-b"),
        open_store(on(server, tmp_path / "host-b")),
        HashEmbeddings(),
    )
    try:
        check_answer(answerer("Who holds Corvin?"))
    finally:
        answerer.index.close()


# --- Slack replicas ---------------------------------------------------------------------------


def replica(settings: Settings, slack: FakeSlack) -> NewsbotApp:
    """Start a Slack app as `newsbot slack` would, on a host whose index folder is fresh."""
    answerer = WarmAnswerer(settings)
    answerer.warm()
    return build_slack_app(
        settings.model_copy(
            update={
                "slack_bot_token": SecretStr("xoxb-0-0-replica"),
                "slack_signing_secret": SecretStr(SECRET),
                "slack_api_url": slack.url,
            }
        ),
        answerer,
    )


def seed_server(server: ChromaServer, folder: Path) -> None:
    index = open_store(on(server, folder), create=True)
    try:
        ingest([CORPUS], index, HashEmbeddings(), analyse=analyse)
    finally:
        index.close()


def mention(slack: FakeSlack, app: NewsbotApp, question: str, ts: str) -> dict[str, Any]:
    """Have a user mention the bot in channel C1; return the bot's (last) reply."""
    said = slack.say(f"<@UBOT> {question}", ts=ts)
    event = said | {"type": "app_mention", "channel": "C1", "event_ts": ts}
    assert dispatch(app, event_body(event, f"Ev{ts}"), SECRET) == 200
    assert app.drain(60), "no reply came"
    return slack.calls_to("chat.postMessage")[-1]


@pytest.mark.timeout(300)
def test_a_follow_up_is_answered_by_a_fresh_replica_from_the_thread(
    tmp_path: Path, server: ChromaServer
) -> None:
    seed_server(server, tmp_path / "ingest-host")
    with FakeSlack() as slack:
        first = replica(on(server, tmp_path / "replica-1"), slack)
        try:
            answer = mention(slack, first, "Who controls Soledar?", "100.1")
        finally:
            first.close()
        assert answer["metadata"]["event_payload"]["question"] == "Who controls Soledar?"

        # Another replica, started only now with an empty folder, gets the follow-up.
        second = replica(on(server, tmp_path / "replica-2"), slack)
        try:
            said = slack.say("and Chasiv Yar?", ts="100.2", thread_ts="100.1")
            event = said | {"channel": "C1", "channel_type": "channel", "event_ts": "100.2"}
            assert dispatch(second, event_body(event, "Ev100.2"), SECRET) == 200
            assert second.drain(60)
        finally:
            second.close()
        follow_up = slack.calls_to("chat.postMessage")[-1]
    assert follow_up["thread_ts"] == "100.1"
    assert follow_up["metadata"]["event_payload"]["question"] == "Who controls Chasiv Yar?"
    check = on(server, tmp_path / "check")
    expected = Answerer(check, open_store(check), HashEmbeddings())("Who controls Chasiv Yar?")
    assert expected.status != "not_found"
    assert all("Chasiv Yar" in c.evidence[0].quote for c in expected.claims)
    shown = "\n".join(block_texts(follow_up["blocks"]))
    assert follow_up["text"] == expected.summary
    assert "Who controls Chasiv Yar?" in shown
    for claim in expected.claims:
        assert claim.evidence[0].quote[:60].replace("&", "&amp;") in shown


@pytest.mark.timeout(300)
def test_slack_says_the_index_is_unavailable_while_the_server_is_down(
    tmp_path: Path, server: ChromaServer
) -> None:
    seed_server(server, tmp_path / "ingest-host")
    with FakeSlack() as slack:
        app = replica(on(server, tmp_path / "replica"), slack)
        try:
            assert mention(slack, app, "Who controls Pokrovsk?", "100.1")["blocks"]
            ready, report = app.state.answerer.health()  # what GET /healthz says
            index = open_store(on(server, tmp_path / "check"))
            try:
                assert ready and report["generation"] == index.records.generation()
                assert report["articles"] == len(index.records.listing()) > 0
            finally:
                index.close()
            server.stop()
            time.sleep(CHECK_INTERVAL)
            ready, report = app.state.answerer.health()
            assert not ready and "cannot use the index at" in report["error"]
            down = mention(slack, app, "Who controls Pokrovsk?", "200.1")
            assert "blocks" not in down and "\n" not in down["text"]
            assert down["text"].startswith(
                f":warning: index unavailable (cannot use the index at 127.0.0.1:{server.port}"
            ), down["text"]
            assert down["text"].endswith("answers resume when it is back")
            server.start()
            assert app.state.answerer.health()[0]
            back = mention(slack, app, "Who controls Pokrovsk?", "300.1")
            assert back["blocks"] and back["text"] == slack.calls_to("chat.postMessage")[0]["text"]
        finally:
            app.close()
