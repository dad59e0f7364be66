"""Run a dataset: build (or open) an index, ask every question, time it and check the answer."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.errors import DatasetError, IndexNotFound, ModelUnavailable, NewsbotError, StoreUnavailable
from bot.evaluation.dataset import Dataset
from bot.evaluation.metrics import CaseResult, evaluate_case, summarise
from bot.evaluation.thresholds import GATE, TARGETS, shortfalls

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from rich.console import Console
    from rich.progress import Progress

    from bot.answer import Answer
    from bot.store import Index

AskFn = Callable[[str], "Answer | Mapping[str, Any]"]
# Failures that no other question would escape either: stop the run rather than record each.
_SYSTEMIC = (IndexNotFound, StoreUnavailable, ModelUnavailable)


@dataclass
class EvalRun:
    """One run of a dataset: where and how it ran, and every case result."""

    dataset: str
    path: str
    answerer: str
    index: str
    k: int | None
    started: str
    results: list[CaseResult] = field(default_factory=list)
    ingest: dict[str, Any] | None = None

    def metrics(self) -> dict[str, float | int | None]:
        """Return the aggregate metrics."""
        return summarise(self.results)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form that --json prints and --compare reads."""
        metrics = self.metrics()
        return {
            "dataset": self.dataset,
            "path": self.path,
            "answerer": self.answerer,
            "index": self.index,
            "k": self.k,
            "started": self.started,
            "ingest": self.ingest,
            "metrics": metrics,
            "gate": {
                "thresholds": dict(GATE),
                "targets": dict(TARGETS),
                "failures": shortfalls(metrics, GATE),
            },
            "cases": [r.to_dict() for r in self.results],
        }


def run_cases(
    dataset: Dataset,
    ask: AskFn,
    *,
    on_case: Callable[[int, str], None] | None = None,
) -> list[CaseResult]:
    """Ask every question of a dataset, timing each answer, and evaluate it."""
    results = []
    for number, case in enumerate(dataset.cases, start=1):
        if on_case:
            on_case(number, case.id)
        started = time.perf_counter()
        try:
            answer = ask(case.question)
        except _SYSTEMIC:
            raise
        except NewsbotError as exc:  # one unanswerable question should not sink the run
            seconds = time.perf_counter() - started
            results.append(evaluate_case(None, case, seconds, error=str(exc)))
            continue
        seconds = time.perf_counter() - started
        data = answer if isinstance(answer, Mapping) else answer.to_dict()
        results.append(evaluate_case(data, case, seconds))
    return results


def run_dataset(
    dataset: Dataset,
    settings: Settings,
    *,
    index_dir: Path | None = None,
    workdir: Path | None = None,
    k: int | None = None,
    embeddings: Embeddings | None = None,
    console: Console | None = None,
) -> EvalRun:
    """Run a dataset against an existing index, or against a fresh index of its corpus.

    Without index_dir the corpus is ingested into workdir, or into a temporary folder removed
    afterwards; that index is always an embedded one, whatever NEWSBOT_CHROMA_HOST says, so a run
    never writes into a shared server.
    """
    from rich.console import Console

    from bot.chain import build_answerer
    from bot.embeddings import default_embeddings

    console = console or Console(stderr=True)
    embeddings = embeddings or default_embeddings()
    run = EvalRun(
        dataset=dataset.name,
        path=str(dataset.path),
        answerer=settings.llm or "embedded",
        index=str(index_dir) if index_dir else "a fresh index of the corpus",
        k=k,
        started=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    with _progress(console) as bar, _index(dataset, settings, index_dir, workdir) as opened:
        index, used = opened
        if index_dir is None:
            run.ingest = _ingest(dataset, index, embeddings, bar, console)
        answerer = build_answerer(used, index=index, embeddings=embeddings)
        task = bar.add_task("eval", total=len(dataset.cases), name="")

        def on_case(number: int, case_id: str) -> None:
            bar.update(task, completed=number - 1, name=case_id)

        run.results = run_cases(dataset, lambda q: answerer(q, k=k), on_case=on_case)
        bar.update(task, completed=len(dataset.cases), name="done")
    return run


@contextmanager
def _index(
    dataset: Dataset, settings: Settings, index_dir: Path | None, workdir: Path | None
) -> Iterator[tuple[Index, Settings]]:
    """Open the given index, or create an empty one in workdir or a temporary folder."""
    from bot.store import open_store

    if index_dir is not None:
        used = settings.model_copy(update={"index_dir": Path(index_dir)})
        index = open_store(used)
        try:
            yield index, used
        finally:
            index.close()
        return
    _check_corpus(dataset)
    with tempfile.TemporaryDirectory(
        prefix="newsbot-eval-", ignore_cleanup_errors=True
    ) as temporary:
        folder = Path(workdir) if workdir is not None else Path(temporary)
        used = settings.model_copy(update={"index_dir": folder / "index", "chroma_host": None})
        index = open_store(used, create=True)
        try:
            yield index, used
        finally:
            index.close()


def _check_corpus(dataset: Dataset) -> None:
    if not dataset.corpus:
        raise DatasetError(
            str(dataset.path), "it lists no corpus to ingest; give one, or run with --index DIR"
        )
    for path in dataset.corpus:
        if not path.exists():
            raise DatasetError(str(dataset.path), f"corpus path {path} does not exist")


def _ingest(
    dataset: Dataset, index: Index, embeddings: Embeddings, bar: Progress, console: Console
) -> dict[str, Any]:
    from bot.claims import analyse
    from bot.ingest import ingest

    task = bar.add_task("ingest", total=None, name="")

    def progress(name: str, done: int, total: int) -> None:
        bar.update(task, completed=done - 1, total=total, name=name)

    report = ingest(dataset.corpus, index, embeddings, analyse=analyse, progress=progress)
    bar.update(task, completed=bar.tasks[task].total or 0, name=f"{len(report.added)} added")
    for failure in report.failed:
        console.print(f"[yellow]corpus file skipped[/]: {failure.path}: {failure.reason}")
    if not report.added and not report.updated and not report.skipped:
        raise DatasetError(str(dataset.path), "no article of its corpus could be ingested")
    return {
        "added": len(report.added),
        "failed": [{"path": f.path, "reason": f.reason} for f in report.failed],
        "chunks": report.chunks_embedded,
    }


def _progress(console: Console) -> Progress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.table import Column

    return Progress(
        TextColumn("[bold]{task.description:<6}[/]"),
        BarColumn(bar_width=30),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[name]}", table_column=Column(no_wrap=True, overflow="ellipsis")),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
