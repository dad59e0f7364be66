"""Ingest by URL: article pages and RSS/Atom feeds served by a local web site."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from samples import FLOOD, LAWSUIT, STRIKE, NewsSite, atom, html_page, paragraphs, rss, write

import bot.embeddings
from bot.articles.feeds import read_feed
from bot.cli import cli
from bot.fetch import Fetcher
from bot.ingest import ingest
from bot.store import Index

MB = 1024 * 1024
HTML = "text/html; charset=utf-8"


@pytest.fixture
def site() -> Iterator[NewsSite]:
    """Two sample stories on pages with full metadata, one on a bare page, and two feeds.

    The RSS feed also lists a page that is gone, one that answers too late, a binary file
    and a 30 MB page.
    """
    with NewsSite() as news:
        news.add("/news/strike.html", html_page(STRIKE))
        news.add("/news/flood.html", html_page(FLOOD))
        news.add("/news/lawsuit.html", html_page(LAWSUIT, metadata=False))
        news.add("/news/slow.html", html_page(FLOOD), delay=3)
        news.add("/news/photo.jpg", bytes(range(256)) * 64, content_type="application/octet-stream")
        news.add("/news/huge.html", b"word " * (6 * MB))
        news.add(
            "/feeds/harbour.rss",
            rss(
                "Harbour Gazette",
                [
                    (
                        "Floods close the Tessel crossing",
                        news.url("/news/flood.html"),
                        "Mon, 20 Jan 2025 08:00:00 GMT",
                    ),
                    (
                        "Dockworkers strike",
                        news.url("/news/strike.html"),
                        "Tue, 04 Mar 2025 08:00:00 GMT",
                    ),
                    ("Gone", news.url("/news/gone.html"), "Sun, 02 Mar 2025 08:00:00 GMT"),
                    ("Slow", news.url("/news/slow.html"), "Sun, 02 Mar 2025 09:00:00 GMT"),
                    ("Photo", news.url("/news/photo.jpg"), "Sun, 02 Mar 2025 10:00:00 GMT"),
                    ("Huge", news.url("/news/huge.html"), "Sun, 02 Mar 2025 11:00:00 GMT"),
                ],
            ),
            content_type="application/rss+xml",
        )
        news.add(
            "/feeds/okavi.atom",
            atom(
                "Okavi Courier",
                [("Council sues", news.url("/news/lawsuit.html"), "2025-02-11T07:30:00Z")],
            ),
            content_type="application/atom+xml",
        )
        yield news


def fetcher() -> Fetcher:
    return Fetcher(timeout=1.0)


def by_url(index: Index) -> dict[str, object]:
    return {r.url: r for r in index.catalog.articles()}


# --- feeds and pages ----------------------------------------------------------------------------


def test_feeds_are_ingested_item_by_item_and_bad_pages_are_skipped(
    index, site, fake_embeddings
) -> None:
    feeds = [site.url("/feeds/harbour.rss"), site.url("/feeds/okavi.atom")]

    report = ingest(feeds, index, fake_embeddings, fetcher=fetcher())

    strike, flood, lawsuit = (site.url(f"/news/{n}.html") for n in ("strike", "flood", "lawsuit"))
    assert sorted(report.added) == sorted([strike, flood, lawsuit])
    reasons = {f.path: f.reason for f in report.failed}
    assert reasons == {
        site.url("/news/gone.html"): "HTTP 404 Not Found",
        site.url("/news/slow.html"): "timed out after 1 s",
        site.url("/news/photo.jpg"): "not a web page or feed (application/octet-stream)",
        site.url("/news/huge.html"): "page too large (30 MB > 20 MB)",
    }
    records = by_url(index)
    assert set(records) == {strike, flood, lawsuit}
    page = records[strike]
    assert (page.title, page.outlet, page.published, page.path) == (
        "Dockworkers strike at Vellmar",
        "Harbour Gazette",
        "2025-03-04",
        strike,
    )
    text = index.catalog.article_text(page.id)
    assert text.splitlines() == ["Dockworkers strike at Vellmar", *paragraphs(STRIKE)]
    assert "Home" not in text and "Copyright" not in text and "tracker" not in text
    # The bare page says only its title: the feed gives its outlet and date.
    bare = records[lawsuit]
    assert (bare.title, bare.outlet, bare.published) == (
        "Tribal council sues Brightwater Mining",
        "Okavi Courier",
        "2025-02-11",
    )
    assert paragraphs(LAWSUIT)[0] in index.catalog.article_text(bare.id)
    assert records[flood].outlet == "Sylvanian Herald"  # the page's own site name beats the feed's
    assert all(agent.startswith("newsbot/") for _, agent in site.requests)


def test_a_second_run_fetches_the_feed_again_and_skips_unchanged_articles(
    index, site, fake_embeddings
) -> None:
    feed = site.url("/feeds/harbour.rss")
    ingest([feed], index, fake_embeddings, fetcher=fetcher())
    fake_embeddings.reset()

    again = ingest([feed], index, fake_embeddings, fetcher=fetcher())

    assert sorted(again.skipped) == sorted(site.url(f"/news/{n}.html") for n in ("strike", "flood"))
    assert not again.added and not again.updated and len(again.failed) == 4
    assert fake_embeddings.calls == []  # nothing embedded again
    assert site.hits("/feeds/harbour.rss") == 2
    assert site.hits("/news/strike.html") == 2  # once per run, never more

    site.add("/news/flood.html", html_page(FLOOD.replace("at dawn", "at noon")))
    third = ingest([feed], index, fake_embeddings, fetcher=fetcher())
    assert third.updated == [site.url("/news/flood.html")]
    assert len(index.catalog.articles()) == 2
    assert index.catalog.lexical_search("noon", 5) and not index.catalog.lexical_search("dawn", 5)


def test_article_urls_text_pages_and_redirects(index, site, fake_embeddings) -> None:
    text_url = site.add("/plain/strike.txt", STRIKE, content_type="text/plain; charset=utf-8")
    moved = site.add("/old/flood", b"", status=301, location="/news/flood.html")
    missing = site.url("/news/gone.html")

    report = ingest([text_url, moved, missing, text_url], index, fake_embeddings, fetcher=fetcher())

    assert sorted(report.added) == sorted([text_url, moved])
    assert [(f.path, f.reason) for f in report.failed] == [(missing, "HTTP 404 Not Found")]
    records = by_url(index)
    assert records[text_url].title == "Dockworkers strike at Vellmar"  # its front matter
    assert records[text_url].path == text_url
    assert records[moved].title == "Floods close the Tessel crossing"
    assert site.hits("/plain/strike.txt") == 1  # named twice, fetched once


@pytest.mark.parametrize("length", [True, False], ids=["declared", "streamed"])
def test_a_page_over_the_limit_is_refused(site, length: bool) -> None:
    url = site.add("/big.html", b"x" * (30 * MB), length=length)
    with fetcher() as web:
        outcome = web.fetch_all([url])[0]
    expected = "page too large (30 MB > 20 MB)" if length else "page too large (over 20 MB)"
    assert getattr(outcome, "reason", None) == expected


def test_requests_to_one_host_are_limited(site) -> None:
    urls = [site.add(f"/wait/{n}.html", html_page(STRIKE), delay=0.3) for n in range(6)]
    with Fetcher(per_host=2) as web:
        pages = web.fetch_all(urls)
    assert all(getattr(page, "data", b"") for page in pages)
    assert site.busiest == 2  # side by side, but never more than two at a time


def test_a_local_feed_file_is_read_like_a_feed_url(index, site, tmp_path, fake_embeddings) -> None:
    items = [("Strike", site.url("/news/strike.html"), "Tue, 04 Mar 2025 08:00:00 GMT")]
    feed = write(tmp_path / "feeds", "harbour.rss", rss("Harbour Gazette", items))
    write(tmp_path / "feeds", "notes.txt", FLOOD)

    report = ingest([tmp_path / "feeds"], index, fake_embeddings, fetcher=fetcher())

    assert sorted(report.added) == sorted(
        [site.url("/news/strike.html"), str((feed.parent / "notes.txt").resolve())]
    )
    assert not report.failed


def test_feed_items_come_newest_first_and_items_without_a_link_are_reported() -> None:
    items = [
        ("Old", "https://example.org/old", "Mon, 20 Jan 2025 08:00:00 GMT"),
        ("New", "https://example.org/new", "Tue, 04 Mar 2025 08:00:00 GMT"),
        ("Mid", "https://example.org/mid", "Sun, 02 Feb 2025 08:00:00 GMT"),
        ("Local", "/relative/path", "Sun, 02 Feb 2025 08:00:00 GMT"),
    ]
    found, problems = read_feed(rss("Harbour Gazette", items).encode(), "feed.rss")
    assert [item.link.rsplit("/", 1)[1] for item in found] == ["new", "mid", "old"]
    assert found[0].hints.published == "2025-03-04" and found[0].hints.outlet == "Harbour Gazette"
    assert problems == ["item 4 has no web link"]


# --- the command line ---------------------------------------------------------------------------


def test_cli_ingests_urls_with_a_summary_and_reasons(site, fake_embeddings, monkeypatch) -> None:
    monkeypatch.setattr(bot.embeddings, "default_embeddings", lambda *a, **k: fake_embeddings)
    monkeypatch.setattr(fake_embeddings, "prepare_fast_path", lambda *a: False, raising=False)
    runner = CliRunner()
    urls = [site.url("/news/strike.html"), site.url("/news/gone.html")]

    result = runner.invoke(cli, ["ingest", *urls])

    assert result.exit_code == 0, result.output
    assert "added 1, updated 0, skipped 0, failed 1" in result.stdout
    assert f"failed: {urls[1]}: HTTP 404 Not Found" in result.stderr
    again = runner.invoke(cli, ["ingest", "--json", urls[0]])
    assert json.loads(again.stdout)["skipped"] == [urls[0]]
    listed = [
        json.loads(line) for line in runner.invoke(cli, ["sources", "--json"]).stdout.splitlines()
    ]
    assert [(row["url"], row["outlet"]) for row in listed] == [(urls[0], "Harbour Gazette")]
