"""Sentence splitting and sentence-aware chunking with character offsets into the article."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.articles import Article

# Words whose trailing period does not end a sentence. Generic English abbreviations only.
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof gen lt col maj capt sgt cpl adm cmdr gov sen rep rev st jr sr inc ltd
    co corp no nos vs etc approx dept est fig jan feb mar apr jun jul aug sep sept oct nov
    dec u.s u.k u.n e.g i.e a.m p.m mt ft""".split()
)
_CLOSERS = "\"'”’)]»"
_OPENERS = "\"'“‘([«"
# A candidate end: terminal punctuation, any closing quotes/brackets, then whitespace.
_END = re.compile(r"[.!?…]+[" + re.escape(_CLOSERS) + r"]*(?=\s)")
_NEXT_START = re.compile(r"\s+([" + re.escape(_OPENERS) + r"]*)(\S)")

TARGET_CHARS = 700
MAX_SENTENCES = 5


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences of one article, with offsets into its text."""

    id: str
    article_id: str
    position: int
    start: int
    end: int
    text: str


_SOFT_BREAK = re.compile(r"(?<=[^\s.!?:;\"”’)\]])\n(?=[ \t]*[a-z(“\"'‘])")


def unwrap(text: str) -> str:
    """Return text with its soft line wraps as spaces, every offset unchanged.

    A line that ends mid-sentence and a next line that goes on in lower case are one sentence
    ("The council" then "claimed the mine ..."); headlines and paragraphs keep their breaks.
    """
    return _SOFT_BREAK.sub(" ", text)


def reported_sentences(text: str) -> list[tuple[int, int]]:
    """Return the sentences that can state a fact: five words or more, not a question.

    These are the sentences an answer may quote as an outlet's own reporting; ingest embeds
    each of them once so that answering need not.
    """
    return [(s, e) for s, e in split_sentences(unwrap(text)) if reportable(text[s:e])]


def reportable(sentence: str) -> bool:
    """Say whether a sentence can state a fact: five words or more, not a question."""
    return len(sentence.split()) >= 5 and not sentence.rstrip().endswith("?")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return (start, end) offsets of each sentence; line breaks always end a sentence."""
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        base = line.start()
        body = line.group()
        start = 0
        for match in _END.finditer(body):
            end = match.end()
            if not _is_boundary(body, match.start(), end):
                continue
            _add_span(spans, body, base, start, end)
            start = end
        _add_span(spans, body, base, start, len(body))
    return spans


def _is_boundary(body: str, punct_start: int, end: int) -> bool:
    nxt = _NEXT_START.match(body, end)
    if nxt is None:
        return False
    first = nxt.group(2)
    if first.islower():
        return False
    if body[punct_start] == "." and body[punct_start:end].rstrip(_CLOSERS) == ".":
        word = re.search(r"([\w.]+)$", body[:punct_start])
        if word:
            token = word.group(1).lower()
            if token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha()):
                return False
    return True


def _add_span(spans: list[tuple[int, int]], body: str, base: int, start: int, end: int) -> None:
    piece = body[start:end]
    stripped = piece.strip()
    if not stripped:
        return
    lead = len(piece) - len(piece.lstrip())
    spans.append((base + start + lead, base + start + lead + len(stripped)))


def chunk_article(article: Article) -> list[Chunk]:
    """Split an article into chunks of whole sentences, each sharing one sentence with the next."""
    sentences = split_sentences(article.text)
    chunks: list[Chunk] = []
    i = 0
    overlapping = False
    while i < len(sentences):
        j = i + 1
        while (
            j < len(sentences)
            and j - i < MAX_SENTENCES
            and sentences[j][1] - sentences[i][0] <= TARGET_CHARS
        ):
            j += 1
        if overlapping and j == i + 1 and j < len(sentences):
            # The shared sentence alone would repeat the previous chunk: take its neighbour too.
            j += 1
        start, end = sentences[i][0], sentences[j - 1][1]
        position = len(chunks)
        chunks.append(
            Chunk(
                id=f"{article.id}:{position}",
                article_id=article.id,
                position=position,
                start=start,
                end=end,
                text=article.text[start:end],
            )
        )
        if j >= len(sentences):
            break
        # One sentence of overlap, unless the chunk was a single sentence.
        overlapping = j - 1 > i
        i = j - 1 if overlapping else j
    return chunks
