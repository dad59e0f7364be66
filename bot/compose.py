"""The embedded answerer: the statements that bear on a question, grouped by side, cited.

No model is involved and nothing is invented: every sentence of an answer is a verbatim quote
from an indexed article, attributed as ingest found it (see `bot.claims`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from langchain_core.embeddings import Embeddings

from bot.answer import Answer, Claim, Evidence, Source
from bot.catalog import ArticleRecord
from bot.chunking import split_sentences
from bot.embeddings import unpack_vectors
from bot.llm import looks_like_instruction
from bot.retrieval import Hit
from bot.store import Index

logger = logging.getLogger(__name__)

# Calibrated on ../shared/evals/dev.yaml with `newsbot eval` (see README, "Evaluation").
NOT_FOUND_SIMILARITY = 0.35  # nothing closer in meaning than this: not found (see README)
CLAIM_FLOOR = 0.30  # a statement less similar than this does not bear on the question
CLAIM_MARGIN = 0.2  # ... nor one this far below the best statement
FACT_MARGIN = 0.05  # an outlet's own sentence this close to the best claim settles a "what"
FOCUS_BONUS = 0.12  # a statement naming what the question names
LEXICAL_WEIGHT = 0.3  # times the share of the question's other words a statement uses
SIDE_FLOOR = 0.45  # a side is heard only through a statement at least this close
SIDE_MARGIN = 0.6  # a side whose best statement is this far below the best is not heard
MAX_CLAIMS_PER_SIDE = 3

QUESTION_WORDS = frozenset(
    """who what when where why how which whose whom is are was were do does did has have had
    can could will would should may might the a an in on of and or according""".split()
)
STOP_WORDS = QUESTION_WORDS | frozenset(
    """to for from by with at as it its this that these those be been being there their they he
    she his her about into than then so not no yes any all""".split()
)
WORD = re.compile(r"[\w'’-]+")


@dataclass
class Candidate:
    """A statement or sentence that may bear on the question."""

    article_id: str
    start: int
    end: int
    score: float
    claimant: str | None = None
    side: str | None = None
    claim: str = ""
    kind: str = "fact"
    negated: bool = False
    places: list[str] = field(default_factory=list)
    similarity: float = 0.0
    statement: dict[str, Any] = field(default_factory=dict)
    independent: bool = False


@dataclass
class Context:
    """Everything retrieval found for one question."""

    question: str
    hits: list[Hit]
    query_vector: list[float]
    focus: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def _side_key(side: str) -> str:
    return re.sub(r"[^a-z]", "", side.lower())


_DISPUTE = re.compile(
    r"\b(?:den(?:y|ied|ies|ial)|reject\w*|dismiss\w*|refut\w*|disput\w*|fake\w*|false\w*|"
    r"lie|lies|untrue|not true|baseless|propaganda|disinformation|fabricat\w*|no (?:direct|"
    r"evidence))\b",
    re.IGNORECASE,
)
_DISPUTABLE_FORM = re.compile(
    r"^\s*(?:who\b|whose\b|which side\b|(?:has|have|had|did|does|do|is|are|was|were|will|"
    r"can|could)\b)",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\b\d[\d,.]*\b")


def _disagree(relevant: list[Candidate], texts: dict[str, str]) -> bool:
    """Say whether claims of different sides dispute each other or give different numbers."""
    quotes = {c.side: [] for c in relevant}  # type: dict[str | None, list[str]]
    for c in relevant:
        quotes[c.side].append(texts[c.article_id][c.start : c.end])
    if any(c.negated or _DISPUTE.search(texts[c.article_id][c.start : c.end]) for c in relevant):
        return True
    numbers = [
        {n.replace(",", "") for q in qs for n in _NUMBER.findall(q)} for qs in quotes.values()
    ]
    stated = [n for n in numbers if n]
    return len(stated) >= 2 and any(a.isdisjoint(b) for a in stated for b in stated if a is not b)


def _mentions(text: str, names: list[str]) -> bool:
    lowered = text.lower()
    return any(re.search(rf"\b{re.escape(n.lower())}", lowered) for n in names)


def compose(context: Context, index: Index, embeddings: Embeddings) -> Answer:
    """Build the embedded answer: attributed claims per side, or facts, or not found."""
    import numpy as np

    question = context.question
    if not context.hits or context.missing:
        return _not_found(context)

    qvec = np.asarray(context.query_vector, dtype=np.float32)
    article_ids = list(dict.fromkeys(h.article_id for h in context.hits))
    # One snapshot of each article: an ingest may retire one while this answer is composed,
    # and the answer must cite what it read, consistently.
    records = {a: index.catalog.article(a) for a in article_ids}
    texts = {a: index.catalog.article_text(a) for a in article_ids if records[a] is not None}
    article_ids = [a for a in article_ids if texts.get(a)]
    snapshot = {a: r for a, r in records.items() if r is not None and a in texts}
    aliases = index.catalog.facts("alias")
    focus = context.focus + [alias for alias, name in aliases if _mentions(name, context.focus)]
    topic = context.focus[:1] + [a for a, name in aliases if _mentions(name, context.focus[:1])]
    terms = _content_stems(question, context.focus)

    candidates: list[Candidate] = []
    found = index.catalog.statements(article_ids)
    for article_id, statements in found.items():
        with_vec = [s for s in statements if s.get("vec")]
        if not with_vec:
            continue
        sims = unpack_vectors([s["vec"] for s in with_vec]) @ qvec
        for statement, sim in zip(with_vec, sims, strict=True):
            text = texts[article_id][statement["start"] : statement["end"]]
            score = float(sim) + _bonus(text, focus, terms)
            candidates.append(
                Candidate(
                    similarity=float(sim),
                    article_id=article_id,
                    start=statement["start"],
                    end=statement["end"],
                    score=score,
                    claimant=statement["claimant"],
                    side=None,
                    statement=statement,
                    claim=statement["claim"],
                    kind=statement["kind"],
                    negated=bool(statement.get("negated")),
                    places=list(statement.get("places") or []),
                )
            )
    _assign_camps(candidates, index)
    facts = _fact_candidates(context, index, texts, embeddings, focus, terms, qvec, candidates)
    # Nothing answers when neither a passage nor a single statement or sentence is close: a
    # long passage can dilute the one sentence that matters, and the small model reads names
    # poorly, so a sentence's score (meaning, plus the question's names and words) counts.
    closest = max(
        [h.dense for h in context.hits] + [c.score for c in candidates + facts], default=0.0
    )
    logger.debug("closest meaning %.3f for %r", closest, question)
    if closest < NOT_FOUND_SIMILARITY:
        return _not_found(context)

    claims = [c for c in candidates if c.kind == "claim"]
    best = max((c.score for c in claims), default=0.0)
    if logger.isEnabledFor(logging.DEBUG):
        for c in sorted(candidates + facts[:5], key=lambda c: -c.score)[:25]:
            snippet = texts[c.article_id][c.start : c.end][:80]
            logger.debug("%.3f %-9s %-20.20s %r", c.score, c.kind, c.side, snippet)
    if focus:
        claims = [c for c in claims if _on_focus(c, texts[c.article_id], focus, topic)]
        candidates = [
            c
            for c in candidates
            if c.kind != "verification" or _on_focus(c, texts[c.article_id], focus, topic)
        ]
    claims = [c for c in claims if c.side or not c.independent]
    claims = [c for c in claims if c.side]
    # "Who holds X?" and "Has X happened?" are settled only by agreement, so every side that
    # speaks to them is heard; "what/why/how" questions only hear sides close to the best.
    disputable = bool(_DISPUTABLE_FORM.match(question))
    relevant = _heard(claims, best, SIDE_MARGIN if disputable else CLAIM_MARGIN)
    wanted = _requested_source(question)
    if wanted:
        # "What did X say?" and "according to X" ask for X's word only, or for none at all.
        key = _side_key(wanted)
        said = [c for c in claims if key and key in _side_key(f"{c.side} {c.claimant}")]
        if not said:
            return _not_found(
                context, f"no statement by {wanted} in the indexed articles bears on this"
            )
        relevant = _heard(said, max(c.score for c in said), CLAIM_MARGIN)
        facts = []
    sides = list(dict.fromkeys(c.side or "" for c in sorted(relevant, key=lambda c: -c.score)))
    # Informational questions are contested only when the sides heard dispute each other and
    # no sentence in an outlet's own voice answers as well.
    settled = bool(facts) and facts[0].score >= best - FACT_MARGIN
    if (
        len(sides) >= 2
        and not wanted
        and (disputable or (not settled and _disagree(relevant, texts)))
    ):
        return _contested(context, snapshot, texts, relevant, candidates, sides, facts)
    return _answered(context, snapshot, texts, relevant, facts, candidates)


def _assign_camps(candidates: list[Candidate], index: Index) -> None:
    """Decide every statement's camp together, from everything retrieved."""
    from bot.parties import Knowledge, assign

    knowledge = Knowledge.from_facts(index.catalog.all_facts())
    voices = assign(
        [c.statement for c in candidates],
        knowledge,
        articles=[c.article_id for c in candidates],
    )
    for candidate, voice in zip(candidates, voices, strict=True):
        candidate.side = voice.camp
        candidate.independent = voice.independent


def _on_focus(candidate: Candidate, article_text: str, focus: list[str], topic: list[str]) -> bool:
    """Say whether a statement is about what the question names.

    A statement naming a place the question names is; one naming only other places is about
    them, unless its words name the question's topic (its rarest name, with aliases); one
    naming no place is read in the light of its article.
    """
    if candidate.places:
        return any(
            _mentions(place, focus) or _mentions(" ".join(focus), [place])
            for place in candidate.places
        ) or _mentions(article_text[candidate.start : candidate.end], topic)
    return _mentions(article_text, topic)


def _heard(claims: list[Candidate], best: float, side_margin: float) -> list[Candidate]:
    """Keep each side's statements near its best, for every side that speaks to the question.

    Sides are judged one by one so that a side reported in fewer or plainer words than the
    other is still heard; within a side, its statements close to its best are kept, and so is
    the best statement each other article reports for it, so every outlet stays reachable.
    """
    side_best: dict[str | None, float] = {}
    for c in claims:
        side_best[c.side] = max(side_best.get(c.side, 0.0), c.score)
    heard = {side for side, top in side_best.items() if top >= max(SIDE_FLOOR, best - side_margin)}
    kept: list[Candidate] = []
    per_article: set[tuple[str | None, str]] = set()
    for c in sorted(claims, key=lambda c: -c.score):
        if c.side not in heard:
            continue
        near = c.score >= max(CLAIM_FLOOR, side_best[c.side] - CLAIM_MARGIN)
        first_here = (c.side, c.article_id) not in per_article and c.score >= SIDE_FLOOR
        if near or first_here:
            kept.append(c)
            per_article.add((c.side, c.article_id))
    return kept


def _stem(word: str) -> str:
    return word.lower()[:5]


def _content_stems(question: str, focus: list[str]) -> set[str]:
    """Return the stems of the question's words that are neither names nor function words."""
    named = {_stem(w) for name in focus for w in WORD.findall(name)}
    return {
        _stem(w)
        for w in WORD.findall(question)
        if w.lower() not in STOP_WORDS and len(w) > 2 and _stem(w) not in named
    }


def _bonus(text: str, focus: list[str], terms: set[str]) -> float:
    """Score what a sentence shares with the question beyond meaning: names and words."""
    bonus = FOCUS_BONUS if focus and _mentions(text, focus) else 0.0
    if terms:
        stems = {_stem(w) for w in WORD.findall(text)}
        bonus += LEXICAL_WEIGHT * len(terms & stems) / len(terms)
    return bonus


_REQUESTED = (
    re.compile(r"according to (?P<who>[\w'’ -]+?)\s*\??$", re.IGNORECASE),
    re.compile(
        r"^\s*(?i:what|how) (?i:did|does|do|has|have) "
        r"(?P<who>(?:the )?[A-Z][\w'’-]*(?: [A-Z][\w'’-]*)*) "
        r"(?i:say|said|claim|tell|told|report|announce|think|argue|allege)\b",
    ),
)


def _requested_source(question: str) -> str | None:
    """Return whose word a question asks for ("according to X", "What did X say ..."), if any."""
    for pattern in _REQUESTED:
        match = pattern.search(question)
        if match:
            return re.sub(r"^the ", "", match.group("who"), flags=re.IGNORECASE)
    return None


def _fact_candidates(
    context: Context,
    index: Index,
    texts: dict[str, str],
    embeddings: Embeddings,
    focus: list[str],
    terms: set[str],
    qvec: Any,
    statements: list[Candidate],
) -> list[Candidate]:
    """Score the sentences of the best chunks that no one is quoted as saying."""
    import numpy as np

    attributed = {(c.article_id, c.start) for c in statements} | {
        (c.article_id, c.end) for c in statements
    }
    spans = index.catalog.chunk_spans(h.chunk_id for h in context.hits[:4])
    pool: list[tuple[str, int, int]] = []
    for article_id, _, start, end in spans.values():
        text = texts[article_id]
        for s, e in split_sentences(text[start:end]):
            s0, e0 = start + s, start + e
            sentence = text[s0:e0]
            if len(sentence.split()) < 6 or sentence.rstrip().endswith("?"):
                continue
            if (article_id, s0) in attributed or (article_id, e0) in attributed:
                continue
            if any(c.article_id == article_id and c.start <= s0 < c.end for c in statements):
                continue
            if looks_like_instruction(sentence):
                continue  # text addressed to a model is no fact an outlet reports
            # Only a sentence naming what the question names, or using its words, can answer
            # it; the rest need not be embedded at all.
            if (focus or terms) and not (
                (focus and _mentions(sentence, focus))
                or terms & {_stem(w) for w in WORD.findall(sentence)}
            ):
                continue
            pool.append((article_id, s0, e0))
    pool = list(dict.fromkeys(pool))
    if not pool:
        return []
    vectors = np.asarray(
        embeddings.embed_documents([texts[a][s:e] for a, s, e in pool]), dtype=np.float32
    )
    sims = vectors @ qvec
    facts = []
    for (article_id, s, e), sim in zip(pool, sims, strict=True):
        sentence = texts[article_id][s:e]
        score = float(sim) + _bonus(sentence, focus, terms)
        facts.append(
            Candidate(article_id=article_id, start=s, end=e, score=score, similarity=float(sim))
        )
    facts.sort(key=lambda c: -c.score)
    return facts


class _Citations:
    """Numbers sources in order of first citation."""

    def __init__(
        self, records: dict[str, ArticleRecord], texts: dict[str, str], context: Context
    ) -> None:
        self.records = records
        self.texts = texts
        self.context = context
        self.sources: list[Source] = []
        self.ids: dict[str, int] = {}

    def cite(self, candidate: Candidate) -> Evidence:
        article_id = candidate.article_id
        if article_id not in self.ids:
            record = self.records[article_id]
            chunk_id = next(
                (h.chunk_id for h in self.context.hits if h.article_id == article_id), None
            )
            number = len(self.sources) + 1
            self.ids[article_id] = number
            self.sources.append(
                Source(
                    id=number,
                    title=record.title,
                    outlet=record.outlet,
                    published=record.published,
                    url=record.url,
                    path=record.path,
                    chunk_id=chunk_id,
                    snippet=_shorten(self.texts[article_id][candidate.start : candidate.end], 240),
                )
            )
        quote = self.texts[article_id][candidate.start : candidate.end].strip()
        return Evidence(source=self.ids[article_id], quote=quote)

    def published(self, candidate: Candidate) -> str | None:
        return self.records[candidate.article_id].published


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _claim_key(text: str) -> str:
    return " ".join(w for w in re.findall(r"\w+", text.lower()) if w not in STOP_WORDS)


def _group_claims(cited: _Citations, candidates: list[Candidate], side: str) -> list[Claim]:
    """Turn one side's candidates into claims, merging the same claim reported twice."""
    claims: list[Claim] = []
    keys: list[set[str]] = []
    # Each article's best statement first, so the side's claims come from every outlet.
    ranked = sorted(candidates, key=lambda c: -c.score)
    leaders = list({c.article_id: c for c in reversed(ranked)}.values())
    leaders.sort(key=lambda c: -c.score)
    ordered = leaders + [c for c in ranked if c not in leaders]
    for candidate in ordered:
        evidence = cited.cite(candidate)
        words = set(_claim_key(candidate.claim).split())
        match = next(
            (
                i
                for i, k in enumerate(keys)
                if words and k and len(words & k) / min(len(words), len(k)) >= 0.6
            ),
            None,
        )
        if match is not None:
            if all(e.source != evidence.source for e in claims[match].evidence):
                claims[match].evidence.append(evidence)
            continue
        if len(claims) >= MAX_CLAIMS_PER_SIDE:
            continue
        keys.append(words)
        claims.append(
            Claim(
                side=side,
                claimant=candidate.claimant or side,
                claim=candidate.claim,
                evidence=[evidence],
                published=cited.published(candidate),
            )
        )
    return sorted(claims, key=lambda c: (c.published or "", -len(c.evidence)))


def _verification(
    cited: _Citations, candidates: list[Candidate], focus_ids: set[str]
) -> list[Claim]:
    """Cite the outlets' own checks (what they could or could not verify), best first."""
    chosen = sorted(
        (
            c
            for c in candidates
            if c.kind == "verification" and c.article_id in focus_ids and c.score >= SIDE_FLOOR
        ),
        key=lambda c: -c.score,
    )[:2]
    return [
        Claim(
            side="Verification",
            claimant=c.claimant or "",
            claim=c.claim,
            evidence=[cited.cite(c)],
            published=cited.published(c),
        )
        for c in chosen
    ]


def _retrieved(records: dict[str, ArticleRecord], context: Context) -> list[dict[str, Any]]:
    return [
        {"chunk_id": h.chunk_id, "path": records[h.article_id].path, "score": h.fused}
        for h in context.hits
        if h.article_id in records
    ]


def _contested(
    context: Context,
    records: dict[str, ArticleRecord],
    texts: dict[str, str],
    relevant: list[Candidate],
    candidates: list[Candidate],
    sides: list[str],
    facts: list[Candidate],
) -> Answer:
    cited = _Citations(records, texts, context)
    claims: list[Claim] = []
    for side in sides:
        claims.extend(_group_claims(cited, [c for c in relevant if c.side == side], side))
    best = max(c.score for c in relevant)
    claims.extend(_reported(cited, texts, [f for f in facts[:2] if f.score >= best]))
    used = {c.article_id for c in relevant}
    verification = _verification(cited, candidates, used)
    heads = []
    for side in sides[:3]:
        first = next(c for c in claims if c.side == side)
        heads.append(f"{side}: {_shorten(first.claim, 110)}")
    summary = "Contested. " + "; ".join(heads) + "."
    notes = _timeline_notes(claims)
    return Answer(
        question=context.question,
        status="contested",
        summary=summary,
        claims=claims,
        verification=verification,
        notes=notes,
        sources=cited.sources,
        retrieved=_retrieved(records, context),
    )


def _timeline_notes(claims: list[Claim]) -> list[str]:
    """Say when a side spoke again later, so a reader weighs the newest statement."""
    notes = []
    by_side: dict[str, list[Claim]] = {}
    for claim in claims:
        by_side.setdefault(claim.side, []).append(claim)
    for side, items in by_side.items():
        dated = sorted({c.published for c in items if c.published and c.published[:1].isdigit()})
        if len(dated) >= 2:
            notes.append(
                f"{side} spoke on {dated[0]} and again on {dated[-1]}; its latest statement "
                "is listed last."
            )
    return notes


def _reported(cited: _Citations, texts: dict[str, str], facts: list[Candidate]) -> list[Claim]:
    """Turn sentences in an outlet's own voice into claims on the "Reported" side."""
    claims = []
    for fact in facts:
        outlet = cited.records[fact.article_id].outlet or "The article"
        claims.append(
            Claim(
                side="Reported",
                claimant=outlet,
                claim=texts[fact.article_id][fact.start : fact.end].strip(),
                evidence=[cited.cite(fact)],
                published=cited.published(fact),
            )
        )
    return claims


def _answered(
    context: Context,
    records: dict[str, ArticleRecord],
    texts: dict[str, str],
    relevant: list[Candidate],
    facts: list[Candidate],
    candidates: list[Candidate],
) -> Answer:
    cited = _Citations(records, texts, context)
    top_claim = max((c.score for c in relevant), default=0.0)
    chosen_facts = [f for f in facts[:3] if f.score >= max(CLAIM_FLOOR, top_claim - CLAIM_MARGIN)]
    if not chosen_facts and facts and not relevant:
        chosen_facts = facts[:1]
    claims = _reported(cited, texts, chosen_facts[:2])
    sides = list(dict.fromkeys(c.side for c in sorted(relevant, key=lambda c: -c.score)))
    for side in sides[:2]:
        claims.extend(_group_claims(cited, [c for c in relevant if c.side == side], side or ""))
    if not claims:
        return _not_found(context)
    lead = claims[0]
    quote = lead.evidence[0].quote
    if lead.side == "Reported":
        summary = f'{lead.claimant} reports: "{_shorten(quote, 300)}"'
    else:
        summary = f'{lead.claimant} says: "{_shorten(quote, 300)}"'
    return Answer(
        question=context.question,
        status="answered",
        summary=summary,
        claims=claims,
        verification=_verification(cited, candidates, {c.article_id for c in relevant}),
        sources=cited.sources,
        retrieved=_retrieved(records, context),
    )


def _not_found(context: Context, reason: str | None = None) -> Answer:
    if reason is None and context.missing:
        reason = "nothing in the indexed articles mentions " + ", ".join(context.missing)
    elif reason is None:
        reason = "nothing in the indexed articles answers this"
    return Answer(
        question=context.question,
        status="not_found",
        summary=f"Not found: {reason}.",
        claims=[],
        sources=[],
    )
