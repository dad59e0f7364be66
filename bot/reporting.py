"""How news copy reports speech: reporting verbs, claim nouns and their speakers, in a parse.

"X said", "X cast doubt on", "X posted a video showing", "claims by X that ...", "the ministry's
statement", "..., saying ...", "the claims, announced by X": which words report what someone
said, and which words name who said it. Pure functions of a spaCy parse.
"""

from __future__ import annotations

from typing import Any

from bot.lexicon import LIGHT_OBJECTS, LIGHT_VERBS, REPORTING_VERBS, SPEECH_NOUNS
from bot.mentions import PRONOUNS

MEDIA = frozenset("video footage photo photograph image images picture pictures map".split())
PUBLISHING = frozenset("release post publish share distribute upload air".split())
SHOWING = frozenset("show depict purport appear".split())


def is_reporting(token: Any) -> bool:
    """Say whether a word reports speech: a reporting verb, or a light verb with a speech noun."""
    if token.pos_ not in ("VERB", "AUX"):
        return False
    lemma = token.lemma_.lower()
    if lemma in REPORTING_VERBS:
        return True
    objects = [c for c in token.children if c.dep_ in ("dobj", "pobj", "attr")]
    if lemma in LIGHT_VERBS and any(o.lemma_.lower() in LIGHT_OBJECTS for o in objects):
        return True
    # "posted a video showing ..." is a claim made by publishing it.
    return lemma in PUBLISHING and any(o.lemma_.lower() in MEDIA for o in objects)


# Third-person forms of the reporting verbs ("rejects", "denies"), which the tagger sometimes
# reads as plural nouns after a name: "..., a claim Port Ellis rejects as absurd".
VERB_FORMS = frozenset(
    {v + "s" for v in REPORTING_VERBS}
    | {v + "es" for v in REPORTING_VERBS}
    | {v[:-1] + "ies" for v in REPORTING_VERBS if v.endswith("y")}
)


def publisher(media: Any) -> Any | None:
    """Return who released a video or photo: "footage released by X", "X's video"."""
    for child in media.children:
        if child.dep_ == "poss" and child.lower_ not in PRONOUNS:
            return child
        if child.dep_ == "acl" and child.lemma_.lower() in PUBLISHING:
            for agent in (c for c in child.children if c.dep_ == "agent"):
                objects = [c for c in agent.children if c.dep_ == "pobj"]
                if objects:
                    return objects[0]
    return None


def governs(verb: Any, token: Any) -> bool:
    """Say whether a token lies in a verb's clause (the verb is among its heads)."""
    head = token
    for _ in range(12):
        if head.i == verb.i:
            return True
        if head.head.i == head.i:
            return False
        head = head.head
    return False


def says_something(noun: Any) -> bool:
    """Say whether a claim noun carries what was claimed: "a claim by X that ..."."""
    return any(
        c.dep_ in ("acl", "ccomp", "relcl") and any(g.dep_ == "mark" for g in c.children)
        for c in noun.subtree
        if c.head.i == noun.i or c.head.head.i == noun.i
    )


def answers(verb: Any, noun: Any) -> bool:
    """Say whether a claim noun is what a verb answers: "denied the claim", "cast doubt on it".

    A claim named in an adjunct ("..., after claims by X that ...") is X's own statement.
    """
    while noun.dep_ == "conj" and noun.head.i != noun.i:
        noun = noun.head
    if noun.head.i == verb.i:
        return noun.dep_ in ("dobj", "attr", "nsubjpass", "dative")
    preposition = noun.head
    return (
        noun.dep_ == "pobj"
        and preposition.head.i == verb.i
        and preposition.lower_ in ("on", "about", "of", "to", "over", "with")
    )


def nominal_speaker(noun: Any) -> Any | None:
    """Return who makes a claim named by a noun: "claims by X", "X's claim", "Sylvanian claims"."""
    for child in noun.children:
        if child.dep_ == "prep" and child.lower_ == "by":
            objects = [c for c in child.children if c.dep_ == "pobj"]
            if objects:
                return objects[0]
        if (
            child.dep_ == "poss"
            and child.lower_ not in PRONOUNS
            and not any(d.dep_ in ("det", "predet") for d in child.children)
        ):
            # "either side's assertions" names no one.
            return child
        if child.dep_ == "amod" and child.ent_type_ in ("GPE", "NORP"):
            return child
    return None


def subject_of(verb: Any) -> Any | None:
    """Return the speaker of a reporting verb: its subject, its passive agent, or its clause's."""
    for child in verb.children:
        if child.dep_ == "nsubj" or (child.dep_ == "nsubjpass" and verb.lemma_.lower() == "quote"):
            return child
    if (
        verb.dep_ == "acl"
        and verb.head.lemma_.lower() not in SPEECH_NOUNS | MEDIA
        and verb.head.pos_ in ("NOUN", "PROPN")
        and verb.tag_ in ("VBD", "VBN")
        and any(c.dep_ == "agent" for c in verb.children)
    ):
        return verb.head  # "the army blamed on ...", parsed as a noun and its modifier
    passive = verb.tag_ == "VBN" and (
        (verb.dep_ in ("acl", "relcl") and verb.head.lemma_.lower() in SPEECH_NOUNS | MEDIA)
        or any(c.dep_ == "auxpass" for c in verb.children)
    )
    if passive and verb.lemma_.lower() != "quote":
        for agent in (c for c in verb.children if c.dep_ == "agent"):
            objects = [c for c in agent.children if c.dep_ == "pobj"]
            if objects:
                return objects[0]  # "the claims, announced by the ministry"
    # "Marlow was quoted as saying", "..., saying it was lies": the governing clause's speaker.
    governor = verb.head.head if verb.dep_ == "pcomp" and verb.head.dep_ == "prep" else verb.head
    if verb.dep_ in ("pcomp", "xcomp", "advcl", "conj") and governor.i != verb.i:
        if governor.pos_ not in ("VERB", "AUX"):
            return None
        if is_reporting(governor) or governor.lemma_.lower() == "quote":
            return subject_of(governor)
        if verb.tag_ == "VBG":
            # "..., saying ...": whoever did the main clause's deed, never its passive agent.
            return next((c for c in governor.children if c.dep_ == "nsubj"), None)
    return None
