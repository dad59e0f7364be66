"""What a described speaker speaks for: a country, a named body, a state body or a person.

The answer-time reading of a speaker's description (`bot.speakers`), with what every article
taught (aliases, affiliations of people, owners of bodies, conflicts): canonical names for the
parties of one answer, so that "the OKC", "Okavi Kings Council" and "Okavi" are one party.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot import geo
from bot.lexicon import ARMED_FORCES, GROUP_NOUNS, STATE_INSTITUTIONS
from bot.names import fold, same_word, surname_key
from bot.speakers import state_body

_STOP = frozenset("the of and for a an 's".split())


@dataclass
class Knowledge:
    """What ingest learned from every article: aliases, affiliations, owners, conflicts."""

    aliases: dict[str, str] = field(default_factory=dict)  # alias (lower) -> full name
    affiliations: dict[str, dict[str, Any]] = field(default_factory=dict)  # surname -> party
    owners: dict[str, str] = field(default_factory=dict)  # body (lower) -> who runs it
    opposed: list[tuple[str, str]] = field(default_factory=list)
    within: dict[str, str] = field(default_factory=dict)  # party (lower) -> its country

    @classmethod
    def from_facts(cls, facts: Iterable[tuple[str, str, str]]) -> Knowledge:
        """Build from (kind, key, value) facts as the catalog stores them."""
        knowledge = cls()
        for kind, key, value in facts:
            if kind == "alias":
                knowledge.aliases.setdefault(key, value)
            elif kind == "affiliation":
                try:
                    party = json.loads(value)
                except (TypeError, ValueError):
                    party = {"nation": value}
                known = knowledge.affiliations.get(key)
                if known is None or _weight(party) > _weight(known):
                    knowledge.affiliations[key] = party
            elif kind == "owner":
                knowledge.owners.setdefault(key, value)
            elif kind == "opposes":
                knowledge.opposed.append((key, value))
            elif kind == "within":
                knowledge.within.setdefault(key, value)
        return knowledge

    def affiliation(self, name: str | None) -> dict[str, Any] | None:
        """Return what a person speaks for, learned from any article, by surname."""
        if not name:
            return None
        key = surname_key(name)
        if key in self.affiliations:
            return self.affiliations[key]
        for other, party in self.affiliations.items():
            if same_word(key, other):
                return party
        return None


def _weight(party: dict[str, Any]) -> int:
    return bool(party.get("nation")) + bool(party.get("org"))


@dataclass(frozen=True)
class Party:
    """One party a speaker may speak for: a country, a named body, a state body, a person."""

    kind: str  # "nation" | "org" | "body" | "person"
    key: str
    name: str


@dataclass
class Identity:
    """The party a statement's speaker speaks for, the party above it, and how it was named."""

    party: Party | None
    parent: Party | None = None
    independent: bool = False
    surface: str = ""
    body: Party | None = None  # the state body a country's speaker speaks through


class Names:
    """Canonical keys for the names one answer uses: aliases, acronyms, demonyms, spellings."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.knowledge = knowledge
        self.nations: dict[str, str] = {}  # key -> display
        self.orgs: dict[str, str] = {}
        self.words: dict[str, set[str]] = {}

    def nation(self, text: str) -> Party:
        """Return the party of a country or place, one per country however it is written."""
        found = geo.country(text) or geo.capital_of(text)
        if found:
            key = fold(found.name)
            self.nations.setdefault(key, found.name)
            return Party("nation", key, found.name)
        display = title(text)
        key = fold(display)
        for known, name in self.nations.items():
            if demonym_pair(known, key) or same_word(known, key):
                return Party("nation", known, name)
        self.nations.setdefault(key, display)
        return Party("nation", key, self.nations[key])

    def org(self, text: str) -> Party:
        """Return the party of a named body, one per body however it is named."""
        name = text.strip()
        full = self.knowledge.aliases.get(name.lower())
        short = name.upper() if full and is_acronym(name.upper()) else None
        if full:
            name = full
        elif not short:
            short = next(
                (
                    a.upper()
                    for a, n in self.knowledge.aliases.items()
                    if n.lower() == name.lower() and is_acronym(a.upper())
                ),
                None,
            )
        key = fold(name)
        words = _words(name)
        for known, display in self.orgs.items():
            if known == key or _plural_pair(known, key) or _within(words, self.words[known]):
                return Party("org", known, display)
        display = short or name
        self.orgs[key] = display
        self.words[key] = words
        return Party("org", key, display)


def is_acronym(text: str) -> bool:
    """Say whether a name is written as an acronym ("OKC", "U.N.")."""
    bare = text.replace(".", "")
    return 2 <= len(bare) <= 7 and bare.isupper() and bare.isalpha()


def title(text: str) -> str:
    """Return a name with a capital first letter."""
    return text[:1].upper() + text[1:]


def demonym_pair(a: str, b: str) -> bool:
    """Say whether one key is the other with a demonym ending ("sylvania", "sylvanian")."""
    short, long = sorted((a, b), key=len)
    if len(short) < 4 or short == long:
        return False
    stems = {short, short[:-1]} if short[-1] in "aeiouy" else {short}
    endings = ("n", "an", "ian", "ean", "i", "ese", "ish", "ic", "er", "ite", "ns", "ians", "is")
    return any(long == stem + ending for stem in stems for ending in endings)


def _plural_pair(a: str, b: str) -> bool:
    short, long = sorted((a, b), key=len)
    return len(short) >= 4 and long in (short + "s", short + "es")


def _words(name: str) -> set[str]:
    return {fold(re.sub(r"['’]s?$", "", w)) for w in name.split()} - _STOP - {""}


def _within(a: set[str], b: set[str]) -> bool:
    """Say whether every word of one name of two words or more is in the other."""
    shorter, longer = sorted((a, b), key=len)
    return len(shorter) >= 2 and shorter <= longer


def identify(speaker: dict[str, Any], names: Names, knowledge: Knowledge) -> Identity:
    """Return the party a described speaker speaks for, and the party above it."""
    nation = speaker.get("nation")
    org = speaker.get("org")
    independent = bool(speaker.get("independent"))
    body = speaker.get("institution")
    lone = org and not nation and not speaker.get("name") and len(org.split()) == 1
    if lone and org and not is_acronym(org) and knowledge.affiliation(org):
        org = None  # a surname the tagger took for a body ("Okafor said")
        speaker = {**speaker, "name": speaker.get("org")}
    for who in (speaker.get("of"), speaker.get("name")):
        if who and not (nation or org) and who.lower() in knowledge.aliases:
            org = knowledge.aliases[who.lower()]  # a group the tagger took for a person
    for who in (speaker.get("name"), speaker.get("of")):
        if nation or org:
            break
        party = knowledge.affiliation(who)
        if party:
            nation, org = party.get("nation"), party.get("org")
            independent = independent or bool(party.get("independent"))
    surface = str(speaker.get("text") or "")
    if independent:
        return Identity(None, independent=True, surface=surface)
    if org and org.lower() in knowledge.aliases and is_acronym(org.upper()):
        org = knowledge.aliases[org.lower()]  # "the OKC" is the Okavi Kings Council
    named_country = next((w for w in (org or "").split() if geo.country(w)), None)
    if org and not nation and state_body(org):
        # "the Sylvanian Armed Forces": a state body carries its country in its name.
        nation = named_country
    # A place run by a body speaks for that body ("the Okavi-run council of Tessel").
    for value in (nation, org):
        owner = _owner(value, knowledge)
        if owner:
            org, nation = owner, None if value == nation else nation
            break
    if org and nation and state_body(org):
        org = None
    if org and not nation and state_body(org) and not named_country:
        # "the Defence Ministry" of no named country: a state body, judged as one below.
        body, org = body or org.split()[-1].lower(), None
    nation_party = names.nation(nation) if nation else None
    if nation_party is None and org and (geo.country(org) or geo.capital_of(org)):
        nation_party, org = names.nation(org), None
    if speaker.get("nonstate") and not org:
        # "an insurgent army of Sylvania": a rebel group, not Sylvania's army.
        scope = nation_party.key if nation_party else ""
        return Identity(Party("body", f"nonstate:{scope}", body or "group"), None, surface=surface)
    body_of = state_body_party(body, nation_party)
    if org:
        if nation_party is None and named_country:
            # "the Okavi National Front of Sylvania": a group of that country.
            nation_party = names.nation(named_country)
        return Identity(names.org(org), nation_party, surface=surface)
    if nation_party:
        return Identity(nation_party, None, surface=surface, body=body_of)
    if body_of:
        return Identity(body_of, None, surface=surface)
    name = speaker.get("name")
    if name and speaker.get("person"):
        return Identity(Party("person", surname_key(name), name), None, surface=surface)
    return Identity(None, surface=surface)


def state_body_party(body: str | None, nation: Party | None = None) -> Party | None:
    """Return the state body a common noun names: a country's armed forces, a ministry."""
    if not body or body not in ARMED_FORCES | STATE_INSTITUTIONS or body in GROUP_NOUNS:
        return None  # "the group" names no party by itself
    kind = "armed" if body in ARMED_FORCES else body
    scope = nation.key if nation else ""
    return Party("body", f"body:{kind}:{scope}", body)


def _owner(value: str | None, knowledge: Knowledge) -> str | None:
    if not value:
        return None
    key = value.lower()
    for body, owner in knowledge.owners.items():
        if fold(owner) == fold(value):
            continue
        if body == key or re.search(rf"\b{re.escape(key)}\b", body):
            return owner
    return None
