"""Facts an article states about names and bodies: aliases, owners and conflicts.

"Tessel, also known as Morrow", "the Okavi Tribal Council (OTC)", "the Harbour Front-run
council of Varn", "fighting between the army and the Harbour Front": read from the article's
words (and spaCy's parse), stored at ingest as (kind, key, value) facts for answering.
"""

from __future__ import annotations

import re
from typing import Any

from bot.lexicon import PLACE_NOUNS
from bot.speakers import clean, phrase

Fact = tuple[str, str, str]

_NAME = r"[A-Z][\w.'’-]+(?: (?:of |the |and |for )?[A-Z][\w.'’-]+){0,6}"
_ALIAS_PATTERNS = [
    re.compile(
        r"\bname (?:of|for) (?P<alias>[A-Z][\w'’-]+) (?:to refer to|for) (?P<name>[A-Z][\w'’-]+)"
    ),
    re.compile(
        r"\b(?P<name>[A-Z][\w'’-]+), (?:also |formerly |previously )?known as "
        r"(?P<alias>[A-Z][\w'’-]+(?: [A-Z][\w'’-]+)*)"
    ),
    re.compile(rf"\b[Aa]lso known as (?P<alias>{_NAME}), (?:the )?(?P<name>{_NAME})"),
    re.compile(
        r"\b(?P<name>(?:[A-Z][\w.'’-]+ ){0,6}[A-Z][\w'’-]+) "
        r"\((?:also called |known as |formerly )?(?P<alias>[A-Z][\w'’-]+)\)"
    ),
]
# "the Harbour Workers Front, or HWF": only an acronym of the name's own initials.
_OR_ACRONYM = re.compile(rf"\b(?P<name>{_NAME}), or (?P<alias>[A-Z][A-Z.]{{1,7}})\b")
# "calls the town ... by its old name of Morrow": the town named last before.
_CALLS = re.compile(
    r"\bcalls? the (?P<noun>" + "|".join(sorted(PLACE_NOUNS)) + r")\b[^.]*?"
    r"\bby (?:its|the) (?:[\w-]+ )*?name(?: of)? (?P<alias>[A-Z][\w'’-]+)"
)
_PLACE_NAMED = (
    r"(?:{noun} of (?P<a>[A-Z][\w'’-]+)|(?P<b>[A-Z][\w'’-]+), (?:a|the) (?:[\w-]+ ){{0,3}}{noun}\b)"
)


def initials(name: str) -> str:
    """Return the initials of a name's capitalised words ("Okavi Tribal Council" -> "OTC")."""
    return "".join(w[0] for w in re.findall(r"[A-Z][\w'’-]*", name))


def learn_aliases(text: str) -> list[Fact]:
    """Find names an article says are other names of a place, body or thing."""
    facts: list[Fact] = []
    from bot import geo

    for pattern in _ALIAS_PATTERNS:
        for match in pattern.finditer(text):
            alias, name = match.group("alias"), match.group("name")
            name = re.sub(r"^(?:The|A|An) ", "", name)
            if alias.lower() == name.lower() or len(alias) < 2 or name.isupper():
                continue  # "PORT ELLIS (Wire) -" is a dateline, not a second name
            if geo.country(alias) or text[match.end() : match.end() + 3].strip()[:1] in "-–—":
                continue  # "Intense (Sylvanian) shelling" glosses a word, it renames nothing
            facts.append(("alias", alias.lower(), name))
    for match in _OR_ACRONYM.finditer(text):
        alias, name = match.group("alias").replace(".", ""), match.group("name")
        words = name.split()
        for skip in range(len(words)):
            tail = " ".join(words[skip:])
            if initials(tail) == alias:
                facts.append(("alias", alias.lower(), tail))
                break
    for match in _CALLS.finditer(text):
        noun = match.group("noun")
        before = text[: match.start()]
        pattern = re.compile(_PLACE_NAMED.format(noun=noun))
        named = [m.group("a") or m.group("b") for m in pattern.finditer(before)]
        if named:
            facts.append(("alias", match.group("alias").lower(), named[-1]))
    return facts


def learn_relations(doc: Any) -> list[Fact]:
    """Find what a sentence says of bodies: who runs whom, and who fights whom."""
    facts: list[Fact] = []
    for token in doc:
        owned: Any = None
        owner: str | None = None
        lemma = token.lemma_.lower()
        # "media run by the Harbour Front": the owner's camp.
        if lemma in ("run", "control", "operate") and token.dep_ in ("acl", "relcl"):
            agents = [c for c in token.children if c.dep_ == "agent"]
            objects = [c for a in agents for c in a.children if c.dep_ == "pobj"]
            if objects and objects[0].pos_ == "PROPN":
                owned, owner = token.head, _proper(objects[0])
        # "the Harbour Front, the group that rules Tessel": the Front runs Tessel.
        elif lemma in ("rule", "run", "govern", "control") and token.dep_ == "relcl":
            objects = [c for c in token.children if c.dep_ == "dobj"]
            ruler = token.head
            while ruler.pos_ != "PROPN" and ruler.dep_ == "appos" and ruler.head.i != ruler.i:
                ruler = ruler.head
            if objects and ruler.pos_ == "PROPN":
                owned, owner = objects[0], _proper(ruler)
        # "the Okavi-run council of Tessel".
        elif (
            token.text == "-"
            and token.i + 1 < len(doc)
            and doc[token.i + 1].lower_
            in (
                "run",
                "led",
                "controlled",
            )
        ):
            before = doc[token.i - 1]
            target = doc[token.i + 1]
            while target.dep_ in ("amod", "compound", "npadvmod") and target.head.i != target.i:
                target = target.head
            if before.pos_ == "PROPN" and target.pos_ in ("NOUN", "PROPN"):
                owned, owner = target, _proper(before)
        elif re.fullmatch(r"[A-Z][\w'’]*-(?:run|led|controlled)", token.text):
            target = token
            while target.dep_ in ("amod", "compound", "npadvmod") and target.head.i != target.i:
                target = target.head
            if target.pos_ in ("NOUN", "PROPN"):
                name = _proper(token)
                owned, owner = target, re.sub(r"-(?:run|led|controlled)$", "", name)
        if owned is not None and owner:
            key = _owned_name(owned, owner)
            if key:
                facts.append(("owner", key, clean(owner)))
        # "a conflict between X and Y", "fighting between X and Y": X and Y are opponents.
        if token.lower_ == "between" and token.head.lemma_.lower() in (
            "conflict",
            "war",
            "fighting",
            "clash",
            "clashes",
            "battle",
            "dispute",
            "rivalry",
        ):
            objects = [c for c in token.children if c.dep_ == "pobj"]
            if objects:
                first = objects[0]
                others = [c for c in first.conjuncts]
                for other in others:
                    facts.append(("opposes", clean(_np(first)), clean(_np(other))))
                # "Sylvania's war between X and Y", "Sylvania has been torn by a conflict
                # between X and Y": both fight within that country.
                country = _country_of_clause(token.head)
                if country:
                    for party in [first, *others]:
                        facts.append(("within", clean(_np(party)), country))
    return facts


def _country_of_clause(noun: Any) -> str | None:
    """Return the country a conflict noun belongs to: its possessor or its clause's subject."""
    from bot import geo

    candidates = [c for c in noun.children if c.dep_ == "poss"]
    head = noun
    for _ in range(4):
        if head.pos_ in ("VERB", "AUX"):
            candidates += [c for c in head.children if c.dep_ in ("nsubj", "nsubjpass")]
            break
        if head.head.i == head.i:
            break
        head = head.head
    for candidate in candidates:
        found = geo.country(candidate.text)
        if found:
            return found.name
    return None


def _np(token: Any) -> str:
    """Return the proper-name part of a noun phrase, or its head word."""
    tokens = [t for t in phrase(token) if t.pos_ in ("PROPN",) or t.i == token.i]
    if not tokens:
        return str(token.text)
    start, end = min(t.i for t in tokens), max(t.i for t in tokens) + 1
    return str(token.doc[start:end].text)


def _proper(token: Any) -> str:
    """Return a proper name with the proper nouns written before it ("Harbour Front")."""
    start = token.i
    while start > 0 and token.doc[start - 1].pos_ == "PROPN":
        start -= 1
    return str(token.doc[start : token.i + 1].text)


def _owned_name(owned: Any, owner: str) -> str | None:
    """Return the name of what is run: "the council of Tessel" -> "tessel"; None if unnamed."""
    if owned.pos_ == "PROPN":
        name = _proper(owned)
        return None if name == owner else name.lower()
    for child in owned.children:
        if child.dep_ == "prep" and child.lower_ in ("of", "in"):
            for obj in child.children:
                if obj.dep_ == "pobj" and obj.pos_ == "PROPN":
                    return _proper(obj).lower()
    names = [c for c in owned.children if c.dep_ == "compound" and c.pos_ == "PROPN"]
    names = [c for c in names if c.text != owner]
    return " ".join(c.text for c in names).lower() or None
