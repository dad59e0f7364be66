"""The one-line summary: each camp's gist as a whole clause, the latest development first."""

from __future__ import annotations

import re

from bot.answer import Claim
from bot.dates import display_date, sort_key

GIST_CHARS = 200  # a camp's gist longer than this is cut at a clause boundary, never mid-phrase
_CLAUSE_BREAK = re.compile(
    r",\s+(?=(?:which|who|where|while|but|and|as|after|before|saying|adding|although|"
    r"though|despite|since|when)\b)"
)


def gist(claim: Claim) -> str:
    """Return what a claim says as one complete clause, without quote marks or a final stop."""
    text = " ".join(claim.claim.split()).strip(" \"'“”‘’")
    text = re.sub(r"^that\s+", "", text)
    if len(text) > GIST_CHARS:
        for match in _CLAUSE_BREAK.finditer(text):
            if 40 <= match.start() <= GIST_CHARS:
                text = text[: match.start()]
        text = text.rstrip(" ,;:")
    return text.rstrip(" .;:,")


def head(side: str, claim: Claim) -> str:
    """Return "Camp (date): gist" for one claim."""
    date = display_date(claim.published)
    return f"{side} ({date}): {gist(claim)}" if date else f"{side}: {gist(claim)}"


def contested(claims: list[Claim], sides: list[str]) -> str:
    """Summarise a dispute: each camp's strongest claim, the latest development leading.

    When one camp spoke later than the others (a withdrawal confirmed, a claim retracted),
    its latest claim leads ("Latest, 25 Jan 2031: ...") and the rest follow as "Earlier".
    """
    strongest: dict[str, Claim] = {}
    latest: dict[str, Claim] = {}
    for claim in claims:
        if claim.side not in sides:
            continue
        strongest.setdefault(claim.side, claim)
        known = latest.get(claim.side)
        if known is None or sort_key(claim.published) > sort_key(known.published):
            latest[claim.side] = claim
    heads = [s for s in sides if s in strongest][:3]
    dates = {s: sort_key(latest[s].published) for s in heads}
    newest = max(heads, key=lambda s: dates[s], default=None)
    if (
        newest
        and dates[newest]
        and any(dates[s] and dates[s][:10] < dates[newest][:10] for s in heads)
    ):
        lead = latest[newest]
        earlier = [head(s, strongest[s]) for s in heads if s != newest]
        own = strongest[newest]
        if own is not lead and sort_key(own.published)[:10] < dates[newest][:10]:
            earlier.insert(0, head(newest, own))
        text = f"Contested. Latest, {display_date(lead.published)}: {newest}: {gist(lead)}."
        return text + (" Earlier: " + "; ".join(earlier) + "." if earlier else "")
    return "Contested. " + "; ".join(head(s, strongest[s]) for s in heads) + "."


def reported(claim: Claim, outlet: str) -> str:
    """Summarise an answer an outlet reports in its own voice, or one claimant gives.

    The words are the article's, so they stand inside quote marks after who says them.
    """
    date = display_date(claim.published)
    when = f" ({date})" if date else ""
    if claim.side in ("Reported", ""):
        return f"{outlet}{when} reports: “{gist(claim)}”"
    return f"{claim.claimant}{when} says: “{gist(claim)}”"


def fact(span: str, claim: Claim, outlet: str) -> str:
    """Lead with the answering span, then who says so and where ("30,000, according to ...")."""
    date = display_date(claim.published)
    where = f"{outlet}, {date}" if date else outlet
    if claim.side in ("Reported", "", None):
        return f"{span} ({where})."
    return f"{span}, according to {claim.claimant} ({where})."
