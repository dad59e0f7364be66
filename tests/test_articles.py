"""Tests for loading articles: formats, metadata, bad inputs, discovery and identity."""

from __future__ import annotations

import codecs
import json
import os
from pathlib import Path
from typing import Any

import pytest

import bot.articles.files
from bot import articles
from bot.articles import (
    MAX_FILE_BYTES,
    SUPPORTED_SUFFIXES,
    Article,
    article_id,
    discover,
    load_file,
    normalise_text,
)
from bot.errors import UnreadableArticle

REPO = Path(__file__).resolve().parents[1]
REUTERS_SEED = "000_40cc14212c343330.txt"
TRT_SEED = "001_ccc8396b4396ac85.txt"


def seed(name: str) -> Path:
    return REPO / "data" / "articles" / name


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def load_one(path: Path) -> Article:
    loaded = load_file(path)
    assert len(loaded) == 1
    return loaded[0]


def reason_of(path: Path) -> str:
    with pytest.raises(UnreadableArticle) as caught:
        load_file(path)
    assert caught.value.path == str(path)
    return caught.value.reason


# --- the seeds and the dev corpus ------------------------------------------------------------


def test_reuters_seed_metadata_comes_from_byline_and_dateline() -> None:
    path = seed(REUTERS_SEED)
    article = load_one(path)
    assert article.outlet == "Reuters"
    assert article.author == "Andrew Osborn"
    assert article.published == "Dec 2"  # no year in the dateline, so none is invented
    # No headline in the file: the title is the first sentence, after the dateline, shortened.
    assert article.title.startswith("President Vladimir Putin hailed what his commanders said")
    assert article.title.endswith("…")
    assert len(article.title) <= 121
    assert article.text == path.read_text(encoding="utf-8").strip()
    assert article.path == str(path.resolve())
    assert article.url is None
    assert article.id == article_id(article.text)


def test_trt_seed_metadata_comes_from_headline_date_line_and_source_line() -> None:
    article = load_one(seed(TRT_SEED))
    assert article.title == "Russia claims capture of Ukraine's key city of Pokrovsk"
    assert article.outlet == "TRT World"  # not the "/ Reuters" of a photo caption
    assert article.published == "2025-12-01"
    assert article.author is None
    assert article.text.endswith("SOURCE:TRT World & Agencies")


def test_dev_article_front_matter_is_parsed_and_body_kept_verbatim() -> None:
    path = REPO.parent / "shared" / "corpus" / "dev" / "001_soledar_guardian.txt"
    article = load_one(path)
    assert article.title == "Ukraine military denies Russian forces have captured Soledar"
    assert article.outlet == "The Guardian"
    assert article.published == "2023-01-11"
    assert article.url == (
        "https://www.theguardian.com/world/2023/jan/11/"
        "ukraine-military-denies-russian-forces-have-captured-soledar"
    )
    assert article.text.startswith("Ukraine’s military has denied that Russian forces")
    assert article.text in path.read_text(encoding="utf-8")
    assert "outlet:" not in article.text


# --- front matter ----------------------------------------------------------------------------

BODY = "Troops held the town on Monday, officials said.\n\nFighting went on."


@pytest.mark.parametrize(
    "header",
    [
        "title: A Town Holds\noutlet: Example News\ndate: 2023-01-11\nurl: https://e.org/a\n---\n",
        "---\ntitle: A Town Holds\noutlet: Example News\ndate: 2023-01-11\nurl: https://e.org/a\n---\n",
        'title: "A Town Holds"\nsource: \'Example News\'\npublished: "January 11, 2023"\n'
        "link: https://e.org/a\n---\n",
        "Title: A Town Holds\nPublisher: Example News\nDate: 11 January 2023\nURL: https://e.org/a\n"
        "---\n\n",
        "\ufefftitle: A Town Holds\r\noutlet: Example News\r\ndate: 2023-01-11\r\n"
        "url: https://e.org/a\r\n---\r\n",
    ],
    ids=["plain", "fenced", "quoted-and-aliases", "capitalised-keys", "bom-crlf"],
)
def test_front_matter_variants(tmp_path: Path, header: str) -> None:
    path = write(tmp_path, "a.txt", header + BODY + "\n")
    article = load_one(path)
    assert article.title == "A Town Holds"
    assert article.outlet == "Example News"
    assert article.published == "2023-01-11"
    assert article.url == "https://e.org/a"
    assert article.text.replace("\r\n", "\n") == BODY


def test_front_matter_author_and_unparseable_date_kept_as_text(tmp_path: Path) -> None:
    path = write(tmp_path, "a.txt", "title: T x\nbyline: Jane Roe\ndate: Dec 2\n---\n" + BODY)
    article = load_one(path)
    assert article.author == "Jane Roe"
    assert article.published == "Dec 2"


def test_quotes_around_separate_quotations_are_kept(tmp_path: Path) -> None:
    path = write(tmp_path, "a.txt", "title: 'Fakes' — leader says 'no'\n---\n" + BODY)
    assert load_one(path).title == "'Fakes' — leader says 'no'"


def test_first_line_with_colon_is_text_not_front_matter(tmp_path: Path) -> None:
    content = "UPDATE: Officials say the town still holds\nBy Jane Roe\n" + BODY + "\n"
    article = load_one(write(tmp_path, "a.txt", content))
    assert article.text == content.strip()
    assert article.title == "UPDATE: Officials say the town still holds"
    assert article.author == "Jane Roe"


def test_key_value_lines_need_a_closing_line_and_known_keys(tmp_path: Path) -> None:
    unclosed = "title: A Town Holds\noutlet: Example News\n" + BODY
    assert load_one(write(tmp_path, "a.txt", unclosed)).text == unclosed
    unknown = "Note: written in haste\n---\n" + BODY
    assert load_one(write(tmp_path, "b.txt", unknown)).text == unknown


def test_front_matter_without_body_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "a.txt", "title: Only a title\n---\n\n  \n")
    assert reason_of(path) == "no article text"


def test_markdown_heading_gives_title_unless_front_matter_has_one(tmp_path: Path) -> None:
    text = "Intro line, said.\n\n# The Heading\n\n" + BODY
    assert load_one(write(tmp_path, "a.md", text)).title == "The Heading"
    article = load_one(write(tmp_path, "b.md", "title: From Front Matter\n---\n" + text))
    assert article.title == "From Front Matter"
    assert article.text == text


def test_title_falls_back_to_first_sentence(tmp_path: Path) -> None:
    path = write(tmp_path, "a.txt", BODY)
    assert load_one(path).title == "Troops held the town on Monday, officials said"


# --- datelines and dates ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "outlet", "published"),
    [
        ("KYIV, Ukraine, Jan 11 (Reuters) - Troops held.", "Reuters", "Jan 11"),
        ("WASHINGTON (AP) — Troops held.", "AP", None),
        ("LONDON, Dec. 2, 2025 (Reuters) – Troops held.", "Reuters", "2025-12-02"),
    ],
)
def test_datelines(tmp_path: Path, line: str, outlet: str, published: str | None) -> None:
    article = load_one(write(tmp_path, "a.txt", line + "\nMore text here."))
    assert article.outlet == outlet
    assert article.published == published
    assert article.title == "Troops held"


def test_full_date_line_beats_dateline_and_dateline_beats_source(tmp_path: Path) -> None:
    content = (
        "Headline Of The Day\nMonday, December 1, 2025 10:32 GMT\n"
        "MOSCOW, Dec 2 (Reuters) - Troops held.\n\nSOURCE: Other Wire and agencies\n"
    )
    article = load_one(write(tmp_path, "a.txt", content))
    assert article.published == "2025-12-01"
    assert article.outlet == "Reuters"
    assert load_one(
        write(tmp_path, "b.txt", BODY + "\nSource: Other Wire & Agencies\n")
    ).outlet == ("Other Wire")


def test_sentence_starting_with_by_is_no_byline(tmp_path: Path) -> None:
    content = "By Tuesday, the town had fallen.\nBy the river, troops dug in\n"
    assert load_one(write(tmp_path, "a.txt", content)).author is None


# --- HTML ------------------------------------------------------------------------------------

HTML_PAGE = """<!doctype html>
<html><head>
<title>Town holds | Example News</title>
<meta property="og:title" content="Town holds, officials say">
<meta property="og:site_name" content="Example News">
<meta name="author" content="Jane Roe">
<meta property="article:published_time" content="2025-12-02T10:15:00+00:00">
<link rel="canonical" href="https://example.org/town-holds">
<style>p { color: red }</style>
<script>var secret = "tracking";</script>
</head>
<body>
<header><nav><a href="/">Home</a> Menu</nav></header>
<article>
<h1>Town holds</h1>
<p>Officials said Tom &amp; Jerry&#8217;s   shop
   was untouched.</p>
<p>A second<br>line &lt;here&gt;.</p>
<ul><li>First point</li><li>Second point</li></ul>
<script>document.write("injected")</script>
</article>
<aside>Related stories</aside>
<footer>Copyright</footer>
</body></html>
"""


def test_html_text_and_metadata(tmp_path: Path) -> None:
    article = load_one(write(tmp_path, "a.html", HTML_PAGE))
    lines = [line for line in article.text.splitlines() if line]
    assert lines == [
        "Town holds",
        "Officials said Tom & Jerry’s shop was untouched.",
        "A second",
        "line <here>.",
        "- First point",  # list items keep their marker
        "- Second point",
    ]
    for hidden in ("tracking", "injected", "color", "Menu", "Home", "Related", "Copyright"):
        assert hidden not in article.text
    assert article.title == "Town holds, officials say"
    assert article.outlet == "Example News"
    assert article.author == "Jane Roe"
    assert article.published == "2025-12-02"
    assert article.url == "https://example.org/town-holds"


def test_html_fallbacks_title_tag_time_and_og_url(tmp_path: Path) -> None:
    page = (
        "<html><head><title>Plain Title</title>"
        '<meta property="og:url" content="https://example.org/x"></head>'
        '<body><time datetime="2024-03-05">March 5</time><div>Body text here.</div></body></html>'
    )
    article = load_one(write(tmp_path, "a.htm", page))
    assert article.title == "Plain Title"
    assert article.published == "2024-03-05"
    assert article.url == "https://example.org/x"
    assert article.outlet == "example.org"  # no site name: the host the page says it is from


def test_html_without_text_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "a.html", "<html><script>only()</script><nav>menu</nav></html>")
    assert reason_of(path) == "no article text"


# --- JSON and JSON Lines ---------------------------------------------------------------------


def test_json_object(tmp_path: Path) -> None:
    record = {
        "headline": "Town holds",
        "body": ["First paragraph.", "Second paragraph."],
        "source": {"id": None, "name": "Example News"},
        "publishedAt": "2025-12-02T08:00:00Z",
        "link": "https://example.org/a",
        "authors": ["Jane Roe", "John Doe"],
    }
    article = load_one(write(tmp_path, "a.json", json.dumps(record)))
    assert article.title == "Town holds"
    assert article.text == "First paragraph.\n\nSecond paragraph."
    assert article.outlet == "Example News"
    assert article.published == "2025-12-02"
    assert article.url == "https://example.org/a"
    assert article.author == "Jane Roe, John Doe"
    assert article.path == str((tmp_path / "a.json").resolve())


def test_json_list_skips_invalid_records(tmp_path: Path) -> None:
    records = [
        {"title": "One", "text": "First story text."},
        {"title": "No text here"},
        "not an object",
        {"title": "Two", "content": "Second story text.", "outlet": "Wire"},
    ]
    loaded = load_file(write(tmp_path, "a.json", json.dumps(records)))
    assert [(a.title, a.outlet) for a in loaded] == [("One", None), ("Two", "Wire")]


def test_json_wrapper_with_article_list(tmp_path: Path) -> None:
    document = {"status": "ok", "articles": [{"title": "One", "content": "Story text."}]}
    assert load_one(write(tmp_path, "a.json", json.dumps(document))).title == "One"


def test_json_wrong_types(tmp_path: Path) -> None:
    record = {"title": 42, "text": "Story text. More.", "date": 1700000000, "url": 7, "source": []}
    article = load_one(write(tmp_path, "a.json", json.dumps(record)))
    assert article.title == "42"
    assert article.published is None
    assert article.url is None
    assert article.outlet is None
    untitled = load_one(write(tmp_path, "b.json", json.dumps({"title": {}, "text": "Story."})))
    assert untitled.title == "Story"
    assert reason_of(write(tmp_path, "c.json", json.dumps({"text": {"a": 1}}))) == (
        "no article text"
    )
    assert reason_of(write(tmp_path, "d.json", json.dumps({"text": 12}))) == "no article text"
    assert reason_of(write(tmp_path, "e.json", "[1, 2]")) == "no article text"


def test_invalid_json_is_refused(tmp_path: Path) -> None:
    assert reason_of(write(tmp_path, "a.json", '{"title": "x",')).startswith("invalid JSON")


def test_jsonl_skips_bad_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"title": "One", "text": "First story."}),
        "{not json",
        "",
        json.dumps({"title": "Two", "text": "Second story."}),
        json.dumps({"title": "Same text again", "text": "First  story."}),
    ]
    loaded = load_file(write(tmp_path, "a.jsonl", "\n".join(lines)))
    assert [a.title for a in loaded] == ["One", "Two"]  # the repeated text is kept once


def test_jsonl_without_good_lines_is_refused(tmp_path: Path) -> None:
    assert reason_of(write(tmp_path, "a.jsonl", "{bad\n[also bad\n")) == "no valid JSON lines"
    no_text = json.dumps({"title": "x"}) + "\n"
    assert reason_of(write(tmp_path, "b.jsonl", no_text)) == "no article text"


# --- bad inputs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b" \n\t\r\n  ", "empty file"),
        (codecs.BOM_UTF16_LE + " \n ".encode("utf-16-le"), "empty file"),
        (b"Some text\x00\x01\x02 more text", "binary file"),
        (bytes(range(1, 32)) * 20, "binary file"),
    ],
    ids=["empty", "whitespace", "utf16-whitespace", "nul", "control-chars"],
)
def test_refused_contents(tmp_path: Path, content: bytes, reason: str) -> None:
    assert reason_of(write(tmp_path, "a.txt", content)) == reason


def test_invalid_utf8_is_decoded_with_replacement(tmp_path: Path) -> None:
    path = write(
        tmp_path, "a.txt", "Café owners said the town held.\n".encode() + b"Bad \xff byte.\n"
    )
    article = load_one(path)
    assert article.text == "Café owners said the town held.\nBad \ufffd byte."


def test_legacy_encoding_is_guessed(tmp_path: Path) -> None:
    content = "Ukraine’s military said “no” — again, officials said."
    article = load_one(write(tmp_path, "a.txt", content.encode("cp1252")))
    assert article.text == content


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-8-sig"])
def test_byte_order_marks(tmp_path: Path, encoding: str) -> None:
    content = "Town holds\nOfficials said “no”, again."
    data = content.encode(encoding)
    if encoding == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    article = load_one(write(tmp_path, "a.txt", data))
    assert article.text == content
    assert article.title == "Town holds"


def test_too_large_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    with path.open("wb") as handle:  # sparse: costs no disk and no time
        handle.truncate(MAX_FILE_BYTES + 5 * 1024 * 1024)
    assert reason_of(path) == "file too large (25 MB > 20 MB)"


def test_size_limit_is_a_module_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "a.txt", "x" * 300)
    monkeypatch.setattr(bot.articles.files, "MAX_FILE_BYTES", 200)
    assert reason_of(path) == "file too large (300 bytes > 200 bytes)"


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "a.txt", BODY)
    if os.geteuid() == 0:  # root reads through chmod 000, so simulate the refusal
        real_open = Path.open

        def refuse(self: Path, *args: Any, **kwargs: Any) -> Any:
            if self == path:
                raise PermissionError(13, "Permission denied", str(self))
            return real_open(self, *args, **kwargs)

        monkeypatch.setattr(Path, "open", refuse)
        assert reason_of(path) == "permission denied"
    else:
        path.chmod(0)
        try:
            assert reason_of(path) == "permission denied"
        finally:
            path.chmod(0o644)


def test_folder_missing_and_unsupported_paths(tmp_path: Path) -> None:
    folder = tmp_path / "looks_like.txt"
    folder.mkdir()
    assert reason_of(folder) == "is a folder, not a file"
    assert reason_of(tmp_path / "missing.txt") == "no such file or folder"
    assert reason_of(write(tmp_path, "a.pdf", b"%PDF-1.4")) == "unsupported file type .pdf"


def test_relative_path_becomes_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "a.txt", BODY)
    monkeypatch.chdir(tmp_path)
    assert load_one(Path("a.txt")).path == str((tmp_path / "a.txt").resolve())


# --- discovery -------------------------------------------------------------------------------


def test_discover_walks_folders_sorted_skipping_hidden(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    (root / "b").mkdir(parents=True)
    (root / ".hidden_dir").mkdir()
    for name in ("b/z.md", "a.TXT", "c.json", ".hidden.txt", ".hidden_dir/x.txt", "notes.pdf"):
        (root / name).write_text("text")
    outside = write(tmp_path, "single.html", "<p>x</p>")

    found, failures = discover([outside, root, tmp_path / "nope", root / "a.TXT"])

    assert found == [outside, root / "a.TXT", root / "b" / "z.md", root / "c.json"]
    assert [(Path(f.path).name, f.reason) for f in failures] == [
        ("notes.pdf", "unsupported file type .pdf"),
        ("nope", "no such file or folder"),
    ]
    again, _ = discover([root])
    assert again == sorted(again)


def test_discover_reports_explicit_unsupported_and_accepts_a_single_path(tmp_path: Path) -> None:
    path = write(tmp_path, "scan.pdf", b"%PDF")
    found, failures = discover(path)  # type: ignore[arg-type]
    assert found == []
    assert failures == [articles.LoadFailure(str(path), "unsupported file type .pdf")]


@pytest.mark.timeout(10)
def test_discover_survives_symlink_loops(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    (root / "sub").mkdir(parents=True)
    write(root / "sub", "a.txt", BODY)
    (root / "sub" / "up").symlink_to(root, target_is_directory=True)
    (root / "self.txt").symlink_to(root / "self.txt")
    (root / "alias.txt").symlink_to(root / "sub" / "a.txt")

    found, failures = discover([root])

    assert [path.name for path in found] == ["alias.txt"]  # a.txt reached twice, kept once
    assert [(Path(f.path).name, f.reason) for f in failures] == [
        ("self.txt", "broken symbolic link")
    ]


def test_supported_suffixes() -> None:
    assert {".txt", ".md", ".html", ".htm", ".json", ".jsonl"} == SUPPORTED_SUFFIXES


# --- identity --------------------------------------------------------------------------------


def test_article_id_ignores_whitespace_and_typographic_quotes() -> None:
    a = "Ukraine’s army said: “it is not true.”\n\n  Fighting continues."
    b = 'Ukraine\'s army said: "it is not true." Fighting\u00a0continues.  '
    assert (
        normalise_text(a)
        == normalise_text(b)
        == ('Ukraine\'s army said: "it is not true." Fighting continues.')
    )
    assert article_id(a) == article_id(b)
    assert len(article_id(a)) == 16
    assert article_id(a) != article_id("Ukraine's army said it is true. Fighting continues.")
    assert article_id("Case") != article_id("case")  # identity is not case-folded
