"""Gold attributions: a dataset's `attributions:` file, the camps and who says what for which.

The file names the camps with the words that name them, and gives attributed sentences as a
verbatim fragment, its speaker and the speaker's camp (or two acceptable readings). `neutral` is
not a camp: it stands for speakers outside the dispute (analysts, monitors, eyewitnesses).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import DatasetError
from bot.evaluation.reading import normalise

NEUTRAL = "neutral"


@dataclass(frozen=True)
class GoldAttribution:
    """An attributed fragment of one file: who says it and which camp (or camps) may be named."""

    file: str
    quote: str
    speaker: str
    sides: tuple[str, ...]

    @property
    def side(self) -> str:
        """Return the acceptable readings as one label ("neutral or Arvenia")."""
        return " or ".join(self.sides)


@dataclass(frozen=True)
class Gold:
    """The camps of a dataset, the words that name each, and its attributed fragments."""

    path: Path
    camps: Mapping[str, tuple[str, ...]]
    attributions: tuple[GoldAttribution, ...] = field(default_factory=tuple)

    def in_file(self, name: str) -> list[GoldAttribution]:
        """Return the fragments of the file with this basename."""
        return [a for a in self.attributions if a.file == name]


def load_gold(path: Path) -> Gold:
    """Load and validate a gold attributions file, raising DatasetError when it is malformed."""
    import yaml

    where = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DatasetError(where, "no such attributions file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(where, f"cannot be read ({exc})") from exc
    except yaml.YAMLError as exc:
        raise DatasetError(where, f"not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise DatasetError(where, "the top level must be a mapping with sides and attributions")
    camps = _camps(data.get("sides"), where)
    known = {*camps, NEUTRAL}
    raw = data.get("attributions")
    if not isinstance(raw, list) or not raw:
        raise DatasetError(where, "attributions must be a non-empty list")
    items = tuple(_attribution(item, n, known, where) for n, item in enumerate(raw, start=1))
    return Gold(path=path, camps=camps, attributions=items)


def _camps(value: Any, where: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict) or not value:
        raise DatasetError(where, "sides must map each camp to the words that name it")
    camps: dict[str, tuple[str, ...]] = {}
    for name, words in value.items():
        if not isinstance(name, str) or not name.strip():
            raise DatasetError(where, f"side {name!r} must be a non-empty name")
        if words is None:
            words = []
        if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
            raise DatasetError(where, f"side {name}: its words must be a list of strings")
        if name.strip() == NEUTRAL:
            continue  # speakers outside the dispute; their words name no camp
        if not words:
            raise DatasetError(where, f"side {name}: list at least one word that names it")
        camps[name.strip()] = tuple(normalise(w) for w in words)
    return camps


def _attribution(raw: Any, number: int, known: set[str], where: str) -> GoldAttribution:
    label = f"attribution {number}"
    if not isinstance(raw, dict):
        raise DatasetError(where, f"{label} must be a mapping (file, quote, speaker, side)")
    texts = {}
    for key in ("file", "quote"):
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            raise DatasetError(where, f"{label}: {key} must be a non-empty string")
        texts[key] = value
    sides = raw.get("side")
    if isinstance(sides, str):
        sides = [sides]
    if not isinstance(sides, list) or not sides or not all(isinstance(s, str) for s in sides):
        raise DatasetError(where, f"{label}: side must be a camp or a list of camps")
    unknown = [s for s in sides if s.strip() not in known]
    if unknown:
        raise DatasetError(
            where,
            f"{label}: side {unknown[0]!r} is not one of the sides: {', '.join(sorted(known))}",
        )
    return GoldAttribution(
        file=Path(texts["file"].strip()).name,
        quote=normalise(texts["quote"]),
        speaker=str(raw.get("speaker") or "").strip(),
        sides=tuple(dict.fromkeys(s.strip() for s in sides)),
    )
