"""The page: a question box, the answer with one column per camp, articles with the quote marked.

Server-rendered with Jinja2 (autoescaped) and no script: the conversation travels in the URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote as url_quote
from urllib.parse import urlencode, urlsplit

from fastapi import FastAPI, Query
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.answer import Answer, Claim
from bot.catalog import Catalog
from bot.chain import WarmAnswerer
from bot.config import MAX_QUESTION_CHARS, Settings
from bot.conversation import condense
from bot.errors import NewsbotError
from bot.safety import normalise, quote_span
from bot.web.errors import error_message, status_for

HERE = Path(__file__).resolve().parent
MAX_TURNS = 10  # earlier questions a page carries in its URL
MAX_QUOTE_CHARS = 5000
# Side labels that name no camp: the outlet's own reporting, and voices outside the dispute.
OUTSIDE_CAMPS = frozenset({"", "reported", "independent", "neutral", "verification"})


def arrange(answer: Answer) -> tuple[list[tuple[str, list[Claim]]], list[Claim], list[Claim]]:
    """Group an answer for the page: one column per camp, voices outside the camps, verification."""
    camps = [
        (side, [c for c in answer.claims if c.side == side])
        for side in answer.sides()
        if side.strip().lower() not in OUTSIDE_CAMPS
    ]
    outside = [c for c in answer.claims if c.side.strip().lower() in OUTSIDE_CAMPS]
    return camps, outside + list(answer.independent), list(answer.verification)


@dataclass
class QuoteLink:
    """One evidence quote, linked to its span in the article."""

    text: str
    source: int
    href: str | None


@dataclass
class ClaimView:
    """A claim as the page shows it; `claim` is None when the quote already says it."""

    claimant: str
    published: str | None
    claim: str | None
    quotes: list[QuoteLink]


def article_href(article_id: str, quote: str | None = None) -> str:
    """Return the link to an article's page, scrolled to a quote when one is given."""
    path = f"/articles/{url_quote(article_id, safe='')}"
    return f"{path}?{urlencode({'quote': quote})}#quote" if quote else path


def article_ids(answer: Answer, catalog: Catalog) -> dict[int, str]:
    """Map an answer's source ids to the catalog's article ids."""
    found = {}
    for source in answer.sources:
        article_id = catalog.article_for_path(source.path)
        if article_id is None and source.chunk_id:
            candidate = source.chunk_id.rsplit(":", 1)[0]
            article_id = candidate if catalog.has_article(candidate) else None
        if article_id is not None:
            found[source.id] = article_id
    return found


def claim_view(claim: Claim, articles: dict[int, str]) -> ClaimView:
    """Return a claim with each of its quotes linked to the article it comes from."""
    quotes = [
        QuoteLink(
            e.quote,
            e.source,
            article_href(articles[e.source], e.quote) if e.source in articles else None,
        )
        for e in claim.evidence
    ]
    said = normalise(claim.claim)
    repeated = any(said in normalise(q.text) for q in quotes)
    return ClaimView(claim.claimant, claim.published, None if repeated else claim.claim, quotes)


def web_link(url: str | None) -> str | None:
    """Return an article's own URL when it is an http(s) link, never a script or data URL."""
    if not url:
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in ("http", "https") else None


def register_pages(app: FastAPI, answerer: WarmAnswerer, settings: Settings) -> None:
    """Add the page (GET /), the article pages (GET /articles/ID) and the stylesheet."""
    templates = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    templates.globals["max_question_chars"] = MAX_QUESTION_CHARS
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    def page(name: str, status: int = 200, **values: Any) -> HTMLResponse:
        return HTMLResponse(templates.get_template(name).render(**values), status_code=status)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home(q: str = "", t: Annotated[list[str] | None, Query()] = None) -> HTMLResponse:
        thread = [x.strip() for x in t or [] if x.strip() and len(x) <= MAX_QUESTION_CHARS]
        thread = thread[-MAX_TURNS:]
        values: dict[str, Any] = {"asked": q, "thread": thread, "answer": None, "error": None}
        if not q.strip():
            return page("ask.html", next_thread=thread, **values)
        standalone = condense(thread[-1] if thread else None, q)
        try:
            answer = answerer(standalone)
            articles = article_ids(answer, answerer.get().index.catalog)
        except NewsbotError as exc:
            values["error"] = error_message(exc, settings)
            return page("ask.html", status_for(exc), next_thread=thread, **values)
        camps, outside, verification = arrange(answer)
        return page(
            "ask.html",
            next_thread=[*thread, standalone][-MAX_TURNS:],
            camps=[(side, [claim_view(c, articles) for c in claims]) for side, claims in camps],
            outside=[claim_view(c, articles) for c in outside],
            verification=[claim_view(c, articles) for c in verification],
            sources=[
                {
                    "id": s.id,
                    "label": s.label(),
                    "href": article_href(articles[s.id]) if s.id in articles else None,
                    "url": web_link(s.url),
                }
                for s in answer.sources
            ],
            **(values | {"answer": answer}),
        )

    @app.get("/articles/{article_id}", response_class=HTMLResponse, include_in_schema=False)
    def article(article_id: str, quote: str = "") -> HTMLResponse:
        try:
            catalog = answerer.get().index.catalog
        except NewsbotError as exc:
            message = error_message(exc, settings)
            return page("article.html", status_for(exc), record=None, error=message)
        record = catalog.article(article_id)
        if record is None:
            message = "No such article in the index; it may have been removed since."
            return page("article.html", 404, record=None, error=message)
        text = catalog.article_text(article_id)
        span = quote_span(text, quote) if 0 < len(quote) <= MAX_QUOTE_CHARS else None
        start, end = span or (len(text), len(text))
        return page(
            "article.html",
            record=record,
            url=web_link(record.url),
            error=None if span or not quote else "The quoted passage is not in this text.",
            before=text[:start],
            marked=text[start:end],
            after=text[end:],
        )
