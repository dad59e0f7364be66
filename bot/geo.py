"""Countries, their demonyms and capitals, from the maintained `countryinfo` data package.

General world knowledge the text alone cannot give: that "Sylvanian" names the people of
Sylvania, that a government is often named by its capital ("Port Ellis said"), that "U.S." is
a country. Nothing here is written for any particular conflict.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

# English demonym endings, for countries the data gives none: "Malta" -> "Maltese".
_DEMONYM_ENDINGS = ("n", "an", "ian", "ean", "i", "ese", "ish", "ic", "er", "ite")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Country:
    """A country as news names it."""

    name: str
    demonym: str | None
    capital: str | None


def _key(text: str) -> str:
    text = text.replace("’", "'").strip().strip(".,;:")
    text = re.sub(r"(?<=\w)'(?=\w)", "", text)  # "Sana'a" is written "Sanaa" too
    text = re.sub(r"^(?:the|The)\s+", "", text)
    text = re.sub(r"'s?$", "", text)
    return _SPACE.sub(" ", text).lower()


@cache
def _tables() -> tuple[dict[str, Country], dict[str, Country], dict[str, Country]]:
    """Return (names, demonyms, capitals), each keyed by lower-case text."""
    from countryinfo import CountryInfo

    names: dict[str, Country] = {}
    own: dict[str, bool] = {}
    alternatives: list[tuple[Country, list[str]]] = []
    demonyms: dict[str, Country] = {}
    capitals: dict[str, Country] = {}
    # Countries with ISO codes first, then the most populous: "Myanmar" is the state with
    # its code, and "American" is the United States, not a territory.
    infos = sorted(
        CountryInfo.all().values(),
        key=lambda i: (not (i.get("ISO") or {}).get("alpha2"), -(i.get("population") or 0)),
    )
    for info in infos:
        raw = str(info.get("name") or "")
        if not raw:
            continue
        # "Palestine, State of" is "Palestine" in running text.
        name = raw.split(",")[0].strip()
        demonym = info.get("demonym") or None
        capital = info.get("capital") or None
        if isinstance(capital, list):  # a few countries list several seats
            capital = capital[0] if capital else None
        country = Country(name=name, demonym=demonym, capital=capital)
        # A country's own name wins over another entry's alternative spelling of it.
        if not own.get(_key(name)):
            names[_key(name)] = country
            own[_key(name)] = True
        alternatives.append(
            (
                country,
                [raw]
                + [s for s in info.get("altSpellings") or [] if not re.fullmatch(r"[A-Z]{2,3}", s)],
            )
        )
        if demonym:
            for form in (demonym, demonym + "s"):
                demonyms.setdefault(_key(form), country)
        if capital:
            # "Washington D.C." is "Washington" in news copy.
            for form in (capital, re.sub(r"\s+D\.?C\.?$", "", capital)):
                capitals.setdefault(_key(form), country)
    for country, spellings in alternatives:
        for spelling in spellings:
            names.setdefault(_key(spelling), country)
    return names, demonyms, capitals


@cache
def _codes() -> dict[str, Country]:
    """Return the two-letter codes as news writes them with dots ("U.S.", "U.K.")."""
    from countryinfo import CountryInfo

    names = _tables()[0]
    codes: dict[str, Country] = {}
    for info in CountryInfo.all().values():
        name = _key(str(info.get("name") or "").split(",")[0])
        country = names.get(name)
        for code in info.get("altSpellings") or []:
            if country and re.fullmatch(r"[A-Z]{2}", code):
                codes.setdefault(code, country)
    return codes


def country(text: str) -> Country | None:
    """Return the country a name, demonym or dotted code names ("Sylvanians", "U.S.")."""
    key = _key(text)
    if not key:
        return None
    names, demonyms, _ = _tables()
    found = names.get(key) or demonyms.get(key)
    if found:
        return found
    compact = text.strip().replace(".", "")
    if re.fullmatch(r"[A-Z]\.[A-Z]\.?", text.strip()) or (
        # Bare "US" and "UK" are how headlines and wires write those two; other two-letter
        # capitals ("PA", "AP") are far more often acronyms of bodies than countries.
        compact in ("US", "UK")
    ):
        return _codes().get(compact) or names.get(_key(compact))
    return _derived_demonym(key)


def capital_of(text: str) -> Country | None:
    """Return the country whose capital a name is ("Port Ellis" standing for its government)."""
    return _tables()[2].get(_key(text))


def _derived_demonym(key: str) -> Country | None:
    """Read a demonym the data lacks from a country name and a regular ending."""
    names = _tables()[0]
    for ending in sorted(_DEMONYM_ENDINGS, key=len, reverse=True):
        singular = key[:-1] if key.endswith("s") and not key.endswith("ss") else key
        for word in {key, singular}:
            if not word.endswith(ending) or len(word) - len(ending) < 3:
                continue
            stem = word[: -len(ending)]
            for candidate in (stem, stem + "a", stem + "e", stem + "o", stem + "y"):
                found = names.get(candidate)
                if found:
                    return found
    return None
