"""The same question as people type it: variants of each case's question, and their consistency.

Every question is asked again all lower case, all upper case, without its final question mark,
wrapped in chatter and with doubled spaces, plus any variants the dataset lists for the case.
The rules are typographic, never about what a question asks, so they apply to any question.
A variant identical to the question it comes from is not asked (it would test nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from bot.evaluation.dataset import Case

LISTED = "listed"  # the kind of a variant the dataset gives under a case's `variants:`
KINDS: dict[str, str] = {
    "lower": "all lower case",
    "upper": "all upper case",
    "no_question_mark": "without the question mark",
    "chatter": "wrapped in chatter",
    "double_spaces": "with doubled spaces",
    LISTED: "listed in the dataset",
}
CHATTER = "Hi, quick question: {question} Thanks!"


def typed_variants(question: str) -> list[tuple[str, str]]:
    """Return (kind, text) for the five ways a person may type the same question."""
    question = question.strip()
    made = [
        ("lower", question.lower()),
        ("upper", question.upper()),
        ("no_question_mark", question.rstrip("?").rstrip()),
        ("chatter", CHATTER.format(question=question)),
        ("double_spaces", question.replace(" ", "  ")),
    ]
    return [(kind, text) for kind, text in made if text and text != question]


def case_variants(case: Case) -> list[tuple[str, str]]:
    """Return the typed variants of a case's question, then the ones its dataset lists."""
    made = typed_variants(case.question)
    seen = {case.question, *(text for _, text in made)}
    return made + [(LISTED, text) for text in case.variants if text not in seen]


@dataclass
class VariantResult:
    """One variant asked: its status beside the canonical question's, and its verdict."""

    case: str
    kind: str
    question: str
    status: str | None
    canonical_status: str | None
    passed: bool
    seconds: float
    reasons: list[str] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        """Say whether the variant got the status the canonical question got."""
        return self.status == self.canonical_status

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {**asdict(self), "consistent": self.consistent}


def _tally(results: Sequence[VariantResult]) -> dict[str, Any]:
    asked = len(results)
    consistent = sum(r.consistent for r in results)
    passed = sum(r.passed for r in results)
    return {
        "asked": asked,
        "consistent": consistent,
        "passed": passed,
        "status_consistency": consistent / asked if asked else None,
        "pass_rate": passed / asked if asked else None,
    }


def summarise_variants(
    results: Sequence[VariantResult], canonical_pass_rate: float | None
) -> dict[str, Any]:
    """Return the variants' metrics overall and per kind, and every inconsistent variant."""
    overall = _tally(results)
    drop = (
        canonical_pass_rate - overall["pass_rate"]
        if canonical_pass_rate is not None and overall["pass_rate"] is not None
        else None
    )
    kinds = {kind: _tally([r for r in results if r.kind == kind]) for kind in KINDS}
    return {
        "metrics": {
            "status_consistency": overall["status_consistency"],
            "variant_pass_rate": overall["pass_rate"],
            "variant_pass_drop": drop,
        },
        "overall": overall,
        "kinds": {kind: tally for kind, tally in kinds.items() if tally["asked"]},
        "inconsistent": [r.to_dict() for r in results if not r.consistent],
        "results": [r.to_dict() for r in results],
    }
