"""The model path: a LangChain chat model writes the answer, the verifier keeps it honest."""

from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from bot.answer import Answer, Claim, Evidence, Source
from bot.config import Settings
from bot.errors import ModelUnavailable
from bot.prompts import render
from bot.store import Index

if TYPE_CHECKING:
    from bot.compose import Context

logger = logging.getLogger(__name__)
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "„": '"', "′": "'"})


class ModelAnswer(BaseModel):
    """What the model is asked to return."""

    status: Literal["contested", "answered", "not_found"]
    summary: str = Field(description="one line")
    claims: list[Claim] = Field(default_factory=list)


def load_model(settings: Settings) -> Any:
    """Create the chat model named by NEWSBOT_LLM with LangChain's init_chat_model."""
    from langchain.chat_models import init_chat_model

    model_id = settings.llm or ""
    try:
        return init_chat_model(model_id, timeout=settings.llm_timeout)
    except Exception as exc:  # unknown provider, missing package or key: all mean unavailable
        raise ModelUnavailable(model_id, type(exc).__name__) from exc


def normalise(text: str) -> str:
    """Fold whitespace and typographic quotes so verbatim checks ignore only those."""
    return re.sub(r"\s+", " ", text.translate(_QUOTES)).strip()


def numbered_sources(context: Context, index: Index) -> list[dict[str, Any]]:
    """Number the retrieved articles, each with the passages retrieved from it."""
    spans = index.catalog.chunk_spans(h.chunk_id for h in context.hits)
    by_article: dict[str, list[tuple[int, int]]] = {}
    for hit in context.hits:
        if hit.chunk_id in spans:
            _, _, start, end = spans[hit.chunk_id]
            by_article.setdefault(hit.article_id, []).append((start, end))
    sources = []
    for number, (article_id, ranges) in enumerate(by_article.items(), 1):
        record = index.catalog.article(article_id)
        if record is None:
            continue
        text = index.catalog.article_text(article_id)
        passages = [text[s:e] for s, e in sorted(set(ranges))]
        sources.append(
            {
                "id": number,
                "article_id": article_id,
                "title": record.title,
                "outlet": record.outlet or "unknown",
                "published": record.published or "unknown",
                "url": record.url,
                "path": record.path,
                "chunk_id": next(h.chunk_id for h in context.hits if h.article_id == article_id),
                "text": "\n...\n".join(passages),
                "full_text": text,
            }
        )
    return sources


def verify(claims: list[Claim], sources: list[dict[str, Any]]) -> list[Claim]:
    """Keep only evidence quoted verbatim from the source it cites, and claims left with some."""
    texts = {s["id"]: normalise(s["full_text"]) for s in sources}
    kept = []
    for claim in claims:
        evidence = [
            e
            for e in claim.evidence
            if e.source in texts
            and len(normalise(e.quote)) >= 12
            and normalise(e.quote) in texts[e.source]
        ]
        if evidence:
            kept.append(claim.model_copy(update={"evidence": evidence}))
        else:
            logger.info("dropped an unverifiable claim by %s", claim.claimant)
    return kept


def answer_with_model(
    model: Any, context: Context, index: Index, embedded: Answer, settings: Settings
) -> Answer:
    """Ask the model; return its verified answer, or the embedded one with a note."""
    sources = numbered_sources(context, index)
    messages = [
        ("system", render("system")),
        ("human", render("answer", question=context.question, sources=sources)),
    ]
    model_id = settings.llm or type(model).__name__
    runnable = model.with_structured_output(ModelAnswer)
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        raw = pool.submit(runnable.invoke, messages).result(timeout=settings.llm_timeout)
        parsed = raw if isinstance(raw, ModelAnswer) else ModelAnswer.model_validate(raw)
    except FutureTimeout:
        logger.warning("model %s timed out after %ss", model_id, settings.llm_timeout)
        return _rendered(embedded, "the model timed out; this is the embedded answer")
    except Exception as exc:  # any provider or parsing failure: the embedded answer stands
        logger.warning("model %s failed: %s", model_id, type(exc).__name__)
        return _rendered(
            embedded, f"the model failed ({type(exc).__name__}); this is the embedded answer"
        )
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    claims = verify(parsed.claims, sources)
    if parsed.status == "not_found" and not parsed.claims:
        return Answer(question=context.question, status="not_found", summary=parsed.summary)
    if not claims:
        return _rendered(
            embedded,
            "no claim of the model's answer could be verified; this is the embedded answer",
        )
    cited = sorted({e.source for c in claims for e in c.evidence})
    renumber = {old: new for new, old in enumerate(cited, 1)}
    final_claims = [
        c.model_copy(
            update={
                "evidence": [Evidence(source=renumber[e.source], quote=e.quote) for e in c.evidence]
            }
        )
        for c in claims
    ]
    by_id = {s["id"]: s for s in sources}
    final_sources = [
        Source(
            id=renumber[old],
            title=by_id[old]["title"],
            outlet=by_id[old]["outlet"],
            published=None if by_id[old]["published"] == "unknown" else by_id[old]["published"],
            url=by_id[old]["url"],
            path=by_id[old]["path"],
            chunk_id=by_id[old]["chunk_id"],
            snippet=by_id[old]["text"][:240],
        )
        for old in cited
    ]
    status = parsed.status
    if status == "contested" and len({c.side for c in final_claims}) < 2:
        status = "answered"
    return Answer(
        question=context.question,
        status=status,
        summary=parsed.summary,
        claims=final_claims,
        sources=final_sources,
        retrieved=embedded.retrieved,
    )


def _rendered(embedded: Answer, note: str) -> Answer:
    """Return the embedded answer with a one-line note, its text rendered anew."""
    updated = embedded.model_copy(update={"notes": [*embedded.notes, note]})
    updated.answer = updated.to_text()
    return updated
