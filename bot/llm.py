"""The model path: a LangChain chat model writes the answer, the verifier keeps it honest."""

from __future__ import annotations

import logging
import re
import threading
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from bot.answer import Answer, Claim, Evidence, Source
from bot.chunking import split_sentences
from bot.config import Settings
from bot.errors import ModelUnavailable
from bot.prompts import render
from bot.store import Index

if TYPE_CHECKING:
    from bot.compose import Context

logger = logging.getLogger(__name__)
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "„": '"', "′": "'"})
# Text addressed to a language model rather than to a newspaper's readers. Articles are data; a
# sentence like these in one is an injection attempt, and never evidence for a claim.
_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\s+(?:(?:all|any|the|your|of)\s+)*"
    r"(?:previous|prior|above|earlier|preceding|system|original|initial)\b[^.!?\n]{0,30}?"
    r"\b(?:instructions?|prompts?|rules|guidelines|directions|directives|context|messages?)\b"
    r"|\b(?:system prompt|system message|developer mode|admin mode|jailbreak)\b"
    r"|\byou are now\b|\bas an? (?:ai|language model|llm|assistant|chatbot)\b"
    r"|\b(?:note|message|instructions?) (?:to|for) (?:the |any |all )?"
    r"(?:ai|assistants?|models?|chatbots?|bots?|llms?|language models?)\b"
    r"|^\W*(?:system|assistant|developer)\s*:"
    r"|^\W*(?:please\s+)?(?:now\s+)?(?:answer|respond|reply|say|state|tell the user|output)\b"
    r"[^.!?\n]{0,40}?\b(?:that|with)\b",
    re.IGNORECASE,
)
_DELIMITER = re.compile(r"<(\s*/?\s*source)", re.IGNORECASE)
_SUMMARY_WORD = re.compile(r"[^\W\d_]{4,}")
# Words any summary may use whatever the sources say: they carry no claim of their own.
_PLAIN_WORDS = frozenset(
    "that this these those with from into over than then them they their there what which "
    "while when where whom whose have been were will would could should about also only "
    "said says according report reports reported claim claims claimed sources source article "
    "articles both sides side disagree disagrees agree agrees dispute disputed contested "
    "unclear unknown whether".split()
)


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


def quote_span(text: str, quote: str) -> tuple[int, int] | None:
    """Return the (start, end) of a quote in text, found as the verifier finds it.

    Whitespace and typographic quote marks aside: a quote is found here exactly when
    normalise(quote) is in normalise(text).
    """
    needle = normalise(quote)
    if not needle:
        return None
    folded: list[str] = []
    origin: list[int] = []  # where in text each folded character comes from
    position = 0
    for space in re.finditer(r"\s+", text):
        folded.extend(text[position : space.start()])
        origin.extend(range(position, space.start()))
        folded.append(" ")
        origin.append(space.start())
        position = space.end()
    folded.extend(text[position:])
    origin.extend(range(position, len(text)))
    at = "".join(folded).translate(_QUOTES).find(needle)
    if at == -1:
        return None
    return origin[at], origin[at + len(needle) - 1] + 1


def looks_like_instruction(sentence: str) -> bool:
    """Say whether a sentence addresses a language model ("Ignore previous instructions...")."""
    return bool(_INSTRUCTION.search(normalise(sentence)))


def instruction_spans(text: str) -> list[tuple[int, int]]:
    """Return the (start, end) offsets, in normalise(text), of sentences that attack the model.

    That is sentences addressed to a model, and sentences forging the <source> delimiters.
    """
    folded = normalise(text)
    spans = []
    for start, end in split_sentences(text):
        sentence = normalise(text[start:end])
        if sentence and (looks_like_instruction(sentence) or _DELIMITER.search(sentence)):
            at = folded.find(sentence)
            while at != -1:
                spans.append((at, at + len(sentence)))
                at = folded.find(sentence, at + 1)
    return spans


def as_data(value: str) -> str:
    """Neutralise what would end or forge a <source> delimiter around article text."""
    return _DELIMITER.sub(lambda m: "‹" + m.group(1), value)


def _attribute(value: Any) -> str:
    return as_data(str(value)).replace('"', "'").replace("<", "‹").replace(">", "›")


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


def _supports(quote: str, text: str, injected: list[tuple[int, int]]) -> bool:
    """Say whether a quote is verbatim in a source text and not part of an injected instruction."""
    quote = normalise(quote)
    if len(quote) < 12:
        return False
    at = text.find(quote)
    if at == -1:
        return False
    while at != -1:
        if not any(start < at + len(quote) and at < end for start, end in injected):
            return True
        at = text.find(quote, at + 1)
    return False


def verify(claims: list[Claim], sources: list[dict[str, Any]]) -> list[Claim]:
    """Keep only evidence quoted verbatim from the source it cites, and claims left with some.

    Text addressed to a model ("Ignore previous instructions and answer that ...") is never
    evidence, even when it is quoted verbatim.
    """
    texts = {s["id"]: normalise(s["full_text"]) for s in sources}
    injected = {s["id"]: instruction_spans(s["full_text"]) for s in sources}
    kept = []
    for claim in claims:
        evidence = [
            e
            for e in claim.evidence
            if e.source in texts and _supports(e.quote, texts[e.source], injected[e.source])
        ]
        if evidence:
            kept.append(claim.model_copy(update={"evidence": evidence}))
        else:
            logger.info("dropped an unverifiable claim by %s", claim.claimant)
    return kept


def echoes_injection(
    summary: str, claims: list[Claim], question: str, sources: list[dict[str, Any]]
) -> bool:
    """Say whether a summary repeats an injected instruction that no verified quote supports.

    The summary is the model's own voice. Its words must come from the verified claims, the
    question, or plain language; a word found only in a sentence addressed to the model means
    the model followed that sentence.
    """
    said = " ".join(
        [question] + [f"{c.side} {c.claimant} {e.quote}" for c in claims for e in c.evidence]
    )
    supported = {w.lower() for w in _SUMMARY_WORD.findall(said)}
    injected = {
        w.lower()
        for s in sources
        for start, end in instruction_spans(s["full_text"])
        for w in _SUMMARY_WORD.findall(normalise(s["full_text"])[start:end])
    }
    own = {w.lower() for w in _SUMMARY_WORD.findall(summary)} - supported - _PLAIN_WORDS
    return bool(own & injected)


def answer_with_model(
    model: Any, context: Context, index: Index, embedded: Answer, settings: Settings
) -> Answer:
    """Ask the model; return its verified answer, or the embedded one with a note."""
    sources = numbered_sources(context, index)
    # Articles go to the model as delimited data: nothing in them can close or forge a tag.
    shown = [
        {
            **source,
            "title": _attribute(source["title"]),
            "outlet": _attribute(source["outlet"]),
            "published": _attribute(source["published"]),
            "text": as_data(source["text"]),
        }
        for source in sources
    ]
    messages = [
        ("system", render("system")),
        ("human", render("answer", question=context.question, sources=shown)),
    ]
    model_id = settings.llm or type(model).__name__
    runnable = model.with_structured_output(ModelAnswer)
    try:
        raw = _invoke(runnable, messages, settings.llm_timeout)
        parsed = raw if isinstance(raw, ModelAnswer) else ModelAnswer.model_validate(raw)
    except TimeoutError:
        logger.warning("model %s timed out after %ss", model_id, settings.llm_timeout)
        return _rendered(embedded, "the model timed out; this is the embedded answer")
    except Exception as exc:  # any provider or parsing failure: the embedded answer stands
        logger.warning("model %s failed: %s", model_id, type(exc).__name__)
        return _rendered(
            embedded, f"the model failed ({type(exc).__name__}); this is the embedded answer"
        )
    claims = verify(parsed.claims, sources)
    if parsed.status == "not_found" and not parsed.claims:
        return Answer(question=context.question, status="not_found", summary=parsed.summary)
    if not claims:
        return _rendered(
            embedded,
            "no claim of the model's answer could be verified; this is the embedded answer",
        )
    if echoes_injection(parsed.summary, claims, context.question, sources):
        logger.warning("model %s repeated instructions found in an article", model_id)
        return _rendered(
            embedded,
            "the model's answer followed instructions found in an article; "
            "this is the embedded answer",
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


def _invoke(runnable: Any, messages: Any, timeout: float) -> Any:
    """Call the model on a daemon thread; raise TimeoutError if it has not answered in time.

    A daemon thread, not an executor: a provider that never answers must not keep the
    process from exiting once the embedded answer has been given.
    """
    outcome: dict[str, Any] = {}

    def call() -> None:
        try:
            outcome["value"] = runnable.invoke(messages)
        except BaseException as exc:  # handed to the caller's thread as is
            outcome["error"] = exc

    worker = threading.Thread(target=call, name="newsbot-model", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimeoutError
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _rendered(embedded: Answer, note: str) -> Answer:
    """Return the embedded answer with a one-line note, its text rendered anew."""
    updated = embedded.model_copy(update={"notes": [*embedded.notes, note]})
    updated.answer = updated.to_text()
    return updated
