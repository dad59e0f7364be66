"""The quality bar, in one place: the gate CI enforces and the targets reports show beside it.

A threshold is a minimum for a metric where higher is better and a maximum for one where lower
is better (misattribution rate, unresolved share, side labels per side, variants' pass drop).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.evaluation.metrics import FAULTS, SCORES

_TOLERANCE = 1e-9

# Enforced by `newsbot eval --gate`: the bars of the answer-quality issues on each development set.
GATE: dict[str, float] = {
    "pass_rate": 0.9,
    "side_coverage": 0.95,
    "citation_validity": 1.0,
    "status_not_found": 1.0,
    "attribution_accuracy": 0.95,
    "misattribution_rate": 0.01,
    "side_labels_per_side": 1.3,
}
# Enforced as well when the run asked the variants (--variants): the same question, typed
# differently, gets the same status, and the variants pass within 5 points of the questions.
VARIANT_GATE: dict[str, float] = {
    "status_consistency": 0.98,
    "variant_pass_drop": 0.05,
}
# Reported beside the metrics, not enforced (yet).
TARGETS: dict[str, float] = {
    "answered": 0.8,
}


# Measured only from a dataset's gold attributions (its `attributions:` file).
ATTRIBUTION_METRICS = ("attribution_accuracy", "misattribution_rate")


def gate(variants: bool = False, attributions: bool = True) -> dict[str, float]:
    """Return the enforced thresholds for a run, with or without variants and gold attributions.

    The variants' bars apply when the run asked them; the attribution bars when the dataset has
    gold attributions to measure them with.
    """
    enforced = {**GATE, **VARIANT_GATE} if variants else dict(GATE)
    if not attributions:
        for name in ATTRIBUTION_METRICS:
            enforced.pop(name, None)
    return enforced


def is_maximum(metric: str) -> bool:
    """Say whether a threshold on this metric is a maximum (lower is better)."""
    return metric in FAULTS


@dataclass(frozen=True)
class Bar:
    """A metric's threshold: its value, whether CI enforces it and whether it is a maximum."""

    value: float
    enforced: bool
    maximum: bool

    @property
    def sign(self) -> str:
        """Return "≤" for a maximum, "≥" for a minimum."""
        return "≤" if self.maximum else "≥"

    def met(self, measured: float | int | None) -> bool:
        """Say whether a measured value meets the bar (an unmeasured one does not)."""
        if measured is None:
            return False
        # Rates are ratios and differences of floats: 0.44 - 0.36 must meet a maximum of 0.08.
        if self.maximum:
            return measured <= self.value + _TOLERANCE
        return measured >= self.value - _TOLERANCE


def bar(metric: str) -> Bar | None:
    """Return a metric's threshold, or None when it has none."""
    for table, enforced in ((GATE, True), (VARIANT_GATE, True), (TARGETS, False)):
        if metric in table:
            return Bar(table[metric], enforced, is_maximum(metric))
    return None


def shortfalls(
    metrics: Mapping[str, float | int | None], thresholds: Mapping[str, float]
) -> list[str]:
    """Return one line per metric that misses its threshold (an unmeasured metric misses it)."""
    lines = []
    for name, value in thresholds.items():
        label = SCORES.get(name) or FAULTS.get(name) or name
        measured = metrics.get(name)
        maximum = is_maximum(name)
        if measured is None:
            limit = "at most" if maximum else "at least"
            lines.append(f"{name} ({label}) was not measured; it must be {limit} {value:g}")
        elif not Bar(value, True, maximum).met(measured):
            side = "above" if maximum else "below"
            lines.append(f"{name} ({label}) is {measured:.3f}, {side} {value:g}")
    return lines
