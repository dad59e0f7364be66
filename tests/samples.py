"""The sample articles every test uses, and a local web site that publishes them.

Invented towns, people and outlets. Each story is a text file with front matter; `html_page`
renders one as a news site would, and `NewsSite` serves pages and feeds from 127.0.0.1.
"""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

from bot.articles import Article, article_id

STRIKE = """title: Dockworkers strike at Vellmar
outlet: Harbour Gazette
date: 2025-03-04
url: https://example.org/vellmar-strike
---
Dockworkers walked off the job at the port of Vellmar on Monday. The union said wages had not
risen in three years. The port authority said the strike was unlawful.

Union spokeswoman Jane Okafor said the strike would last until every worker was paid. Ships
queued outside the harbour mouth as cranes stood idle. Traders warned of shortages.
"""

LAWSUIT = """title: Tribal council sues Brightwater Mining
outlet: Okavi Courier
date: 2025-02-11
---
The Okavi tribal council filed a lawsuit against Brightwater Mining on Tuesday. The council
claimed the company's mine had poisoned the river. Lawyers for Brightwater said the suit was
baseless.
"""

FLOOD = """title: Floods close the Tessel crossing
outlet: Sylvanian Herald
date: 2025-01-20
---
Floods closed the Tessel border crossing on Sunday. Governor Ada Marlow said the road would
reopen within a week. Engineers inspected the bridge at dawn.
"""


def article(text: str, outlet: str | None = "Harbour Gazette") -> Article:
    """Return an article of one text written for a test, as the loader would give it."""
    return Article(
        id=article_id(text),
        title="Test article",
        outlet=outlet,
        published="2031-03-04",
        url=None,
        path="/nowhere/test.txt",
        text=text,
    )


def write(folder: Path, name: str, content: str | bytes) -> Path:
    """Write a file (text as UTF-8), creating its folder."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def fields_and_body(story: str) -> tuple[dict[str, str], str]:
    """Split a sample story into its front matter fields and its body."""
    head, _, body = story.partition("---\n")
    fields = dict(line.split(": ", 1) for line in head.strip().splitlines())
    return fields, body.strip()


def paragraphs(story: str) -> list[str]:
    """Return a story's paragraphs, each on one line, as a page shows them."""
    return [" ".join(block.split()) for block in fields_and_body(story)[1].split("\n\n")]


def html_page(story: str, *, metadata: bool = True) -> str:
    """Render a story as a news site's page: metadata in the head, menus and footer around it.

    Without `metadata` the page has only a <title>: no site name, date or author.
    """
    fields, _ = fields_and_body(story)
    title = html.escape(fields["title"])
    meta = ""
    if metadata:
        meta = (
            f'<meta property="og:title" content="{title}">\n'
            f'<meta property="og:site_name" content="{html.escape(fields["outlet"])}">\n'
            f'<meta property="article:published_time" content="{fields["date"]}T08:00:00Z">\n'
        )
    body = "\n".join(f"<p>{html.escape(text)}</p>" for text in paragraphs(story))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{title}</title>
{meta}<script>var tracker = "do not index";</script>
</head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>
<article><h1>{title}</h1>
{body}
</article>
<footer>Copyright the publisher. All rights reserved.</footer>
</body></html>
"""


def rss(title: str, items: list[tuple[str, str, str]]) -> str:
    """Return an RSS 2.0 feed of (title, link, RFC 822 date) items."""
    entries = "".join(
        f"<item><title>{html.escape(t)}</title><link>{html.escape(link)}</link>"
        f"<pubDate>{day}</pubDate></item>\n"
        for t, link, day in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{html.escape(title)}</title><link>https://example.org/</link>\n"
        f"{entries}</channel></rss>\n"
    )


def atom(title: str, items: list[tuple[str, str, str]]) -> str:
    """Return an Atom feed of (title, link, ISO timestamp) entries."""
    entries = "".join(
        f"<entry><title>{html.escape(t)}</title><link rel='alternate' href='{html.escape(link)}'/>"
        f"<id>{html.escape(link)}</id><updated>{when}</updated></entry>\n"
        for t, link, when in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{html.escape(title)}</title><id>urn:sample</id>"
        f"<updated>2025-03-04T08:00:00Z</updated>\n{entries}</feed>\n"
    )


@dataclass
class Response:
    """What the site answers on one path."""

    body: bytes | Callable[[], bytes] = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    delay: float = 0.0  # seconds before answering
    length: bool = True  # send Content-Length (False: stream until the connection closes)
    location: str | None = None  # for redirects


@dataclass
class NewsSite:
    """A web site on 127.0.0.1 that serves `routes` and records every request it gets."""

    routes: dict[str, Response] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (path, User-Agent)
    busiest: int = 0  # most requests in flight at once
    _busy: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def url(self, path: str) -> str:
        """Return the address of a path on this site."""
        assert self._server is not None, "the site is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def add(self, path: str, body: str | bytes | Callable[[], bytes], **options: object) -> str:
        """Serve body at path and return its address."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[path] = Response(data, **options)  # type: ignore[arg-type]
        return self.url(path)

    def hits(self, path: str) -> int:
        """Count the requests made for a path."""
        return sum(1 for asked, _ in self.requests if asked == path)

    def __enter__(self) -> NewsSite:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
                with site._lock:
                    site.requests.append((self.path, self.headers.get("User-Agent", "")))
                    site._busy += 1
                    site.busiest = max(site.busiest, site._busy)
                try:
                    self._answer(site.routes.get(self.path))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (too large, too slow), as it should
                finally:
                    with site._lock:
                        site._busy -= 1

            def _answer(self, response: Response | None) -> None:
                if response is None:
                    self.send_error(404, "Not Found")
                    return
                time.sleep(response.delay)
                body = response.body() if callable(response.body) else response.body
                self.send_response(response.status)
                self.send_header("Content-Type", response.content_type)
                if response.location:
                    self.send_header("Location", site.url(response.location))
                if response.length:
                    self.send_header("Content-Length", str(len(body)))
                else:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                for start in range(0, len(body), 1 << 20):
                    self.wfile.write(body[start : start + (1 << 20)])

            def log_message(self, format: str, *args: object) -> None:
                """Keep test output quiet."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
