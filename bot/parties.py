"""Camps: the party each speaker speaks for, decided per answer from everything retrieved.

A camp is a party to the dispute, named as the articles name it. Its claimants are the people
and bodies that speak for it: a ministry, a general, a unit, a capital standing for its
government. Ingest describes each speaker (`bot.speakers`); this module joins descriptions into
camps for one answer:

- a body of a state ("the defence ministry", "the General Staff", "the army") belongs to its
  country, and a country's people to the country;
- a named group belongs to the country or body its description names ("Sylvania's 3rd Corps",
  "the Okavi-run council"), unless the articles set the two against each other (a rebel army of
  the same country is its own camp, and then the state's camp is named by its institution);
- voices that speak together ("X and Y denied ...") are one camp;
- a small party that opposes one camp, in a dispute with one other camp, belongs to that other
  camp ("the enemy of my enemy");
- analysts, monitors, witnesses, international bodies and parties nobody opposes are
  independent voices, never a camp.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot import geo
from bot.lexicon import ARMED_FORCES, GROUP_NOUNS, STATE_INSTITUTIONS
from bot.names import fold, same_word, surname_key
from bot.speakers import clean, state_body

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
class Voice:
    """Where one statement goes in an answer: a camp, or the independent voices."""

    camp: str | None
    independent: bool = False


@dataclass
class _Identity:
    party: Party | None
    parent: Party | None = None
    independent: bool = False
    surface: str = ""
    body: Party | None = None  # the state body a country's speaker speaks through


class _Names:
    """Canonical keys for the names one answer uses: aliases, acronyms, demonyms, spellings."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.knowledge = knowledge
        self.nations: dict[str, str] = {}  # key -> display
        self.orgs: dict[str, str] = {}
        self.words: dict[str, set[str]] = {}

    def nation(self, text: str) -> Party:
        found = geo.country(text) or geo.capital_of(text)
        if found:
            key = fold(found.name)
            self.nations.setdefault(key, found.name)
            return Party("nation", key, found.name)
        display = _title(text)
        key = fold(display)
        for known, name in self.nations.items():
            if _demonym_pair(known, key) or same_word(known, key):
                return Party("nation", known, name)
        self.nations.setdefault(key, display)
        return Party("nation", key, self.nations[key])

    def org(self, text: str) -> Party:
        name = text.strip()
        full = self.knowledge.aliases.get(name.lower())
        acronym = name.upper() if full and _acronym(name.upper()) else None
        if full:
            name = full
        elif not acronym:
            acronym = next(
                (
                    a.upper()
                    for a, n in self.knowledge.aliases.items()
                    if n.lower() == name.lower() and _acronym(a.upper())
                ),
                None,
            )
        key = fold(name)
        words = _words(name)
        for known, display in self.orgs.items():
            if known == key or _plural_pair(known, key) or _within(words, self.words[known]):
                return Party("org", known, display)
        display = acronym or name
        self.orgs[key] = display
        self.words[key] = words
        return Party("org", key, display)


def _acronym(text: str) -> bool:
    bare = text.replace(".", "")
    return 2 <= len(bare) <= 7 and bare.isupper() and bare.isalpha()


def _title(text: str) -> str:
    return text[:1].upper() + text[1:]


def _demonym_pair(a: str, b: str) -> bool:
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


def _identify(speaker: dict[str, Any], names: _Names, knowledge: Knowledge) -> _Identity:
    """Return the party a described speaker speaks for, and the party above it."""
    nation = speaker.get("nation")
    org = speaker.get("org")
    independent = bool(speaker.get("independent"))
    body = speaker.get("institution")
    lone = org and not nation and not speaker.get("name") and len(org.split()) == 1
    if lone and org and not _acronym(org) and knowledge.affiliation(org):
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
        return _Identity(None, independent=True, surface=surface)
    if org and org.lower() in knowledge.aliases and _acronym(org.upper()):
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
        return _Identity(Party("body", f"nonstate:{scope}", body or "group"), None, surface=surface)
    body_party = _body_party(body, nation_party)
    if org:
        if nation_party is None and named_country:
            # "the Okavi National Front of Sylvania": a group of that country.
            nation_party = names.nation(named_country)
        return _Identity(names.org(org), nation_party, surface=surface)
    if nation_party:
        return _Identity(nation_party, None, surface=surface, body=body_party)
    if body_party:
        return _Identity(body_party, None, surface=surface)
    name = speaker.get("name")
    if name and speaker.get("person"):
        return _Identity(Party("person", surname_key(name), name), None, surface=surface)
    return _Identity(None, surface=surface)


def _body_party(body: str | None, nation: Party | None = None) -> Party | None:
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


class _Sets:
    """Union-find over party keys that refuses to join opponents."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.opposed: set[frozenset[str]] = set()

    def find(self, key: str) -> str:
        self.parent.setdefault(key, key)
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def members(self, root: str) -> set[str]:
        return {k for k in list(self.parent) if self.find(k) == root}

    def against(self, a: str, b: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        return any(
            frozenset((x, y)) in self.opposed for x in self.members(ra) for y in self.members(rb)
        )

    def join(self, a: str, b: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if self.against(a, b):
            return False
        self.parent[rb] = ra
        return True


def assign(
    statements: Sequence[dict[str, Any]],
    knowledge: Knowledge,
    *,
    focus: Sequence[int] = (),
    articles: Sequence[str] = (),
) -> list[Voice]:
    """Decide the camp of each statement, judging them all together.

    `focus` lists the statements the answer will show (all, when empty): only parties that
    speak in them can name a camp, but every statement's relations count. `articles` gives
    each statement's article, so that "the army" is read as the army its own article names.
    """
    names = _Names(knowledge)
    identities = [_identify(s.get("speaker") or {}, names, knowledge) for s in statements]
    sets = _Sets()
    for ident in identities:
        if ident.party:
            sets.find(ident.party.key)
        if ident.parent:
            sets.find(ident.parent.key)
    # Who opposes whom: denials of another's claim, accusations, "conflict between".
    for statement, ident in zip(statements, identities, strict=True):
        for target in statement.get("opposes") or []:
            other = _identify(target, names, knowledge)
            if ident.party and other.party and other.party.key != ident.party.key:
                sets.opposed.add(frozenset((ident.party.key, other.party.key)))
                sets.find(other.party.key)
    for a, b in knowledge.opposed:
        pa = _identify({"org": a}, names, knowledge).party
        pb = _identify({"org": b}, names, knowledge).party
        if pa and pb and pa.key != pb.key and pa.key in sets.parent and pb.key in sets.parent:
            sets.opposed.add(frozenset((pa.key, pb.key)))
    kinds = {i.party.key: i.party for i in identities if i.party}
    kinds.update({i.parent.key: i.parent for i in identities if i.parent})
    # A country's own bodies first ("Sylvania's army"): then a rebel army of that country,
    # set against its army, cannot join the country.
    for ident in identities:
        if ident.party and ident.party.kind == "nation" and ident.body:
            kinds.setdefault(ident.body.key, ident.body)
            sets.join(ident.party.key, ident.body.key)
    # A body or group belongs to the country its description names, unless set against it.
    split: set[str] = set()
    for ident in sorted(identities, key=lambda i: i.party is not None and i.party.kind != "org"):
        if ident.party and ident.parent and not sets.join(ident.parent.key, ident.party.key):
            split.add(ident.parent.key)
    # Two parties at war within one country: that country's state is a camp of its own,
    # named by its institution, and the rebels are not "the country".
    for name, country in knowledge.within.items():
        party = _identify({"org": name}, names, knowledge).party
        home = names.nation(country)
        known = party and party.key in sets.parent and home.key in sets.parent
        if (
            party
            and known
            and party.kind != "nation"
            and sets.find(party.key) != sets.find(home.key)
        ):
            split.add(home.key)
    # Voices that speak together are one camp (two countries stay two camps).
    for statement, ident in zip(statements, identities, strict=True):
        for ally in [] if statement.get("each") else statement.get("allies") or []:
            other = _identify(ally, names, knowledge)
            if (
                ident.party
                and other.party
                and not (ident.party.kind == other.party.kind == "nation")
            ):
                kinds.setdefault(other.party.key, other.party)
                sets.join(ident.party.key, other.party.key)
    # Speakers whose camp nothing names, reporting to someone whose camp is known ("commanders
    # told the President"), belong to that camp.
    for statement, ident in zip(statements, identities, strict=True):
        addressee = statement.get("addressee")
        lone = ident.party is None or (ident.party.kind == "body" and ident.party.key.endswith(":"))
        if addressee and lone and not ident.independent:
            boss = _identify(addressee, names, knowledge).party
            if boss is not None and boss.kind in ("nation", "org"):
                kinds.setdefault(boss.key, boss)
                sets.find(boss.key)
                if ident.party is None:
                    ident.party = boss
                else:
                    sets.join(boss.key, ident.party.key)
    # "Sylvanian" and "Sylvania" are one party, whatever the tagger called each.
    nation_keys = [k for k, p in kinds.items() if p.kind == "nation"]
    for key, party in list(kinds.items()):
        if party.kind == "org":
            for nation in nation_keys:
                if _demonym_pair(key, nation) or key == nation:
                    sets.join(nation, key)
    # A state body nobody names the country of ("the army") joins the one armed body there is.
    _join_bodies(identities, sets, list(articles) or [""] * len(identities))
    _join_rebels(identities, sets)
    _enemy_of_enemy(sets, kinds)
    shown = list(focus) if focus else list(range(len(statements)))
    labels = _labels(identities, sets, kinds, split, shown)
    voices = []
    for statement, ident in zip(statements, identities, strict=True):
        if ident.independent or ident.party is None:
            voices.append(Voice(None, independent=ident.independent))
            continue
        root = sets.find(ident.party.key)
        if statement.get("each"):
            # "X and Y both claimed the town": rival claims in one sentence speak for no one
            # camp, and quoting it under either would credit the other's words to it.
            others = [_identify(a, names, knowledge).party for a in statement.get("allies") or []]
            if any(p is not None and sets.find(p.key) != root for p in others):
                voices.append(Voice(None))
                continue
        voices.append(Voice(labels.get(root)))
    return voices


def _join_bodies(identities: list[_Identity], sets: _Sets, articles: list[str]) -> None:
    """Join a body no one names the country of ("the army") to the only such body there is.

    Its own article decides first, then the one country speaking in that article; the whole
    answer only when the article cannot.
    """
    local: dict[tuple[str, str], set[str]] = {}
    overall: dict[str, set[str]] = {}
    countries: dict[str, set[str]] = {}
    for ident, article in zip(identities, articles, strict=True):
        if ident.body and ident.party:
            kind = ident.body.key.rsplit(":", 1)[0]
            local.setdefault((article, kind), set()).add(sets.find(ident.party.key))
            overall.setdefault(kind, set()).add(sets.find(ident.party.key))
        if ident.party and ident.party.kind == "nation":
            countries.setdefault(article, set()).add(sets.find(ident.party.key))
    for ident, article in zip(identities, articles, strict=True):
        party = ident.party
        if party is None or party.kind != "body" or not party.key.endswith(":"):
            continue
        kind = party.key.rsplit(":", 1)[0]
        choices = (
            local.get((article, kind), set()),
            countries.get(article, set()),
            overall.get(kind, set()),
        )
        for roots in choices:
            if len(roots) == 1:
                sets.join(next(iter(roots)), party.key)
                break


def _join_rebels(identities: list[_Identity], sets: _Sets) -> None:
    """Join "an insurgent army" to the one named non-state group of its country there is."""
    groups: dict[str, set[str]] = {}
    for ident in identities:
        if ident.party and ident.party.kind == "org":
            scope = ident.parent.key if ident.parent else ""
            groups.setdefault(scope, set()).add(ident.party.key)
            groups.setdefault("*", set()).add(ident.party.key)
    for ident in identities:
        if ident.party is None or not ident.party.key.startswith("nonstate:"):
            continue
        scope = ident.party.key.split(":", 1)[1]
        found = groups.get(scope or "*", set())
        if len(found) == 1:
            sets.join(next(iter(found)), ident.party.key)


def _enemy_of_enemy(sets: _Sets, kinds: dict[str, Party]) -> None:
    """Join a party that opposes one camp to the only other camp opposing it."""
    for _ in range(3):
        roots = {sets.find(k) for k in kinds}
        changed = False
        for root in sorted(roots):
            members = sets.members(root)
            if any(kinds[m].kind == "nation" for m in members if m in kinds):
                continue  # countries are camps of their own
            enemies = {sets.find(k) for pair in sets.opposed if pair & members for k in pair}
            enemies.discard(root)
            if len(enemies) != 1:
                continue
            enemy = next(iter(enemies))
            friends = {
                sets.find(k) for pair in sets.opposed if pair & sets.members(enemy) for k in pair
            } - {enemy, root}
            if len(friends) == 1 and sets.join(next(iter(friends)), root):
                changed = True
        if not changed:
            return


def _labels(
    identities: list[_Identity],
    sets: _Sets,
    kinds: dict[str, Party],
    split: set[str],
    shown: list[int],
) -> dict[str, str]:
    """Name each camp as the articles name the party."""
    counts: dict[str, Counter[str]] = {}
    for index in shown:
        ident = identities[index]
        if ident.party is None:
            continue
        root = sets.find(ident.party.key)
        counts.setdefault(root, Counter())[ident.party.key] += 1
        if ident.parent and sets.find(ident.parent.key) == root:
            counts[root][ident.parent.key] += 0
    everywhere = Counter(i.party.key for i in identities if i.party)
    labels: dict[str, str] = {}
    for root, counter in counts.items():
        members = [kinds[k] for k in sets.members(root) if k in kinds]
        # A country names the camp when it speaks in it, not when it only owns a group that
        # does ("Sylvania's Harbour Front" speaks for the Front).
        countries = [
            p
            for p in members
            if p.kind == "nation" and p.key not in split and everywhere[p.key] > 0
        ]
        orgs = [p for p in members if p.kind == "org"]
        busiest_org = max((everywhere[p.key] for p in orgs), default=0)
        countries = [p for p in countries if everywhere[p.key] >= busiest_org]
        if countries:
            best = max(countries, key=lambda p: (counter.get(p.key, 0), -len(p.name)))
            labels[root] = best.name
            continue
        if orgs:
            best = max(orgs, key=lambda p: (counter.get(p.key, 0), _acronym(p.name)))
            labels[root] = best.name
            continue
        bodies = [p for p in members if p.kind in ("body", "nation")]
        if bodies:
            labels[root] = _body_label(identities, sets, root, split)
            continue
        labels[root] = max(members, key=lambda p: counter.get(p.key, 0)).name
    return labels


def _body_label(identities: list[_Identity], sets: _Sets, root: str, split: set[str]) -> str:
    """Name a state's camp by its institution when its country is split ("the army")."""
    surfaces: Counter[str] = Counter()
    for ident in identities:
        if ident.party is None or sets.find(ident.party.key) != root:
            continue
        text = ident.surface
        match = re.search(
            r"\b([A-Z][\w-]*(?:'s|’s)?\s+)?(" + "|".join(sorted(ARMED_FORCES)) + r")\b",
            text,
            flags=re.IGNORECASE,
        )
        if match:
            owner = (match.group(1) or "").strip()
            # Only a country, its demonym or a possessive qualifies the body ("Sylvania's").
            if owner and not (owner.endswith(("'s", "’s")) or geo.country(owner)):
                owner = ""
            surfaces[(owner + " " if owner else "") + match.group(2).lower()] += 1
    if not surfaces:
        # No armed body among them: the camp's most common speaker, as the articles write it.
        named = Counter(
            clean(i.surface)
            for i in identities
            if i.party and sets.find(i.party.key) == root and i.surface
        )
        return max(named, key=lambda s: (named[s], -len(s))) if named else root
    label = max(surfaces, key=lambda s: (surfaces[s], len(s)))
    return _title(label.replace("’", "'"))
