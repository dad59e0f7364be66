"""What an article has said so far: who was mentioned, and what names and bodies stand for.

Pronouns and short descriptions are resolved here, as a reader resolves them: "he" is the
nearest person mentioned before, preferring the subject of the closest sentence and respecting
gender and number; "the spokesperson", "the group" and "the General Staff" are the nearest
earlier mention of the same kind; a surname alone is the person named in full earlier.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bot.articles import Article
from bot.lexicon import GROUP_NOUNS, PERSON_ROLES, SPEECH_NOUNS, STATE_INSTITUTIONS
from bot.relations import Fact, learn_aliases
from bot.speakers import (
    Speaker,
    describe,
    phrase,
    quoted_tokens,
    state_body,
)

PRONOUNS = frozenset(["he", "she", "they", "it", "we", "i", "his", "her", "their", "its"])
_MALE = frozenset(["he", "his", "him"])
_FEMALE = frozenset(["she", "her", "hers"])
_LOOKBACK = 4  # sentences a pronoun may reach back
_QUOTE_CHARS = '"“”'


@dataclass
class Mention:
    """A noun phrase an article has used: who or what it names, and where."""

    sentence: int
    position: int
    speaker: Speaker
    subject: bool
    spoke: bool = False


def side_of(speaker: Speaker) -> str | None:
    """Return the camp a description names on its own, before any answer weighs it."""
    org, nation = speaker.get("org"), speaker.get("nation")
    if org and nation and state_body(org):
        return str(nation)
    return org or nation or None


def _of_state(speaker: Speaker) -> bool:
    """Say whether a description is a state's with no country named ("the defence ministry").

    "President Ari Tam" and "a military source" are too: an office or body of some state.
    """
    if speaker.get("nation") or speaker.get("nonstate") or speaker.get("independent"):
        return False
    org = speaker.get("org")
    if org:
        return state_body(str(org))
    return speaker.get("institution") in STATE_INSTITUTIONS - GROUP_NOUNS or bool(
        speaker.get("office")
    )


def _surname(name: str) -> str:
    words = name.split()
    return re.sub(r"'s?$", "", words[-1].lower().replace("’", "'")) if words else ""


class ArticleContext:
    """The mentions of one article so far, for resolving the speakers of its next sentences."""

    def __init__(self, article: Article) -> None:
        self.article = article
        self.mentions: list[Mention] = []
        self.people: dict[str, Speaker] = {}  # surname -> fullest description of that person
        self.genders: dict[str, str] = {}  # surname -> "m" / "f", from pronouns that fit
        self.sentence = 0
        self.previous: Speaker | None = None  # the last speaker heard
        self.previous_statement: dict[str, Any] | None = None

    def begin(self, number: int, doc: Any) -> None:
        """Start a sentence: its noun phrases become mentions (a pronoun sees those before it)."""
        self.sentence = number
        self.learn(doc)

    def after(self, found: list[dict[str, Any]]) -> None:
        """Remember the last statement of a sentence (a following quote may continue it)."""
        if found:
            last = found[-1]
            self.previous_statement = dict(last)
            self.previous_statement["quoted"] = any(c in last.get("claim", "") for c in '“”"') or (
                last["_verb"].doc.text.count("“") + last["_verb"].doc.text.count('"') > 0
            )
        elif self.previous_statement is not None:
            self.previous_statement = None

    def heard(self, speaker: Speaker, head: Any) -> None:
        """Record that a speaker spoke (speakers are the likeliest antecedents)."""
        self.previous = speaker
        self.mentions.append(Mention(self.sentence, head.i, speaker, True, spoke=True))

    def learn(self, doc: Any) -> None:
        """Record the sentence's noun phrases as mentions later sentences may refer to."""
        quoted = quoted_tokens(doc)
        for token in doc:
            if token.i in quoted or token.pos_ not in ("NOUN", "PROPN"):
                continue
            if token.dep_ not in ("nsubj", "nsubjpass", "dobj", "pobj", "appos", "ROOT", "conj"):
                continue
            if token.dep_ == "conj" and token.head.pos_ not in ("NOUN", "PROPN"):
                continue
            lemma = token.lemma_.lower()
            if not (
                token.ent_type_ in ("PERSON", "ORG", "GPE", "NORP")
                or token.pos_ == "PROPN"
                or lemma in STATE_INSTITUTIONS | GROUP_NOUNS | SPEECH_NOUNS | PERSON_ROLES
            ):
                continue  # "the rocket from the group" is no one who could speak later
            speaker = describe(doc, token, phrase(token))
            if not (speaker.get("person") or speaker.get("org") or speaker.get("nation")) and (
                speaker["head"] not in STATE_INSTITUTIONS | GROUP_NOUNS | SPEECH_NOUNS
            ):
                continue
            subject = token.dep_ in ("nsubj", "nsubjpass")
            self.mentions.append(Mention(self.sentence, token.i, speaker, subject))
            name = speaker.get("name")
            if name and (token.ent_type_ == "PERSON" or lemma in PERSON_ROLES):
                self._remember(_surname(name), speaker)

    def _remember(self, key: str, speaker: Speaker) -> None:
        """Keep the fullest description of a person: the longest mention, every affiliation."""
        known = self.people.get(key)
        if known is None:
            self.people[key] = dict(speaker)
            return
        merged = dict(known)
        for field in ("nation", "org", "of"):
            merged[field] = known.get(field) or speaker.get(field)
        merged["independent"] = bool(known.get("independent") or speaker.get("independent"))
        if len(speaker.get("name") or "") > len(known.get("name") or ""):
            merged["name"] = speaker["name"]
        if len(speaker["text"]) > len(known["text"]):
            merged["text"] = speaker["text"]
        self.people[key] = merged

    # --- resolution -----------------------------------------------------------------------

    def resolve(self, doc: Any, head: Any, tokens: list[Any]) -> Speaker | None:
        """Return who a speaker's words refer to, or None when nothing can be said."""
        lower = head.lower_
        if lower in PRONOUNS and len(tokens) <= 2:
            return self._pronoun(lower, head.i)
        speaker = describe(doc, head, tokens)
        definite = tokens[0].lower_ in ("the", "this", "that") if tokens else False
        bare = not (speaker.get("nation") or speaker.get("org") or speaker.get("name"))
        if bare and definite and head.pos_ == "NOUN":
            earlier = self._same_kind(speaker["head"], head.i)
            if earlier is not None:
                return earlier
        # "his commanders", "its spokesman": whose they are decides whom they speak for.
        owners = [c for c in head.children if c.dep_ == "poss" and c.lower_ in PRONOUNS]
        if owners and bare:
            whose = self._pronoun(owners[0].lower_, owners[0].i)
            if whose is not None:
                speaker = dict(speaker)
                for key in ("nation", "org"):
                    speaker[key] = whose.get(key)
                speaker["of"] = whose.get("name") or whose.get("text")
                return speaker
        if speaker.get("name") and not any(speaker.get(k) for k in ("nation", "org", "of")):
            # "Its chairman, Ari Tam": the role beside a name says whose the person is.
            roles = [
                t
                for t in tokens
                if t.dep_ == "poss" and t.lower_ in PRONOUNS and t.head.pos_ == "NOUN"
            ]
            whose = self._pronoun(roles[0].lower_, roles[0].i) if roles else None
            if whose is not None:
                speaker = dict(speaker)
                for key in ("nation", "org"):
                    speaker[key] = whose.get(key)
                speaker["of"] = whose.get("name") or whose.get("text")
        name = speaker.get("name")
        if not name and head.pos_ == "PROPN" and _surname(head.text) in self.people:
            name = head.text  # a surname the tagger did not read as a person
        if name:
            full = self.people.get(_surname(name))
            if full is not None and full is not speaker:
                merged = dict(full)
                if len(speaker["text"]) > len(full["text"]):
                    merged["text"] = speaker["text"]
                for key in ("nation", "org", "independent", "institution"):
                    merged[key] = speaker.get(key) or full.get(key)
                if speaker.get("org") == head.text:
                    merged["org"] = full.get("org")
                speaker = merged
        # A body's country may be read from the article around it; a person's only from the
        # body they are said to serve ("press officer of the 3rd Brigade" after "a Sylvanian
        # officer in a brigade"), never from whoever spoke last.
        if not speaker.get("nation") and (
            speaker.get("org") or speaker.get("institution") in STATE_INSTITUTIONS
        ):
            speaker = self._inherit_nation(speaker, nearest=not speaker.get("person"))
        return speaker

    def _inherit_nation(self, speaker: Speaker, *, nearest: bool = True) -> Speaker:
        """Give an unqualified body the country the article named it with before.

        "The General Staff" after "the General Staff of the Sylvanian army" is Sylvania's; "the
        defence ministry" in an article about one country's forces is that country's.
        """
        org = speaker.get("org")
        kind = speaker.get("institution")
        for mention in reversed(self.mentions):
            other = mention.speaker
            if org and other.get("org") == org and other.get("nation"):
                return {**speaker, "nation": other["nation"]}
        if org and not state_body(org):
            return speaker  # a named group is its own party
        # "the 3rd Brigade" after "a Sylvanian officer in a brigade": the same kind of body.
        for mention in reversed(self.mentions):
            other = mention.speaker
            same = kind and other.get("institution") == kind and other.get("nation")
            if same and not other.get("independent") and not other.get("nonstate"):
                return {**speaker, "nation": other["nation"]}
        if not nearest:
            return speaker
        for mention in reversed(self.mentions):
            other = mention.speaker
            if (
                other.get("nation")
                and not other.get("independent")
                and (
                    other["head"] in STATE_INSTITUTIONS
                    or (other.get("org") and state_body(str(other["org"])))
                    # "Sylvania said ... The defence ministry added": the country last heard.
                    or (mention.spoke and not other.get("org") and not other.get("person"))
                )
            ):
                return {**speaker, "nation": other["nation"]}
        return speaker

    def _pronoun(self, pronoun: str, position: int) -> Speaker | None:
        """Return the nearest compatible antecedent of a pronoun."""
        if pronoun in ("we", "i"):
            return None
        for distance in range(0, _LOOKBACK + 1):
            number = self.sentence - distance
            if number < 0:
                break
            found = [
                m
                for m in self.mentions
                if m.sentence == number
                and (distance or m.position < position)
                and self._fits(m, pronoun)
            ]
            if not found:
                continue
            # One known to be of the pronoun's gender, then the subject of the closest
            # sentence, then speakers, then the latest mention.
            best = max(found, key=lambda m: (self._gendered(m), m.subject, m.spoke, m.position))
            name = best.speaker.get("name")
            if name and pronoun in _MALE | _FEMALE:
                self.genders.setdefault(_surname(name), "m" if pronoun in _MALE else "f")
            return best.speaker
        return None

    def _gendered(self, mention: Mention) -> bool:
        """Say whether a mention's gender is known (from a role noun or an earlier pronoun)."""
        speaker = mention.speaker
        return bool(speaker.get("gender") or self.genders.get(_surname(speaker.get("name") or "")))

    def _fits(self, mention: Mention, pronoun: str) -> bool:
        speaker = mention.speaker
        if pronoun in _MALE | _FEMALE:
            if not speaker.get("person") or speaker.get("plural"):
                return False
            gender = speaker.get("gender") or self.genders.get(_surname(speaker.get("name") or ""))
            return gender is None or gender == ("m" if pronoun in _MALE else "f")
        if pronoun in ("it", "its"):
            return (
                not speaker.get("person")
                and not speaker.get("plural")
                and bool(speaker.get("org") or speaker.get("nation") or speaker.get("institution"))
                and speaker["head"] not in SPEECH_NOUNS
            )
        # they / their: people in the plural, or a body (a group is "they" in news copy).
        return bool(speaker.get("plural")) or bool(
            not speaker.get("person") and (speaker.get("org") or speaker.get("nation"))
        )

    def _same_kind(self, head: str, position: int) -> Speaker | None:
        """Return the nearest earlier mention of the same kind ("the group", "the spokesperson")."""
        for mention in reversed(self.mentions):
            if mention.sentence == self.sentence and mention.position >= position:
                continue
            speaker = mention.speaker
            if (
                head in GROUP_NOUNS
                and speaker.get("person")
                and speaker.get("of")
                and mention.spoke
            ):
                # "the militia's spokesman said ...; the group added": the militia.
                return {**speaker, "org": speaker["of"], "person": False, "name": None}
            named = speaker.get("nation") or speaker.get("org") or speaker.get("name")
            if not named:
                continue
            if speaker["head"] == head:
                return speaker
            # "the group" is a body that acts or speaks, not one that is acted upon.
            acting = mention.subject or mention.spoke
            if head in GROUP_NOUNS and acting and speaker.get("org") and not speaker.get("person"):
                return speaker
        return None

    def complete(self, statements: list[dict[str, Any]]) -> None:
        """Give state bodies the article left unqualified its one country, once it is read.

        "A military source said ..." before the article names "the Sylvanian army": when the
        article's state bodies all belong to one country, the source is that country's.
        """
        from bot import geo

        expansions = {alias: name for _, alias, name in learn_aliases(self.article.text)}
        for mention in self.mentions:
            org = mention.speaker.get("org")
            full = expansions.get(str(org).lower()) if org else None
            if full and not mention.speaker.get("nation"):
                country = next((w for w in full.split() if geo.country(w)), None)
                if country and state_body(full):
                    mention.speaker = {**mention.speaker, "nation": geo.country(country).name}  # type: ignore[union-attr]
        nations = {
            m.speaker["nation"]
            for m in self.mentions
            if m.speaker.get("nation")
            and not m.speaker.get("independent")
            and not m.speaker.get("nonstate")
            and (
                m.speaker.get("institution") in STATE_INSTITUTIONS
                or (m.speaker.get("org") and state_body(str(m.speaker["org"])))
                # A country that speaks for itself ("Sylvania said ...").
                or (m.spoke and not m.speaker.get("org") and not m.speaker.get("person"))
            )
        }
        if len(nations) != 1:
            return
        nation = next(iter(nations))
        for statement in statements:
            speaker = statement["speaker"]
            if _of_state(speaker):
                statement["speaker"] = {**speaker, "nation": nation}
        for key, person in list(self.people.items()):
            if _of_state(person):
                self.people[key] = {**person, "nation": nation}

    def affiliation_facts(self) -> list[Fact]:
        """Return what the article says each named person speaks for, by surname."""
        facts = []
        for key, speaker in self.people.items():
            party = {k: speaker.get(k) for k in ("nation", "org", "independent")}
            if party.get("nation") or party.get("org"):
                facts.append(("affiliation", key, json.dumps(party, sort_keys=True)))
        return facts
