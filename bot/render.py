"""Rich rendering of an answer for a terminal."""

from __future__ import annotations

from rich.console import Group
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from bot.answer import Answer, cite

_STATUS_STYLE = {"contested": "bold yellow", "answered": "bold green", "not_found": "bold red"}


def rich_answer(answer: Answer) -> Panel:
    """Return a panel showing the summary, each side's claims, verification and sources."""
    parts: list[Text] = [Text(answer.summary, style=_STATUS_STYLE[answer.status])]
    for side in answer.sides():
        parts.append(Text(""))
        parts.append(Text(side, style="bold cyan"))
        for claim in (c for c in answer.claims if c.side == side):
            quote = claim.evidence[0].quote if claim.evidence else claim.claim
            date = f" ({claim.published})" if claim.published else ""
            line = Text.from_markup(
                f"  • [bold]{escape(claim.claimant)}[/]{escape(date)}: "
                f"“{escape(quote)}” [magenta]{cite(claim)}[/]"
            )
            parts.append(line)
    for note in answer.verification:
        quote = note.evidence[0].quote if note.evidence else note.claim
        parts.append(
            Text.from_markup(f"[dim]Verification:[/] “{escape(quote)}” [magenta]{cite(note)}[/]")
        )
    for text in answer.notes:
        parts.append(Text.from_markup(f"[dim]Note:[/] {escape(text)}"))
    if answer.sources:
        parts.append(Text(""))
        parts.append(Text("Sources", style="bold"))
        for source in answer.sources:
            parts.append(Text(f"  [{source.id}] {source.label()}"))
    return Panel(Group(*parts), title=escape(answer.question), title_align="left")
