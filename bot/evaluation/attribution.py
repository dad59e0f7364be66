"""Attribution metrics: is each checked claim's side label the camp its speaker belongs to?

A claim is *checked* when one of its evidence quotes contains a gold fragment of the file it cites
(whitespace and quote marks normalised on both sides). Its side label is then

- correct when it names the gold camp and no other camp (or, for a speaker outside the dispute,
  when it names no camp at all);
- wrong when it names another camp (a neutral speaker labelled with a camp is wrong);
- unresolved when it names no camp.

A label names a camp when it holds one of the camp's words (whole words, case-insensitive, "U.R."
read as "UR") or is itself a piece of two or more words of one ("Liberation Front" of "Belmorian
Liberation Front"). Only the camps with gold fragments in the files the answer cites are in play,
and a word inside a longer word of another camp belongs to that longer word ("Belmorian" in
"Belmorian Liberation Front" names the Front, not Belmoria).

A quote that carries the fragments of several speakers must fit each of them, so its worst
verdict counts: a long quote cannot be right for whichever camp it is filed under.
Verification notes are checked too: they present a quote as the outlet's own voice, so a camp's
words shown as verification name no camp and count as unresolved.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.evaluation.gold import NEUTRAL, Gold, GoldAttribution
from bot.evaluation.reading import (
    AnswerDict,
    claims_of,
    evidence_of,
    independent_of,
    normalise,
    source_files,
    verification_of,
)

CORRECT, WRONG, UNRESOLVED = "correct", "wrong", "unresolved"
_SEVERITY = {CORRECT: 0, UNRESOLVED: 1, WRONG: 2}
# "U.R." and "U.R" are the acronym "UR"; a word boundary cannot be drawn after a full stop.
_ACRONYM = re.compile(r"(?<!\w)[A-Za-z](?:\.[A-Za-z])+\.?(?!\w)")
_TOKEN = re.compile(r"\w+")
_INDEPENDENT = re.compile(r"^independent\b")


def fold(text: str) -> str:
    """Normalise a label or camp word for matching: spaces, quote marks, acronyms, case."""
    text = _ACRONYM.sub(lambda m: m.group(0).replace(".", ""), normalise(text))
    return text.casefold()


@lru_cache(maxsize=4096)
def _word(word: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(fold(word)) + r"(?!\w)")


def _piece(label: str, word: str) -> bool:
    """Say whether the label is a run of two or more of the word's words ("the" aside)."""
    tokens = _TOKEN.findall(label)
    if tokens[:1] == ["the"]:
        tokens = tokens[1:]
    whole = _TOKEN.findall(fold(word))
    if len(tokens) < 2 or len(tokens) > len(whole):
        return False
    return any(whole[i : i + len(tokens)] == tokens for i in range(len(whole) - len(tokens) + 1))


def camps_named(label: str, camps: Mapping[str, Sequence[str]]) -> set[str]:
    """Return the camps a side label names by words of its own."""
    text = fold(label)
    if not text:
        return set()
    found: list[tuple[int, int, str]] = []
    for camp, words in camps.items():
        for word in words:
            found.extend((m.start(), m.end(), camp) for m in _word(word).finditer(text))
            if _piece(text, word):
                found.append((0, len(text), camp))

    def inside_another(start: int, end: int, camp: str) -> bool:
        return any(
            other != camp and low <= start and end <= high and high - low > end - start
            for low, high, other in found
        )

    return {camp for start, end, camp in found if not inside_another(start, end, camp)}


def judge(label: str, readings: Sequence[str], camps: Mapping[str, Sequence[str]]) -> str:
    """Return correct, wrong or unresolved for a label given the speaker's acceptable camps."""
    named = camps_named(label, camps)
    if not named:
        return CORRECT if NEUTRAL in readings else UNRESOLVED
    if len(named) == 1 and named <= set(readings):
        return CORRECT
    return WRONG


@dataclass
class Attribution:
    """The checked claims of one answer (or of many, summed) and how their labels fared."""

    checked: int = 0
    correct: int = 0
    wrong: int = 0
    unresolved: int = 0
    claims: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return asdict(self)


def check_attributions(answer: AnswerDict, gold: Gold) -> Attribution:
    """Judge the side label of every claim and verification note that quotes a gold fragment."""
    files = source_files(answer)
    cited = {Path(path).name for path in files.values()}
    in_play = {s for a in gold.attributions if a.file in cited for s in a.sides if s != NEUTRAL}
    camps = {name: words for name, words in gold.camps.items() if name in in_play}
    result = Attribution()
    notes = [(c, False) for c in claims_of(answer) + independent_of(answer)]
    notes += [(c, True) for c in verification_of(answer)]
    for claim, verification in notes:
        label = str(claim.get("side") or "")
        judged = [
            (judge(label, gold_item.sides, camps), gold_item, quote)
            for gold_item, quote in _gold_quoted(claim, files, gold)
        ]
        if not judged:
            continue
        verdict, gold_item, quote = max(judged, key=lambda j: _SEVERITY[j[0]])
        result.checked += 1
        setattr(result, verdict, getattr(result, verdict) + 1)
        result.claims.append(
            {
                "verdict": verdict,
                "label": label,
                "claimant": str(claim.get("claimant") or ""),
                "verification": verification,
                "quote": quote,
                "file": gold_item.file,
                "gold_side": gold_item.side,
                "gold_speaker": gold_item.speaker,
            }
        )
    return result


def _gold_quoted(
    claim: Mapping[str, Any], files: Mapping[int, str], gold: Gold
) -> list[tuple[GoldAttribution, str]]:
    """Return each gold fragment a claim's evidence contains, with the evidence quote."""
    found = []
    for evidence in evidence_of(claim):
        source = evidence.get("source")
        if not isinstance(source, int) or source not in files:
            continue
        quote = normalise(str(evidence.get("quote") or ""))
        folded = quote.casefold()
        for item in gold.in_file(Path(files[source]).name):
            if item.quote.casefold() in folded:
                found.append((item, quote))
    return found


def is_independent(claim: Mapping[str, Any]) -> bool:
    """Say whether a claim is marked as an independent voice (outside the dispute)."""
    if claim.get("independent") is True:
        return True
    # The reporting outlet's own voice ("Reported") is verification, not a camp either.
    return bool(_INDEPENDENT.match(fold(str(claim.get("side") or "")))) or fold(
        str(claim.get("side") or "")
    ) in ("reported", "verification")


def side_labels(answer: AnswerDict) -> list[str]:
    """Return the distinct side labels of an answer's claims, independent voices left out.

    A label that names a camp counts, and so does one that names none ("Intense", "A military
    source"): both are shown to the reader as a side. Labels differing only in case or spacing
    are one label.
    """
    labels: dict[str, str] = {}
    for claim in claims_of(answer):
        if is_independent(claim):
            continue
        label = normalise(str(claim.get("side") or ""))
        if label:
            labels.setdefault(label.casefold(), label)
    return list(labels.values())
