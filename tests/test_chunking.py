"""Tests for sentence splitting and sentence-aware chunking with offsets into the article."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.articles import Article, article_id, discover, load_file
from bot.chunking import MAX_SENTENCES, TARGET_CHARS, Chunk, chunk_article, split_sentences

TERMINALS = ".!?…"
CLOSERS = "\"'”’)]»"


def make_article(text: str) -> Article:
    return Article(
        id=article_id(text), title="t", outlet=None, published=None, url=None, path="/x", text=text
    )


def sentences_of(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text)]


def corpus_articles(repo_root: Path) -> list[Article]:
    files, failures = discover(
        [repo_root.parent / "shared" / "corpus", repo_root / "data" / "articles"]
    )
    assert not failures
    return [article for file in files for article in load_file(file)]


def sentence_range(sentences: list[tuple[int, int]], chunk: Chunk) -> tuple[int, int]:
    """Return the indices of the first and last sentence a chunk covers, checking alignment."""
    starts = [s for s, _ in sentences]
    ends = [e for _, e in sentences]
    assert chunk.start in starts, f"chunk {chunk.id} starts inside a sentence"
    assert chunk.end in ends, f"chunk {chunk.id} ends inside a sentence"
    return starts.index(chunk.start), ends.index(chunk.end)


def check_chunks(article: Article) -> list[Chunk]:
    """Assert every chunking invariant for one article and return the chunks."""
    text = article.text
    chunks = chunk_article(article)
    sentences = split_sentences(text)
    assert bool(chunks) == bool(sentences)
    ranges = []
    for position, chunk in enumerate(chunks):
        assert chunk.text == text[chunk.start : chunk.end]
        assert chunk.position == position
        assert chunk.id == f"{article.id}:{position}"
        assert chunk.article_id == article.id
        assert chunk.text == chunk.text.strip() and chunk.text
        first, last = sentence_range(sentences, chunk)
        count = last - first + 1
        assert count <= MAX_SENTENCES
        if count > 2 or (count == 2 and not (ranges and ranges[-1][1] == first)):
            # Only a shared sentence and its one neighbour may exceed the target together.
            assert chunk.end - chunk.start <= TARGET_CHARS
        ranges.append((first, last))
    if ranges:
        assert ranges[0][0] == 0 and ranges[-1][1] == len(sentences) - 1
    for (first, last), (next_first, next_last) in zip(ranges, ranges[1:], strict=False):
        if last > first:
            assert next_first == last, "consecutive chunks must share exactly one sentence"
        else:
            assert next_first == last + 1, "a one-sentence chunk is followed by the next one"
        assert next_last > last, "a chunk must not lie wholly inside the previous one"
    return chunks


# --- sentence splitting ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Officials from the U.S. State Department met Mr. Okafor in Vellmar. Talks failed.",
            [
                "Officials from the U.S. State Department met Mr. Okafor in Vellmar.",
                "Talks failed.",
            ],
        ),
        (
            "Sen. J. R. Holt and Dr. Ada Marlow arrived. Gov. Greer stayed away.",
            ["Sen. J. R. Holt and Dr. Ada Marlow arrived.", "Gov. Greer stayed away."],
        ),
        (
            "The U.K. government and the U.N. mission agreed. Mrs. Varga did not.",
            ["The U.K. government and the U.N. mission agreed.", "Mrs. Varga did not."],
        ),
        (
            "It ended on Jan. 5 at 9 a.m. sharp. Prices rose 3.5 percent. Markets fell.",
            ["It ended on Jan. 5 at 9 a.m. sharp.", "Prices rose 3.5 percent.", "Markets fell."],
        ),
    ],
)
def test_abbreviations_and_initials_do_not_end_sentences(text: str, expected: list[str]) -> None:
    assert sentences_of(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "“We will not yield.” The union walked out.",
            ["“We will not yield.”", "The union walked out."],
        ),
        (
            'He said, "It is over." She disagreed.',
            ['He said, "It is over."', "She disagreed."],
        ),
        (
            "Is it true? “Really?” he asked. It was!",
            ["Is it true?", "“Really?” he asked.", "It was!"],
        ),
        (
            "They met (in private.) Then they left.",
            ["They met (in private.)", "Then they left."],
        ),
    ],
)
def test_quotes_and_brackets_close_the_sentence_they_end(text: str, expected: list[str]) -> None:
    assert sentences_of(text) == expected


def test_a_question_mark_before_lowercase_does_not_end_the_sentence() -> None:
    text = "“Who is in charge?” asked the mayor. Nobody answered."
    assert sentences_of(text) == ["“Who is in charge?” asked the mayor.", "Nobody answered."]


def test_newlines_always_end_a_sentence_and_blank_lines_vanish() -> None:
    text = (
        "STRIKE ENTERS SECOND WEEK\n\n  Dockworkers stayed out. Talks resume Monday\nBy Jane Okafor"
    )
    assert sentences_of(text) == [
        "STRIKE ENTERS SECOND WEEK",
        "Dockworkers stayed out.",
        "Talks resume Monday",
        "By Jane Okafor",
    ]
    for start, end in split_sentences(text):
        assert "\n" not in text[start:end]


def test_sentence_offsets_exclude_surrounding_whitespace() -> None:
    text = "  First one.   Second one.\t\n"
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == ["First one.", "Second one."]
    assert spans[0][0] == 2


# --- chunking over real articles -------------------------------------------------------------


def test_chunk_offsets_over_the_seed_and_dev_corpus(repo_root: Path) -> None:
    articles = corpus_articles(repo_root)
    assert len(articles) >= 9  # two seeds and seven dev articles
    for article in articles:
        chunks = check_chunks(article)
        assert chunks, article.path
        text = article.text
        for chunk in chunks:
            # Independently of the splitter: no chunk starts or stops inside a word or sentence.
            assert chunk.start == 0 or text[chunk.start - 1].isspace()
            assert chunk.end == len(text) or text[chunk.end].isspace()
            at_line_end = chunk.end == len(text) or text[chunk.end] == "\n"
            assert at_line_end or text[chunk.end - 1] in TERMINALS + CLOSERS, chunk.text[-40:]


def test_seed_chunks_keep_long_quotes_whole(seed_dir: Path) -> None:
    (article,) = load_file(seed_dir / "000_40cc14212c343330.txt")
    quote = '"I want to thank you. This is an important direction.'
    holding = [c for c in chunk_article(article) if quote in c.text]
    assert holding, "the sentences of Putin's quote were split across chunks or cut"


def test_an_empty_or_blank_text_has_no_chunks() -> None:
    assert chunk_article(make_article("")) == []
    assert chunk_article(make_article(" \n\n\t ")) == []


def test_a_sentence_longer_than_a_chunk_is_kept_whole() -> None:
    long_sentence = "The tribunal heard " + "evidence " * 150 + "today."
    text = f"Short opener. {long_sentence} Short closer."
    chunks = check_chunks(make_article(text))
    assert any(c.text == long_sentence for c in chunks)


def test_many_short_sentences_overlap_by_one() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(30))
    chunks = check_chunks(make_article(text))
    assert len(chunks) > 3
    for previous, following in zip(chunks, chunks[1:], strict=False):
        last_sentence = sentences_of(previous.text)[-1]
        assert following.text.startswith(last_sentence)
        assert sentences_of(following.text)[0] == last_sentence


def test_no_chunk_lies_wholly_inside_the_previous_one() -> None:
    medium = "Negotiators said " + "little " * 90 + "today."  # ~470 chars
    text = f"The strike began. {medium} {medium.replace('today', 'tonight')}"
    chunks = check_chunks(make_article(text))
    assert len(chunks) == 2
    for previous, following in zip(chunks, chunks[1:], strict=False):
        assert not (previous.start <= following.start and following.end <= previous.end), (
            f"chunk {following.position} repeats part of chunk {previous.position}"
        )


# --- chunking over generated text ------------------------------------------------------------

_WORDS = st.sampled_from(
    [
        "strike",
        "union",
        "port",
        "workers",
        "court",
        "ruling",
        "river",
        "mine",
        "talks",
        "ministry",
        "army",
        "village",
        "border",
        "council",
        "said",
        "would",
        "not",
        "the",
        "of",
        "in",
        "on",
        "3.5",
        "42",
        "2,000",
        "mid-2024",
    ]
)
_NAMES = st.sampled_from(
    ["Okafor", "Mr. Okafor", "Dr. J. R. Holt", "the U.S. Navy", "Gov. Marlow", "Sylvania"]
)
_TOKENS = st.one_of(_WORDS, _WORDS, _WORDS, _NAMES)


@st.composite
def _sentence(draw: st.DrawFn) -> str:
    first = draw(st.sampled_from(["The", "Freedonia's", "Workers", "Lawyers", "Mr. Greer"]))
    # Mostly short sentences, some long enough that two of them overflow a chunk.
    size = draw(st.one_of(st.integers(0, 15), st.integers(0, 15), st.integers(50, 110)))
    body = " ".join(draw(st.lists(_TOKENS, min_size=size, max_size=size)))
    end = draw(st.sampled_from(list(".!?")))
    sentence = f"{first} {body}".strip() + end
    if draw(st.booleans()):
        opener, closer = draw(st.sampled_from([("“", "”"), ('"', '"'), ("(", ")")]))
        sentence = opener + sentence + closer
    return sentence


@st.composite
def _text(draw: st.DrawFn) -> tuple[str, list[tuple[int, int]]]:
    sentences = draw(st.lists(_sentence(), min_size=1, max_size=25))
    parts: list[str] = [draw(st.sampled_from(["", " ", "\n"]))]
    spans = []
    for sentence in sentences:
        start = sum(len(p) for p in parts)
        parts.append(sentence)
        spans.append((start, start + len(sentence)))
        parts.append(draw(st.sampled_from([" ", "  ", "\n", "\n\n", " \n"])))
    return "".join(parts), spans


@settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(_text())
def test_generated_text_chunks_are_exact_and_never_cut_a_sentence(
    generated: tuple[str, list[tuple[int, int]]],
) -> None:
    text, true_sentences = generated
    chunks = check_chunks(make_article(text))
    for start, end in true_sentences:
        # Every written sentence lies whole inside some chunk, and no chunk edge falls inside it.
        assert any(c.start <= start and end <= c.end for c in chunks), text[start:end]
        for chunk in chunks:
            assert not start < chunk.start < end
            assert not start < chunk.end < end


@settings(max_examples=100, deadline=None, database=None)
@given(st.text(alphabet=st.sampled_from("ab .!?\n“”\"'()U.S"), max_size=400))
def test_arbitrary_text_chunks_match_their_offsets(text: str) -> None:
    check_chunks(make_article(text))
