"""Varied filler news for the scale benchmarks: invented places, people, firms and figures.

A real index of 100,000 chunks holds years of news about many things, and the story a question
asks about is a small part of it. The filler reproduces that: sentences of a couple of dozen news
shapes (weather, courts, markets, sport, politics, health) filled with invented names drawn from
a syllable grammar, dates and figures, so that most proper nouns are rare, as in real news, and
no two articles read alike. Embedding hundreds of thousands of sentences would take hours, so a
sentence's vector is the real model's vector of its shape, plus a fixed pseudo-random offset
per sentence: filler clusters by topic as news does, far from the development questions.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from typing import Any

SHAPES = [
    "Officials in {place} said on {day} that {n} homes had been flooded after {n2} hours of rain.",
    "The {place} district court adjourned the fraud trial of {person} until {month}.",
    "{firm} reported quarterly revenue of {n} million {currency}, up {p} percent on a year "
    "earlier.",
    "Shares in {firm} fell {p} percent in {place} trading after the company cut its forecast.",
    "{team} beat {team2} {a}-{b} in {place} on {day}, their {ordinal} win of the season.",
    "Police in {place} said {n} people were arrested after a protest over {issue}.",
    "The health ministry of {country} said {n} new cases of {illness} were recorded last week.",
    "{person}, the mayor of {place}, said the city would spend {n} million on {issue}.",
    "A fire at a warehouse in {place} was brought under control after {n2} hours, the fire "
    "service said.",
    "Voters in {place} will elect a new council in {month}, the electoral commission said.",
    "{firm} said it would open a plant in {place} employing {n} workers by {year}.",
    "The central bank of {country} left its main rate at {p} percent on {day}.",
    "Farmers in {place} said the drought had cut the {crop} harvest by {p} percent.",
    "{person} won the {place} marathon in {a} hours and {b} minutes.",
    "Teachers in {place} went on strike on {day}, demanding a {p} percent pay rise.",
    "The ministry of transport of {country} said the {place} bridge would reopen in {month}.",
    "Researchers at the University of {place} said a new {crop} variety needs {p} percent less "
    "water.",
    "{person} was sworn in as governor of {place} on {day}.",
    "A magnitude {a}.{b} earthquake struck near {place} on {day}, the geological survey said.",
    "{firm} agreed to buy {firm2} for {n} million {currency}, the companies said.",
]
ISSUES = ["housing", "bus fares", "water prices", "school closures", "a new airport", "taxes"]
ILLNESSES = ["measles", "dengue", "influenza", "cholera", "mumps"]
CROPS = ["wheat", "maize", "rice", "barley", "coffee", "cotton"]
CURRENCIES = ["crowns", "dinars", "marks", "pesos", "francs"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "March", "May", "July", "September", "November"]
ORDINALS = ["second", "third", "fifth", "eighth", "tenth"]
_ONSETS = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "tr", "st"]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ei", "ou"]
_CODAS = ["", "", "n", "r", "s", "l", "k", "m", "nd", "rt"]


class Namer:
    """Invented names from a syllable grammar: many distinct ones, each reused a few times."""

    def __init__(self, rng: random.Random, pool: int) -> None:
        self._rng = rng
        self.places = [self._word(2, 3) for _ in range(pool)]
        self.surnames = [self._word(2, 3) for _ in range(pool)]
        self.given = [self._word(2, 2) for _ in range(max(50, pool // 20))]
        self.firms = [
            f"{self._word(2, 3)} {rng.choice(['Group', 'Holdings', 'Energy', 'Foods'])}"
            for _ in range(max(50, pool // 5))
        ]
        self.countries = [self._word(2, 3) + "ia" for _ in range(60)]

    def _word(self, low: int, high: int) -> str:
        rng = self._rng
        parts = [
            rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)
            for _ in range(rng.randint(low, high))
        ]
        return "".join(parts).capitalize()

    def fill(self, shape: str) -> str:
        """Return one sentence of a shape, its blanks filled."""
        rng = self._rng
        return shape.format(
            place=rng.choice(self.places),
            person=f"{rng.choice(self.given)} {rng.choice(self.surnames)}",
            firm=rng.choice(self.firms),
            firm2=rng.choice(self.firms),
            team=rng.choice(self.places),
            team2=rng.choice(self.places),
            country=rng.choice(self.countries),
            day=rng.choice(DAYS),
            month=rng.choice(MONTHS),
            year=rng.randint(2027, 2034),
            n=rng.randint(2, 900),
            n2=rng.randint(2, 48),
            p=rng.randint(1, 40),
            a=rng.randint(0, 9),
            b=rng.randint(0, 59),
            ordinal=rng.choice(ORDINALS),
            issue=rng.choice(ISSUES),
            illness=rng.choice(ILLNESSES),
            crop=rng.choice(CROPS),
            currency=rng.choice(CURRENCIES),
        )


def shape_examples(seed: int = 3) -> list[str]:
    """Return one filled sentence of each shape, to embed with the real model."""
    namer = Namer(random.Random(seed), 50)
    return [namer.fill(shape) for shape in SHAPES]


def filler_articles(seed: int, pool: int) -> Iterator[tuple[str, list[tuple[int, str]]]]:
    """Yield invented articles without end: (title, [(shape number, sentence), ...])."""
    rng = random.Random(seed)
    namer = Namer(rng, pool)
    number = 0
    while True:
        topic = rng.sample(range(len(SHAPES)), k=rng.randint(2, 4))
        sentences = [
            (shape, namer.fill(SHAPES[shape]))
            for shape in (rng.choice(topic) for _ in range(rng.randint(8, 16)))
        ]
        yield f"Regional report {number}", sentences
        number += 1


def sentence_vector(shape_vectors: Any, shape: int, sentence: str, spread: float = 0.6) -> Any:
    """Return a filler sentence's vector: its shape's, moved by a fixed offset of its own."""
    import numpy as np

    seed = int.from_bytes(hashlib.blake2b(sentence.encode(), digest_size=8).digest(), "big")
    offset = np.random.default_rng(seed).standard_normal(shape_vectors.shape[1])
    vector = shape_vectors[shape] + spread * offset / np.linalg.norm(offset)
    return (vector / np.linalg.norm(vector)).astype(np.float32)
