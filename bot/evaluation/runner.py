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
from bot.evaluation.dataset import Case, Dataset
from bot.evaluation.metrics import CaseResult, evaluate_case, summarise
from bot.evaluation.thresholds import TARGETS, gate, shortfalls
from bot.evaluation.variants import VariantResult, case_variants, summarise_variants

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from bot.answer import Answer
    from bot.embeddings import Embedder
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
    variants: list[VariantResult] | None = None  # None: the variants were not asked
    attributions: bool = False  # whether the dataset has gold attributions

    def metrics(self) -> dict[str, float | int | None]:
        """Return the aggregate metrics (the variants' too when they were asked)."""
        metrics = summarise(self.results)
        if self.variants is not None:
            metrics.update(self._variants(metrics)["metrics"])
        return metrics

    def _variants(self, metrics: dict[str, float | int | None]) -> dict[str, Any]:
        return summarise_variants(self.variants or [], metrics["pass_rate"])

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form that --json prints and --compare reads."""
        metrics = self.metrics()
        enforced = gate(variants=self.variants is not None, attributions=self.attributions)
        return {
            "dataset": self.dataset,
            "path": self.path,
            "answerer": self.answerer,
            "index": self.index,
            "k": self.k,
            "started": self.started,
            "ingest": self.ingest,
            "attributions": self.attributions,
            "metrics": metrics,
            "gate": {
                "thresholds": enforced,
                "targets": dict(TARGETS),
                "failures": shortfalls(metrics, enforced),
            },
            "misattributed": misattributed(self.results),
            "variants": None if self.variants is None else self._variants(metrics),
            "cases": [r.to_dict() for r in self.results],
        }


def misattributed(results: list[CaseResult]) -> list[dict[str, Any]]:
    """Return every claim whose side label names the wrong camp, with its case."""
    return [
        {"case": r.id, **claim}
        for r in results
        for claim in (r.attribution or {}).get("claims", [])
        if claim["verdict"] == "wrong"
    ]


def _ask(ask: AskFn, question: str) -> tuple[Mapping[str, Any] | None, float, str | None]:
    """Ask one question and time it; an error that concerns this question only is returned."""
    started = time.perf_counter()
    try:
        answer = ask(question)
    except _SYSTEMIC:
        raise
    except NewsbotError as exc:  # one unanswerable question should not sink the run
        return None, time.perf_counter() - started, str(exc)
    seconds = time.perf_counter() - started
    return (answer if isinstance(answer, Mapping) else answer.to_dict()), seconds, None


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
        answer, seconds, error = _ask(ask, case.question)
        results.append(evaluate_case(answer, case, seconds, error=error, gold=dataset.gold))
    return results


def run_variants(
    dataset: Dataset,
    ask: AskFn,
    results: list[CaseResult],
    *,
    on_variant: Callable[[int, str], None] | None = None,
) -> list[VariantResult]:
    """Ask every case's question again as people type it; compare with the canonical status."""
    canonical = {r.id: r.status for r in results}
    asked: list[VariantResult] = []
    for case in dataset.cases:
        for kind, question in case_variants(case):
            if on_variant:
                on_variant(len(asked) + 1, f"{case.id} ({kind})")
            asked.append(_variant(ask, case, kind, question, canonical.get(case.id)))
    return asked


def _variant(
    ask: AskFn, case: Case, kind: str, question: str, canonical: str | None
) -> VariantResult:
    answer, seconds, error = _ask(ask, question)
    result = evaluate_case(answer, case, seconds, error=error)
    return VariantResult(
        case=case.id,
        kind=kind,
        question=question,
        status=result.status,
        canonical_status=canonical,
        passed=result.passed,
        seconds=seconds,
        reasons=result.reasons,
    )


def variant_count(dataset: Dataset) -> int:
    """Return how many variants --variants asks of a dataset."""
    return sum(len(case_variants(case)) for case in dataset.cases)


def run_dataset(
    dataset: Dataset,
    settings: Settings,
    *,
    index_dir: Path | None = None,
    workdir: Path | None = None,
    k: int | None = None,
    embeddings: Embedder | None = None,
    console: Console | None = None,
    variants: bool = False,
) -> EvalRun:
    """Run a dataset against an existing index, or against a fresh index of its corpus.

    With variants, every question is asked again as people type it (see variants.py).

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
        attributions=dataset.gold is not None,
    )
    with _progress(console) as bar, _index(dataset, settings, index_dir, workdir) as opened:
        index, used = opened
        if index_dir is None:
            run.ingest = _ingest(dataset, index, embeddings, bar, console)
        answerer = build_answerer(used, index=index, embeddings=embeddings)
        cases = len(dataset.cases)
        total = cases + (variant_count(dataset) if variants else 0)
        task = bar.add_task("eval", total=total, name="")

        def on_case(number: int, name: str) -> None:
            bar.update(task, completed=number - 1, name=name)

        def on_variant(number: int, name: str) -> None:
            bar.update(task, completed=cases + number - 1, name=name)

        def ask(question: str) -> Answer:
            return answerer(question, k=k)

        run.results = run_cases(dataset, ask, on_case=on_case)
        if variants:
            run.variants = run_variants(dataset, ask, run.results, on_variant=on_variant)
        bar.update(task, completed=total, name="done")
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
    dataset: Dataset, index: Index, embeddings: Embedder, bar: Progress, console: Console
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
