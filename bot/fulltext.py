"""What the articles' words say: BM25 search, word frequencies and spellings, over FTS5.

The catalog cache (`bot.catalog`) keeps every chunk's text in an FTS5 table (`chunks_fts`) with
its vocabulary (`chunks_vocab`); these are the reads of them that answering makes.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections.abc import Iterable
from typing import Any

# Function words carry no evidence of topic and would make every chunk a lexical match.
STOPWORDS = frozenset(
    """a an the and or but of in on at to for from by with as is are was were be been being has
    have had do does did will would can could should may might who what when where why how
    which whose whom this that these those it its they them their he she his her we our you
    your i me my not no than then so if about into over after before there here also just""".split()
)
_WORD = re.compile(r"\w+", re.UNICODE)
# In an index this large, a word found in more than this share of its chunks is left out of
# lexical search: its BM25 weight is small, and matching it would rank most of the index.
COMMON_FROM = 1000  # chunks
COMMON_SHARE = 0.1


def _folded(word: str) -> str:
    """Return a word as the FTS5 vocabulary holds it: lower case, accents removed."""
    plain = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode("ascii")
    return (plain or word).lower()


class FullText:
    """Full-text reads of the cache; `bot.catalog.Catalog` holds the database they read."""

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        raise NotImplementedError

    def _chunk_total(self) -> int:
        raise NotImplementedError

    def lexical_search(
        self, query: str, limit: int, allowed: set[str] | None = None
    ) -> list[tuple[str, str, float]]:
        """Rank chunks by BM25 for the words of a query: (chunk id, article id, score)."""
        words = sorted(
            {w.lower() for w in _WORD.findall(query) if len(w) > 1 and w.lower() not in STOPWORDS}
        )
        if not words:
            return []
        words = self._distinctive(words)
        match = " OR ".join('"' + w.replace('"', "") + '"' for w in words)
        fetch = limit if allowed is None else limit * 4
        rows = self._rows(
            "SELECT chunk_id, article_id, bm25(chunks_fts) AS score FROM chunks_fts "
            "WHERE chunks_fts MATCH ? ORDER BY score LIMIT ?",
            [match, fetch],
        )
        hits = [(r[0], r[1], -float(r[2])) for r in rows]
        if allowed is not None:
            hits = [h for h in hits if h[1] in allowed]
        return hits[:limit]

    def _distinctive(self, words: list[str]) -> list[str]:
        """Leave out the words too common in a large index to say which chunks matter.

        If every word is that common, the rarest one is kept.
        """
        total = self._chunk_total()
        if len(words) < 2 or total < COMMON_FROM:
            return words
        frequency = {
            w: int(rows[0][0]) if rows else 0
            for w in words
            for rows in [self._rows("SELECT doc FROM chunks_vocab WHERE term = ?", [_folded(w)])]
        }
        kept = [w for w in words if frequency[w] <= COMMON_SHARE * total]
        return kept or [min(words, key=lambda w: frequency[w])]

    def document_frequency(self, term: str, *, prefix: bool = False) -> int:
        """Count the chunks that contain a word or phrase (its last word as a prefix)."""
        words = _WORD.findall(term)
        if not words:
            return 0
        phrase = '"' + " ".join(words).replace('"', "") + '"' + (" *" if prefix else "")
        rows = self._rows("SELECT COUNT(*) FROM chunks_fts WHERE chunks_fts MATCH ?", [phrase])
        return int(rows[0][0])

    def near_frequency(self, words: list[str], distance: int = 3) -> int:
        """Count the chunks holding all these words (or phrases) within a few words."""
        terms = [" ".join(_WORD.findall(w)) for w in words]
        terms = [t for t in terms if t]
        if not terms:
            return 0
        if len(terms) == 1:
            return self.document_frequency(terms[0], prefix=True)
        query = "NEAR(" + " ".join(f'"{t}"' for t in terms) + f", {distance})"
        rows = self._rows("SELECT COUNT(*) FROM chunks_fts WHERE chunks_fts MATCH ?", [query])
        return int(rows[0][0])

    def written(self, word: str) -> str | None:
        """Return how the articles mostly write a word inside sentences ("Tessel", "OKC")."""
        parts = _WORD.findall(word)
        if not parts:
            return None
        phrase = '"' + " ".join(parts).replace('"', "") + '"'
        try:
            rows = self._rows(
                "SELECT text FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT 8", [phrase]
            )
        except sqlite3.OperationalError:
            return None
        pattern = re.compile(
            r"(?<![\w.!?])\s*(" + r"[\W_]+".join(re.escape(p) for p in parts) + r")(?!\w)",
            re.IGNORECASE,
        )
        forms: dict[str, int] = {}
        for (text,) in rows:
            for match in pattern.finditer(text):
                before = text[: match.start(1)].rstrip()
                if not before or before[-1] in '.!?:"“\n':
                    continue  # a sentence's first word is capitalised whatever it is
                forms[match.group(1)] = forms.get(match.group(1), 0) + 1
        return max(forms, key=lambda f: forms[f]) if forms else None

    def variant(self, word: str) -> str | None:
        """Return an indexed spelling of a word ("Tesseliy" for "Tesselyi"), if there is one."""
        from bot.names import fold, same_word

        folded = fold(word)
        if len(folded) < 5:
            return None
        try:
            rows = self._rows(
                "SELECT term FROM chunks_vocab WHERE term >= ? AND term < ? ORDER BY doc DESC",
                [folded[0], chr(ord(folded[0]) + 1)],
            )
        except sqlite3.OperationalError:
            return None
        for (term,) in rows:
            if abs(len(term) - len(folded)) <= 3 and term != folded and same_word(term, folded):
                return str(term)
        return None
