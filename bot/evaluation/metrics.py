"""Small evaluator functions: each checks one property of an answer (as its JSON dict) for a case.

Every check returns what it counted and, when it fails, why in words, so that a newsroom can read
a failure without opening the code. Citations are checked against the files on disk, never
against what the answer says a source contains.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.evaluation.dataset import STATUSES, Case, ExpectedSide

AnswerDict = Mapping[str, Any]

# Metrics where higher is better, as named in --json, --fail-under and the thresholds.
SCORES: dict[str, str] = {
    "side_coverage": "side coverage",
    "citation_validity": "citation validity",
    "status_accuracy": "status accuracy",
    "status_contested": "status accuracy: contested",
    "status_answered": "status accuracy: answered",
    "status_not_found": "status accuracy: not_found",
    "answered": "answered cases: content and citation",
    "retrieval_recall": "retrieval recall",
    "pass_rate": "cases passed",
}
# Times, in seconds per question: lower is better.
TIMES: dict[str, str] = {"latency_p50": "latency p50", "latency_p95": "latency p95"}

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
    }
)
_SPACE = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]+>")


def normalise(text: str) -> str:
    """Collapse whitespace and turn typographic quote marks into ASCII ones."""
    return _SPACE.sub(" ", text.translate(_QUOTES)).strip()


def shorten(text: str, limit: int = 80) -> str:
    """Return text on one line, cut to limit characters with an ellipsis."""
    flat = normalise(text)
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


# --- reading an answer ---------------------------------------------------------------------------


def source_files(answer: AnswerDict) -> dict[int, str]:
    """Map each source id of an answer to the path it gives."""
    files: dict[int, str] = {}
    for source in answer.get("sources") or []:
        if isinstance(source, Mapping) and isinstance(source.get("id"), int):
            files[source["id"]] = str(source.get("path") or "")
    return files


def all_claims(answer: AnswerDict) -> list[Mapping[str, Any]]:
    """Return the claims, independent voices and verification notes (all carry quotes)."""
    items = [
        *(answer.get("claims") or []),
        *(answer.get("independent") or []),
        *(answer.get("verification") or []),
    ]
    return [c for c in items if isinstance(c, Mapping)]


def _evidence(claim: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for item in claim.get("evidence") or []:
        if isinstance(item, Mapping):
            yield item


def cited_names(claim: Mapping[str, Any], files: Mapping[int, str]) -> list[str]:
    """Return the file names (basenames) a claim's evidence cites; dangling ids are left out."""
    names = [Path(files[e["source"]]).name for e in _evidence(claim) if e.get("source") in files]
    return list(dict.fromkeys(names))


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
    claims = [c for c in answer.get("claims") or [] if isinstance(c, Mapping)]
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


# --- citation validity ---------------------------------------------------------------------------


@dataclass
class Citations:
    """How many evidence quotes are found verbatim in the file they cite."""

    valid: int = 0
    total: int = 0
    reasons: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Say whether every quote checks out."""
        return self.valid == self.total


def citation_validity(answer: AnswerDict) -> Citations:
    """Check each evidence quote against the file at its cited source's path, read from disk."""
    files = source_files(answer)
    result = Citations()
    for claim in all_claims(answer):
        for evidence in _evidence(claim):
            result.total += 1
            problem = check_quote(evidence, files)
            if problem is None:
                result.valid += 1
            else:
                result.reasons.append(problem)
    return result


def check_quote(evidence: Mapping[str, Any], files: Mapping[int, str]) -> str | None:
    """Return why one evidence quote is not found in the file it cites, or None when it is."""
    source = evidence.get("source")
    quote = normalise(str(evidence.get("quote") or ""))
    if not isinstance(source, int) or source not in files:
        return f"evidence cites source [{source}], which is not in the sources (dangling id)"
    if not quote:
        return f"an empty quote cites [{source}]"
    path = files[source]
    views = file_views(path)
    if views is None:
        return f"[{source}] cites {path or 'no path'}, which cannot be read"
    if any(quote in view for view in views):
        return None
    return f"quote not in {_basename(path)}: \u201c{shorten(quote, 90)}\u201d"


def file_views(path: str) -> tuple[str, ...] | None:
    """Return the normalised texts a quote may be found in, or None when the file is unreadable."""
    try:
        stat = Path(path).stat()
    except (OSError, ValueError):
        return None
    return _views(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=256)
def _views(path: str, mtime_ns: int, size: int) -> tuple[str, ...] | None:
    """Read a file once per version: its raw text, and for HTML/JSON the text a reader sees."""
    del mtime_ns, size  # part of the cache key only
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    text = _decode(data)
    views = [text]
    suffix = Path(path).suffix.lower()
    if suffix in (".html", ".htm"):
        views.append(html.unescape(_TAG.sub(" ", text)))
    elif suffix in (".json", ".jsonl"):
        views.append("\n".join(_json_strings(text)))
    return tuple(normalise(v) for v in views)


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig",):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return str(best) if best is not None else data.decode("utf-8", errors="replace")


def _json_strings(text: str) -> Iterator[str]:
    docs: list[Any] = []
    try:
        docs.append(json.loads(text))
    except json.JSONDecodeError:
        for line in text.splitlines():
            try:
                docs.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    stack = docs
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


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

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return asdict(self)


def evaluate_case(
    answer: AnswerDict | None, case: Case, seconds: float, *, error: str | None = None
) -> CaseResult:
    """Run every check on one answer and decide whether the case passes."""
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
        )
    reasons = status_reasons(answer, case)
    sides = side_coverage(answer, case) if case.sides else None
    if sides is not None:
        reasons.extend(sides.reasons)
    content = answered_content(answer, case)
    if content is not None:
        reasons.extend(content.reasons)
    citations = citation_validity(answer)
    reasons.extend(citations.reasons)
    recall = retrieval_recall(answer, case)
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
    metrics["pass_rate"] = _share([r.passed for r in results])
    seconds = [r.seconds for r in results]
    metrics["latency_p50"] = percentile(seconds, 50)
    metrics["latency_p95"] = percentile(seconds, 95)
    return metrics


def _share(flags: Sequence[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None
