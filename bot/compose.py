"""The embedded answerer: the statements that bear on a question, grouped by camp, cited.

No model is involved and nothing is invented: every sentence of an answer is a verbatim quote
from an indexed article, attributed as ingest found it (`bot.claims`) and placed in its camp
(`bot.parties`). Factual questions lead with the span that answers them (`bot.facts`).
"""

from __future__ import annotations

import logging
import re

from langchain_core.embeddings import Embeddings

from bot import geo, summary
from bot.answer import Answer, Claim
from bot.citing import (
    INDEPENDENT,
    REPORTED,
    Citations,
    group_claims,
    reported,
    voices,
)
from bot.dates import display_date, sort_key
from bot.evidence import (
    WORD,
    Candidate,
    Context,
    Evidence,
    fact_candidates,
    gather,
    in_passing,
    mentions,
    name_spans,
    on_focus,
    speaker_of,
    stem,
)
from bot.facts import FACTUAL_KINDS, answer_spans, asks_for
from bot.names import fold
from bot.question import STOP_WORDS, Question
from bot.store import Index

__all__ = ["WORD", "Candidate", "Context", "compose"]

logger = logging.getLogger(__name__)

# Calibrated on the development sets with `newsbot eval` (see README, "Evaluation").
NOT_FOUND_SIMILARITY = 0.35  # nothing closer in meaning than this: not found (see README)
CLAIM_FLOOR = 0.30  # a statement less similar than this does not bear on the question
CLAIM_MARGIN = 0.2  # ... nor one this far below the best statement
FACT_MARGIN = 0.05  # an outlet's own sentence this close to the best claim settles a "what"
SIDE_FLOOR = 0.45  # a camp is heard only through a statement at least this close
SIDE_MARGIN = 0.6  # a camp whose best statement is this far below the best is not heard
FACT_FIT_WEIGHT = 0.4  # times how well a sentence's best span fits a factual question
FACT_SENTENCES = 40  # sentences read for a span, best first
MAX_INDEPENDENT = 2

_DISPUTE = re.compile(
    r"\b(?:den(?:y|ied|ies|ial)|reject\w*|dismiss\w*|refut\w*|disput\w*|fake\w*|false\w*|"
    r"lie|lies|untrue|not true|baseless|propaganda|disinformation|fabricat\w*|no (?:direct|"
    r"evidence))\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\b\d[\d,.]*\b")


def compose(context: Context, index: Index, embeddings: Embeddings) -> Answer:
    """Build the embedded answer: attributed claims per camp, a fact, or not found."""
    understood = context.understood or Question(asked=context.question, text=context.question)
    if not context.hits or context.missing:
        return not_found(context)
    evidence = gather(context, index)
    factual = understood.kind in FACTUAL_KINDS and not understood.disputable
    answers = None
    if factual:

        def answers(sentence: str) -> bool:
            return bool(
                answer_spans(
                    sentence,
                    understood.kind,
                    understood.asked_noun,
                    understood.text,
                    evidence.focus,
                )
            ) or (understood.kind == "what_name" and mentions(sentence, evidence.focus))

    facts = fact_candidates(
        context, evidence, embeddings, index, every_sentence=factual, answers=answers
    )
    # Nothing answers when neither a passage nor a single statement or sentence is close: a
    # long passage can dilute the one sentence that matters, and the small model reads names
    # poorly, so a sentence's score (meaning, plus the question's names and words) counts.
    closest = max(
        [h.dense for h in context.hits] + [c.score for c in evidence.statements + facts],
        default=0.0,
    )
    logger.debug("closest meaning %.3f for %r", closest, understood.text)
    if closest < NOT_FOUND_SIMILARITY:
        return not_found(context)
    passing = _only_in_passing(evidence, facts)
    if passing:
        return not_found(context, passing)
    every = [c for c in evidence.statements if c.kind == "claim"]
    claims = _on_topic(evidence, every)
    wanted = understood.source
    if wanted:
        # "What did X say?" and "according to X" ask for X's word only, or for none at all.
        claims = [c for c in claims if said_by(c, wanted, evidence)]
        every = [c for c in every if said_by(c, wanted, evidence)]
        if not every:
            return not_found(
                context, f"no statement by {wanted} in the indexed articles bears on this"
            )
    if factual:
        # The answer to "which town besides Varn" is about another place: every statement of
        # the source may hold it, not only those about the topic.
        pool = every if wanted else claims
        answer = _factual(context, evidence, facts, pool, understood, embeddings)
        if answer is not None:
            return answer
    best = max((c.score for c in claims), default=0.0)
    # "Who holds X?" and "Has X happened?" are settled only by agreement, so every camp that
    # speaks to them is heard; "what/why/how" questions only hear camps close to the best.
    disputable = understood.disputable
    camped = [c for c in claims if c.side]
    relevant = heard(camped, best, SIDE_MARGIN if disputable else CLAIM_MARGIN)
    if wanted:
        relevant = heard(camped, best, CLAIM_MARGIN)
        facts = []
    outside = [
        c for c in claims if c.independent and c.score >= max(SIDE_FLOOR, best - CLAIM_MARGIN)
    ]
    sides = list(dict.fromkeys(c.side or "" for c in sorted(relevant, key=lambda c: -c.score)))
    # Informational questions are contested only when the camps heard dispute each other and
    # no sentence in an outlet's own voice answers as well.
    settled = bool(facts) and facts[0].score >= best - FACT_MARGIN
    if (
        len(sides) >= 2
        and not wanted
        and (disputable or (not settled and disagree(relevant, evidence)))
    ):
        return _contested(context, evidence, relevant, outside, sides, facts)
    return _answered(context, evidence, relevant, outside, facts)


def _on_topic(evidence: Evidence, claims: list[Candidate]) -> list[Candidate]:
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


def _only_in_passing(evidence: Evidence, facts: list[Candidate]) -> str | None:
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
    if candidate.side and _names_camp(wanted, candidate.side):
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


def _names_camp(wanted: str, camp: str) -> bool:
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
    if any(c.negated or _DISPUTE.search(evidence.text(c)) for c in relevant):
        return True
    numbers = [
        {n.replace(",", "") for q in qs for n in _NUMBER.findall(q)} for qs in quotes.values()
    ]
    stated = [n for n in numbers if n]
    return len(stated) >= 2 and any(a.isdisjoint(b) for a in stated for b in stated if a is not b)


def _factual(
    context: Context,
    evidence: Evidence,
    facts: list[Candidate],
    claims: list[Candidate],
    understood: Question,
    embeddings: Embeddings,
) -> Answer | None:
    """Answer a question that asks for one fact: the span first, then who says so, cited.

    A figure one camp claims is that camp's claim, not the outlet's fact; where camps give
    different figures, or another camp disputes the one given, each is shown (contested).
    """
    if understood.kind == "what_name":
        return _alias_answer(context, evidence, facts, understood)
    allowed = {(c.article_id, c.start) for c in claims} if understood.source else None
    parties = frozenset(fold(c.side) for c in evidence.statements if c.side)
    options: list[tuple[float, Candidate, str]] = []
    for sentence in facts[:FACT_SENTENCES]:
        text = evidence.text(sentence)
        outlet = evidence.records[sentence.article_id].outlet or ""
        spans = answer_spans(
            text,
            understood.kind,
            understood.asked_noun,
            understood.text,
            [*evidence.focus, outlet],
            parties,
        )
        if not spans:
            continue
        owner = speaker_of(sentence, evidence.statements, sentence.start + spans[0].start)
        if asks_for(understood.kind, understood.asked_noun) != "person":
            # The one quoted is not the answer to "which place/thing ..." about what they say.
            spans = [s for s in spans if owner is None or not _names_speaker(s.text, owner)]
        if not spans:
            continue
        at = sentence.start + spans[0].start
        owner = speaker_of(sentence, evidence.statements, at)
        if allowed is not None and (
            owner is None or (owner.article_id, owner.start) not in allowed
        ):
            continue
        holds = owner is not None and owner.side and owner.start <= at < owner.end
        quoted = owner if owner is not None and holds else sentence
        options.append((sentence.score + FACT_FIT_WEIGHT * spans[0].fit, quoted, spans[0].text))
    if not options:
        return None
    options.sort(key=lambda o: -o[0])
    if understood.kind in ("which", "where") and understood.asked_noun:
        options = _by_asked_noun(options[:12], understood.asked_noun, evidence, embeddings)
    score, quoted, span = options[0]
    cited = Citations(evidence.records, evidence.texts, context)
    lead = _claim_of(cited, quoted)
    others: list[Claim] = []
    counted = understood.kind in ("how_many", "distance", "when")
    for other_score, other, other_span in options[1:]:
        rival = counted and other.side and other.side != quoted.side and other_span != span
        new = all(o.side != other.side for o in others)
        if other_score >= score - FACT_MARGIN and rival and new:
            others.append(_claim_of(cited, other))
    text = summary.fact(span, lead, cited.outlet(quoted))
    if not others and not understood.source and understood.kind == "how_many":
        # Another camp disputing the figure itself makes it contested too.
        best = max((c.score for c in claims), default=0.0)
        disputing = [
            c
            for c in heard([c for c in claims if c.side], best, CLAIM_MARGIN)
            if c.side != quoted.side
            and (c.negated or _DISPUTE.search(evidence.text(c)) or c.statement.get("opposes"))
            and _about_figures(evidence.text(c), understood.asked_noun)
        ]
        for side in dict.fromkeys(c.side or "" for c in disputing):
            others.extend(group_claims(cited, [c for c in disputing if c.side == side], side)[:1])
    if others:
        heads = [summary.head(c.side, c) for c in others[:2]]
        text += " Disputed: " + "; ".join(heads) + "."
    return Answer(
        question=context.question,
        status="contested" if others else "answered",
        summary=text,
        claims=[lead, *others],
        sources=cited.sources,
        retrieved=cited.retrieved(),
    )


NOUN_WEIGHT = 0.5  # times how close in meaning the words around a name are to the noun asked


def _by_asked_noun(
    options: list[tuple[float, Candidate, str]],
    noun: str,
    evidence: Evidence,
    embeddings: Embeddings,
) -> list[tuple[float, Candidate, str]]:
    """Rank names by what the words around them call them: "cruiser" for "which warship"."""
    import numpy as np

    windows = []
    for _, candidate, span in options:
        text = evidence.text(candidate)
        at = text.find(span)
        before = WORD.findall(text[max(0, at - 40) : at])[-3:]
        after = WORD.findall(text[at + len(span) : at + len(span) + 30])[:2]
        windows.append(" ".join(before + after) or span)
    vectors = np.asarray(embeddings.embed_documents([noun, *windows]), dtype=np.float32)
    closeness = vectors[1:] @ vectors[0]
    ranked = [
        (score + NOUN_WEIGHT * float(near), candidate, span)
        for (score, candidate, span), near in zip(options, closeness, strict=True)
    ]
    return sorted(ranked, key=lambda o: -o[0])


def _names_speaker(span: str, owner: Candidate) -> bool:
    """Say whether a span names the speaker of the statement it sits in."""
    speaker = owner.statement.get("speaker") or {}
    names = [owner.claimant or "", owner.side or "", speaker.get("org") or ""]
    return any(fold(span) and fold(span) in fold(n) for n in names if n)


_FIGURE_WORDS = re.compile(
    r"\b(?:\d[\d,.]*|number|numbers|figure|figures|toll|tally|count|casualt\w*|dead|deaths|"
    r"killed|losses|inflat\w*|exaggerat\w*)\b",
    re.IGNORECASE,
)


def _about_figures(text: str, noun: str | None) -> bool:
    """Say whether a statement speaks of counts: numbers, tolls, casualties, the noun counted."""
    if noun and re.search(rf"\b{re.escape(noun)}", text, re.IGNORECASE):
        return True
    return bool(_FIGURE_WORDS.search(text))


def _claim_of(cited: Citations, candidate: Candidate) -> Claim:
    """Cite a statement under its camp, or a sentence in its outlet's own voice."""
    if candidate.side:
        words = cited.texts[candidate.article_id][candidate.start : candidate.end]
        return Claim(
            side=candidate.side,
            claimant=candidate.claimant or candidate.side,
            claim=candidate.claim or words,
            evidence=[cited.cite(candidate)],
            published=cited.published(candidate),
        )
    return reported(cited, [candidate])[0]


def _alias_answer(
    context: Context, evidence: Evidence, facts: list[Candidate], understood: Question
) -> Answer | None:
    """Answer "what name does X use for Y": an alias the articles give, and who uses it."""
    names = {name.lower() for name in evidence.topic}
    aliases = [
        a
        for a in evidence.focus
        if a.lower() not in names and a.lower() not in {n.lower() for n in understood.names}
    ]
    for sentence in facts:
        text = evidence.text(sentence)
        for alias in aliases:
            match = re.search(rf"\b{re.escape(alias)}\b", text, flags=re.IGNORECASE)
            if match is None:
                continue
            cited = Citations(evidence.records, evidence.texts, context)
            owner = speaker_of(sentence, evidence.statements, sentence.start + match.start())
            lead = _claim_of(cited, owner if owner is not None and owner.side else sentence)
            return Answer(
                question=context.question,
                status="answered",
                summary=summary.fact(match.group(), lead, cited.outlet(sentence)),
                claims=[lead],
                sources=cited.sources,
                retrieved=cited.retrieved(),
            )
    return None


def _contested(
    context: Context,
    evidence: Evidence,
    relevant: list[Candidate],
    outside: list[Candidate],
    sides: list[str],
    facts: list[Candidate],
) -> Answer:
    cited = Citations(evidence.records, evidence.texts, context)
    claims: list[Claim] = []
    for side in sides:
        group = group_claims(cited, [c for c in relevant if c.side == side], side)
        claims.extend(sorted(group, key=lambda c: (sort_key(c.published), -len(c.evidence))))
    best = max(c.score for c in relevant)
    claims.extend(reported(cited, [f for f in facts[:2] if f.score >= best]))
    used = {c.article_id for c in relevant}
    independent = voices(
        cited,
        [c for c in outside if c.article_id in used or c.score >= best - CLAIM_MARGIN],
        INDEPENDENT,
        MAX_INDEPENDENT,
    )
    verification = _verification(cited, evidence, used)
    ordered = [next(c for c in claims if c.side == s) for s in sides]
    strongest = {c.side: c for c in reversed(ordered)}
    by_strength = [strongest[s] for s in sides] + [c for c in claims if c not in ordered]
    return Answer(
        question=context.question,
        status="contested",
        summary=summary.contested(by_strength, sides),
        claims=claims,
        independent=independent,
        verification=verification,
        notes=_timeline_notes(claims),
        sources=cited.sources,
        retrieved=cited.retrieved(),
    )


def _verification(cited: Citations, evidence: Evidence, used: set[str]) -> list[Claim]:
    """Cite the outlets' own checks (what they could or could not verify), best first."""
    checks = [
        c
        for c in evidence.statements
        if c.kind == "verification"
        and c.article_id in used
        and c.score >= SIDE_FLOOR
        and (
            not evidence.focus
            or on_focus(c, evidence.texts[c.article_id], evidence.focus, evidence.topic)
        )
    ]
    return voices(cited, checks, "Verification", 2)


def _timeline_notes(claims: list[Claim]) -> list[str]:
    """Say when a camp spoke again later, so a reader weighs the newest statement."""
    notes = []
    by_side: dict[str, list[Claim]] = {}
    for claim in claims:
        by_side.setdefault(claim.side, []).append(claim)
    for side, items in by_side.items():
        if side == REPORTED:
            continue
        dated = sorted({sort_key(c.published) for c in items if sort_key(c.published)})
        if len(dated) >= 2:
            notes.append(
                f"{side} spoke on {display_date(dated[0])} and again on {display_date(dated[-1])}; "
                "its latest statement is listed last."
            )
    return notes


def _answered(
    context: Context,
    evidence: Evidence,
    relevant: list[Candidate],
    outside: list[Candidate],
    facts: list[Candidate],
) -> Answer:
    cited = Citations(evidence.records, evidence.texts, context)
    top_claim = max((c.score for c in relevant + outside), default=0.0)
    chosen_facts = [f for f in facts[:3] if f.score >= max(CLAIM_FLOOR, top_claim - CLAIM_MARGIN)]
    if not chosen_facts and facts and not relevant and not outside:
        chosen_facts = facts[:1]
    claims = reported(cited, chosen_facts[:2])
    sides = list(dict.fromkeys(c.side for c in sorted(relevant, key=lambda c: -c.score)))
    for side in sides[:2]:
        claims.extend(group_claims(cited, [c for c in relevant if c.side == side], side or ""))
    independent = voices(cited, outside, INDEPENDENT, MAX_INDEPENDENT)
    if not claims and not independent:
        return not_found(context)
    lead = claims[0] if claims else independent[0]
    outlet = next((s.outlet for s in cited.sources if s.id == lead.evidence[0].source), None)
    return Answer(
        question=context.question,
        status="answered",
        summary=summary.reported(lead, outlet or "the article"),
        claims=claims,
        independent=independent,
        verification=_verification(cited, evidence, {c.article_id for c in relevant}),
        sources=cited.sources,
        retrieved=cited.retrieved(),
    )


def not_found(context: Context, reason: str | None = None) -> Answer:
    """Say that nothing indexed answers, and why when a name asked about is not there."""
    unknown = context.understood.unknown if context.understood else []
    if reason is None and (context.missing or unknown):
        reason = "no article mentions " + ", ".join(context.missing or unknown)
    elif reason is None:
        reason = "nothing in the indexed articles answers this"
    return Answer(
        question=context.question,
        status="not_found",
        summary=f"Not found: {reason}.",
        claims=[],
        sources=[],
    )
