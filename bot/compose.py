"""The embedded answerer: the statements that bear on a question, grouped by camp, cited.

No model is involved and nothing is invented: every sentence of an answer is a verbatim quote
from an indexed article, attributed as ingest found it (`bot.claims`) and placed in its camp
(`bot.parties`). Factual questions lead with the span that answers them (`bot.facts`).
"""

from __future__ import annotations

import logging

from bot import summary
from bot.answer import Answer, Claim
from bot.citing import INDEPENDENT, REPORTED, Citations, group_claims, reported, voices
from bot.dates import display_date, sort_key
from bot.embeddings import Embedder
from bot.evidence import (
    WORD,
    Candidate,
    Context,
    Evidence,
    fact_candidates,
    gather,
    mentions,
    on_focus,
)
from bot.facts import FACTUAL_KINDS, answer_spans
from bot.factual import FACT_MARGIN, factual_answer
from bot.hearing import (
    CLAIM_FLOOR,
    CLAIM_MARGIN,
    SIDE_FLOOR,
    SIDE_MARGIN,
    disagree,
    heard,
    on_topic,
    only_in_passing,
    said_by,
)
from bot.question import Question
from bot.store import Index

__all__ = ["WORD", "Candidate", "Context", "compose"]

logger = logging.getLogger(__name__)

# Calibrated on the development sets with `newsbot eval` (see README, "Evaluation").
NOT_FOUND_SIMILARITY = 0.35  # nothing closer in meaning than this: not found (see README)
MAX_INDEPENDENT = 2


def compose(context: Context, index: Index, embeddings: Embedder) -> Answer:
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
    passing = only_in_passing(evidence, facts)
    if passing:
        return not_found(context, passing)
    every = [c for c in evidence.statements if c.kind == "claim"]
    claims = on_topic(evidence, every)
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
        answer = factual_answer(context, evidence, facts, pool, understood, embeddings)
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
