"""Who a speaker is: the person, the body, the country and the role a description names.

"Sylvania's defence ministry", "Vell spokesman Ari Tam", "a spokesperson for the Okavi
Council", "local media run by the Harbour Front": a speaker's words say whom it speaks for.
`describe` reads them from spaCy's parse of the sentence, and returns a plain dict (stored with
each statement at ingest) that `bot.parties` turns into camps at answer time.
"""

from __future__ import annotations

import re
from typing import Any

from bot import geo
from bot.lexicon import (
    BACKED_SUFFIXES,
    FEMALE_ROLES,
    GROUP_NOUNS,
    INDEPENDENT_MARKS,
    INDEPENDENT_ROLES,
    INSTITUTION_WORDS,
    INTERNATIONAL_BODIES,
    MALE_ROLES,
    NON_STATE_MARKS,
    OWNED_SUFFIXES,
    PERSON_ROLES,
    STATE_INSTITUTIONS,
)

Speaker = dict[str, Any]
NAME_LABELS = ("PERSON", "ORG", "GPE", "NORP", "FAC", "LOC")
_NOT_NAMES = ("DATE", "TIME", "CARDINAL", "ORDINAL", "QUANTITY", "MONEY", "PERCENT")
# Prepositions that attach a speaker to whom it speaks for ("spokesman for", "head of").
_BELONGING = frozenset("of for from with at by".split())
_DETERMINERS = frozenset("the a an this that these those".split())
# Titles written before a name are roles, not bodies: "President", "Maj. Gen.", "Dr.".
_TITLES = frozenset("mr mrs ms dr prof gen maj lt col capt sgt adm cmdr gov sen rep rev".split())


def _title(token: Any) -> bool:
    word = token.lower_.rstrip(".")
    return word in _TITLES or word in PERSON_ROLES


_APOSTROPHES = str.maketrans({"’": "'", "‘": "'"})


def clean(text: str) -> str:
    """Return a name as a label shows it: no leading article, no possessive, one space."""
    text = " ".join(text.translate(_APOSTROPHES).split())
    text = re.sub(r"^(?:the|The|a|A|an|An)\s+", "", text)
    text = re.sub(r"\s*'s?$", "", text).strip(" ,;:-–—(")
    return text.replace(" 's", "'s").replace(" .", ".")


def is_acronym(text: str) -> bool:
    """Say whether a word is an acronym ("OKC", "U.N."), not a capitalised word."""
    bare = text.replace(".", "")
    return len(bare) >= 2 and bare.isupper() and bare.isalpha()


def quoted_tokens(doc: Any) -> set[int]:
    """Return the token indices inside quotation marks in a sentence.

    A straight quote closes when it follows punctuation or a word and is followed by a space or
    the end; one that closes with nothing open closes a quote begun in an earlier sentence.
    """
    inside: set[int] = set()
    open_at: int | None = None
    for t in doc:
        if t.text not in '"“”':
            continue
        before = doc[t.i - 1] if t.i > 0 else None
        closing = t.text == "”" or (
            t.text == '"'
            and before is not None
            and not before.whitespace_
            and (t.i + 1 == len(doc) or bool(t.whitespace_) or doc[t.i + 1].is_punct)
        )
        if open_at is None and not closing:
            open_at = t.i
        elif open_at is None:
            inside.update(range(0, t.i))  # the quote opened in an earlier sentence
        else:
            inside.update(range(open_at + 1, t.i))
            open_at = None
    if open_at is not None:
        inside.update(range(open_at + 1, len(doc)))
    return inside


def _span_text(doc: Any, start: int, end: int) -> str:
    return str(doc[start:end].text)


def _name_spans(doc: Any, ids: set[int]) -> list[tuple[int, int, str]]:
    """Return the names within some tokens: entities, proper-noun runs and acronyms."""
    spans: list[tuple[int, int, str]] = []
    covered: set[int] = set()
    for ent in doc.ents:
        if ent.label_ in NAME_LABELS and any(t.i in ids for t in ent):
            start = ent.start + (1 if ent[0].lower_ in _DETERMINERS else 0)
            if start < ent.end:
                spans.append((start, ent.end, ent.label_))
                covered.update(range(start, ent.end))
    run: list[int] = []
    for i in sorted(ids) + [-1]:
        token = doc[i] if i >= 0 else None
        proper = (
            token is not None
            and i not in covered
            and token.pos_ == "PROPN"
            and token.ent_type_ not in _NOT_NAMES
        )
        if proper and token is not None and _title(token):
            proper = False
        if proper and (not run or run[-1] == i - 1):
            run.append(i)
            continue
        if run and not (token is not None and _title(token)):
            # "Defence Minister": a name run straight before a title is part of the title.
            spans.append((run[0], run[-1] + 1, "PROPN"))
        run = [i] if proper else []
    return sorted(spans)


def _reachable(head: Any, tokens: set[int]) -> set[int]:
    """Return the tokens a description attaches to its head through words of belonging.

    Possessives, compounds, adjectives, appositions and "of/for" phrases say whom a speaker
    belongs to; place phrases ("in a village near the border") and relative clauses do not.
    """
    reach = {head.i}
    frontier = [head]
    while frontier:
        token = frontier.pop()
        for child in token.children:
            if child.i not in reach and child.i in tokens and _belongs(child, token):
                reach.add(child.i)
                frontier.append(child)
    return reach


_ATTACHING = ("poss", "compound", "amod", "nmod", "appos", "npadvmod", "nummod", "case")


def _belongs(child: Any, token: Any) -> bool:
    """Say whether a word attaches to a speaker's phrase as part of whom it speaks for."""
    dep = child.dep_
    if dep in _ATTACHING or dep == "agent" or (dep == "punct" and child.text == "-"):
        return True
    if dep == "prep":
        # "spokesman for", "head of"; "in" only for a body: "a minister in the government".
        return child.lower_ in _BELONGING or (child.lower_ == "in" and names_a_body(child))
    if dep == "pobj":
        return token.dep_ in ("prep", "agent")
    return dep == "acl" and child.lemma_ in ("run", "lead", "own")  # "media run by X"


def _preceding_role(doc: Any, start: int) -> list[Any]:
    """Return a role phrase set before a name with a comma: "Front spokesperson, Ari Tam"."""
    if start < 2 or doc[start - 1].text != "," or doc[start - 2].lemma_.lower() not in PERSON_ROLES:
        return []
    phrase: list[Any] = []
    for token in reversed(doc[max(0, start - 8) : start - 1]):
        if token.is_punct or token.pos_ in ("VERB", "AUX", "ADP", "SCONJ", "CCONJ"):
            break
        phrase.insert(0, token)
    return phrase


def phrase(head: Any) -> list[Any]:
    """Return a speaker's phrase: its words without relative clauses, places or co-speakers.

    "Ari Tam, who leads the Front" is Ari Tam; "officials in Tessel" are the officials; "X and
    Y said" is X's phrase (Y speaks with it). Names joined by "and" inside one entity stay
    whole ("the Harbour and Docks Authority").
    """
    drop: set[int] = set()
    for child in head.children:
        if (
            child.dep_ == "relcl"
            or (child.dep_ == "acl" and child.lemma_.lower() not in ("run", "lead", "own", "base"))
            or (
                child.dep_ == "prep"
                and child.lower_ not in _BELONGING
                and not (child.lower_ == "in" and names_a_body(child))
            )
            or child.dep_ in ("cc", "conj")
            and not _one_entity(head, child)
        ):
            drop.update(t.i for t in child.subtree)
    tokens = [t for t in head.subtree if t.i not in drop]
    while tokens and (tokens[-1].dep_ == "punct" or tokens[-1].lower_ in ("and", "or")):
        tokens.pop()
    while tokens and (tokens[0].dep_ in ("punct", "mark", "cc") or tokens[0].pos_ == "SCONJ"):
        tokens.pop(0)
    return tokens


def _one_entity(a: Any, b: Any) -> bool:
    """Say whether two tokens are inside one named entity ("Location and Event Data")."""
    return any(ent.start <= a.i < ent.end and ent.start <= b.i < ent.end for ent in a.doc.ents)


def _adjacent_description(doc: Any, index: int) -> list[Any]:
    """Return an appositive the parser left unattached: "X, a monitoring group cited by ..."."""
    if (
        index + 1 >= len(doc)
        or doc[index].text != ","
        or doc[index + 1].lower_
        not in (
            "a",
            "an",
            "the",
        )
    ):
        return []
    words = []
    for token in doc[index + 1 : index + 10]:
        if token.text in ",;:.)" or token.pos_ in ("VERB", "AUX") and token.tag_ != "VBN":
            break
        words.append(token)
    return words


def _adjacent_name(doc: Any, index: int) -> Any | None:
    """Return the person named right after a comma at a position (", Ari Tam,"), if any."""
    if index >= len(doc) or doc[index].text != ",":
        return None
    for ent in doc.ents:
        if ent.start == index + 1 and ent.label_ == "PERSON":
            return ent
    return None


def names_a_body(preposition: Any) -> bool:
    """Say whether a preposition's object is a body one can belong to."""
    bodies = (STATE_INSTITUTIONS - PERSON_ROLES) | GROUP_NOUNS
    return any(
        c.dep_ == "pobj" and (c.lemma_.lower() in bodies or c.ent_type_ == "ORG")
        for c in preposition.children
    )


def _suffix(doc: Any, end: int) -> str:
    """Return a hyphenated suffix right after a name ("-backed" in "Vell-backed")."""
    if end < len(doc) and doc[end].text == "-" and end + 1 < len(doc):
        return "-" + doc[end + 1].lower_
    text = doc[end - 1].text
    match = re.search(r"(-[a-z]+)$", text)
    return match.group(1) if match else ""


def describe(doc: Any, head: Any, tokens: list[Any]) -> Speaker:
    """Describe a speaker from the head of its phrase and the phrase's tokens."""
    ids = {t.i for t in tokens}
    role_phrase = _preceding_role(doc, min(ids)) if head.ent_type_ == "PERSON" and ids else []
    # "Harbour Front spokesperson, Ari Tam, said": the role the parser left behind.
    ids |= {t.i for t in role_phrase}
    if head.pos_ == "VERB":
        # "Local media run by X reported": the parser made the clause the subject.
        subject = next((c for c in head.children if c.dep_ == "nsubj"), None)
        reach = _reachable(head, ids) | (_reachable(subject, ids) if subject is not None else set())
        head = subject if subject is not None else head
    else:
        reach = _reachable(head, ids)
    if role_phrase:
        reach |= _reachable(role_phrase[-1], ids)
    role = head.lemma_.lower() if head.pos_ in ("NOUN", "PROPN") else head.lower_
    words = {t.lemma_.lower() for t in tokens if t.i in reach} | {t.lower_ for t in tokens}
    nouns = {t.lower_ for t in tokens if t.pos_ in ("NOUN", "PROPN")}
    described = _adjacent_description(doc, max(ids) + 1) if ids else []
    words |= {t.lemma_.lower() for t in described}
    nouns |= {t.lower_ for t in described if t.pos_ in ("NOUN", "PROPN")}
    person_name: str | None = None
    nation: str | None = None
    org: str | None = None
    place: str | None = None
    backer: str | None = None
    orgs: list[str] = []
    owner: str | None = None
    for start, end, label in _name_spans(doc, ids):
        if not any(i in reach for i in range(start, end)):
            continue
        text = clean(_span_text(doc, start, end))
        if not text or not any(c.isalpha() for c in text):
            continue
        suffix = _suffix(doc, end)
        glued = re.match(r"(.+?)(-[a-z]+)$", text)
        if glued and glued.group(2) in OWNED_SUFFIXES + BACKED_SUFFIXES:
            text, suffix = glued.group(1), glued.group(2)  # "Harbour Front-run" as one token
        # "Sylvania-backed rebels": the backer is not the rebels' own camp.
        if suffix in BACKED_SUFFIXES:
            backer = backer or text.split("-")[0]
            continue
        if suffix in OWNED_SUFFIXES:
            orgs.append(text.split("-")[0])
            continue
        found = geo.country(text) or geo.capital_of(text)
        if found:
            nation = nation or found.name
            continue
        plural = doc[end - 1].tag_ in ("NNPS", "NNS") or text.endswith("s")
        determined = start > 0 and doc[start - 1].lower_ == "the"
        if label == "PERSON" and not plural and not determined and not is_acronym(text):
            if doc[end - 1].dep_ == "poss" and doc[end - 1].head.i != end - 1:
                owner = owner or text  # "the minister's spokesman": whose he is
            elif doc[end - 1].dep_ == "pobj" and role in PERSON_ROLES and start > head.i:
                # "lawyers for Brightwater": whom they work for, a body the tagger took
                # for a person, or a person they answer to.
                owner = owner or text
                orgs.append(text)
            elif person_name is None or len(text) > len(person_name):
                person_name = text
            continue
        if label in ("LOC", "FAC"):
            continue  # seas, rivers and buildings speak for no one
        last = doc[end - 1]
        if label == "GPE" and last.dep_ == "compound" and last.head.ent_type_ == "PERSON":
            continue  # a name the tagger split: "General Ari Tessel" is no place
        if end < len(doc) and _title(doc[end]) and text.lower() in INSTITUTION_WORDS:
            continue  # "Defence Minister": the portfolio of an office, not a body
        if label == "GPE" and not is_acronym(text) and not plural:
            # A place speaking through its authorities ("Tessel's health ministry"): the
            # answer decides whose the place is (its country, or whoever runs it).
            place = place or text
            continue
        orgs.append(text)
    if nation is None and place is not None:
        nation = place
    # An organisation's own name may carry its country: "the Sylvanian Armed Forces".
    for name in orgs:
        for word in name.split():
            found = geo.country(word)
            if found and nation is None:
                nation = found.name
    if orgs:
        org = max(orgs, key=lambda o: (is_acronym(o), -orgs.index(o)))
        org = orgs[0] if not is_acronym(org) else org
    text_end = max(ids) + 1 if ids else head.i + 1
    if person_name is None and role in PERSON_ROLES and ids:
        # "the head of the Harbour Front, Ari Tam, said": the name the parser hung elsewhere.
        follower = _adjacent_name(doc, max(ids) + 1)
        if follower is not None:
            person_name = clean(follower.text)
            text_end = follower.end
    plural = head.tag_ in ("NNS", "NNPS") or head.lower_ in ("they", "we")
    person = bool(person_name) or (role in PERSON_ROLES and not _institution_head(head))
    titles = {t.lower_.rstrip(".") for t in tokens if t.i in reach} | {role}
    female = titles & (FEMALE_ROLES | {"ms", "mrs", "miss", "madam"})
    male = titles & (MALE_ROLES | {"mr", "sir"})
    gender = "f" if female and not male else "m" if male and not female else None
    independent = (
        bool(nouns & INDEPENDENT_ROLES)
        or (org is not None and _outside_voice(org, words))
        or (role in ("person", "people", "source", "sources") and "familiar" in words)
        or (role in GROUP_NOUNS | {"agency", "agencies"} and bool(words & INDEPENDENT_MARKS))
    )
    nonstate = bool(words & NON_STATE_MARKS)
    if any(t.lower_.startswith("pro-") for t in tokens if t.i in reach):
        independent = True  # "pro-Sylvanian bloggers" take a side but are not a party
    institution = _body(tokens, reach, head, role)
    # "President Ari Tam", "the minister": an office of state, whoever holds it.
    office = next(
        (
            t.lemma_.lower()
            for t in tokens
            if t.i in reach and t.lemma_.lower() in PERSON_ROLES & STATE_INSTITUTIONS
        ),
        None,
    )
    return {
        "text": clean(_span_text(doc, min(ids), text_end)) if ids else "",
        "head": role,
        "name": person_name,
        "person": person,
        "plural": plural,
        "gender": gender,
        "nation": nation,
        "org": org,
        "backer": backer,
        "of": owner,
        "institution": institution,
        "independent": independent,
        "nonstate": nonstate,
        "office": office,
    }


def state_body(org: str) -> bool:
    """Say whether a body's name is a state institution ("Defence Ministry", "3rd Brigade").

    Its words, once its country, articles and unit numbers are set aside, are all words of
    institutions; a name with words of its own ("Harbour Front Army") is a group's.
    """
    words = [
        w for w in re.findall(r"[\w'’.-]+", org.lower()) if w not in ("the", "of", "and", "'s")
    ]
    words = [w for w in words if not re.fullmatch(r"\d+(?:st|nd|rd|th)?", w)]
    words = [w for w in words if not geo.country(w)]
    institutions = {i.rstrip("s") for i in STATE_INSTITUTIONS | INSTITUTION_WORDS}
    return bool(words) and all(w.rstrip("s").rstrip("'") in institutions for w in words)


def _body(tokens: list[Any], reach: set[int], head: Any, role: str) -> str | None:
    """Return the body a speaker belongs to, named by a common noun ("junta spokesman")."""
    bodies = (STATE_INSTITUTIONS - PERSON_ROLES) | GROUP_NOUNS
    if role in bodies:
        return role
    for token in tokens:
        if token.i != head.i and token.i in reach and token.lemma_.lower() in bodies:
            return str(token.lemma_.lower())
    return role if role in STATE_INSTITUTIONS else None


def _institution_head(head: Any) -> bool:
    """Say whether a role noun names a body rather than a person ("the General Staff")."""
    return head.lemma_.lower() in ("staff", "command", "headquarters", "office", "council")


def _outside_voice(org: str, words: set[str]) -> bool:
    """Say whether an organisation speaks from outside any dispute (a monitor, the UN)."""
    lowered = org.lower()
    if any(
        re.search(rf"(?<![\w.]){re.escape(body)}(?![\w.])", lowered)
        for body in INTERNATIONAL_BODIES
    ):
        return True
    return bool(set(re.findall(r"[a-z-]+", lowered)) & INDEPENDENT_MARKS) or bool(
        words & {"monitoring", "watchdog", "observatory"}
    )
