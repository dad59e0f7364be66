"""Small evaluator functions: each checks one property of an answer (as its JSON dict) for a case.

Every check returns what it counted and, when it fails, why in words, so that a newsroom can read
a failure without opening the code. Citations are checked against the files on disk, never
against what the answer says a source contains.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.evaluation.attribution import Attribution, check_attributions, side_labels
from bot.evaluation.citations import citation_validity
from bot.evaluation.dataset import STATUSES, Case, ExpectedSide
from bot.evaluation.gold import Gold
from bot.evaluation.reading import (
    AnswerDict,
    all_claims,
    cited_names,
    claims_of,
    normalise,
    shorten,
    source_files,
)

# Metrics where higher is better, as named in --json, --fail-under and the thresholds.
SCORES: dict[str, str] = {
    "pass_rate": "cases passed",
    "side_coverage": "side coverage",
    "citation_validity": "citation validity",
    "attribution_accuracy": "attribution accuracy",
    "status_accuracy": "status accuracy",
    "status_contested": "status accuracy: contested",
    "status_answered": "status accuracy: answered",
    "status_not_found": "status accuracy: not_found",
    "answered": "answered cases: content and citation",
    "summary_content": "summaries with the expected words",
    "retrieval_recall": "retrieval recall",
    "status_consistency": "variants: status consistency",
    "variant_pass_rate": "variants: cases passed",
}
# Metrics where lower is better: a threshold on one of them is a maximum.
FAULTS: dict[str, str] = {
    "misattribution_rate": "misattribution rate",
    "unresolved_share": "unresolved share",
    "side_labels_per_side": "side labels per side",
    "variant_pass_drop": "variants: pass rate drop",
}
# Not shares of 0-1: labels per side is a ratio (1.0 = one label per camp), the drop a difference.
RANGES: dict[str, tuple[float, float]] = {
    "side_labels_per_side": (0.0, math.inf),
    "variant_pass_drop": (-1.0, 1.0),
}
# Times, in seconds per question: lower is better.
TIMES: dict[str, str] = {"latency_p50": "latency p50", "latency_p95": "latency p95"}


def _basename(path: str) -> str:
    return Path(path).name


# --- side coverage -------------------------------------------------------------------------------


@dataclass
class SideCoverage:
    """How many expected sides an answer covers, each by a claim of its own."""

    covered: int
    total: int
    matched: dict[str, int] = field(default_factory=dict)  # side name -> index in claims
    reasons: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Say whether every expected side is covered."""
        return self.covered == self.total


def speaks_for(claim: Mapping[str, Any], side: ExpectedSide) -> bool:
    """Say whether a claim's claimant or side contains one of the side's claimant names."""
    who = f"{claim.get('claimant') or ''}\n{claim.get('side') or ''}".lower()
    return any(name.lower() in who for name in side.claimant_any)


def backs(claim: Mapping[str, Any], side: ExpectedSide, files: Mapping[int, str]) -> bool:
    """Say whether a claim cites one of the files the side expects."""
    return any(name in side.sources_any for name in cited_names(claim, files))


def side_coverage(answer: AnswerDict, case: Case) -> SideCoverage:
    """Match each expected side to a distinct claim speaking for it and citing an expected file."""
    claims = claims_of(answer)
    files = source_files(answer)
    fits = [
        [i for i, c in enumerate(claims) if speaks_for(c, side) and backs(c, side, files)]
        for side in case.sides
    ]
    owner = _match(fits)
    matched = {case.sides[s].name: c for c, s in owner.items()}
    result = SideCoverage(covered=len(matched), total=len(case.sides), matched=matched)
    for number, side in enumerate(case.sides):
        if side.name not in matched:
            result.reasons.append(_why_uncovered(side, fits[number], claims, files, matched))
    return result


def _match(fits: Sequence[Sequence[int]]) -> dict[int, int]:
    """Return a maximum matching of sides to distinct claims (claim index -> side index)."""
    owner: dict[int, int] = {}

    def place(side: int, seen: set[int]) -> bool:
        for claim in fits[side]:
            if claim in seen:
                continue
            seen.add(claim)
            if claim not in owner or place(owner[claim], seen):
                owner[claim] = side
                return True
        return False

    for side in range(len(fits)):
        place(side, set())
    return owner


def _why_uncovered(
    side: ExpectedSide,
    fitting: Sequence[int],
    claims: Sequence[Mapping[str, Any]],
    files: Mapping[int, str],
    matched: Mapping[str, int],
) -> str:
    if fitting:
        taken = [name for name, index in matched.items() if index in fitting]
        return f"side {side.name}: its only fitting claim is already counted for {', '.join(taken)}"
    speaking = [c for c in claims if speaks_for(c, side)]
    if not speaking:
        names = ", ".join(side.claimant_any[:4]) + ("…" if len(side.claimant_any) > 4 else "")
        return f"side {side.name} missing: no claim by or for {names}"
    cited = sorted({n for c in speaking for n in cited_names(c, files)})
    return (
        f"side {side.name}: its claims cite {', '.join(cited) or 'no source'}, "
        f"not {' or '.join(side.sources_any)}"
    )


# --- status --------------------------------------------------------------------------------------


def status_correct(answer: AnswerDict, case: Case) -> bool:
    """Say whether the answer's status is the one the case expects."""
    return answer.get("status") == case.status


def status_reasons(answer: AnswerDict, case: Case) -> list[str]:
    """Say in words what is wrong with the status, and with a not_found that cites anything."""
    got = answer.get("status")
    reasons = []
    if got != case.status:
        if case.status == "not_found":
            reasons.append(f"expected not_found but it answered anyway ({got})")
        elif got == "not_found":
            reasons.append(f"expected {case.status}, got not_found: {shorten(_summary(answer))}")
        else:
            reasons.append(f"expected {case.status}, got {got}")
    if case.status == "not_found" and (answer.get("claims") or answer.get("sources")):
        reasons.append(
            f"not_found case cites {len(answer.get('sources') or [])} source(s) and "
            f"{len(answer.get('claims') or [])} claim(s); it should cite nothing"
        )
    return reasons


def _summary(answer: AnswerDict) -> str:
    return str(answer.get("summary") or answer.get("answer") or "")


# --- the one-line summary -----------------------------------------------------------------------


def summary_reason(answer: AnswerDict, case: Case) -> str | None:
    """Say why the summary lacks every word of summary_any, or None when it holds one."""
    if not case.summary_any:
        return None
    summary = normalise(str(answer.get("summary") or "")).lower()
    if any(normalise(w).lower() in summary for w in case.summary_any):
        return None
    wanted = " or ".join(repr(w) for w in case.summary_any)
    return f"summary does not say {wanted}: {shorten(summary) or 'it is empty'}"


# --- answered content ----------------------------------------------------------------------------


@dataclass
class Content:
    """Whether the expected content is in the answer text and an expected file is cited."""

    text_ok: bool
    cited_ok: bool
    reasons: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Say whether both hold."""
        return self.text_ok and self.cited_ok


def answered_content(answer: AnswerDict, case: Case) -> Content | None:
    """Check answer_any against the answer text and sources_any against cited files."""
    if not case.answer_any and not case.sources_any:
        return None
    text = normalise(str(answer.get("answer") or _summary(answer))).lower()
    text_ok = not case.answer_any or any(normalise(a).lower() in text for a in case.answer_any)
    files = source_files(answer)
    cited = list(dict.fromkeys(n for c in all_claims(answer) for n in cited_names(c, files)))
    cited_ok = not case.sources_any or any(n in case.sources_any for n in cited)
    content = Content(text_ok=text_ok, cited_ok=cited_ok)
    if not text_ok:
        wanted = " or ".join(repr(a) for a in case.answer_any)
        content.reasons.append(f"answer does not contain {wanted}")
    if not cited_ok:
        content.reasons.append(
            f"cites {', '.join(cited) or 'nothing'}, not {' or '.join(case.sources_any)}"
        )
    return content


# --- retrieval recall ----------------------------------------------------------------------------


@dataclass
class Recall:
    """Which expected files appear among the retrieved chunks."""

    found: list[str]
    expected: list[str]

    @property
    def value(self) -> float:
        """Return the share of expected files retrieved."""
        return len(self.found) / len(self.expected) if self.expected else 1.0


def retrieval_recall(answer: AnswerDict, case: Case) -> Recall | None:
    """Check the case's expected files (the union of its sources_any) against `retrieved`."""
    expected = case.expected_files()
    if not expected:
        return None
    retrieved = {
        _basename(str(r.get("path") or ""))
        for r in answer.get("retrieved") or []
        if isinstance(r, Mapping)
    }
    return Recall(found=[f for f in expected if f in retrieved], expected=expected)


# --- latency -------------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """Return the q-th percentile (0-100) with linear interpolation, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# --- one case, all cases -------------------------------------------------------------------------


@dataclass
class CaseResult:
    """Every check of one case, its verdict and the reasons it failed."""

    id: str
    question: str
    expected_status: str
    status: str | None
    seconds: float
    passed: bool
    reasons: list[str]
    sides: dict[str, Any] | None
    content: dict[str, Any] | None
    citations: dict[str, Any]
    recall: dict[str, Any] | None
    answer: dict[str, Any] | None
    error: str | None = None
    summary_ok: bool | None = None
    attribution: dict[str, Any] | None = None
    labels: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return asdict(self)


def evaluate_case(
    answer: AnswerDict | None,
    case: Case,
    seconds: float,
    *,
    error: str | None = None,
    gold: Gold | None = None,
) -> CaseResult:
    """Run every check on one answer and decide whether the case passes.

    With gold attributions, the side labels of the claims are judged too; they are measured,
    not part of the case's verdict.
    """
    if answer is None:
        return CaseResult(
            id=case.id,
            question=case.question,
            expected_status=case.status,
            status=None,
            seconds=seconds,
            passed=False,
            reasons=[f"no answer: {error or 'unknown error'}"],
            sides={"covered": 0, "total": len(case.sides), "matched": {}} if case.sides else None,
            content={"text_ok": False, "cited_ok": False}
            if case.answer_any or case.sources_any
            else None,
            citations={"valid": 0, "total": 0},
            recall={"found": [], "expected": case.expected_files()}
            if case.expected_files()
            else None,
            answer=None,
            error=error,
            summary_ok=False if case.summary_any else None,
        )
    reasons = status_reasons(answer, case)
    sides = side_coverage(answer, case) if case.sides else None
    if sides is not None:
        reasons.extend(sides.reasons)
    content = answered_content(answer, case)
    if content is not None:
        reasons.extend(content.reasons)
    summary = summary_reason(answer, case)
    if summary is not None:
        reasons.append(summary)
    citations = citation_validity(answer)
    reasons.extend(citations.reasons)
    recall = retrieval_recall(answer, case)
    attribution = check_attributions(answer, gold) if gold is not None else None
    labels = (
        {"labels": side_labels(answer), "expected": len(case.sides)}
        if case.status == "contested" and answer.get("status") == "contested"
        else None
    )
    return CaseResult(
        id=case.id,
        question=case.question,
        expected_status=case.status,
        status=answer.get("status"),
        seconds=seconds,
        passed=not reasons,
        reasons=reasons,
        sides=None
        if sides is None
        else {"covered": sides.covered, "total": sides.total, "matched": sides.matched},
        content=None
        if content is None
        else {"text_ok": content.text_ok, "cited_ok": content.cited_ok},
        citations={"valid": citations.valid, "total": citations.total},
        recall=None if recall is None else {"found": recall.found, "expected": recall.expected},
        answer=dict(answer),
        summary_ok=None if not case.summary_any else summary is None,
        attribution=None if attribution is None else attribution.to_dict(),
        labels=labels,
    )


def summarise(results: Sequence[CaseResult]) -> dict[str, float | int | None]:
    """Aggregate case results into the metrics; a metric with nothing to measure is None."""
    metrics: dict[str, float | int | None] = {"cases": len(results)}
    with_sides = [r.sides for r in results if r.sides]
    side_total = sum(s["total"] for s in with_sides)
    metrics["side_coverage"] = (
        sum(s["covered"] for s in with_sides) / side_total if side_total else None
    )
    quotes = sum(r.citations["total"] for r in results)
    metrics["citation_validity"] = (
        sum(r.citations["valid"] for r in results) / quotes if quotes else None
    )
    metrics["status_accuracy"] = _share([r.status == r.expected_status for r in results])
    for kind in STATUSES:
        metrics[f"status_{kind}"] = _share(
            [r.status == kind for r in results if r.expected_status == kind]
        )
    metrics["answered"] = _share(
        [
            bool(r.content and r.content["text_ok"] and r.content["cited_ok"])
            for r in results
            if r.expected_status == "answered"
        ]
    )
    recalls = [len(r.recall["found"]) / len(r.recall["expected"]) for r in results if r.recall]
    metrics["retrieval_recall"] = sum(recalls) / len(recalls) if recalls else None
    metrics["summary_content"] = _share([r.summary_ok for r in results if r.summary_ok is not None])
    metrics["pass_rate"] = _share([r.passed for r in results])
    metrics.update(attribution_metrics(results))
    seconds = [r.seconds for r in results]
    metrics["latency_p50"] = percentile(seconds, 50)
    metrics["latency_p95"] = percentile(seconds, 95)
    return metrics


def attribution_metrics(results: Sequence[CaseResult]) -> dict[str, float | int | None]:
    """Sum the checked claims and side labels of every case, then take the rates (not a mean)."""
    total = Attribution()
    for result in results:
        if result.attribution:
            total.checked += result.attribution["checked"]
            total.correct += result.attribution["correct"]
            total.wrong += result.attribution["wrong"]
            total.unresolved += result.attribution["unresolved"]
    checked = total.checked or None
    labels = [r.labels for r in results if r.labels and r.labels["expected"]]
    expected = sum(item["expected"] for item in labels)
    return {
        "attribution_checked": total.checked,
        "attribution_accuracy": total.correct / checked if checked else None,
        "misattribution_rate": total.wrong / checked if checked else None,
        "unresolved_share": total.unresolved / checked if checked else None,
        "side_labels_per_side": (
            sum(len(item["labels"]) for item in labels) / expected if expected else None
        ),
    }


def _share(flags: Sequence[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None
