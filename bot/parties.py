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

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot import geo
from bot.identity import (
    Identity,
    Knowledge,
    Names,
    Party,
    demonym_pair,
    identify,
    is_acronym,
    title,
)
from bot.lexicon import ARMED_FORCES
from bot.speakers import clean


@dataclass
class Voice:
    """Where one statement goes in an answer: a camp, or the independent voices."""

    camp: str | None
    independent: bool = False


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
    names = Names(knowledge)
    identities = [identify(s.get("speaker") or {}, names, knowledge) for s in statements]
    sets = _Sets()
    for ident in identities:
        if ident.party:
            sets.find(ident.party.key)
        if ident.parent:
            sets.find(ident.parent.key)
    # Who opposes whom: denials of another's claim, accusations, "conflict between".
    for statement, ident in zip(statements, identities, strict=True):
        for target in statement.get("opposes") or []:
            other = identify(target, names, knowledge)
            if ident.party and other.party and other.party.key != ident.party.key:
                sets.opposed.add(frozenset((ident.party.key, other.party.key)))
                sets.find(other.party.key)
    for a, b in knowledge.opposed:
        pa = identify({"org": a}, names, knowledge).party
        pb = identify({"org": b}, names, knowledge).party
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
        party = identify({"org": name}, names, knowledge).party
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
            other = identify(ally, names, knowledge)
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
            boss = identify(addressee, names, knowledge).party
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
                if demonym_pair(key, nation) or key == nation:
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
            others = [identify(a, names, knowledge).party for a in statement.get("allies") or []]
            if any(p is not None and sets.find(p.key) != root for p in others):
                voices.append(Voice(None))
                continue
        voices.append(Voice(labels.get(root)))
    return voices


def _join_bodies(identities: list[Identity], sets: _Sets, articles: list[str]) -> None:
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


def _join_rebels(identities: list[Identity], sets: _Sets) -> None:
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
    identities: list[Identity],
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
            best = max(orgs, key=lambda p: (counter.get(p.key, 0), is_acronym(p.name)))
            labels[root] = best.name
            continue
        bodies = [p for p in members if p.kind in ("body", "nation")]
        if bodies:
            labels[root] = _body_label(identities, sets, root, split)
            continue
        labels[root] = max(members, key=lambda p: counter.get(p.key, 0)).name
    return labels


def _body_label(identities: list[Identity], sets: _Sets, root: str, split: set[str]) -> str:
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
    return title(label.replace("’", "'"))
