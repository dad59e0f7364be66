"""`newsbot eval`: run a dataset and report, gate on metrics, or compare two saved runs.

Imported by bot/cli.py at startup, so everything heavy is imported inside the command.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from bot.errors import NewsbotError
from bot.evaluation.metrics import FAULTS, RANGES, SCORES

PIPED_WIDTH = 140  # a table piped to a file or CI log is read wide, not at 80 columns


def parse_threshold(text: str) -> tuple[str, float]:
    """Parse METRIC=VALUE into a metric name and its threshold (a maximum where lower is better)."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not name or not raw.strip():
        raise ValueError(f"{text!r} is not METRIC=VALUE (e.g. side_coverage=0.9)")
    if name not in SCORES and name not in FAULTS:
        raise ValueError(f"unknown metric {name!r}; one of: {', '.join([*SCORES, *FAULTS])}")
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{raw.strip()!r} is not a number") from None
    low, high = RANGES.get(name, (0.0, 1.0))
    if not low <= value <= high:
        if (low, high) == (0.0, 1.0):
            raise ValueError(f"{name} is a share; give a value between 0 and 1, not {raw.strip()}")
        if high == math.inf:
            raise ValueError(f"{name} must be {low:g} or more, not {raw.strip()}")
        raise ValueError(f"{name} must be between {low:g} and {high:g}, not {raw.strip()}")
    return name, value


def _thresholds(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> dict[str, float]:
    parsed: dict[str, float] = {}
    for text in values:
        try:
            name, value = parse_threshold(text)
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc
        parsed[name] = value
    return parsed


@contextmanager
def _edge() -> Iterator[None]:
    """Turn newsbot errors into one line on stderr and exit code 1."""
    try:
        yield
    except NewsbotError as exc:
        raise click.ClickException(str(exc)) from exc
    except KeyboardInterrupt as exc:
        raise click.ClickException("interrupted") from exc
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise click.ClickException(f"{where}{exc.strerror or exc}") from exc


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    console = Console(stderr=stderr)
    if not console.is_terminal:
        console = Console(stderr=stderr, width=PIPED_WIDTH)
    return console


def _load_run(path: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"{path}: cannot be read as JSON ({exc})") from exc
    if not isinstance(data, dict) or not {"metrics", "cases"} <= data.keys():
        raise click.ClickException(f"{path}: not a result saved by `newsbot eval --json`")
    return data


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("dataset", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--index",
    "index",
    type=click.Path(file_okay=False),
    help="Evaluate this index instead of a fresh one of the dataset's corpus.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option(
    "--report",
    type=click.Path(dir_okay=False, writable=True),
    metavar="FILE.html",
    help="Write an HTML report.",
)
@click.option(
    "--fail-under",
    "fail_under",
    multiple=True,
    callback=_thresholds,
    metavar="METRIC=VALUE",
    help=(
        "Exit 1 when METRIC misses VALUE (repeatable): falls below it, or rises above it for "
        f"metrics where lower is better ({', '.join(FAULTS)}). "
        "E.g. side_coverage=0.9, misattribution_rate=0.01."
    ),
)
@click.option("--gate", is_flag=True, help="Exit 1 when a threshold CI enforces is missed.")
@click.option(
    "--variants",
    is_flag=True,
    help=(
        "Ask every question again as people type it (lower case, upper case, no question mark, "
        "chatter, doubled spaces, and the case's `variants:`) and report status consistency."
    ),
)
@click.option(
    "--compare",
    nargs=2,
    type=click.Path(exists=True, dir_okay=False),
    metavar="A.json B.json",
    help="Print two saved --json results side by side (no DATASET needed).",
)
@click.option("-k", "k", type=click.IntRange(1, 100), help="Chunks to retrieve per question.")
@click.pass_context
def eval_command(
    ctx: click.Context,
    dataset: str | None,
    index: str | None,
    as_json: bool,
    report: str | None,
    fail_under: dict[str, float],
    gate: bool,
    variants: bool,
    compare: tuple[str, str] | None,
    k: int | None,
) -> None:
    """Run the evaluation DATASET (YAML) and print a table of metrics."""
    if compare:
        if dataset or index or report or fail_under or gate or variants or k:
            raise click.UsageError("--compare takes two saved results and nothing else")
        _compare(compare, as_json)
        return
    if dataset is None:
        raise click.UsageError("give a DATASET to run, or --compare A.json B.json")
    from bot.evaluation.dataset import load_dataset
    from bot.evaluation.page import write_html
    from bot.evaluation.report import print_run, to_json
    from bot.evaluation.runner import run_dataset
    from bot.evaluation.thresholds import shortfalls

    settings = _settings(ctx)
    with _edge():
        loaded = load_dataset(dataset)
        run = run_dataset(
            loaded,
            settings,
            index_dir=Path(index) if index else None,
            k=k,
            console=_console(stderr=True),
            variants=variants,
        ).to_dict()
        if report:
            written = write_html(run, report)
            click.echo(f"report written to {written}", err=True)
    if as_json:
        click.echo(to_json(run))
    else:
        print_run(run, _console())
    wanted = {**(run["gate"]["thresholds"] if gate else {}), **fail_under}
    failures = shortfalls(run["metrics"], wanted)
    if failures:
        raise click.ClickException("threshold missed: " + "; ".join(failures))


def _settings(ctx: click.Context) -> Any:
    from bot.config import Settings

    if isinstance(ctx.obj, dict) and "settings" in ctx.obj:
        return ctx.obj["settings"]
    try:
        return Settings()
    except Exception as exc:  # pydantic's ValidationError: a bad variable in the environment
        raise click.UsageError(f"invalid configuration: {exc}") from exc


def _compare(paths: tuple[str, str], as_json: bool) -> None:
    from bot.evaluation.metrics import TIMES
    from bot.evaluation.report import print_comparison

    a, b = (_load_run(p) for p in paths)
    if as_json:
        names = [*SCORES, *FAULTS, *TIMES]
        table = {n: {"a": a["metrics"].get(n), "b": b["metrics"].get(n)} for n in names}
        click.echo(json.dumps({"a": paths[0], "b": paths[1], "metrics": table}, indent=2))
        return
    print_comparison(a, b, _console(), names=(Path(paths[0]).name, Path(paths[1]).name))
