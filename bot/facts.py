"""Factual questions: find the span that answers ("30,000", "Varn", "4 a.m.") in a sentence.

The kind of question decides the kind of span: how many asks for a number bound to the noun
asked about, when for a date or time, how far for a distance, which and where for a name.
Spans are read from the sentence's own words, so the answer quotes what an article says.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot import geo
from bot.lexicon import (
    GROUP_NOUNS,
    INSTITUTION_WORDS,
    PERSON_ROLES,
    PLACE_NOUNS,
    STATE_INSTITUTIONS,
)
from bot.names import fold, same_word
from bot.question import MONTHS, STOP_WORDS

_NUMBER_WORDS = "one two three four five six seven eight nine ten eleven twelve dozen dozens"
_HEDGE = r"(?:(?:about|around|almost|nearly|more than|over|at least|some|up to|roughly|"
_HEDGE += r"approximately|fewer than|less than|an estimated)\s+)?"
_NUMBER = re.compile(
    _HEDGE
    + r"(?:\d[\d,.]*(?:\s*(?:-|to|and)\s*\d[\d,.]*)?|(?:"
    + "|".join(_NUMBER_WORDS.split())
    + r"))(?:\s+(?:hundred|thousand|million|billion))?\b",
    re.IGNORECASE,
)
_DISTANCE = re.compile(
    _HEDGE
    + r"\d[\d,.]*\s*(?:-\s*)?(?:km|kilomet(?:re|er)s?|miles?|met(?:re|er)s?|m|yards?|feet)\b",
    re.IGNORECASE,
)
_TIME = re.compile(
    r"\b\d{1,2}(?::\d{2})?\s*(?:a\.m\.|p\.m\.|am\b|pm\b)|\b\d{1,2}:\d{2}\b|\bnoon\b|\bmidnight\b",
    re.IGNORECASE,
)
_DATE = re.compile(
    r"\b(?:(?:on\s+)?(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
    r"(?:\s+\d{1,2}(?:st|nd|rd|th)?)?(?:,?\s+\d{4})?|\d{1,2}\s+(?:"
    + "|".join(sorted(MONTHS, key=len, reverse=True))
    + r")(?:\s+\d{4})?|(?:in\s+)?\b(?:19|20)\d\d\b)",
    re.IGNORECASE,
)
_NAME = re.compile(
    r"(?:\b\d+(?:st|nd|rd|th)\s+)?(?:\b(?:al|el|de|van|von|bin)-)?\b[A-Z][\w'’.-]*"
    r"(?:\s+(?:(?:of|al|el|de|the)\s+)?[A-Z][\w'’.-]*)*"
)
_WORD = re.compile(r"[\w'’-]+")
FACTUAL_KINDS = frozenset(["how_many", "distance", "when", "where", "which", "what_name", "who"])


@dataclass(frozen=True)
class Span:
    """An answering span of a sentence: its text, where it starts, and how well it fits."""

    text: str
    start: int
    fit: float


def asks_for(kind: str, asked_noun: str | None) -> str:
    """Return what kind of name a question wants: a person, a place, a body or a thing."""
    if kind == "who" or (asked_noun or "") in PERSON_ROLES:
        return "person"
    if kind == "where" or (asked_noun or "") in PLACE_NOUNS:
        return "place"
    if (asked_noun or "") in GROUP_NOUNS | STATE_INSTITUTIONS:
        return "body"
    return "thing"


def answer_spans(
    sentence: str,
    kind: str,
    asked_noun: str | None,
    question: str,
    excluded: list[str],
    parties: frozenset[str] = frozenset(),
) -> list[Span]:
    """Return the spans of a sentence that could answer a question of this kind, best first.

    `parties` are the folded names of the camps: a place or a thing asked about is never one.
    """
    if kind in ("how_many",):
        found = _numbers(sentence)
    elif kind == "distance":
        found = [(m.group().strip(), m.start()) for m in _DISTANCE.finditer(sentence)]
    elif kind == "when":
        found = [(m.group().strip(), m.start()) for m in _TIME.finditer(sentence)]
        if asked_noun != "time":
            found += [(m.group().strip(), m.start()) for m in _DATE.finditer(sentence)]
    elif kind in ("which", "where", "who"):
        wanted = asks_for(kind, asked_noun)
        found = _names(sentence, question, excluded)
        if wanted == "person":
            # "Which spokesman": a person's name, not the body he speaks for.
            found = [(t, at) for t, at in found if _person_like(t)]
        elif wanted in ("place", "thing"):
            # "Which village", "which warship": no camp, no possessive, no person.
            found = [
                (t, at)
                for t, at in found
                if fold(t) not in parties
                and fold(t).rstrip("s") not in {p.rstrip("s") for p in parties}
                and not t.endswith(("'s", "’s"))
                and not _person_like(t)
                and not _body_like(t)
                and (wanted == "place" or _country(t) is None)
            ]
    else:
        return []
    words = [w.lower() for w in _WORD.findall(question) if w.lower() not in STOP_WORDS]
    qualifier = _qualifier(question, asked_noun)
    spans = [
        Span(text, at, _fit(sentence, at, len(text), asked_noun, words, qualifier))
        for text, at in found
    ]
    return sorted(spans, key=lambda s: -s.fit)


def _numbers(sentence: str) -> list[tuple[str, int]]:
    """Return the figures of a sentence, with the noun they count ("30,000 people")."""
    found = []
    for match in _NUMBER.finditer(sentence):
        text = match.group().strip()
        if re.fullmatch(r"(?:19|20)\d\d", re.sub(r"\D", "", text)) and "," not in text:
            continue  # a year, not a count
        if re.search(r"\d", text) is None and not re.search(r"\bdozens?\b", text, re.I):
            continue  # "one of the cities" counts nothing
        following = re.match(r"\s+((?:[a-z-]+\s+)?[a-z-]+)", sentence[match.end() :])
        words = following.group(1).split() if following else []
        while words and words[-1] in STOP_WORDS:
            words = words[:-1]
        if words and words[0] in STOP_WORDS:
            words = []
        noun = " ".join(w for w in words[:2] if w not in STOP_WORDS)
        found.append((f"{text} {noun}".strip() if noun else text, match.start()))
    return found


def _names(sentence: str, question: str, excluded: list[str]) -> list[tuple[str, int]]:
    """Return the names of a sentence that the question does not already name."""
    asked = {fold(w) for w in _WORD.findall(question)}
    asked |= {fold(w) for name in excluded for w in _WORD.findall(name)}
    # A capital in the question already names its country: that country is not an answer.
    countries = {c.name for w in _WORD.findall(question) for c in [_country(w)] if c}
    found = []
    for match in _NAME.finditer(sentence):
        text = re.sub(r"^(?:The|A|An|But|And|Or|So|Yet)\s+", "", match.group().strip(" .,'’"))
        owner = re.match(r"(.+?)['’]s\s+(.+)$", text)
        if owner:  # "Sylvania's Varn Oblast" names Varn Oblast, in Sylvania
            found.extend(_names(owner.group(2), question, excluded))
            continue
        words = [w for w in _WORD.findall(text) if w.lower() not in STOP_WORDS]
        words = [w for w in words if w.lower() not in _GENERIC_PLACE] or words
        if not words or all(w.lower() in MONTHS for w in words):
            continue
        opening = match.start() == 0 or sentence[: match.start()].rstrip()[-1:] in ".“\"'"
        if opening and len(words) == 1:
            continue  # a sentence's first word is capitalised whatever it is
        if all(fold(w) in asked or any(same_word(w, a) for a in asked) for w in words):
            continue
        country = _country(text)
        if country is not None and country.name in countries:
            continue
        found.append((text, match.start()))
    return found


_GENERIC_PLACE = PLACE_NOUNS | frozenset("oblast governorate county state prefecture".split())


def _country(name: str) -> geo.Country | None:
    return geo.country(name) or geo.capital_of(name)


def _body_like(name: str) -> bool:
    """Say whether a name is a body's: "General Staff", "Harbour Front Army"."""
    words = {w.lower().strip(".,") for w in name.split()}
    return bool(words & (STATE_INSTITUTIONS | GROUP_NOUNS | INSTITUTION_WORDS))


def _person_like(name: str) -> bool:
    """Say whether a name reads as a person's: two to four words, no body or country in it."""
    words = name.split()
    if not 2 <= len(words) <= 5 or any(w.isupper() and len(w) > 1 for w in words):
        return False
    lowered = {w.lower().strip(".,") for w in words}
    if lowered & (STATE_INSTITUTIONS | GROUP_NOUNS | INSTITUTION_WORDS):
        return False
    return not any(geo.country(w) for w in words)


def _qualifier(question: str, asked_noun: str | None) -> list[str]:
    """Return the words qualifying the noun asked about: "which junta spokesman" -> junta."""
    if not asked_noun:
        return []
    match = re.search(
        rf"\b(?:which|what)\s+((?:[\w'’-]+\s+){{0,3}}?){re.escape(asked_noun)}", question, re.I
    )
    if not match:
        return []
    return [w.lower() for w in match.group(1).split() if w.lower() not in STOP_WORDS]


def _fit(
    sentence: str,
    at: int,
    length: int,
    asked_noun: str | None,
    words: list[str],
    qualifier: list[str],
) -> float:
    """Score how well a span answers: next to the noun asked about, among the question's words."""
    lowered = sentence.lower()
    window = lowered[max(0, at - 60) : at + length + 60]
    score = 0.0
    near = lowered[max(0, at - 25) : at + length + 25]
    if qualifier:
        # "junta spokesman Ari Tam" for "which junta spokesman"
        score += (
            0.5
            * sum(bool(re.search(rf"\b{re.escape(q[:5])}", near)) for q in qualifier)
            / len(qualifier)
        )
    if asked_noun:
        nouns = {asked_noun, asked_noun.rstrip("s"), asked_noun + "s"}
        near = lowered[max(0, at - 25) : at + length + 25]
        if any(re.search(rf"\b{re.escape(n)}\b", near) for n in nouns):
            score += 1.0
        elif any(re.search(rf"\b{re.escape(n)}\b", window) for n in nouns):
            score += 0.5
    stems = {w[:5] for w in words}
    nearby = {w[:5] for w in _WORD.findall(window)}
    score += 0.5 * len(stems & nearby) / max(1, len(stems))
    # The earlier of two equally fitting spans is the one a sentence leads with.
    return score - at / 10000
