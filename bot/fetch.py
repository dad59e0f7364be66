"""Fetching web pages for ingest: timeouts, a size limit, a clear User-Agent, polite concurrency.

A page that cannot be had (an HTTP error, a timeout, a body that is neither a page nor a feed, one
over the size limit) raises `UnreadableArticle` with a one-line reason, as a bad file does.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from bot.articles.decoding import size_text
from bot.errors import UnreadableArticle

TIMEOUT = 20.0  # seconds for a whole page: connecting, waiting and reading
MAX_PAGE_BYTES = 20 * 1024 * 1024  # as for files: real articles are far smaller
PER_HOST = 2  # requests at a time to one host, so a feed's fifty links do not hammer a site
WORKERS = 8  # requests at a time in all
AHEAD = 16  # pages fetched ahead of the one being read, so slow hosts overlap
_MAX_REDIRECTS = 5
# Media types that can hold an article or a feed; anything else is refused before its body.
_TEXTUAL = ("text/", "application/xhtml+xml", "application/xml", "application/json")
_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml")


def _user_agent() -> str:
    try:
        release = version("newsbot")
    except PackageNotFoundError:  # run from a source tree that was never installed
        release = "dev"
    return f"newsbot/{release} (news question answering; fetches articles and feeds for ingest)"


def is_url(value: object) -> bool:
    """Tell a web address (http or https) from a file path."""
    return isinstance(value, str) and value.lower().startswith(("http://", "https://"))


@dataclass(frozen=True)
class Page:
    """A fetched page: its body and what the server said it is."""

    url: str  # as asked for
    final_url: str  # after redirects
    media_type: str  # "text/html", without parameters; "" when the server gave none
    charset: str | None
    data: bytes


class Fetcher:
    """Fetch pages over HTTP(S), a few at a time and at most `per_host` at a time per host."""

    def __init__(
        self,
        *,
        timeout: float = TIMEOUT,
        max_bytes: int = MAX_PAGE_BYTES,
        per_host: int = PER_HOST,
        workers: int = WORKERS,
        ahead: int = AHEAD,
        transport: Any = None,
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.per_host = per_host
        self.workers = workers
        self.ahead = ahead
        self._transport = transport  # tests may inject an httpx transport
        self._client: Any = None
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._hosts: dict[str, threading.BoundedSemaphore] = {}
        self._queue: deque[str] = deque()
        self._started: dict[str, Future[Page]] = {}

    # -- one page ----------------------------------------------------------------------------

    def fetch(self, url: str) -> Page:
        """Fetch one page now, raising UnreadableArticle with the reason it cannot be had."""
        import httpx

        host = (urlsplit(url).hostname or "").lower()
        with self._host_slot(host):
            try:
                return self._get(url)
            except httpx.TimeoutException as exc:
                raise UnreadableArticle(url, f"timed out after {self.timeout:g} s") from exc
            except httpx.TooManyRedirects as exc:
                raise UnreadableArticle(url, "too many redirects") from exc
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
                raise UnreadableArticle(url, "not a valid web address") from exc
            except httpx.ConnectError as exc:
                raise UnreadableArticle(url, f"cannot connect to {host or url}") from exc
            except httpx.HTTPError as exc:
                raise UnreadableArticle(url, f"download failed ({type(exc).__name__})") from exc

    def _get(self, url: str) -> Page:
        deadline = time.monotonic() + self.timeout
        with self._http().stream("GET", url) as response:
            if response.status_code >= 400:
                phrase = f" {response.reason_phrase}" if response.reason_phrase else ""
                raise UnreadableArticle(url, f"HTTP {response.status_code}{phrase}")
            media_type, charset = _content_type(response.headers.get("content-type", ""))
            if media_type and not media_type.startswith(_TEXTUAL + _FEED_TYPES):
                raise UnreadableArticle(url, f"not a web page or feed ({media_type})")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise UnreadableArticle(url, self._too_large(int(declared)))
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    raise UnreadableArticle(url, self._too_large(None))
                if time.monotonic() > deadline:  # a server trickling bytes forever
                    raise UnreadableArticle(url, f"timed out after {self.timeout:g} s")
                chunks.append(chunk)
            return Page(url, str(response.url), media_type, charset, b"".join(chunks))

    def _too_large(self, size: int | None) -> str:
        limit = size_text(self.max_bytes)
        if size is None:
            return f"page too large (over {limit})"
        return f"page too large ({size_text(size, up=True)} > {limit})"

    def _http(self) -> Any:
        import httpx

        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    timeout=httpx.Timeout(self.timeout),
                    follow_redirects=True,
                    max_redirects=_MAX_REDIRECTS,
                    headers={"User-Agent": _user_agent()},
                    limits=httpx.Limits(max_connections=self.workers),
                    transport=self._transport,
                )
            return self._client

    def _host_slot(self, host: str) -> threading.BoundedSemaphore:
        with self._lock:
            if host not in self._hosts:
                self._hosts[host] = threading.BoundedSemaphore(self.per_host)
            return self._hosts[host]

    # -- many pages --------------------------------------------------------------------------

    def fetch_all(self, urls: list[str]) -> list[Page | UnreadableArticle]:
        """Fetch pages side by side; each result is the page or the reason it failed."""
        futures = [self._executor().submit(self.fetch, url) for url in urls]
        return [_outcome(future) for future in futures]

    def queue(self, urls: list[str]) -> None:
        """Announce pages that `get` will ask for, in order, so they are fetched ahead."""
        with self._lock:
            self._queue.extend(urls)

    def get(self, url: str) -> Page:
        """Return a page, fetched ahead of time if it was queued, keeping the queue going."""
        with self._lock:
            while self._queue and len(self._started) < self.ahead:
                upcoming = self._queue.popleft()
                if upcoming not in self._started:
                    self._started[upcoming] = self._executor().submit(self.fetch, upcoming)
            future = self._started.pop(url, None)
            if future is None and url in self._queue:
                self._queue.remove(url)  # asked out of turn: fetched now, and only now
        if future is None:
            return self.fetch(url)
        return future.result()

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="newsbot-fetch")
        return self._pool

    # -- lifetime ----------------------------------------------------------------------------

    def close(self) -> None:
        """Stop fetching ahead and close connections."""
        with self._lock:
            self._queue.clear()
            started, self._started = list(self._started.values()), {}
        for future in started:
            future.cancel()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def _content_type(header: str) -> tuple[str, str | None]:
    """Split "text/html; charset=utf-8" into the media type and the charset."""
    media_type, _, rest = header.partition(";")
    charset = None
    for parameter in rest.split(";"):
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip("\"'")
    return media_type.strip().lower(), charset


def _outcome(future: Future[Page]) -> Page | UnreadableArticle:
    try:
        return future.result()
    except UnreadableArticle as exc:
        return exc
