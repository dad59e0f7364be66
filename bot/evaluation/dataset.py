"""Evaluation datasets: load a YAML file and check it follows the contract in DESIGN.md."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from bot.answer import Status
from bot.config import MAX_QUESTION_CHARS
from bot.errors import DatasetError
from bot.evaluation.gold import Gold, load_gold

STATUSES: tuple[str, ...] = get_args(Status)
_TOP_KEYS = ("name", "corpus", "cases", "attributions")
_CASE_KEYS = (
    "id",
    "question",
    "status",
    "sides",
    "answer_any",
    "sources_any",
    "summary_any",
    "variants",
)
_SIDE_KEYS = ("name", "claimant_any", "sources_any")


@dataclass(frozen=True)
class ExpectedSide:
    """A side a contested answer must cover: who may speak for it and which files may back it."""

    name: str
    claimant_any: tuple[str, ...]
    sources_any: tuple[str, ...]


@dataclass(frozen=True)
class Case:
    """One question with what a good answer to it looks like."""

    id: str
    question: str
    status: str
    sides: tuple[ExpectedSide, ...] = ()
    answer_any: tuple[str, ...] = ()
    sources_any: tuple[str, ...] = ()
    summary_any: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()  # the question as people also type it, asked with --variants

    def expected_files(self) -> list[str]:
        """Return every file the case expects to be drawn on (the union of its sources_any)."""
        files = list(self.sources_any)
        for side in self.sides:
            files.extend(side.sources_any)
        return list(dict.fromkeys(files))


@dataclass(frozen=True)
class Dataset:
    """A named set of cases, the corpus they are asked against and its gold attributions."""

    name: str
    path: Path
    corpus: tuple[Path, ...]
    cases: tuple[Case, ...] = field(default_factory=tuple)
    gold: Gold | None = None


def load_dataset(path: str | Path) -> Dataset:
    """Load and validate an evaluation dataset, raising DatasetError when it breaks the contract."""
    import yaml

    path = Path(path)
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise DatasetError(where, "no such file") from exc
    except IsADirectoryError as exc:
        raise DatasetError(where, "is a folder, not a YAML file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(where, f"cannot be read ({exc})") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid syntax"
        raise DatasetError(where, f"not valid YAML{at}: {problem}") from exc
    return parse_dataset(data, path)


def parse_dataset(data: Any, path: Path) -> Dataset:
    """Validate already-parsed YAML data; corpus paths are resolved relative to `path`."""
    where = str(path)
    if not isinstance(data, dict):
        raise DatasetError(where, "the top level must be a mapping with name, corpus and cases")
    _check_keys(data, _TOP_KEYS, where, "the dataset")
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not name.strip():
        raise DatasetError(where, "name must be a non-empty string")
    corpus = _corpus(data.get("corpus"), path)
    raw_cases = data.get("cases")
    if not isinstance(raw_cases, list) or not raw_cases:
        raise DatasetError(where, "cases must be a non-empty list")
    cases: list[Case] = []
    seen: set[str] = set()
    for number, raw in enumerate(raw_cases, start=1):
        case = _case(raw, number, where)
        if case.id in seen:
            raise DatasetError(where, f"case {number}: id {case.id!r} is used twice")
        seen.add(case.id)
        cases.append(case)
    return Dataset(
        name=name.strip(),
        path=path,
        corpus=corpus,
        cases=tuple(cases),
        gold=_gold(data.get("attributions"), path),
    )


def _gold(value: Any, path: Path) -> Gold | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise DatasetError(str(path), "attributions must name a YAML file, relative to the dataset")
    return load_gold(path.resolve().parent / Path(value.strip()).expanduser())


def _corpus(value: Any, path: Path) -> tuple[Path, ...]:
    where = str(path)
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise DatasetError(where, "corpus must be a list of files or folders")
    base = path.resolve().parent
    return tuple((base / Path(v).expanduser()).resolve() for v in value)


def _case(raw: Any, number: int, where: str) -> Case:
    if not isinstance(raw, dict):
        raise DatasetError(where, f"case {number} must be a mapping (id, question, status, ...)")
    label = f"case {number}"
    case_id = raw.get("id")
    if isinstance(case_id, int | float) and not isinstance(case_id, bool):
        case_id = str(case_id)
    if not isinstance(case_id, str) or not case_id.strip():
        raise DatasetError(where, f"{label}: id must be a non-empty string")
    case_id = case_id.strip()
    label = f"case {case_id!r}"
    _check_keys(raw, _CASE_KEYS, where, label)
    question = raw.get("question")
    if not isinstance(question, str) or not question.strip():
        raise DatasetError(where, f"{label}: question must be a non-empty string")
    if len(question.strip()) > MAX_QUESTION_CHARS:
        raise DatasetError(
            where, f"{label}: the question is longer than {MAX_QUESTION_CHARS} characters"
        )
    status = raw.get("status")
    if status not in STATUSES:
        raise DatasetError(
            where, f"{label}: status must be one of {', '.join(STATUSES)}, not {status!r}"
        )
    answer_any = _strings(raw.get("answer_any"), where, f"{label}: answer_any")
    summary_any = _strings(raw.get("summary_any"), where, f"{label}: summary_any")
    variants = _strings(raw.get("variants"), where, f"{label}: variants")
    if any(len(v) > MAX_QUESTION_CHARS for v in variants):
        raise DatasetError(
            where, f"{label}: a variant is longer than {MAX_QUESTION_CHARS} characters"
        )
    sources_any = _files(raw.get("sources_any"), where, f"{label}: sources_any")
    sides: list[ExpectedSide] = []
    if status == "contested":
        raw_sides = raw.get("sides")
        if not isinstance(raw_sides, list) or not raw_sides:
            raise DatasetError(where, f"{label}: a contested case needs a non-empty list of sides")
        for position, raw_side in enumerate(raw_sides, start=1):
            sides.append(_side(raw_side, where, f"{label}, side {position}"))
        names = [s.name.lower() for s in sides]
        if len(set(names)) != len(names):
            raise DatasetError(where, f"{label}: two sides have the same name")
    elif raw.get("sides") is not None:
        raise DatasetError(where, f"{label}: only a contested case has sides, not a {status} one")
    if status == "not_found" and (answer_any or sources_any):
        raise DatasetError(
            where, f"{label}: a not_found case expects nothing cited, so no answer_any/sources_any"
        )
    return Case(
        id=case_id,
        question=question.strip(),
        status=status,
        sides=tuple(sides),
        answer_any=answer_any,
        sources_any=sources_any,
        summary_any=summary_any,
        variants=tuple(dict.fromkeys(variants)),
    )


def _side(raw: Any, where: str, label: str) -> ExpectedSide:
    if not isinstance(raw, dict):
        raise DatasetError(where, f"{label} must be a mapping (name, claimant_any, sources_any)")
    _check_keys(raw, _SIDE_KEYS, where, label)
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise DatasetError(where, f"{label}: name must be a non-empty string")
    label = f"{label} ({name.strip()})"
    claimants = _strings(raw.get("claimant_any"), where, f"{label}: claimant_any")
    files = _files(raw.get("sources_any"), where, f"{label}: sources_any")
    if not claimants:
        raise DatasetError(where, f"{label}: claimant_any must list at least one name")
    if not files:
        raise DatasetError(where, f"{label}: sources_any must list at least one file")
    return ExpectedSide(name=name.strip(), claimant_any=claimants, sources_any=files)


def _strings(value: Any, where: str, label: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list):
        raise DatasetError(where, f"{label} must be a list of strings")
    items: list[str] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise DatasetError(where, f"{label} must be a list of strings, not {item!r}")
        text = str(item).strip()
        if not text:
            raise DatasetError(where, f"{label} has an empty entry")
        items.append(text)
    return tuple(items)


def _files(value: Any, where: str, label: str) -> tuple[str, ...]:
    # Files are matched by name, so "corpus/dev/x.txt" and "x.txt" mean the same file.
    return tuple(dict.fromkeys(Path(f).name for f in _strings(value, where, label)))


def _check_keys(raw: dict[Any, Any], known: tuple[str, ...], where: str, label: str) -> None:
    """Reject a key that is a near-miss of a known one (a typo would silently disable a check)."""
    for key in raw:
        if str(key) in known:
            continue
        close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.75)
        if close:
            raise DatasetError(where, f"{label}: unknown key {key!r} (did you mean {close[0]!r}?)")
