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
from collections.abc import Iterable
from itertools import islice
from typing import Any

from bot import geo
from bot.articles import Article
from bot.clauses import (
    QUOTE_CHARS,
    claim_text,
    evidence_bounds,
    join_quote_runs,
    split_shared_sentence,
)
from bot.lexicon import (
    ACCUSING_VERBS,
    ANSWER_VERBS,
    DENIAL_VERBS,
    PERSON_ROLES,
    SPEECH_NOUNS,
)
from bot.mentions import ArticleContext, side_of
from bot.parsing import parse, sentences
from bot.relations import learn_aliases, learn_relations
from bot.reporting import (
    MEDIA,
    SHOWING,
    VERB_FORMS,
    answers,
    governs,
    is_reporting,
    nominal_speaker,
    publisher,
    says_something,
    subject_of,
)
from bot.speakers import Speaker, clean, phrase, quoted_tokens

logger = logging.getLogger(__name__)

__all__ = ["analyse", "analyse_article", "learn_aliases"]

PLACE_LABELS = ("GPE", "LOC", "FAC")
# Media a party publishes: "a video posted by the ministry showed ...".

Statement = dict[str, Any]
Fact = tuple[str, str, str]


def analyse(articles: list[Article]) -> list[tuple[list[Statement], list[Fact]]]:
    """Extract the attributed statements and learned facts of each article.

    The sentences of every article go through the parser in one stream: spaCy parses a large
    batch faster than many small ones.
    """
    read = [sentences(article) for article in articles]
    docs = parse(t for texts, _ in read for t in texts)
    return [
        _analyse_parsed(article, spans, islice(docs, len(texts)))
        for article, (texts, spans) in zip(articles, read, strict=True)
    ]


def analyse_article(article: Article) -> tuple[list[Statement], list[Fact]]:
    """Extract one article's attributed statements, aliases, affiliations and relations."""
    return analyse([article])[0]


def _analyse_parsed(
    article: Article, spans: list[tuple[int, int]], docs: Iterable[Any]
) -> tuple[list[Statement], list[Fact]]:
    """Read one article's parsed sentences into statements and facts."""
    context = ArticleContext(article)
    statements: list[Statement] = []
    facts: list[Fact] = []
    for number, ((s_start, _), doc) in enumerate(zip(spans, docs, strict=True)):
        context.begin(number, doc)
        if not doc.text.rstrip().endswith("?"):
            found = _sentence_statements(doc, context)
            if not found:
                found = _continued_quote(doc, context)
            split_shared_sentence(doc, found)
            for statement in found:
                statement["start"] += s_start
                statement["end"] += s_start
                statement["sent_start"] = s_start
                statement["sent_end"] = s_start + len(doc.text)
                statements.append(statement)
            context.after(found)
        facts.extend(learn_relations(doc))
    statements = _dedupe(statements)
    join_quote_runs(article.text, spans, statements)
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
            and token.lemma_.lower() in MEDIA
            and token.dep_ in ("nsubj", "nsubjpass")
            and token.head.lemma_.lower() in SHOWING
        ):
            releaser = publisher(token)
            if releaser is not None:
                statement = _statement(doc, context, releaser, token.head)
                if statement:
                    found.append(statement)
            continue
        if not is_reporting(token):
            continue
        if token.lemma_.lower() in ANSWER_VERBS and any(c.dep_ == "neg" for c in token.children):
            continue  # "did not respond to a request for comment" says nothing
        subject = subject_of(token)
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
            if governs(statement["_verb"], claim["_verb"]):
                statement["opposes"].append(_party_of(claim["speaker"]))
    found.extend(nominal)
    found.extend(_mistagged_verbs(doc, context, quoted))
    return found


def _mistagged_verbs(doc: Any, context: ArticleContext, quoted: set[int]) -> list[Statement]:
    """Statements whose verb the tagger took for a noun: "a claim Port Ellis rejects"."""
    found = []
    for token in doc:
        if token.i in quoted or token.pos_ != "NOUN" or token.lower_ not in VERB_FORMS:
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
        if token.dep_ in ("nsubj", "nsubjpass") and not says_something(token):
            continue  # "the minister's statement led the news" reports nothing said
        owner = nominal_speaker(token)
        if owner is None:
            continue
        answering = next((s for s in found if answers(s["_verb"], token)), None)
        if answering is not None:
            target = context.resolve(doc, owner, phrase(owner))
            if target and not _same_speaker(target, answering["speaker"]):
                answering["opposes"].append(_party_of(target))
            continue
        statement = _statement(doc, context, owner, token, nominal=True)
        if statement:
            extra.append(statement)
    return extra


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
        and nominal_speaker(claims) is None
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
            claim_text(doc, verb, tokens, True) if end - start == len(doc) else doc[start:end].text
        )
    else:
        start, end = evidence_bounds(doc, verb, tokens, according)
        claim = claim_text(doc, verb, tokens, according)
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
            and not nominal_speaker(objects[0])
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
            "claim": text.strip(QUOTE_CHARS + " "),
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
