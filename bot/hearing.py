"""Which statements bear on a question: on its topic, by the source asked, camps heard.

A statement is heard when it is close in meaning to the question and about what it names; a
camp is heard when its best statement is close to the best of all. Camps disagree when one
disputes another or they give different figures.
"""

from __future__ import annotations

import re

from bot import geo
from bot.dates import display_date
from bot.evidence import WORD, Candidate, Evidence, in_passing, mentions, name_spans, on_focus, stem
from bot.names import fold
from bot.question import STOP_WORDS

# Calibrated on the development sets with `newsbot eval` (see README, "Evaluation").
CLAIM_FLOOR = 0.30  # a statement less similar than this does not bear on the question
CLAIM_MARGIN = 0.2  # ... nor one this far below the best statement
SIDE_FLOOR = 0.45  # a camp is heard only through a statement at least this close
SIDE_MARGIN = 0.6  # a camp whose best statement is this far below the best is not heard

DISPUTE = re.compile(
    r"\b(?:den(?:y|ied|ies|ial)|reject\w*|dismiss\w*|refut\w*|disput\w*|fake\w*|false\w*|"
    r"lie|lies|untrue|not true|baseless|propaganda|disinformation|fabricat\w*|no (?:direct|"
    r"evidence))\b",
    re.IGNORECASE,
)
NUMBER = re.compile(r"\b\d[\d,.]*\b")


def on_topic(evidence: Evidence, claims: list[Candidate]) -> list[Candidate]:
    """Keep the statements about what the question names, not those naming it in passing."""
    if not evidence.topic:
        return claims
    kept = []
    for claim in claims:
        text = evidence.texts[claim.article_id]
        if not on_focus(claim, text, evidence.topic, _article_topic(evidence, claim.article_id)):
            continue
        if in_passing(evidence.text(claim), evidence.topic):
            continue
        kept.append(claim)
    return kept


def _article_topic(evidence: Evidence, article_id: str) -> list[str]:
    """Return the question's topic if the article is about it: named in its title or at length.

    A statement that names no place is read in the light of its article, but only of an
    article about the topic; one that names the topic once, in passing, is about other things.
    """
    topic = evidence.topic
    if not topic:
        return []
    record = evidence.records[article_id]
    text = evidence.texts[article_id]
    if mentions(record.title or "", topic):
        return topic
    spans = [start for name in topic if name for start, _ in name_spans(text, name)]
    central = [at for at in spans if not in_passing(text[max(0, at - 200) : at + 40], topic)]
    return topic if central else []


def only_in_passing(evidence: Evidence, facts: list[Candidate]) -> str | None:
    """Say why not, when the topic asked about appears only in passing ("hubs like Varn").

    A question about X is answerable only when some article says something about X, not when
    X is merely named in a list or as a direction.
    """
    topic = evidence.topic
    if not topic:
        return None
    seen = []
    for article_id, text in evidence.texts.items():
        for at, end in (span for name in topic if name for span in name_spans(text, name)):
            start = text.rfind(". ", 0, at) + 1
            window = text[start : end + 1]
            if not in_passing(window, topic):
                return None
            seen.append(article_id)
    if not seen:
        return None
    record = evidence.records[seen[0]]
    where = ", ".join(x for x in (record.outlet, display_date(record.published)) if x)
    name = topic[0]
    return f"{name} is mentioned only in passing" + (f" ({where})" if where else "")


def said_by(candidate: Candidate, wanted: str, evidence: Evidence) -> bool:
    """Say whether a statement comes from the source a question names ("the UN monitor").

    The source may name the speaker's camp ("according to Sylvania", "the Sylvanian army",
    its capital) or describe the speaker in its own words ("the monitor cited by the UN").
    """
    if candidate.side and names_camp(wanted, candidate.side):
        return True
    speaker = candidate.statement.get("speaker") or {}
    about = " ".join(
        str(x)
        for x in (
            candidate.side,
            candidate.claimant,
            speaker.get("org"),
            speaker.get("nation"),
            evidence.text(candidate),
        )
        if x
    )
    # "the RSF" is the Rapid Support Forces: a source may use either name.
    about += " " + " ".join(
        name
        for alias, name in evidence.aliases.items()
        if re.search(rf"\b{re.escape(alias)}\b", about.lower())
    )
    have = {stem(w) for w in WORD.findall(about)}
    have |= {
        "".join(w[0] for w in m.split()).lower()
        for m in re.findall(r"(?:[A-Z]\w+ ){1,5}[A-Z]\w+", about)
    }
    words = [w for w in WORD.findall(wanted) if w.lower() not in STOP_WORDS]
    stems = {stem(w) if not w.isupper() else w.lower() for w in words}
    if not stems:
        return False
    hits = sum(
        1 for s in stems if s in have or any(h.startswith(s[:4]) for h in have if len(s) >= 4)
    )
    return hits / len(stems) >= 0.6


def names_camp(wanted: str, camp: str) -> bool:
    """Say whether a question's source names a camp: its name, demonym or capital."""
    words = WORD.findall(wanted)
    camp_country = geo.country(camp)
    for size in (3, 2, 1):
        for start in range(len(words) - size + 1):
            phrase = " ".join(words[start : start + size])
            if fold(phrase) == fold(camp):
                return True
            found = geo.country(phrase) or geo.capital_of(phrase)
            if found and camp_country and found.name == camp_country.name:
                return True
    camp_words = {fold(w) for w in WORD.findall(camp)}
    return bool(camp_words) and camp_words <= {fold(w) for w in words}


def heard(claims: list[Candidate], best: float, side_margin: float) -> list[Candidate]:
    """Keep each camp's statements near its best, for every camp that speaks to the question.

    Camps are judged one by one so that a camp reported in fewer or plainer words than the
    other is still heard; within a camp, its statements close to its best are kept, and so is
    the best statement each other article reports for it, so every outlet stays reachable.
    """
    side_best: dict[str | None, float] = {}
    for c in claims:
        side_best[c.side] = max(side_best.get(c.side, 0.0), c.score)
    hear = {side for side, top in side_best.items() if top >= max(SIDE_FLOOR, best - side_margin)}
    kept: list[Candidate] = []
    per_article: set[tuple[str | None, str]] = set()
    for c in sorted(claims, key=lambda c: -c.score):
        if c.side not in hear:
            continue
        near = c.score >= max(CLAIM_FLOOR, side_best[c.side] - CLAIM_MARGIN)
        first_here = (c.side, c.article_id) not in per_article and c.score >= SIDE_FLOOR
        if near or first_here:
            kept.append(c)
            per_article.add((c.side, c.article_id))
    return kept


def disagree(relevant: list[Candidate], evidence: Evidence) -> bool:
    """Say whether claims of different camps dispute each other or give different numbers."""
    quotes: dict[str | None, list[str]] = {c.side: [] for c in relevant}
    for c in relevant:
        quotes[c.side].append(evidence.text(c))
    if any(c.negated or DISPUTE.search(evidence.text(c)) for c in relevant):
        return True
    numbers = [
        {n.replace(",", "") for q in qs for n in NUMBER.findall(q)} for qs in quotes.values()
    ]
    stated = [n for n in numbers if n]
    return len(stated) >= 2 and any(a.isdisjoint(b) for a in stated for b in stated if a is not b)
