"""The quality bar, in one place: the gate CI enforces and the targets reports show beside it."""

from __future__ import annotations

from collections.abc import Mapping

from bot.evaluation.metrics import SCORES

# Enforced: `make test` (tests/test_eval_gate.py) fails on the development set below these.
GATE: dict[str, float] = {
    "side_coverage": 0.9,
    "citation_validity": 1.0,
}

# Reported beside the metrics, not enforced (yet).
TARGETS: dict[str, float] = {
    "status_not_found": 1.0,
    "answered": 0.8,
}


def bar(metric: str) -> tuple[float, bool] | None:
    """Return a metric's threshold and whether it is enforced, or None when it has none."""
    if metric in GATE:
        return GATE[metric], True
    if metric in TARGETS:
        return TARGETS[metric], False
    return None


def shortfalls(
    metrics: Mapping[str, float | int | None], thresholds: Mapping[str, float]
) -> list[str]:
    """Return one line per metric below its threshold (a metric that was not measured is below)."""
    lines = []
    for name, minimum in thresholds.items():
        label = SCORES.get(name, name)
        value = metrics.get(name)
        if value is None:
            lines.append(f"{name} ({label}) was not measured; it must be at least {minimum:g}")
        elif value < minimum:
            lines.append(f"{name} ({label}) is {value:.3f}, below {minimum:g}")
    return lines
