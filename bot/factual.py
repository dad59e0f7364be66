"""Factual answers: the span that answers "how many", "who", "which", "where", "when".

The span leads, then who says so, cited. A figure one camp claims is that camp's claim, not
the outlet's fact; where camps give different figures, each is shown.
"""

from __future__ import annotations

import re

from bot import summary
from bot.answer import Answer, Claim
from bot.citing import Citations, group_claims, reported
from bot.embeddings import Embedder
from bot.evidence import WORD, Candidate, Context, Evidence, speaker_of
from bot.facts import answer_spans, asks_for
from bot.hearing import CLAIM_MARGIN, DISPUTE, heard
from bot.names import fold
from bot.question import Question

# Calibrated on the development sets with `newsbot eval` (see README, "Evaluation").
FACT_MARGIN = 0.05  # an outlet's own sentence this close to the best claim settles a "what"
FACT_FIT_WEIGHT = 0.4  # times how well a sentence's best span fits a factual question
FACT_SENTENCES = 40  # sentences read for a span, best first


def factual_answer(
    context: Context,
    evidence: Evidence,
    facts: list[Candidate],
    claims: list[Candidate],
    understood: Question,
    embeddings: Embedder,
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
    lead = claim_of(cited, quoted)
    others: list[Claim] = []
    counted = understood.kind in ("how_many", "distance", "when")
    for other_score, other, other_span in options[1:]:
        rival = counted and other.side and other.side != quoted.side and other_span != span
        new = all(o.side != other.side for o in others)
        if other_score >= score - FACT_MARGIN and rival and new:
            others.append(claim_of(cited, other))
    text = summary.fact(span, lead, cited.outlet(quoted))
    if not others and not understood.source and understood.kind == "how_many":
        # Another camp disputing the figure itself makes it contested too.
        best = max((c.score for c in claims), default=0.0)
        disputing = [
            c
            for c in heard([c for c in claims if c.side], best, CLAIM_MARGIN)
            if c.side != quoted.side
            and (c.negated or DISPUTE.search(evidence.text(c)) or c.statement.get("opposes"))
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
    embeddings: Embedder,
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


def claim_of(cited: Citations, candidate: Candidate) -> Claim:
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
            lead = claim_of(cited, owner if owner is not None and owner.side else sentence)
            return Answer(
                question=context.question,
                status="answered",
                summary=summary.fact(match.group(), lead, cited.outlet(sentence)),
                claims=[lead],
                sources=cited.sources,
                retrieved=cited.retrieved(),
            )
    return None
