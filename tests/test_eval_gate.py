"""The CI gate: the development set, end to end with the real model, meets the thresholds.

The corpus of evals/dev.yaml is ingested into tmp_path, every question is answered by the
embedded answerer, and the metrics are held to GATE (bot/evaluation/thresholds.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from bot.config import Settings
from bot.evaluation.dataset import load_dataset
from bot.evaluation.report import print_run, write_html
from bot.evaluation.runner import run_dataset
from bot.evaluation.thresholds import GATE, TARGETS, shortfalls

DEV_SET = Path(__file__).resolve().parents[1] / "evals" / "dev.yaml"


def _run(dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Run a dataset end to end: its corpus ingested into tmp_path, the real model."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    from bot.embeddings import default_embeddings

    # The gate measures the embedded answerer on an embedded index, whatever the environment says.
    settings = Settings(_env_file=None, llm=None, chroma_host=None, index_dir=tmp_path / "unused")
    return run_dataset(
        load_dataset(dataset),
        settings,
        workdir=tmp_path,
        embeddings=default_embeddings(),
        console=Console(stderr=True, quiet=True),
    ).to_dict()


def test_development_set_meets_the_gate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = _run(DEV_SET, tmp_path, monkeypatch)
    write_html(run, tmp_path / "report.html")
    console = Console(record=True, width=160, quiet=True)
    print_run(run, console)
    table = console.export_text()

    assert run["ingest"] and not run["ingest"]["failed"], run["ingest"]
    assert len(run["cases"]) == len(load_dataset(DEV_SET).cases)
    failures = shortfalls(run["metrics"], GATE)
    assert not failures, "\n".join(["gate failed:", *failures, "", table])
    # Targets are reported, not enforced: print where they stand for whoever reads the log.
    print("targets:", shortfalls(run["metrics"], TARGETS) or "all met")


def test_questions_the_corpus_cannot_answer_are_not_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _run(DEV_SET.parent / "probes.yaml", tmp_path, monkeypatch)
    wrong = [c["id"] for c in run["cases"] if c["answer"]["status"] != "not_found"]
    assert not wrong, f"answered though nothing answers: {wrong}"
