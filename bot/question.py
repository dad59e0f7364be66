"""Question understanding: the question inside a message, its kind, what it names, whose word.

People type questions in every shape: in capitals, in lower case, wrapped in greetings, with
Slack markup or stray tokens. What a question asks must not depend on that. Names are found
against what the index knows (how its articles write each word), not from capital letters;
greetings and thanks are not part of the question; an unknown common word lowers confidence
but does not make a question unanswerable, while an unknown specific name does ("No article
mentions Tessel").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Protocol

from bot.lexicon import PERSON_ROLES

QUESTION_WORDS = frozenset(
    """who what when where why how which whose whom is are was were do does did has have had
    can could will would should may might the a an in on of and or according""".split()
)
STOP_WORDS = QUESTION_WORDS | frozenset(
    """to for from by with at as it its this that these those be been being there their they he
    she his her about into than then so not no yes any all""".split()
)
MONTHS = frozenset(
    """january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday
    saturday sunday""".split()
)
_WORD = re.compile(r"[\w'’-]+")
_MARKUP = [
    (re.compile(r"<(?:https?|mailto):[^>|]*\|([^>]*)>"), r"\1"),  # <https://...|text>
    (re.compile(r"<(?:https?|mailto):[^>]*>"), " "),
    (re.compile(r"<[@#!][^>]*>"), " "),  # <@U123>, <#C123|general>, <!channel>
    (re.compile(r"https?://\S+"), " "),
    (re.compile(r"(?<!\w):[a-z0-9_+-]+:(?!\w)"), " "),  # :emoji:
    (re.compile(r"```.*?```", re.DOTALL), " "),
    (re.compile(r"(?<!\w)[*_~`]+|[*_~`]+(?!\w)"), " "),  # *bold* _italic_ ~strike~ `code`
    (re.compile(r"^\s*>+\s?", re.MULTILINE), " "),  # > quoted lines
]
_CHATTER = re.compile(
    r"^(?:hi|hello|hey|hiya|greetings|good (?:morning|afternoon|evening)|thanks?|thank you|"
    r"thx|cheers|ta|please|pls|ok|okay|so|quick question|a question|question|q|one more|"
    r"sorry|excuse me|yo)\b[\s,!.:;-]*",
    re.IGNORECASE,
)
_ASKING = re.compile(
    r"^(?:(?:can|could|would) you (?:please )?(?:tell me|say|check|find out|explain)|"
    r"(?:do|does) (?:you|anyone) know|i(?:'d| would) like to know|i (?:want|need) to know|"
    r"i wonder|tell me|please tell me|let me know)\b[\s,:]*(?:(?:whether|if)\b\s*)?",
    re.IGNORECASE,
)
_QUESTION_START = re.compile(
    r"^(?:who|whom|whose|what|when|where|why|how|which|is|are|was|were|do|does|did|has|have|"
    r"had|can|could|will|would|should|according)\b",
    re.IGNORECASE,
)
_SEGMENT = re.compile(r"[^.!?;\n]+[.!?;]*")


class Vocabulary(Protocol):
    """What the index knows about words: whether it has them, and how it writes them."""

    def frequency(self, phrase: str) -> int:
        """Count the passages holding a phrase (its last word as a prefix)."""
        ...

    def near(self, words: list[str]) -> int:
        """Count the passages holding all these words close together."""
        ...

    def written(self, word: str) -> str | None:
        """Return how the articles mostly write a word ("Tessel", "OKC", "al-Varn"), if at all."""
        ...

    def variant(self, word: str) -> str | None:
        """Return a spelling of a word the index has ("Tesseliy" for "Tesselyi"), if any."""
        ...

    def aliases(self) -> dict[str, str]:
        """Return alias (lower case) -> name, as the articles state them."""
        ...


@dataclass
class Question:
    """A question as understood: what to search for and what it asks."""

    asked: str
    text: str
    kind: str = "other"
    disputable: bool = False
    asked_noun: str | None = None
    names: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    source: str | None = None
    dates: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    frequency: dict[str, int] = field(default_factory=dict)  # passages naming each name
    spellings: list[str] = field(default_factory=list)  # the index's spellings of names asked


def clean(text: str) -> str:
    """Remove chat markup (mentions, links, emoji codes, formatting) and odd spacing."""
    for pattern, replacement in _MARKUP:
        text = pattern.sub(replacement, text)
    text = "".join(c if c.isprintable() else " " for c in text)
    return " ".join(text.split())


def core(text: str) -> str:
    """Return the question inside a message: greetings, thanks and asking phrases removed."""
    segments = [s.strip() for s in _SEGMENT.findall(text) if s.strip()]
    kept = []
    for segment in segments:
        for part in re.split(r"(?<=\w):\s+", segment):
            stripped = _strip_chatter(part)
            if stripped and any(c.isalnum() for c in stripped):
                kept.append(stripped)
    if not kept:
        return text.strip()
    questions = [s for s in kept if s.endswith("?") or _QUESTION_START.match(s)]
    chosen = questions or [max(kept, key=len)]
    return " ".join(chosen).strip()


def _strip_chatter(segment: str) -> str:
    previous = None
    while previous != segment:
        previous = segment
        segment = _CHATTER.sub("", segment).strip()
        segment = _ASKING.sub("", segment).strip()
    return segment


def _shouting(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and sum(c.isupper() for c in letters) / len(letters) > 0.6


@cache
def _common_words() -> frozenset[str]:
    """Return everyday English words: the embedding model's whole-word vocabulary."""
    from bot.embeddings import model_path

    try:
        lines = (model_path() / "vocab.txt").read_text(encoding="utf-8").split()
    except OSError:
        return frozenset()
    return frozenset(w for w in lines if w.isalpha() and len(w) > 1)


_PREFIXES = ("re", "un", "pre", "non", "over", "under", "counter", "anti", "ex")
_SUFFIXES = ("s", "es", "ed", "d", "ing", "en", "n", "er", "ers", "ly", "ment", "ments", "ies")


def common(word: str) -> bool:
    """Say whether a word is everyday English ("retaken", "shelled"), not a specific name."""
    lower = word.lower().strip("'’")
    words = _common_words()
    if not words or lower in words or len(lower) < 4:
        return True
    stems = {lower}
    for suffix in _SUFFIXES:
        if lower.endswith(suffix) and len(lower) - len(suffix) >= 3:
            stems.add(lower[: -len(suffix)])
            if suffix == "ies":
                stems.add(lower[:-3] + "y")
            if suffix in ("ed", "ing", "er") and len(lower) > 5:
                stems.add(lower[: -len(suffix)] + "e")
    for stem in list(stems):
        for prefix in _PREFIXES:
            if stem.startswith(prefix) and len(stem) - len(prefix) >= 3:
                stems.add(stem[len(prefix) :])
    return bool(stems & words)


def understand(asked: str, vocabulary: Vocabulary) -> Question:
    """Read a question as the index can answer it."""
    text = core(clean(asked))
    if _shouting(text):
        text = text.lower()
    text = _truecase(text, vocabulary)
    question = Question(asked=asked, text=text)
    lowered = text.lower()
    question.kind, question.asked_noun = _kind(lowered)
    question.disputable = _disputable(lowered)
    question.source = requested_source(text)
    question.dates = [w for w in _WORD.findall(text) if w.lower() in MONTHS or _year(w)]
    names = _names(text)
    aliases = vocabulary.aliases()
    for name in names:
        if _known(name, vocabulary, aliases, question.spellings):
            question.names.append(name)
            question.frequency[name] = name_frequency(name, vocabulary) or 1
        elif _specific(name) or _holds_known_name(name, vocabulary):
            question.missing.append(name)
        else:
            question.unknown.append(name)  # "World Cup": ordinary words, capitalised
    # A rare word the articles never use is a name they do not mention, however it is typed.
    for word in _WORD.findall(text):
        if any(word in n.split() for n in names) or common(word) or not word.isalpha():
            continue
        if not _known(word, vocabulary, aliases, question.spellings):
            # Said back as a name: "No article mentions Varnholm", however it was typed.
            question.missing.append(word[:1].upper() + word[1:] if word.islower() else word)
    question.missing = list(dict.fromkeys(question.missing))
    return question


def _year(word: str) -> bool:
    return bool(re.fullmatch(r"(?:1[89]|20)\d\d", word))


def _truecase(text: str, vocabulary: Vocabulary) -> str:
    """Write each word as the articles write it, so names are found however they were typed."""
    out = []
    for index, word in enumerate(re.split(r"(\s+)", text)):
        bare = word.strip("?,.!;:\"'()[]")
        if not bare or index % 2 or bare.lower() in STOP_WORDS or bare.lower() in MONTHS:
            out.append(word.lower() if bare.lower() in STOP_WORDS and index > 0 else word)
            continue
        written = vocabulary.written(bare)
        if written is None and index == 0 and common(bare) and not bare.isupper():
            written = bare.lower()  # "Besides Kursk, ...": capitalised only by where it stands
        out.append(word.replace(bare, written) if written else word)
    return "".join(out)


_NAME = re.compile(r"[\w'’-]*[A-Z][\w'’.-]*(?:\s+(?:of\s+|al-)?[\w'’-]*[A-Z][\w'’.-]*)*")


def _names(text: str) -> list[str]:
    """Return the names a (truecased) question uses: runs of capitalised words."""
    found = []
    for match in _NAME.finditer(text):
        words = [w.strip(".,;:!?") for w in match.group().split()]
        while words and words[0].lower() in STOP_WORDS | MONTHS:
            words = words[1:]
        while words and (words[-1].lower() in STOP_WORDS | MONTHS or _year(words[-1])):
            words = words[:-1]
        words = [w for w in words if not re.search(r"\d", w) or re.search(r"[a-z]{3}", w)]
        while words and len(words[-1].strip(".")) < 2:
            words = words[:-1]  # "F" of "F/A-18" is no part of a name
        name = re.sub(r"['’]s$", "", " ".join(words)).strip("'’")
        if name and name.lower() not in STOP_WORDS and len(name) > 1:
            found.append(name)
    return found


def _specific(name: str) -> bool:
    """Say whether a name names something specific: a rare word, or a country or capital.

    "Port Ellis" and "Sylvania" are specific; "World Cup" and "US General" are ordinary
    words written with capitals, and their absence alone proves nothing.
    """
    from bot import geo

    words = [w for w in re.findall(r"[^\W\d_][\w'’-]*", name)]
    return any(not common(w) or geo.country(w) or geo.capital_of(w) for w in words if len(w) > 1)


def _holds_known_name(name: str, vocabulary: Vocabulary) -> bool:
    """Say whether a name contains a name the index knows ("Port Ellis" in "Port Ellis Airport").

    Such a name is specific: the articles know the place, not this thing at it.
    """
    words = _WORD.findall(name)
    return len(words) > 2 and any(
        vocabulary.frequency(" ".join(words[i : i + 2])) for i in range(len(words) - 1)
    )


def _known(
    name: str, vocabulary: Vocabulary, aliases: dict[str, str], spellings: list[str]
) -> bool:
    """Say whether the index has a name: as written, by a near spelling, or as an alias.

    The index's own spellings of a name it writes differently are added to `spellings`.
    """
    if name.lower() in aliases:
        return True
    words = _WORD.findall(name)
    if not words:
        return True
    stem = words[-1][: max(4, len(words[-1]) - 2)]
    if vocabulary.frequency(" ".join(words[:-1] + [stem])):
        return True
    if len(words) > 1:
        # A name of several words is one name: "Port Ellis Airport" is not known because
        # the articles name Port Ellis and some airport; its words must stand together.
        return name_frequency(name, vocabulary) > 0
    found = []
    for word in words:
        if vocabulary.frequency(word):
            continue
        variant = vocabulary.variant(word)
        if variant is None:
            return False
        found.append(variant)
    spellings.extend(v for v in found if v not in spellings)
    return True


_AUXILIARIES = frozenset(
    "do does did is are was were has have had will can could would should say says said".split()
)


def _asked_noun(lowered: str) -> str | None:
    """Return the noun after "which"/"what": "which village did", "which brigade's officer"."""
    match = re.search(r"\b(?:which|what)\s+((?:[\w'’-]+\s+){0,4})", lowered + " ")
    if not match:
        return None
    words = []
    for word in match.group(1).split():
        if word in _AUXILIARIES or word in STOP_WORDS or word.endswith("ed"):
            break
        if word.endswith(("'s", "’s")):
            return word[:-2]  # "which brigade's officer" asks for the brigade
        words.append(word)
    return words[-1] if words else None


def name_frequency(name: str, vocabulary: Vocabulary) -> int:
    """Count the passages naming a name, its words close together, however a country is put.

    "US Navy" is found as "U.S. Navy"; single letters ("F" of "F/A-18") are left aside.
    """
    from bot import geo

    words = [w for w in _WORD.findall(name) if len(w.strip("'’")) > 1]
    if not words:
        return 0
    choices: list[list[str]] = []
    for word in words:
        country = geo.country(word)
        forms = [word]
        if country is not None:
            forms += [country.name, ".".join(word.replace(".", "")) if word.isupper() else word]
            forms += [country.demonym] if country.demonym else []
        choices.append(list(dict.fromkeys(forms))[:4])
    best = 0
    for combination in _combinations(choices, limit=8):
        best = max(best, vocabulary.near(combination))
        if best:
            break
    return best


def _combinations(choices: list[list[str]], limit: int) -> list[list[str]]:
    found: list[list[str]] = [[]]
    for options in choices:
        found = [done + [option] for done in found for option in options][:limit]
    return found


def _kind(lowered: str) -> tuple[str, str | None]:
    """Return what a question asks for, and the noun it asks about ("which village")."""
    noun = _asked_noun(lowered)
    if re.search(r"\bhow (?:many|much)\b", lowered):
        counted = re.search(r"\bhow (?:many|much)\s+([a-z-]+)", lowered)
        return "how_many", counted.group(1) if counted else None
    if re.search(r"\b(?:what|which) (?:name|names)\b|\bcalled\b|\bcall\b.*\?", lowered):
        return "what_name", "name"
    if re.search(r"\b(?:by )?(?:what|how) (?:far|distance|long)\b|\bhow far\b", lowered):
        return "distance", "distance"
    quantity = r"(figure|number|toll|total|share|percentage|population|size|cost|price|age)"
    measured = re.search(
        rf"\b(?:what|which) (?:was |is |were |are )?(?:the )?(?:[\w-]+ )?{quantity}\b", lowered
    )
    if measured:
        return "how_many", measured.group(1)
    if re.search(r"\b(?:what|which) (?:time|hour)\b|\bat what time\b", lowered):
        return "when", "time"
    if re.search(r"\bwhen\b|\bwhat (?:date|day|year|month)\b", lowered):
        return "when", None
    if re.search(r"\bwhere\b", lowered):
        return "where", None
    if re.search(r"\bwhich\b", lowered):
        return "which", noun
    if re.match(r"\s*(?:who|whom|whose)\b", lowered):
        return "who", None
    if re.match(r"\s*(?:is|are|was|were|do|does|did|has|have|had|can|could|will)\b", lowered):
        return "yes_no", None
    if re.match(r"\s*why\b", lowered):
        return "why", None
    if re.match(r"\s*how\b", lowered):
        return "how", None
    return "what", None


_DISPUTABLE = re.compile(
    r"^\s*(?:who\b|whose\b|which side\b|(?:has|have|had|did|does|do|is|are|was|were|will|"
    r"can|could)\b)",
    re.IGNORECASE,
)
# "Who is the minister?", "who said it?": asking for a person, not a disputed deed.
_WHO_IS = re.compile(
    r"^\s*who (?:(?:is|was|are|were) (?:the |a |an )?(?:[\w'’-]+ ){0,3}?(?:"
    + "|".join(sorted(PERSON_ROLES))
    + r")s?\b|said|told|announced|confirmed|reported|wrote|leads|led|heads|headed|runs|ran)\b",
    re.IGNORECASE,
)


def _disputable(lowered: str) -> bool:
    """Say whether a question is settled only by agreement: who holds X, who did X, has X."""
    return bool(_DISPUTABLE.match(lowered)) and not _WHO_IS.match(lowered)


_REQUESTED = (
    re.compile(r"\baccording to (?P<who>[\w'’ .-]+?)\s*(?:[?,;.]|$)", re.IGNORECASE),
    re.compile(
        r"^\s*(?:[\w'’,-]+ ){0,4}?(?:what|which|how)(?: [\w'’-]+){0,3}? "
        r"(?:did|does|do|has|have) (?P<who>(?:the )?[\w'’.-]+(?: [\w'’.-]+){0,4}?) "
        r"(?:say|said|claim|tell|told|report|announce|think|argue|allege|give|gave|name|use|"
        r"put|call|describe)\b",
        re.IGNORECASE,
    ),
)


def requested_source(question: str) -> str | None:
    """Return whose word a question asks for ("according to X", "What did X say"), if any."""
    for pattern in _REQUESTED:
        match = pattern.search(question)
        if match:
            who = re.sub(r"^the ", "", match.group("who").strip(), flags=re.IGNORECASE)
            return who or None
    return None
