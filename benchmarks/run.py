"""Run every benchmark, print a table and write benchmarks/results.json.

Each measurement runs in fresh processes (benchmarks/phases.py) so that cold starts are cold and
peak memory belongs to the phase measured. Figures are medians of several runs.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
WORK = REPO / "benchmarks" / ".work"
RESULTS = REPO / "benchmarks" / "results.json"
PHASES = REPO / "benchmarks" / "phases.py"
NEWSBOT = [sys.executable, "-m", "bot"]
COLD_RUNS = 5
SCALES = [int(s) for s in os.environ.get("BENCH_SCALES", "1000,10000,100000,300000").split(",")]
GROWTH_TO = 100_000  # p50 growth is measured from the smallest index to this one
SERVER_SCALE = int(os.environ.get("BENCH_SERVER_SCALE", "10000"))  # 0: skip the server path
INGEST_CHUNKS = int(os.environ.get("BENCH_INGEST_CHUNKS", "600"))
WARM_ROUNDS = 3
SERVE_CHUNKS = int(os.environ.get("BENCH_SERVE_CHUNKS", "10000"))
SERVE_CLIENTS = 8
SERVE_ROUNDS = 3
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}


def phase(
    name: str, *args: Any, work: Path = WORK, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run one phase in its own process and return its result."""
    out = subprocess.run(
        [sys.executable, str(PHASES), name, str(work), *map(str, args)],
        capture_output=True,
        text=True,
        env=env or ENV,
        cwd=REPO,
        check=False,
    )
    if out.returncode != 0:
        sys.exit(f"phase {name} failed:\n{out.stderr[-3000:]}")
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
    return dict(json.loads(line[len("RESULT ") :]))


def timed(command: list[str], env: dict[str, str] | None = None) -> float:
    """Return the wall time of one process, from start to exit."""
    started = time.perf_counter()
    subprocess.run(command, capture_output=True, env=env or ENV, cwd=REPO, check=True)
    return time.perf_counter() - started


def ingest_seed(index: Path, env: dict[str, str]) -> Path:
    """Ingest the seed articles into an index folder; return it."""
    subprocess.run(
        [*NEWSBOT, "ingest", "data/articles", "--index", str(index)],
        capture_output=True,
        env=env,
        cwd=REPO,
        check=True,
    )
    return index


@contextmanager
def chroma_server(data: Path) -> Iterator[dict[str, str]]:
    """Run `chroma run` on this machine with a fresh data folder; yield the env that uses it."""
    shutil.rmtree(data, ignore_errors=True)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    binary = Path(sys.executable).parent / "chroma"
    server = subprocess.Popen(
        [str(binary), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        yield {**ENV, "NEWSBOT_CHROMA_HOST": "127.0.0.1", "NEWSBOT_CHROMA_PORT": str(port)}
    finally:
        server.terminate()
        server.wait(timeout=30)


def server_path(chunks: int) -> dict[str, Any]:
    """Cold and warm answers through a Chroma server on this machine, as on the embedded path."""
    work = WORK / "server"
    shutil.rmtree(work, ignore_errors=True)
    with chroma_server(WORK / "server-data") as env:
        seed = ingest_seed(work / "seed", env)
        ask = [*NEWSBOT, "ask", "Who controls Pokrovsk?", "--index", str(seed)]
        cold = [timed(ask, env) for _ in range(COLD_RUNS)]
        built = phase("build", chunks, work=work, env=env)
        warm = phase("warm", chunks, WARM_ROUNDS, work=work, env=env)
    return {"cold_ask_s": statistics.median(cold), **warm, "build_s": built["build_s"]}


def import_times(index: Path) -> dict[str, Any]:
    """Time the imports of a cold `newsbot ask` (-X importtime): each top-level package's own
    modules (their self times, so the packages add up to the whole)."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bot", "ask", "Who controls Pokrovsk?"]
        + ["--index", str(index)],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=REPO,
        check=True,
    )
    packages: dict[str, float] = {}
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        own, _, name = line[len("import time:") :].split("|")
        if not own.strip().isdigit():
            continue  # the header
        top = name.strip().split(".")[0]
        packages[top] = packages.get(top, 0.0) + int(own) / 1000
    return {"total_ms": sum(packages.values()), "packages": packages}


def print_imports(imports: dict[str, Any]) -> None:
    """Print the import time of each top-level package of a cold ask, slowest first."""
    print(f"imports of a cold ask: {imports['total_ms']:.0f} ms", flush=True)
    for name, ms in sorted(imports["packages"].items(), key=lambda kv: -kv[1]):
        if ms >= 10:
            print(f"  {name:<24} {ms:7.0f} ms", flush=True)


def cold_ask() -> dict[str, Any]:
    """Time a whole `newsbot ask` process against a plain LangChain RAG process."""
    seed = ingest_seed(WORK / "seed", ENV)
    phase("baseline_build")
    ask = [*NEWSBOT, "ask", "Who controls Pokrovsk?", "--index", str(seed)]
    baseline = [sys.executable, str(PHASES), "baseline_ask", str(WORK)]
    ours = [timed(ask) for _ in range(COLD_RUNS)]
    theirs = [timed(baseline) for _ in range(COLD_RUNS)]
    return {
        "newsbot_s": statistics.median(ours),
        "langchain_rag_s": statistics.median(theirs),
        "speedup": statistics.median(theirs) / statistics.median(ours),
        "runs": COLD_RUNS,
    }


def main() -> None:
    """Run the benchmarks and report."""
    WORK.mkdir(parents=True, exist_ok=True)
    started = time.time()
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.system()}",
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    print("cold ask ...", flush=True)
    results["cold_ask"] = cold_ask()
    results["imports"] = import_times(WORK / "seed")
    print_imports(results["imports"])
    print("ingest throughput ...", flush=True)
    results["ingest"] = phase("ingest", INGEST_CHUNKS)
    results["scale"] = []
    for chunks in SCALES:
        print(f"warm answers at {chunks} chunks ...", flush=True)
        if not (WORK / f"scale-{chunks}" / "chroma").exists():
            built = phase("build", chunks)
        else:
            built = {"chunks": chunks, "build_s": None, "peak_rss_mb": None}
        warm = phase("warm", chunks, WARM_ROUNDS)
        results["scale"].append(
            {**warm, "build_s": built["build_s"], "build_peak_rss_mb": built["peak_rss_mb"]}
        )
    if SERVER_SCALE:
        print(f"through a Chroma server, {SERVER_SCALE} chunks ...", flush=True)
        results["server"] = server_path(SERVER_SCALE)
    print(f"warm /api/ask at {SERVE_CHUNKS} chunks, {SERVE_CLIENTS} clients ...", flush=True)
    if not (WORK / f"scale-{SERVE_CHUNKS}" / "chroma").exists():
        phase("build", SERVE_CHUNKS)
    results["serve"] = phase("serve", SERVE_CHUNKS, SERVE_CLIENTS, SERVE_ROUNDS)
    first = results["scale"][0]
    last = next((s for s in results["scale"] if s["chunks"] == GROWTH_TO), results["scale"][-1])
    results["growth_p50"] = last["p50_ms"] / first["p50_ms"]
    results["growth_to"] = last["chunks"]
    results["total_s"] = time.time() - started
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)


def print_table(r: dict[str, Any]) -> None:
    """Print the results as the README's table."""
    cold, ing = r["cold_ask"], r["ingest"]
    rows = [
        (
            "cold `newsbot ask` (process start to answer)",
            f"{cold['newsbot_s']:.2f} s",
            f"plain LangChain RAG {cold['langchain_rag_s']:.2f} s: {cold['speedup']:.1f}x faster",
            ">= 6x",
        ),
        (
            "ingest throughput",
            f"{ing['ingest_chunks_per_s']:.1f} chunks/s",
            f"bare encoder {ing['bare_chunks_per_s']:.1f} chunks/s: {ing['ratio_to_bare']:.2f}",
            ">= 0.85",
        ),
        (
            "re-ingest unchanged corpus",
            f"{ing['reingest_s']:.2f} s",
            f"first ingest {ing['first_ingest_s']:.1f} s: {ing['reingest_speedup']:.0f}x faster",
            ">= 20x",
        ),
        (
            "where ingest time goes",
            f"{ing['first_ingest_s']:.1f} s",
            f"chunk encoding {ing['chunk_encoding_s']:.1f} s, parsing and attribution "
            f"{ing['analysis_s']:.1f} s, {ing['extra_texts']} statements and sentences "
            f"encoded {ing['extra_encoding_s']:.1f} s",
            "",
        ),
        ("ingest peak memory", f"{ing['peak_rss_mb']:.0f} MB", f"{ing['chunks']} chunks", ""),
    ]
    for s in r["scale"]:
        rows.append(
            (
                f"warm answer at {s['chunks']:,} chunks",
                f"p50 {s['p50_ms']:.0f} ms, p95 {s['p95_ms']:.0f} ms",
                f"{s['questions']} answers; process peak {s['peak_rss_mb']:.0f} MB",
                "p50 <= 50 ms, p95 <= 150 ms, < 350 MB" if s["chunks"] == 100_000 else "",
            )
        )
        if s.get("build_peak_rss_mb"):
            rows.append(
                (
                    f"build of {s['chunks']:,} chunks",
                    f"{s['build_s']:.0f} s",
                    f"peak {s['build_peak_rss_mb']:.0f} MB",
                    "",
                )
            )
    if "serve" in r:
        web = r["serve"]
        rows.append(
            (
                f"warm `POST /api/ask` at {web['chunks']:,} chunks, {web['clients']} clients",
                f"p50 {web['p50_ms']:.0f} ms, p95 {web['p95_ms']:.0f} ms",
                f"{web['answers']} answers, {web['answers_per_s']:.1f}/s; "
                f"server peak {web['server_peak_rss_mb']:.0f} MB",
                "",
            )
        )
    rows.append(
        (
            f"p50 growth, smallest index to {r.get('growth_to', GROWTH_TO):,} chunks",
            f"{r['growth_p50']:.2f}x",
            "",
            "< 2x",
        )
    )
    if r.get("imports"):
        slowest = sorted(r["imports"]["packages"].items(), key=lambda kv: -kv[1])[:6]
        rows.append(
            (
                "imports of a cold `newsbot ask`",
                f"{r['imports']['total_ms']:.0f} ms",
                ", ".join(f"{name} {ms:.0f}" for name, ms in slowest),
                "",
            )
        )
    if r.get("server"):
        srv = r["server"]
        embedded = next((s for s in r["scale"] if s["chunks"] == srv["chunks"]), None)
        rows.append(
            (
                "cold `newsbot ask`, Chroma server",
                f"{srv['cold_ask_s']:.2f} s",
                f"embedded {cold['newsbot_s']:.2f} s",
                "",
            )
        )
        against = (
            f"embedded p50 {embedded['p50_ms']:.0f} ms, p95 {embedded['p95_ms']:.0f} ms"
            if embedded
            else ""
        )
        rows.append(
            (
                f"warm answer at {srv['chunks']:,} chunks, Chroma server",
                f"p50 {srv['p50_ms']:.0f} ms, p95 {srv['p95_ms']:.0f} ms",
                against,
                "",
            )
        )
    print(f"\n{r['machine']}, {r['when']}, total {r['total_s']:.0f} s\n")
    print("| measure | newsbot | against | target |\n| --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
