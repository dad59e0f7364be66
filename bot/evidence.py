"""The evidence one answer draws on: attributed statements and reported sentences, scored.

Everything here is a span of an indexed article, scored by closeness in meaning to the
question plus what it shares with the question (its names and words), and placed in its
speaker's camp (`bot.parties`) judging every statement retrieved together.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.catalog import ArticleRecord
from bot.chunking import reportable, split_sentences, unwrap
from bot.embeddings import Embedder, unpack_vectors
from bot.question import STOP_WORDS, Question
from bot.retrieval import Hit
from bot.safety import DELIMITER, looks_like_instruction
from bot.store import Index

FOCUS_BONUS = 0.12  # a statement naming what the question names
LEXICAL_WEIGHT = 0.3  # times the share of the question's other words a statement uses
ARTICLES_FOR_FACTS = 6  # the best articles whose every sentence may answer a factual question
MAX_EMBEDDED = 16  # sentences embedded for one question, those sharing most with it first
WORD = re.compile(r"[\w'’-]+")
# What a passing mention looks like: a name in a list, or a direction rather than a subject.
_PASSING_BEFORE = re.compile(
    r"(?:\b(?:like|such as|including|among them|along with|other\b[^.]{0,40}?)\s+"
    r"(?:[A-Z][\w'’-]*,?\s+(?:and\s+|or\s+)?)*"
    r"|\b(?:closer to|towards?|approaching|in the direction of|road to|route to|north of|"
    r"south of|east of|west of|outskirts of|near)\s+(?:the\s+)?)$"
)


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
    understood: Question | None = None


@dataclass
class Evidence:
    """One consistent snapshot of the articles an answer reads, and their scored spans."""

    records: dict[str, ArticleRecord]
    texts: dict[str, str]
    statements: list[Candidate]
    focus: list[str]
    topic: list[str]
    terms: set[str]
    aliases: dict[str, str] = field(default_factory=dict)

    def text(self, candidate: Candidate) -> str:
        """Return a candidate's words as its article has them."""
        return self.texts[candidate.article_id][candidate.start : candidate.end]


def name_spans(text: str, name: str) -> list[tuple[int, int]]:
    """Return where a text names a name: its words in order, any case, any punctuation between.

    A name of several words is also named by its last word when that word is a proper name
    written as such ("the Varnholm" for "the aircraft carrier SV Varnholm").
    """
    words = WORD.findall(name)
    if not words:
        return []
    pattern = r"\b" + r"[\W_]+".join(re.escape(w) for w in words)
    found = [m.span() for m in re.finditer(pattern, text, flags=re.IGNORECASE)]
    last = words[-1]
    if not found and len(words) > 1 and len(last) >= 5 and last[0].isupper():
        found = [m.span() for m in re.finditer(rf"\b{re.escape(last)}\b", text)]
    return found


def mentions(text: str, names: list[str]) -> bool:
    """Say whether a text names any of these names (as word starts, any case)."""
    return any(name_spans(text, name) for name in names if name)


def stem(word: str) -> str:
    """Return the five-letter stem words are compared by."""
    return word.lower()[:5]


def content_stems(question: str, focus: list[str]) -> set[str]:
    """Return the stems of the question's words that are neither names nor function words."""
    named = {stem(w) for name in focus for w in WORD.findall(name)}
    return {
        stem(w)
        for w in WORD.findall(question)
        if w.lower() not in STOP_WORDS and len(w) > 2 and stem(w) not in named
    }


def bonus(text: str, focus: list[str], terms: set[str]) -> float:
    """Score what a sentence shares with the question beyond meaning: names and words."""
    score = FOCUS_BONUS if focus and mentions(text, focus) else 0.0
    if terms:
        stems = {stem(w) for w in WORD.findall(text)}
        score += LEXICAL_WEIGHT * len(terms & stems) / len(terms)
    return score


def gather(context: Context, index: Index) -> Evidence:
    """Read the retrieved articles once and score every statement they hold."""
    import numpy as np

    understood = context.understood or Question(asked=context.question, text=context.question)
    qvec = np.asarray(context.query_vector, dtype=np.float32)
    article_ids = list(dict.fromkeys(h.article_id for h in context.hits))
    # One snapshot of each article: an ingest may retire one while this answer is composed,
    # and the answer must cite what it read, consistently.
    records = {a: index.catalog.article(a) for a in article_ids}
    texts = {a: index.catalog.article_text(a) for a in article_ids if records[a] is not None}
    snapshot = {a: r for a, r in records.items() if r is not None and texts.get(a)}
    aliases = index.catalog.facts("alias")
    focus = context.focus + [alias for alias, name in aliases if mentions(name, context.focus)]
    focus += [name for alias, name in aliases if alias in {f.lower() for f in context.focus}]
    terms = content_stems(understood.text, context.focus)
    candidates: list[Candidate] = []
    found = index.catalog.statements(list(snapshot))
    for article_id, statements in found.items():
        with_vec = [s for s in statements if s.get("vec")]
        if not with_vec:
            continue
        sims = unpack_vectors([s["vec"] for s in with_vec]) @ qvec
        for statement, sim in zip(with_vec, sims, strict=True):
            text = texts[article_id][statement["start"] : statement["end"]]
            candidates.append(
                Candidate(
                    article_id=article_id,
                    start=statement["start"],
                    end=statement["end"],
                    score=float(sim) + bonus(text, focus, terms),
                    similarity=float(sim),
                    claimant=statement["claimant"],
                    statement=statement,
                    claim=statement["claim"],
                    kind=statement["kind"],
                    negated=bool(statement.get("negated")),
                    places=list(statement.get("places") or []),
                )
            )
    _assign_camps(candidates, index)
    subject = _subject(context.focus, candidates, aliases)
    topic = subject[:1] + [a for a, name in aliases if mentions(name, subject[:1])]
    topic += [name for alias, name in aliases if subject[:1] and alias == subject[0].lower()]
    return Evidence(
        snapshot, {a: texts[a] for a in snapshot}, candidates, focus, topic, terms, dict(aliases)
    )


def _subject(
    focus: list[str], candidates: list[Candidate], aliases: list[tuple[str, str]]
) -> list[str]:
    """Return the names a question is about, rarest first, leaving out the parties.

    In "Did the Harbour Front shell Varn?" the Front is a party that speaks; the question is
    about Varn. Parties are the camps and bodies that speak in the articles, and countries.
    """
    from bot import geo
    from bot.names import fold

    parties: set[str] = set()
    for candidate in candidates:
        speaker = candidate.statement.get("speaker") or {}
        for name in (candidate.side, speaker.get("org"), speaker.get("nation")):
            if name:
                parties.add(fold(name))
                parties.update(fold(n) for a, n in aliases if a == str(name).lower())
                parties.update(fold(a) for a, n in aliases if n.lower() == str(name).lower())

    def party(name: str) -> bool:
        words = name.split()
        if fold(name) in parties or any(fold(name).rstrip("s") == p.rstrip("s") for p in parties):
            return True
        return any(geo.country(w) or geo.capital_of(w) for w in words)

    return [name for name in focus if not party(name)]


def _assign_camps(candidates: list[Candidate], index: Index) -> None:
    """Decide every statement's camp together, from everything retrieved."""
    from bot.identity import Knowledge
    from bot.parties import assign

    knowledge = Knowledge.from_facts(index.catalog.all_facts())
    # The outlets' own voice (verification) is no party: it takes no part in forming camps.
    speaking = [c for c in candidates if c.kind == "claim"]
    voices = assign(
        [c.statement for c in speaking],
        knowledge,
        articles=[c.article_id for c in speaking],
    )
    for candidate, voice in zip(speaking, voices, strict=True):
        candidate.side = voice.camp
        candidate.independent = voice.independent


def on_focus(candidate: Candidate, article_text: str, focus: list[str], topic: list[str]) -> bool:
    """Say whether a statement is about what the question names.

    A statement naming a place the question names is; one naming only other places is about
    them, unless its words name the question's topic (its rarest name, with aliases); one
    naming no place is read in the light of its article.
    """
    if candidate.places:
        return any(
            mentions(place, focus) or mentions(" ".join(focus), [place])
            for place in candidate.places
        ) or mentions(article_text[candidate.start : candidate.end], topic)
    return mentions(article_text, topic)


def in_passing(text: str, names: list[str]) -> bool:
    """Say whether a text names these only in passing: in a list, or as a direction.

    "hubs like Tessel and Varn", "closer to Varn": the sentence is about something else.
    """
    spans = [span for name in names if name for span in name_spans(text, name)]
    return bool(spans) and all(_PASSING_BEFORE.search(text[:start]) for start, _ in spans)


def fact_candidates(
    context: Context,
    evidence: Evidence,
    embeddings: Embedder,
    index: Index,
    *,
    every_sentence: bool = False,
    answers: Callable[[str], bool] | None = None,
) -> list[Candidate]:
    """Score the sentences no one is quoted as saying: the outlets' own reporting.

    Informational questions read the best chunks; factual ones ("how many", "which") read
    every sentence of the best articles, since the figure asked for may sit anywhere.
    """
    import numpy as np

    statements = evidence.statements
    attributed = {(c.article_id, c.start) for c in statements} | {
        (c.article_id, c.end) for c in statements
    }
    windows: list[tuple[str, int, int]] = []
    if every_sentence:
        articles = list(dict.fromkeys(h.article_id for h in context.hits))
        for article_id in articles[:ARTICLES_FOR_FACTS]:
            if article_id in evidence.texts:
                windows.append((article_id, 0, len(evidence.texts[article_id])))
    else:
        spans = index.catalog.chunk_spans(h.chunk_id for h in context.hits[:4])
        windows = [(a, s, e) for a, _, s, e in spans.values() if a in evidence.texts]
    focus, terms = evidence.focus, evidence.terms
    pool: list[tuple[str, int, int]] = []
    for article_id, start, end in windows:
        text = evidence.texts[article_id]
        for s, e in split_sentences(unwrap(text[start:end])):
            s0, e0 = start + s, start + e
            sentence = text[s0:e0]
            if not reportable(sentence):
                continue
            if not every_sentence and (
                (article_id, s0) in attributed or (article_id, e0) in attributed
            ):
                continue
            if not every_sentence and any(
                c.article_id == article_id and c.start <= s0 < c.end for c in statements
            ):
                continue
            if looks_like_instruction(sentence) or DELIMITER.search(sentence):
                continue  # text addressed to a model is no fact an outlet reports
            # Only a sentence naming what the question names, or using its words, can answer
            # it; the rest need not be embedded at all.
            if (focus or terms) and not (
                (focus and mentions(sentence, focus))
                or terms & {stem(w) for w in WORD.findall(sentence)}
            ):
                continue
            pool.append((article_id, s0, e0))
    pool = list(dict.fromkeys(pool))
    if answers is not None:
        # Only a sentence holding the kind of answer asked for can answer a factual question;
        # the rest need not be embedded.
        pool = [(a, s, e) for a, s, e in pool if answers(evidence.texts[a][s:e])]
    if len(pool) > MAX_EMBEDDED:
        # The sentences sharing most with the question are the ones worth embedding.
        pool.sort(key=lambda p: -bonus(evidence.texts[p[0]][p[1] : p[2]], focus, terms))
        pool = pool[:MAX_EMBEDDED]
    if not pool:
        return []
    qvec = np.asarray(context.query_vector, dtype=np.float32)
    vectors = _sentence_vectors(pool, evidence, embeddings, index)
    facts = []
    for (article_id, s, e), sim in zip(pool, vectors @ qvec, strict=True):
        sentence = evidence.texts[article_id][s:e]
        facts.append(
            Candidate(
                article_id=article_id,
                start=s,
                end=e,
                score=float(sim) + bonus(sentence, focus, terms),
                similarity=float(sim),
            )
        )
    facts.sort(key=lambda c: -c.score)
    return facts


def _sentence_vectors(
    pool: list[tuple[str, int, int]], evidence: Evidence, embeddings: Embedder, index: Index
) -> Any:
    """Return the vectors of these sentences: as ingest stored them, or embedded now."""
    import numpy as np

    stored = index.catalog.sentence_vectors({a for a, _, _ in pool})
    missing = [p for p in pool if p not in stored]
    fresh = iter(
        embeddings.embed_documents([evidence.texts[a][s:e] for a, s, e in missing])
        if missing
        else []
    )
    packed = unpack_vectors([stored[p] for p in pool if p in stored])
    kept = iter(packed)
    return np.asarray([next(kept) if p in stored else next(fresh) for p in pool], dtype=np.float32)


def speaker_of(
    candidate: Candidate, statements: list[Candidate], at: int | None = None
) -> Candidate | None:
    """Return the statement a sentence (or the word at `at` in it) belongs to, if any.

    A sentence with two speakers belongs, at a given word, to the speaker whose clause holds
    that word; a sentence inside one statement belongs to that statement's speaker.
    """
    here = [s for s in statements if s.article_id == candidate.article_id and s.kind == "claim"]
    if at is not None:
        holding = [s for s in here if s.start <= at < s.end]
        if holding:
            return min(holding, key=lambda s: s.end - s.start)
    return next(
        (s for s in here if s.start <= candidate.start + 1 and candidate.end - 1 <= s.end + 1),
        None,
    )
