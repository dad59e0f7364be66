"""The answer model and its renderings: terminal text, JSON, rich, Slack Block Kit."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, Field

from bot.dates import display_date

Status = Literal["contested", "answered", "not_found"]


class Evidence(BaseModel):
    """A verbatim quote from a numbered source."""

    source: int = Field(description="id of the source in the answer's sources list")
    quote: str = Field(description="a verbatim span of that source's article")


class Claim(BaseModel):
    """One statement, attributed to whoever makes it, with its evidence."""

    side: str = Field(description="whom the claimant speaks for, as the article puts it")
    claimant: str = Field(description="the person or body making the claim, with its role")
    claim: str = Field(description="what the claimant says")
    evidence: list[Evidence] = Field(default_factory=list)
    published: str | None = Field(default=None, description="date of the reporting article")


class Source(BaseModel):
    """An article cited by an answer."""

    id: int
    title: str
    outlet: str | None = None
    published: str | None = None
    url: str | None = None
    path: str
    chunk_id: str | None = None
    snippet: str = ""

    def label(self) -> str:
        """Return "outlet: title (date)"."""
        head = f"{self.outlet}: {self.title}" if self.outlet else self.title
        return head + (f" ({self.published})" if self.published else "")


class Answer(BaseModel):
    """What newsbot says to a question: status, summary, attributed claims, sources."""

    question: str
    status: Status
    summary: str
    answer: str = ""
    claims: list[Claim] = Field(default_factory=list)
    independent: list[Claim] = Field(default_factory=list)
    verification: list[Claim] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    retrieved: list[dict[str, Any]] = Field(default_factory=list)

    def model_post_init(self, __context: Any) -> None:
        """Fill `answer` with the rendered text unless it was given."""
        if not self.answer:
            self.answer = self.to_text()

    def sides(self) -> list[str]:
        """Return the sides in order of first appearance."""
        seen: list[str] = []
        for claim in self.claims:
            if claim.side not in seen:
                seen.append(claim.side)
        return seen

    def to_text(self) -> str:
        """Render the answer as plain text, as the terminal shows it."""
        lines = [self.summary]
        if self.status != "not_found":
            for side in self.sides():
                lines.append("")
                lines.append(f"{side}:")
                for claim in (c for c in self.claims if c.side == side):
                    lines.append(f"  - {_claim_line(claim)}")
            if self.independent:
                lines.append("")
                lines.append("Independent:")
                for voice in self.independent:
                    lines.append(f"  - {_claim_line(voice)}")
            if self.verification:
                lines.append("")
                for note in self.verification:
                    lines.append(f"Verification: {_claim_line(note, with_claimant=False)}")
        for text in self.notes:
            lines.append(f"Note: {text}")
        if self.sources:
            lines.append("")
            lines.append("Sources:")
            for source in self.sources:
                lines.append(f"  [{source.id}] {source.label()}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON contract as a dict."""
        data = self.model_dump(mode="json")
        data["answer"] = self.answer
        return data

    def to_json(self, indent: int | None = 2) -> str:
        """Render the JSON contract of `newsbot ask --json`."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)


def cite(claim: Claim) -> str:
    """Return the citation marks of a claim, "[1][2]"."""
    ids: list[int] = []
    for evidence in claim.evidence:
        if evidence.source not in ids:
            ids.append(evidence.source)
    return "".join(f"[{i}]" for i in ids)


def _claim_line(claim: Claim, *, with_claimant: bool = True) -> str:
    quote = claim.evidence[0].quote if claim.evidence else claim.claim
    shown = display_date(claim.published)
    date = f" ({shown})" if shown else ""
    head = f"{claim.claimant}{date}: " if with_claimant else ""
    # Typographic marks around the quote, so straight quotes inside it still read as quotes.
    return f"{head}“{quote}” {cite(claim)}".rstrip()
