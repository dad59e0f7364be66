"""Clauses: the words of a sentence that carry one speaker's statement.

A statement's evidence is the clause that holds it, not the whole sentence when the sentence
has other speakers ("X said the town fell, but Y said it held"); its claim is the reported
clause; a quote opened in one sentence and attributed in a later one runs back to its opening.
"""

from __future__ import annotations

from typing import Any

QUOTE_CHARS = '"“”'
Statement = dict[str, Any]


def evidence_bounds(doc: Any, verb: Any, tokens: list[Any], according: bool) -> tuple[int, int]:
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


def split_shared_sentence(doc: Any, found: list[Statement]) -> None:
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


def claim_text(doc: Any, verb: Any, tokens: list[Any], according: bool) -> str:
    """Return what was said: the reported clause, else the object, else the sentence."""
    text = doc.text
    if not according:
        for deps in (("ccomp",), ("xcomp",), ("dobj", "attr", "oprd")):
            content = [c for c in verb.children if c.dep_ in deps]
            if content:
                ids = sorted({t.i for c in content for t in c.subtree})
                text = doc[ids[0] : ids[-1] + 1].text
                break
    text = text.strip().strip(QUOTE_CHARS + " ,:").strip()
    return text if len(text.split()) >= 3 else doc.text.strip()


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


def join_quote_runs(text: str, spans: list[tuple[int, int]], statements: list[Statement]) -> None:
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
