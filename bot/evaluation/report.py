"""Show a run (the dict that --json prints) in the terminal, alone or beside another run."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bot.evaluation.metrics import FAULTS, SCORES, TIMES
from bot.evaluation.reading import shorten
from bot.evaluation.thresholds import bar
from bot.evaluation.variants import KINDS

if TYPE_CHECKING:
    from rich.console import Console

Run = Mapping[str, Any]


def to_json(run: Run) -> str:
    """Render a run as JSON."""
    return json.dumps(run, ensure_ascii=False, indent=2)


def percent(value: Any) -> str:
    """Render a share as a percentage ("n/a" when it was not measured)."""
    return "n/a" if value is None else f"{value:.0%}" if value in (0, 1) else f"{value:.1%}"


def in_seconds(value: Any) -> str:
    """Render a time in seconds ("n/a" when it was not measured)."""
    return "n/a" if value is None else f"{value:.2f} s"


METRICS: dict[str, str] = {**SCORES, **FAULTS, **TIMES}
# Measured only when the run asked the variants: left out of tables of a run that did not.
VARIANT_METRICS = ("status_consistency", "variant_pass_rate", "variant_pass_drop")


def metric_names(run: Run) -> list[str]:
    """Return the names of the metrics a run reports, in display order."""
    asked = run.get("variants") is not None
    return [n for n in METRICS if asked or n not in VARIANT_METRICS]


def format_metric(name: str, value: Any) -> str:
    """Render a metric's value: seconds, a ratio, a difference in points or a share."""
    if name in TIMES:
        return in_seconds(value)
    if value is None:
        return "n/a"
    if name == "side_labels_per_side":
        return f"{value:.2f}"
    if name == "variant_pass_drop":
        return f"{value * 100:+.1f} pt"
    return percent(value)


def _verdict(name: str, value: Any) -> tuple[str, str]:
    """Return (word, style) for a metric against its threshold."""
    threshold = bar(name)
    if threshold is None:
        return "", ""
    kind = "gate" if threshold.enforced else "target"
    head = f"{kind} {threshold.sign} {threshold.value:g}"
    if threshold.met(value):
        return f"{head}: ok", "green"
    missed = "not measured" if value is None else "above" if threshold.maximum else "below"
    return f"{head}: {missed}", "red" if threshold.enforced else "yellow"


def fraction(part: Mapping[str, Any] | None, top: str, bottom: str) -> str:
    """Return "3/4" from a check's two counts (or lists, counted); "-" when it did not apply."""
    if not part:
        return "-"

    def count(value: Any) -> int:
        return len(value) if isinstance(value, list) else int(value)

    return f"{count(part[top])}/{count(part[bottom])}"


# --- terminal ------------------------------------------------------------------------------------


def print_run(run: Run, console: Console) -> None:
    """Print one row per case with its failing reasons, then the metrics against the gate."""
    from rich.table import Table

    cases = Table(
        title=f"newsbot eval: {run['dataset']} ({run['answerer']})",
        show_lines=True,
        expand=True,
    )
    cases.add_column("case", style="bold", no_wrap=True)
    cases.add_column("status", no_wrap=True)
    cases.add_column("sides", justify="right")
    cases.add_column("quotes", justify="right")
    cases.add_column("attrib", justify="right")
    cases.add_column("labels", justify="right")
    cases.add_column("recall", justify="right")
    cases.add_column("time", justify="right", no_wrap=True)
    cases.add_column("result", no_wrap=True)
    cases.add_column("why it failed", ratio=1)
    for case in run["cases"]:
        status = case["status"] or "error"
        shown = (
            status
            if status == case["expected_status"]
            else f"[red]{status}[/]\n[dim]expected {case['expected_status']}[/]"
        )
        cases.add_row(
            case["id"],
            shown,
            fraction(case["sides"], "covered", "total"),
            fraction(case["citations"], "valid", "total"),
            attribution_cell(case.get("attribution")),
            labels_cell(case.get("labels")),
            fraction(case["recall"], "found", "expected"),
            f"{case['seconds']:.2f} s",
            "[green]pass[/]" if case["passed"] else "[red]FAIL[/]",
            "\n".join(f"• {r}" for r in case["reasons"]),
        )
    console.print(cases)
    console.print(metrics_table(run["metrics"], metric_names(run)))
    _print_misattributed(run.get("misattributed") or [], console)
    if run.get("variants") is not None:
        _print_variants(run["variants"], console)
    failures = run.get("gate", {}).get("failures") or []
    if failures:
        console.print("[bold red]gate failed:[/] " + "; ".join(failures))
    else:
        console.print("[bold green]gate passed[/]")


def attribution_cell(part: Mapping[str, Any] | None) -> str:
    """Return "correct/checked" for a case, then "✗n" when n labels name the wrong camp."""
    if not part or not part.get("checked"):
        return "-"
    cell = f"{part['correct']}/{part['checked']}"
    return cell + (f" ✗{part['wrong']}" if part.get("wrong") else "")


def labels_cell(part: Mapping[str, Any] | None) -> str:
    """Return "labels/expected sides" for a contested answer."""
    if not part:
        return "-"
    return f"{len(part['labels'])}/{part['expected']}"


def metrics_table(metrics: Mapping[str, Any], names: Sequence[str] | None = None) -> Any:
    """Return a rich table of the metrics with their thresholds."""
    from rich.table import Table

    table = Table(title="metrics")
    table.add_column("metric")
    table.add_column("value", justify="right")
    table.add_column("threshold")
    for name in names or METRICS:
        word, style = _verdict(name, metrics.get(name))
        table.add_row(
            METRICS[name],
            format_metric(name, metrics.get(name)),
            f"[{style}]{word}[/]" if word else "",
        )
    return table


def _print_misattributed(claims: Sequence[Mapping[str, Any]], console: Console) -> None:
    if not claims:
        return
    from rich.markup import escape

    console.print(f"[bold]misattributed claims[/] ({len(claims)}):")
    for claim in claims:
        console.print(
            f"  • {escape(claim['case'])}: “{escape(shorten(claim['quote'], 70))}” labelled "
            f"[red]{escape(claim['label'] or '(none)')}[/], gold {escape(claim['gold_side'])} "
            f"[dim]({escape(shorten(claim['gold_speaker'], 50))})[/]",
            soft_wrap=True,
        )


def _print_variants(variants: Mapping[str, Any], console: Console) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="variants: the same question as people type it")
    table.add_column("variant")
    table.add_column("asked", justify="right")
    table.add_column("same status", justify="right")
    table.add_column("passed", justify="right")
    rows = [*variants["kinds"].items(), ("all", variants["overall"])]
    for kind, tally in rows:
        table.add_row(
            KINDS.get(kind, kind),
            str(tally["asked"]),
            f"{tally['consistent']} ({percent(tally['status_consistency'])})",
            f"{tally['passed']} ({percent(tally['pass_rate'])})",
        )
    console.print(table)
    inconsistent = variants.get("inconsistent") or []
    if inconsistent:
        console.print(f"[bold]variants with another status[/] ({len(inconsistent)}):")
    for item in inconsistent:
        console.print(
            f"  • {escape(item['case'])} ({escape(item['kind'])}): "
            f"“{escape(shorten(item['question'], 70))}” got {item['status'] or 'an error'}, "
            f"the question {item['canonical_status'] or 'an error'}",
            soft_wrap=True,
        )


def print_comparison(a: Run, b: Run, console: Console, names: Sequence[str] = ("A", "B")) -> None:
    """Print two saved runs side by side: metrics with their difference, then case verdicts."""
    from rich.table import Table

    first, second = names
    for name, run in zip(names, (a, b), strict=True):
        console.print(
            f"[bold]{name}[/]: {run.get('dataset')} · {run.get('answerer')} · "
            f"{run.get('started', '')} · {len(run.get('cases', []))} cases"
        )
    if a.get("dataset") != b.get("dataset"):
        console.print("[yellow]the two runs are of different datasets[/]")
    table = Table(title="metrics")
    table.add_column("metric")
    table.add_column(first, justify="right")
    table.add_column(second, justify="right")
    table.add_column("change", justify="right")
    for name in METRICS:
        x, y = a.get("metrics", {}).get(name), b.get("metrics", {}).get(name)
        if x is None and y is None and name in VARIANT_METRICS:
            continue
        table.add_row(
            METRICS[name], format_metric(name, x), format_metric(name, y), _change(name, x, y)
        )
    console.print(table)
    cases = Table(title="cases", show_lines=True, expand=True)
    cases.add_column("case", style="bold", no_wrap=True)
    cases.add_column(first, no_wrap=True)
    cases.add_column(second, no_wrap=True)
    cases.add_column("why it fails", ratio=1)
    left = {c["id"]: c for c in a.get("cases", [])}
    right = {c["id"]: c for c in b.get("cases", [])}
    for case_id in [*left, *(i for i in right if i not in left)]:
        x, y = left.get(case_id), right.get(case_id)
        why = [
            f"{name}: {reason}"
            for name, case in ((first, x), (second, y))
            for reason in (case or {}).get("reasons", [])
        ]
        cases.add_row(case_id, _cell(x), _cell(y), "\n".join(why))
    console.print(cases)


def _cell(case: Mapping[str, Any] | None) -> str:
    if case is None:
        return "[dim]absent[/]"
    word = "[green]pass[/]" if case["passed"] else "[red]FAIL[/]"
    return f"{word} {case['status'] or 'error'}"


def _change(name: str, x: Any, y: Any) -> str:
    if x is None or y is None:
        return ""
    delta = y - x
    if abs(delta) < 1e-9:
        return "="
    better = delta < 0 if name in TIMES or name in FAULTS else delta > 0
    if name in TIMES:
        text = f"{delta:+.2f} s"
    elif name == "side_labels_per_side":
        text = f"{delta:+.2f}"
    else:
        text = f"{delta * 100:+.1f} pt"
    return f"[{'green' if better else 'red'}]{text}[/]"
