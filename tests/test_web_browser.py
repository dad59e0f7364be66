"""The real page in headless Chromium: ask, see one column per camp, follow a citation to its
quote highlighted in the article; a hostile article's markup never runs.

Uses Debian's `chromium` through Playwright (never a browser Playwright downloads). Skips when
no browser is installed, except in CI, where `.ci/run` installs one and the test must run.
Writes the README's screenshot, docs/web-page.png.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from reliability.hostile import HOSTILE, PWNED

from bot.chain import WarmAnswerer
from bot.claims import analyse
from bot.config import Settings
from bot.ingest import ingest
from bot.safety import normalise
from bot.store import open_store
from bot.web.app import create_app
from bot.web.command import listen

POKROVSK = "Who controls Pokrovsk?"
ORVELL = "Who runs the sluice gates of Lake Orvell?"
SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "web-page.png"
MAX_SCREENSHOT_BYTES = 200_000
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    """Return Debian's chromium, or skip (fail in CI) with the reason."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    reason = "no browser: install Debian's chromium (apt-get install -y chromium) to run this test"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; .ci/run installs it in CI")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[Any]:
    executable = chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=executable,
            args=ARGS,
            headless=True,
            viewport={"width": 1100, "height": 760},
            device_scale_factor=1,
        )
        yield context
        context.close()


@pytest.fixture(scope="module")
def base_url(tmp_path_factory, seed_dir, real_embeddings) -> Iterator[str]:
    """Serve the seeds and the hostile article with uvicorn on a free port, in a thread."""
    import uvicorn

    root = tmp_path_factory.mktemp("browser")
    hostile = root / "hostile"
    hostile.mkdir()
    (hostile / "orvell.txt").write_text(HOSTILE, encoding="utf-8")
    settings = Settings(index_dir=root / "index", rate_limit=0, _env_file=None)
    index = open_store(settings, create=True)
    report = ingest([seed_dir, hostile], index, real_embeddings, analyse=analyse)
    assert len(report.added) == 3, report.failed
    answerer = WarmAnswerer(settings, index=index, embeddings=real_embeddings)
    sock = listen("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(create_app(settings, answerer), log_config=None))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(10)
    sock.close()
    index.close()


@pytest.fixture
def page(browser) -> Iterator[Any]:
    tab = browser.new_page()
    tab.dialogs = []  # every alert() the page tries to open
    tab.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
    yield tab
    tab.close()


def ask(page: Any, base_url: str, question: str) -> None:
    page.goto(base_url + "/")
    page.fill("#q", question)
    with page.expect_navigation():
        page.click("button[type=submit]")


def sides_of(base_url: str, page: Any, question: str) -> list[str]:
    """Return the side labels the API's answer gives, in order."""
    answer = page.request.post(base_url + "/api/ask", data={"question": question}).json()
    return list(dict.fromkeys(claim["side"] for claim in answer["claims"]))


def assert_highlighted(page: Any, quote: str) -> None:
    mark = page.locator("mark#quote")
    assert mark.count() == 1
    assert normalise(mark.inner_text()) == normalise(quote)
    background = mark.evaluate("m => getComputedStyle(m).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    box = mark.bounding_box()
    viewport = page.viewport_size
    assert box is not None and 0 <= box["y"] < viewport["height"]  # scrolled to the quote


def test_each_camp_has_a_column_and_a_citation_opens_the_quote(page, base_url) -> None:
    ask(page, base_url, POKROVSK)
    assert page.locator("h1.question").inner_text() == POKROVSK
    columns = page.locator("section.camp")
    labels = [columns.nth(i).locator("h2").inner_text() for i in range(columns.count())]
    assert labels == sides_of(base_url, page, POKROVSK)
    russia = next(label for label in labels if "Russia" in label)
    ukraine = next(label for label in labels if "Ukrain" in label)
    left = page.locator(f'section.camp[data-side="{russia}"]').bounding_box()
    right = page.locator(f'section.camp[data-side="{ukraine}"]').bounding_box()
    assert left and right and left["y"] == right["y"] and left["x"] != right["x"]  # side by side
    for label in (russia, ukraine):
        claims = page.locator(f'section.camp[data-side="{label}"] li.claim')
        assert claims.count() >= 1
        assert claims.first.locator(".claimant").inner_text().strip()

    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), clip={"x": 0, "y": 0, "width": 1100, "height": 760})
    assert 0 < SCREENSHOT.stat().st_size < MAX_SCREENSHOT_BYTES

    citation = page.locator(f'section.camp[data-side="{ukraine}"] a.cite').first
    quote = parse_qs(urlsplit(citation.get_attribute("href") or "").query)["quote"][0]
    with page.expect_navigation():
        citation.click()
    assert urlsplit(page.url).path.startswith("/articles/")
    assert urlsplit(page.url).fragment == "quote"
    assert_highlighted(page, quote)


def test_the_page_fits_a_phone(browser, base_url) -> None:
    phone = browser.new_page()
    try:
        phone.set_viewport_size({"width": 390, "height": 844})
        phone.goto(base_url + "/?" + urlencode({"q": POKROVSK}))
        columns = phone.locator("section.camp")
        assert columns.count() >= 2
        first, second = columns.nth(0).bounding_box(), columns.nth(1).bounding_box()
        assert first and second and first["x"] == second["x"] and second["y"] > first["y"]
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        phone.close()


def test_a_follow_up_keeps_the_thread(page, base_url) -> None:
    ask(page, base_url, POKROVSK)
    page.fill("#q", "and Vovchansk?")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.locator("h1.question").inner_text() == "Who controls Vovchansk?"
    assert POKROVSK in page.locator("section.thread").inner_text()


def test_a_hostile_article_shows_its_markup_as_text_and_runs_none_of_it(page, base_url) -> None:
    ask(page, base_url, ORVELL)
    script = f"<script>window.{PWNED}=1;alert(1)</script>"
    assert script in page.locator("article.answer").inner_text()
    assert page.locator("article.answer script, article.answer img").count() == 0
    cites = page.locator("a.cite")
    hrefs = [cites.nth(i).get_attribute("href") or "" for i in range(cites.count())]
    hostile = next(h for h in hrefs if "<script>" in parse_qs(urlsplit(h).query)["quote"][0])
    assert_nothing_ran(page)
    citation = page.locator(f'a.cite[href="{hostile}"]').first
    with page.expect_navigation():
        citation.click()
    text = page.locator("article.source-text").inner_text()
    assert script in text and '<img src=x onerror="window.__pwned=1">' in text
    assert_highlighted(page, parse_qs(urlsplit(hostile).query)["quote"][0])
    assert_nothing_ran(page)


def assert_nothing_ran(page: Any) -> None:
    page.wait_for_timeout(300)  # time for an onerror or a script to have run, were one there
    assert page.evaluate(f"typeof window.{PWNED}") == "undefined"
    assert page.dialogs == []
