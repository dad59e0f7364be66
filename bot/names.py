"""Spellings of one name: transliterations, diacritics and case are not different names.

"Okafor" / "Okaphor", "Tesselyi" / "Tesseliy" / "Tesselyy", "Varkhiv" / "Varkhov": news copy
transliterates names from other scripts in several ways. Two spellings are one name when
their letters agree once vowels, the y/i/j family and doubled letters are set aside, and they
differ by no more than a couple of letters.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_NON_LETTER = re.compile(r"[^a-z]")
# Letter groups transliteration systems write differently for one sound.
_EQUIVALENT = (
    ("kh", "h"),
    ("zh", "j"),
    ("ts", "c"),
    ("tz", "c"),
    ("ph", "f"),
    ("w", "v"),
    ("ck", "k"),
    ("q", "k"),
    ("x", "ks"),
)
_VOWELS = re.compile(r"[aeiouyj]+")


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Return a name in lower-case ASCII letters only ("Kyïv’s" -> "kyivs")."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    return _NON_LETTER.sub("", ascii_text)


@lru_cache(maxsize=65536)
def skeleton(word: str) -> str:
    """Return a word's transliteration skeleton: first letter, then consonants, undoubled."""
    folded = fold(word)
    if not folded:
        return ""
    for group, replacement in _EQUIVALENT:
        folded = folded.replace(group, replacement)
    head, rest = folded[0], _VOWELS.sub("", folded[1:])
    return head + re.sub(r"(.)\1+", r"\1", rest)


def _distance(a: str, b: str, limit: int) -> int:
    """Return the edit distance of two strings, or limit + 1 once it exceeds limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


@lru_cache(maxsize=65536)
def same_word(a: str, b: str) -> bool:
    """Say whether two words are spellings of one name ("Tesselyi" and "Tesselyy")."""
    fa, fb = fold(a), fold(b)
    if not fa or not fb:
        return False
    if fa == fb:
        return True
    if len(fa) < 5 or len(fb) < 5 or fa[0] != fb[0]:
        return False
    if skeleton(a) != skeleton(b):
        return False
    # Vowels differ between spellings, but only a letter in four at most.
    limit = max(1, min(len(fa), len(fb)) // 4)
    return _distance(fa, fb, limit) <= limit


def same_name(a: str, b: str) -> bool:
    """Say whether two names are spellings of one another, word by word."""
    wa, wb = a.split(), b.split()
    return len(wa) == len(wb) and all(same_word(x, y) for x, y in zip(wa, wb, strict=True))


def surname_key(name: str) -> str:
    """Return the lookup key of a person: the last word, folded ("Ada Marlow's" -> "marlow")."""
    words = name.replace("’", "'").split()
    return fold(re.sub(r"'s?$", "", words[-1])) if words else ""
