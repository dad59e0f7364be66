"""The core: `answer(question) -> Answer`, from retrieval through attribution to verification."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.answer import Answer
from bot.catalog import Filters
from bot.compose import Context, compose
from bot.config import MAX_QUESTION_CHARS, Settings
from bot.embeddings import Embedder
from bot.errors import InvalidQuestion, NewsbotError
from bot.question import understand
from bot.retrieval import search
from bot.store import Index

if TYPE_CHECKING:
    from langchain_core.runnables import Runnable

logger = logging.getLogger(__name__)


def validate_question(question: str) -> str:
    """Return the question stripped, or raise InvalidQuestion."""
    text = question.strip()
    if not text:
        raise InvalidQuestion("the question is empty")
    if len(text) > MAX_QUESTION_CHARS:
        raise InvalidQuestion(
            f"the question is {len(text)} characters long; the limit is {MAX_QUESTION_CHARS}"
        )
    return text


class Answerer:
    """Answers questions from one open index; built once, used for many questions."""

    def __init__(
        self,
        settings: Settings,
        index: Index,
        embeddings: Embedder,
        model: Any | None = None,
    ) -> None:
        self.settings = settings
        self.index = index
        self.embeddings = embeddings
        self.model = model

    def __call__(
        self,
        question: str,
        *,
        k: int | None = None,
        filters: Filters | None = None,
    ) -> Answer:
        """Answer one question."""
        question = validate_question(question)
        context = self.retrieve(question, k=k, filters=filters)
        embedded = compose(context, self.index, self.embeddings)
        if self.model is None or embedded.status == "not_found":
            return embedded
        from bot.llm import answer_with_model

        return answer_with_model(self.model, context, self.index, embedded, self.settings)

    def retrieve(
        self, question: str, *, k: int | None = None, filters: Filters | None = None
    ) -> Context:
        """Retrieve the chunks a question draws on."""
        from bot.retrieval import expand_query

        k = k or self.settings.top_k
        understood = understand(question, IndexVocabulary(self.index))
        # Other spellings of the names asked about are searched for too.
        query = " ".join([understood.text, *understood.spellings])
        vector = self.embeddings.embed_query(expand_query(query, self.index))
        hits = search(self.index, self.embeddings, query, k, filters, query_vector=vector)
        context = Context(question=question, hits=hits, query_vector=vector, understood=understood)
        counts = understood.frequency
        context.missing = understood.missing
        # Rarest first: the most specific name a question asks about is its topic.
        context.focus = sorted(understood.names, key=lambda n: counts.get(n, 1))
        context.focus += understood.spellings
        return context


class IndexVocabulary:
    """What an index knows about words, as question understanding asks it."""

    def __init__(self, index: Index) -> None:
        self.catalog = index.catalog

    def frequency(self, phrase: str) -> int:
        """Count the passages holding a phrase (its last word as a prefix)."""
        return self.catalog.document_frequency(phrase, prefix=True)

    def near(self, words: list[str]) -> int:
        """Count the passages holding all these words close together."""
        return self.catalog.near_frequency(words)

    def written(self, word: str) -> str | None:
        """Return how the articles mostly write a word."""
        return self.catalog.written(word)

    def variant(self, word: str) -> str | None:
        """Return an indexed spelling of a word, if any."""
        return self.catalog.variant(word)

    def aliases(self) -> dict[str, str]:
        """Return the aliases the articles state."""
        return dict(self.catalog.facts("alias"))


def build_answerer(
    settings: Settings,
    *,
    index: Index | None = None,
    embeddings: Embedder | None = None,
    model: Any | None = None,
) -> Answerer:
    """Open what answering needs: the index, the embeddings, and the model if one is set."""
    from bot.embeddings import default_embeddings
    from bot.store import open_store

    if model is None and settings.llm:
        from bot.llm import load_model

        model = load_model(settings)
    if embeddings is None:
        embeddings = default_embeddings(Path(settings.index_dir).expanduser().resolve())
    return Answerer(
        settings, index if index is not None else open_store(settings), embeddings, model
    )


class WarmAnswerer:
    """An answerer for long-running servers: opened before the first question, again on failure.

    A missing index does not stop a server: each question then gets the error that says so, and
    the first question after `newsbot ingest` finds the index.
    """

    def __init__(self, settings: Settings, **parts: Any) -> None:
        self._settings = settings
        self._parts = parts  # passed to build_answerer: index, embeddings, model
        self._answerer: Answerer | None = None
        self._lock = threading.Lock()

    def warm(self) -> NewsbotError | None:
        """Open the index and load the models now; return what keeps it from answering, if any."""
        try:
            # Retrieval loads the embedding model and the store without calling a chat model.
            self.get().retrieve("warm up")
        except NewsbotError as exc:
            logger.info("not ready to answer yet: %s", exc)  # the caller says so
            return exc
        except Exception:
            # Questions will report the problem; starting the server is still worthwhile.
            logger.warning("warming up failed", exc_info=True)
        return None

    def health(self) -> tuple[bool, dict[str, Any]]:
        """Say whether questions can be answered now, and from which index generation."""
        try:
            index = self.get().index
            generation = index.refresh()
            articles, chunks = index.catalog.counts()
        except NewsbotError as exc:
            return False, {"error": " ".join(str(exc).split())}
        return True, {"generation": generation, "articles": articles, "chunks": chunks}

    def get(self) -> Answerer:
        """Return the answerer, opening it if it is not open yet."""
        with self._lock:
            if self._answerer is None:
                self._answerer = build_answerer(self._settings, **self._parts)
            return self._answerer

    def __call__(
        self, question: str, *, k: int | None = None, filters: Filters | None = None
    ) -> Answer:
        """Answer one question; a question that cannot be asked is refused before any work."""
        validate_question(question)
        return self.get()(question, k=k, filters=filters)


def build_chain(
    settings: Settings,
    model: Any | None = None,
    retriever: Any | None = None,
    *,
    answerer: Answerer | None = None,
) -> Runnable[str, Answer]:
    """Return a LangChain runnable from a question to an Answer."""
    from langchain_core.runnables import RunnableLambda

    if answerer is None:
        index = getattr(retriever, "index", None)
        embeddings = getattr(retriever, "embeddings", None)
        answerer = build_answerer(settings, index=index, embeddings=embeddings, model=model)
    bound = answerer

    def run(question: str) -> Answer:
        return bound(question)

    return RunnableLambda(run).with_config(run_name="newsbot")


def answer(question: str, *, settings: Settings | None = None, **kwargs: Any) -> Answer:
    """Answer one question with a freshly opened index (convenient, not for hot paths)."""
    settings = settings or Settings()
    k = kwargs.pop("k", None)
    filters = kwargs.pop("filters", None)
    return build_answerer(settings, **kwargs)(question, k=k, filters=filters)
