"""Turning evidence into cited claims: numbered sources, claims per camp, outside voices."""

from __future__ import annotations

import re
from typing import Any

from bot.answer import Claim, Evidence, Source
from bot.evidence import Candidate, Context
from bot.question import STOP_WORDS

MAX_CLAIMS_PER_SIDE = 3
REPORTED = "Reported"
INDEPENDENT = "Independent"


class Citations:
    """Numbers sources in order of first citation."""

    def __init__(self, records: dict[str, Any], texts: dict[str, str], context: Context) -> None:
        self.records = records
        self.texts = texts
        self.context = context
        self.sources: list[Source] = []
        self.ids: dict[str, int] = {}

    def cite(self, candidate: Candidate) -> Evidence:
        """Return the evidence for a candidate, numbering its article on first citation."""
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
                    snippet=shorten(self.texts[article_id][candidate.start : candidate.end], 240),
                )
            )
        # Verbatim, whitespace aside: a wrapped line reads as the sentence it is.
        quote = " ".join(self.texts[article_id][candidate.start : candidate.end].split())
        return Evidence(source=self.ids[article_id], quote=quote)

    def published(self, candidate: Candidate) -> str | None:
        """Return the date of a candidate's article."""
        return self.records[candidate.article_id].published

    def outlet(self, candidate: Candidate) -> str:
        """Return the outlet of a candidate's article, or "the article"."""
        return self.records[candidate.article_id].outlet or "The article"

    def retrieved(self) -> list[dict[str, Any]]:
        """Return what retrieval found, for evaluation: chunk, file and fused score."""
        return [
            {"chunk_id": h.chunk_id, "path": self.records[h.article_id].path, "score": h.fused}
            for h in self.context.hits
            if h.article_id in self.records
        ]


def shorten(text: str, limit: int) -> str:
    """Fold whitespace and cut at a word boundary with an ellipsis past a length."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _claim_key(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", text.lower()) if w not in STOP_WORDS}


def group_claims(cited: Citations, candidates: list[Candidate], side: str) -> list[Claim]:
    """Turn one camp's candidates into claims, merging the same claim reported twice."""
    claims: list[Claim] = []
    keys: list[set[str]] = []
    # Each article's best statement first, so the camp's claims come from every outlet.
    ranked = sorted(candidates, key=lambda c: -c.score)
    leaders = list({c.article_id: c for c in reversed(ranked)}.values())
    leaders.sort(key=lambda c: -c.score)
    ordered = leaders + [c for c in ranked if c not in leaders]
    for candidate in ordered:
        evidence = cited.cite(candidate)
        words = _claim_key(candidate.claim)
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
    return claims


def voices(cited: Citations, candidates: list[Candidate], side: str, limit: int) -> list[Claim]:
    """Cite the best few candidates one by one under a heading (verification, independent)."""
    return [
        Claim(
            side=side,
            claimant=c.claimant or cited.outlet(c),
            claim=c.claim or cited.texts[c.article_id][c.start : c.end].strip(),
            evidence=[cited.cite(c)],
            published=cited.published(c),
        )
        for c in sorted(candidates, key=lambda c: -c.score)[:limit]
    ]


def reported(cited: Citations, facts: list[Candidate]) -> list[Claim]:
    """Turn sentences in an outlet's own voice into claims on the "Reported" side."""
    return [
        Claim(
            side=REPORTED,
            claimant=cited.outlet(fact),
            claim=cited.texts[fact.article_id][fact.start : fact.end].strip(),
            evidence=[cited.cite(fact)],
            published=cited.published(fact),
        )
        for fact in facts
    ]
