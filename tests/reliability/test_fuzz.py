"""Malformed input, fuzzed: whatever bytes a file holds, ingest reports it or indexes it."""

from __future__ import annotations

import codecs
import itertools
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.articles import (
    MAX_FILE_BYTES,
    SUPPORTED_SUFFIXES,
    Article,
    article_id,
    dates,
    discover,
    files,
    load_file,
    text,
    wire,
)
from bot.chunking import chunk_article
from bot.claims import analyse
from bot.config import Settings
from bot.errors import UnreadableArticle
from bot.ingest import ingest
from bot.store import Index, open_store

from .fakes import HashEmbeddings
from .support import assert_consistent

# Example counts are modest so the suite stays fast; the README quotes their sum. Set
# FUZZ_SCALE=20 (say) to fuzz deeper locally.
SCALE = max(1, int(os.environ.get("FUZZ_SCALE", "1")))
EXAMPLES = {
    name: count * SCALE
    for name, count in {
        "bytes": 300,
        "text": 200,
        "structured": 200,
        "metadata": 300,
        "ingest": 25,
    }.items()
}


def fuzz(kind: str) -> settings:
    """Return the hypothesis settings of one fuzz test: its example count, no deadline."""
    return settings(
        max_examples=EXAMPLES[kind],
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


SUFFIXES = sorted(SUPPORTED_SUFFIXES)
RAN: dict[str, int] = dict.fromkeys(EXAMPLES, 0)

GOOD = """title: Ferry services resume at Kessel
outlet: Coastal Times
date: 2031-06-01
---
Ferry services resumed at the port of Kessel on Friday after a two-day storm. The harbour master
said all crossings would run to timetable by Sunday. Operators said {marker} passengers were
rebooked.
"""


# --- strategies -------------------------------------------------------------------------------

_FRAGMENTS = st.sampled_from(
    [
        "---",
        "title: ",
        "outlet: Wire",
        "date: 2031-02-30",
        "published: Dec 2, 2025",
        "By Jane Roe",
        "SOURCE: AA",
        "KYIV, Dec 2 (Reuters) - ",
        "# Heading",
        "<p>",
        "</p>",
        "<script>alert('x')</script>",
        "&amp;&lt;&#x1F600;&#0;&bogus;",
        '{"text": ',
        "]",
        "\ufeff",
        "\x00",
        "\r\n",
        "\u2028",
        "Mr. Smith said.",
        "“Quoted,” he said.",
        "U.S. officials said no.",
        "…",
    ]
)
_TEXT = st.lists(st.one_of(_FRAGMENTS, st.text(max_size=40)), max_size=30).map("".join)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["text", "body", "title", "source", "date", "url", "author", "articles"]
            )
            | st.text(max_size=8),
            inner,
            max_size=5,
        )
    ),
    max_leaves=15,
)


_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _encodings(text: str) -> st.SearchStrategy[bytes]:
    return st.sampled_from(
        [
            text.encode("utf-8", errors="surrogatepass"),
            codecs.BOM_UTF8 + text.encode("utf-8", errors="replace"),
            text.encode("utf-16", errors="surrogatepass"),
            text.encode("utf-16-le", errors="surrogatepass"),
            text.encode("utf-16-be", errors="surrogatepass"),
            text.encode("utf-32", errors="surrogatepass"),
            text.encode("cp1252", errors="replace"),
        ]
    )


# --- the contract every loaded file must honour ----------------------------------------------


def check_loaded(path: Path) -> list[Article] | str:
    """Load a file; return its articles (checked) or the reason it was refused."""
    try:
        loaded = load_file(path)
    except UnreadableArticle as exc:
        assert exc.reason and "\n" not in exc.reason, repr(exc.reason)
        assert exc.path == str(path)
        return exc.reason
    assert loaded, "load_file returned no article and raised nothing"
    for article in loaded:
        assert article.text.strip(), "an article without text"
        assert article.id == article_id(article.text)
        assert isinstance(article.title, str) and article.title.strip()
        assert "\n" not in article.title
        for value in (article.outlet, article.published, article.url, article.author):
            assert value is None or (isinstance(value, str) and value.strip())
        chunks = chunk_article(article)
        assert chunks, "text without a chunk"
        for chunk in chunks:
            assert 0 <= chunk.start < chunk.end <= len(article.text)
            assert chunk.text == article.text[chunk.start : chunk.end]
            assert chunk.id == f"{article.id}:{chunk.position}"
        assert [c.position for c in chunks] == list(range(len(chunks)))
    return loaded


@pytest.fixture
def scratch() -> Iterator[Path]:
    # Hypothesis runs many examples per test; a folder per test, reused, keeps them cheap.
    folder = Path(tempfile.mkdtemp(prefix="newsbot-fuzz-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@fuzz("bytes")
@given(data=st.binary(max_size=4096), suffix=st.sampled_from(SUFFIXES))
def test_arbitrary_bytes_load_or_are_refused_with_a_reason(
    scratch: Path, data: bytes, suffix: str
) -> None:
    RAN["bytes"] += 1
    path = scratch / f"fuzz{suffix}"
    path.write_bytes(data)
    check_loaded(path)


@fuzz("text")
@given(data=st.data(), text=_TEXT, suffix=st.sampled_from(SUFFIXES))
def test_arbitrary_text_in_any_encoding_loads_or_is_refused(
    scratch: Path, data: st.DataObject, text: str, suffix: str
) -> None:
    RAN["text"] += 1
    path = scratch / f"fuzz{suffix}"
    encoded = data.draw(_encodings(text))
    path.write_bytes(encoded)
    result = check_loaded(path)
    if isinstance(result, list) and suffix in (".txt", ".md") and encoded.startswith(_BOMS):
        # Marked text decodes to what was written: each article is a stretch of it.
        def fold(value: str) -> str:
            return " ".join(value.replace("\ufeff", "").split())

        assert all(fold(a.text) in fold(text) for a in result)


@fuzz("structured")
@given(
    value=_JSON,
    kind=st.sampled_from(["json", "jsonl", "html", "md"]),
    wrapper=st.sampled_from(["plain", "list", "wrapped"]),
)
def test_json_of_any_shape_and_markup_load_or_are_refused(
    scratch: Path, value: Any, kind: str, wrapper: str
) -> None:
    RAN["structured"] += 1
    if wrapper == "list":
        value = [value, {"text": value}]
    elif wrapper == "wrapped":
        value = {"status": "ok", "articles": [value, {"title": value, "body": value}]}
    if kind == "json":
        content = json.dumps(value)
    elif kind == "jsonl":
        content = "\n".join(json.dumps(v) for v in (value if isinstance(value, list) else [value]))
    elif kind == "html":
        content = (
            f"<html><head><title>{value}</title><meta property='og:title' content='{value}'>"
            f"<script>var x = {json.dumps(value)};</script></head><body><p>{value}</p></body>"
        )
    else:
        content = f"---\ntitle: {value}\ndate: {value}\n---\n{json.dumps(value)}\n"
    path = scratch / f"fuzz.{kind}"
    path.write_text(content, encoding="utf-8", errors="surrogatepass")
    check_loaded(path)


@fuzz("metadata")
@given(sample=_TEXT)
def test_metadata_extraction_never_raises_and_stays_within_the_text(sample: str) -> None:
    RAN["metadata"] += 1
    fields, body = text.split_front_matter(sample)
    assert sample.endswith(body)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items())
    found = wire.wire_metadata(sample)
    for value in found:
        assert value is None or isinstance(value, str)
    for headline in (True, False):
        title = wire.guess_title(sample, headline=headline)
        limit = max(wire._HEADLINE_MAX_CHARS, wire._TITLE_CHARS + 1)
        assert title is None or (title.strip() and len(title) <= limit and "\n" not in title)
    parsed = dates.parse_date(sample[:80])
    if parsed is not None:
        assert date.fromisoformat(parsed).isoformat() == parsed


# --- named cases ------------------------------------------------------------------------------

HTML = """<!doctype html><html><head><title>Bridge &amp; tunnel reopen</title>
<script>document.write("Ignore this script text");</script><style>p {color: red}</style>
</head><body><nav>Home | News</nav><article><h1>Bridge &amp; tunnel reopen</h1>
<p>The Orr bridge &amp; tunnel reopened on Monday &mdash; officials said &quot;all clear&quot;.
</p><p>Engineers said traffic was &lt;normal&gt;&#33;</p></article>
<script>alert("still not text")</script></body></html>"""


def _named_files(folder: Path) -> dict[str, str]:
    """Write every malformed case into folder; return file name -> expected reason."""
    cases: dict[str, tuple[bytes, str]] = {
        "empty.txt": (b"", "empty file"),
        "blank.md": (b" \n\t\r\n  ", "empty file"),
        "invisible.txt": ("\ufeff\u200b \u2060\n\u00ad".encode(), "empty file"),
        "invisible.json": (b'{"text": "\\u200b\\u2060 "}', "no article text"),
        "binary.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8, "binary"),
        "random.html": (bytes((i * 73 + 11) % 256 for i in range(4096)), "binary"),
        "front-matter-only.md": (b"---\ntitle: Nothing below\n---\n", "no article text"),
        "no-text.html": (b"<html><script>x()</script><nav>menu</nav></html>", "no article text"),
        "wrong-types.json": (b'{"text": 5, "title": ["a"], "body": {"x": 1}}', "no article text"),
        "list-of-junk.json": (b'[1, null, true, "x", [2]]', "no article text"),
        "scalar.json": (b'"just a string"', "no article text"),
        "broken.json": (b'{"text": "unterminated', "invalid JSON"),
        "bad-lines.jsonl": (b"{\nnot json\n[1,\n", "no valid JSON lines"),
        "utf16-odd.txt": (codecs.BOM_UTF16_LE + b"\x00\xd8\x41", "binary file"),
    }
    expected = {}
    for name, (data, reason) in cases.items():
        (folder / name).write_bytes(data)
        expected[name] = reason
    big = folder / "huge.txt"
    with big.open("wb") as handle:  # sparse: 50 MB that cost no disk and no time
        handle.truncate(50 * 1024 * 1024)
    expected["huge.txt"] = "file too large (50 MB > 20 MB)"
    (folder / "loop").mkdir()
    (folder / "loop" / "again").symlink_to(folder / "loop", target_is_directory=True)
    (folder / "self.txt").symlink_to(folder / "self.txt")
    expected["self.txt"] = "broken symbolic link"
    (folder / "dangling.md").symlink_to(folder / "nowhere.md")
    expected["dangling.md"] = "broken symbolic link"
    (folder / "secret.txt").write_text(GOOD.format(marker="secret"), encoding="utf-8")
    expected["secret.txt"] = "permission denied"
    (folder / "scan.pdf").write_bytes(b"%PDF-1.4")
    expected["scan.pdf"] = "unsupported file type .pdf"
    return expected


def _good_files(folder: Path) -> dict[str, str]:
    """Write articles that must be indexed despite their shape; return name -> a word they hold."""
    files = {
        "good.txt": GOOD.format(marker="ninety").encode("utf-8"),
        "latin1.txt": "Le maire a dit que le pont était fermé. Café fermé.".encode("cp1252"),
        "bom-utf16.md": "# Dam holds\nThe dam held overnight, officials said.".encode("utf-16"),
        "utf16-le-no-bom.txt": "The levee held, engineers said on Monday.".encode("utf-16-le"),
        "utf16-be-no-bom.txt": "The sluice gates opened at noon, wardens said.".encode("utf-16-be"),
        "mostly-utf8.txt": "Café owners said the town held.\nBad \xff byte.".encode(
            "latin-1", errors="replace"
        ),
        "utf16-lone-surrogate.txt": "The pier reopened \ud800 on Monday, officials said.".encode(
            "utf-16", errors="surrogatepass"
        ),
        "page.html": HTML.encode("utf-8"),
        "records.json": json.dumps(
            [
                {"title": 7, "text": ["The quay reopened.", 3, None, "Boats sailed again."]},
                {"text": None},
                {"body": "Fishermen said the catch was good.", "date": 1700000000},
            ]
        ).encode(),
    }
    words = {
        "good.txt": "ninety",
        "latin1.txt": "Café",
        "bom-utf16.md": "dam",
        "utf16-le-no-bom.txt": "levee",
        "utf16-be-no-bom.txt": "sluice",
        "mostly-utf8.txt": "owners",
        "utf16-lone-surrogate.txt": "pier",
        "page.html": "tunnel",
        "records.json": "quay",
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return words


def refuse_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every open of a file named secret.txt fail as an unreadable file would."""
    real_open = Path.open

    def guarded(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.name == "secret.txt":  # we run as root, which reads through chmod 000
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", guarded)


@pytest.mark.timeout(60)
def test_named_malformed_files_are_reported_and_every_good_file_is_indexed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    expected = _named_files(folder)
    words = _good_files(folder)
    locked = folder / "locked"
    locked.mkdir()
    (locked / "inside.txt").write_text(GOOD.format(marker="locked"), encoding="utf-8")
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    settings_ = Settings(index_dir=tmp_path / "index")
    index = open_store(settings_, create=True)
    refuse_secret(monkeypatch)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(files.os, "scandir", scandir)
            report = ingest([folder], index, HashEmbeddings(), analyse=analyse)
        reasons = {Path(f.path).name: f.reason for f in report.failed}
        for name, reason in expected.items():
            assert name in reasons, f"{name} not reported"
            assert reason in reasons[name], (name, reasons[name])
        assert reasons["locked"] == "permission denied"
        added = {Path(p.split("#")[0]).name for p in report.added}
        assert added == set(words), reasons
        assert not set(reasons) & set(words)
        for name, word in words.items():
            assert index.catalog.lexical_search(word, 5), f"{name}: {word!r} not searchable"
        titles = {r.title for r in index.catalog.articles()}
        assert "Bridge & tunnel reopen" in titles
        texts = [index.catalog.article_text(r.id) for r in index.catalog.articles()]
        assert not any("script" in t or "alert" in t for t in texts)
        assert any("traffic was <normal>!" in t for t in texts)
    finally:
        index.close()
    assert_consistent(settings_)


def test_a_50_mb_file_is_refused_before_it_is_read(tmp_path: Path, monkeypatch: Any) -> None:
    path = tmp_path / "huge.md"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    opened: list[Path] = []
    real_open = Path.open

    def spy(self: Path, *args: Any, **kwargs: Any) -> Any:
        opened.append(self)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", spy)
    assert check_loaded(path) == "file too large (50 MB > 20 MB)"
    assert path not in opened
    assert MAX_FILE_BYTES == 20 * 1024 * 1024


@pytest.mark.timeout(20)
def test_symlink_loops_end_discovery(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "up").symlink_to(root, target_is_directory=True)
    (root / "a" / "sideways").symlink_to(root / "a" / "b", target_is_directory=True)
    (root / "ping.txt").symlink_to(root / "pong.txt")
    (root / "pong.txt").symlink_to(root / "ping.txt")
    (root / "a" / "b" / "story.txt").write_text(GOOD.format(marker="loop"), encoding="utf-8")
    found, failures = discover([root, root / "a" / "b" / "up"])
    assert [p.name for p in found] == ["story.txt"]
    assert sorted((Path(f.path).name, f.reason) for f in failures) == [
        ("ping.txt", "broken symbolic link"),
        ("pong.txt", "broken symbolic link"),
    ]


# --- a whole ingest, fuzzed -------------------------------------------------------------------

_counter = itertools.count()


@pytest.fixture(scope="module")
def shared_index() -> Iterator[tuple[Settings, Index]]:
    folder = Path(tempfile.mkdtemp(prefix="newsbot-fuzz-index-"))
    settings_ = Settings(index_dir=folder / "index")
    index = open_store(settings_, create=True)
    yield settings_, index
    index.close()
    shutil.rmtree(folder, ignore_errors=True)


@fuzz("ingest")
@given(
    bad=st.lists(
        st.tuples(st.binary(max_size=512) | _TEXT.map(str.encode), st.sampled_from(SUFFIXES)),
        min_size=1,
        max_size=4,
    )
)
def test_a_run_with_fuzzed_files_reports_them_and_indexes_the_good_one(
    shared_index: tuple[Settings, Index], bad: list[tuple[bytes, str]]
) -> None:
    RAN["ingest"] += 1
    settings_, index = shared_index
    number = next(_counter)
    folder = Path(tempfile.mkdtemp(prefix="newsbot-fuzz-run-"))
    try:
        for position, (data, suffix) in enumerate(bad):
            (folder / f"bad{position}{suffix}").write_bytes(data)
        good = folder / "zz-good.txt"
        good.write_text(GOOD.format(marker=f"marker{number}x"), encoding="utf-8")
        # The real attribution pass runs too: the CLI's ingest analyses every article.
        report = ingest([folder], index, HashEmbeddings(), analyse=analyse)
        accounted = [p.split("#")[0] for p in report.added + report.updated + report.skipped]
        accounted += [f.path.split("#")[0] for f in report.failed]
        for path in folder.iterdir():
            assert str(path) in accounted or str(path.resolve()) in accounted, path
        assert all(f.reason and "\n" not in f.reason for f in report.failed)
        assert str(good.resolve()) in report.added
        assert index.catalog.lexical_search(f"marker{number}x", 3)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_zz_fuzz_examples_ran() -> None:
    # Runs last in this module (pytest keeps file order): the counts the README reports.
    ran = {name: count for name, count in RAN.items() if count}
    print(f"\nfuzz examples run: {ran} (total {sum(ran.values())})")
    if len(ran) == len(EXAMPLES):
        assert sum(ran.values()) >= sum(EXAMPLES.values()) // 2
