"""What stands between the network and the answerer: limits, the API token, security headers."""

from __future__ import annotations

import hmac
import json
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# No script at all, and nothing from elsewhere: article text shown in a page cannot run.
PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
# FastAPI's /docs page loads Swagger UI from its CDN and starts it with an inline script; it
# shows only the API's own schema, never article text.
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/openapi.json")
UNLIMITED = ("/healthz", *DOCS_PATHS)
MAX_CLIENTS = 10000  # addresses the rate limiter remembers; the least recent are forgotten


class RateLimiter:
    """A token bucket per client: `per_minute` requests a minute, in bursts of as many."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def wait(self, client: str) -> float:
        """Take one request from a client's bucket; return 0, or the seconds until it may retry."""
        if self.per_minute <= 0:
            return 0.0
        now = self._clock()
        tokens, then = self._buckets.pop(client, (float(self.per_minute), now))
        tokens = min(float(self.per_minute), tokens + (now - then) * self.per_minute / 60)
        waited = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            waited = (1 - tokens) * 60 / self.per_minute
        self._buckets[client] = (tokens, now)
        while len(self._buckets) > MAX_CLIENTS:
            self._buckets.popitem(last=False)
        return waited


class Guard:
    """ASGI middleware in front of the app.

    Refuses too many requests from one client (429), /api/* calls without the bearer token when
    one is set (401) and request bodies over the limit (413); adds security headers to every
    response. Runs on the event loop, so its state needs no lock.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str | None,
        rate_limit: int,
        max_body: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.token = token or None
        self.max_body = max_body
        self.limiter = RateLimiter(rate_limit, clock)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check a request, then pass it on with its body read and its headers secured."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        send = _secured(send, path)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if path not in UNLIMITED and not path.startswith("/static/"):
            client = (scope.get("client") or ("unknown", 0))[0]
            wait = self.limiter.wait(client)
            if wait:
                await _refuse(
                    send,
                    path,
                    429,
                    f"too many requests: the limit is {self.limiter.per_minute} a minute",
                    {"retry-after": str(math.ceil(wait))},
                )
                return
        if path.startswith("/api/") and self.token and not self._authorised(headers):
            await _refuse(
                send,
                path,
                401,
                "this API needs a bearer token: send 'Authorization: Bearer TOKEN'",
                {"www-authenticate": 'Bearer realm="newsbot"'},
            )
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            await _refuse(send, path, 413, self._too_large())
            return
        body = await _read_body(receive, self.max_body)
        if body is None:
            await _refuse(send, path, 413, self._too_large())
            return
        await self.app(scope, _replay(body, receive), send)

    def _authorised(self, headers: dict[str, str]) -> bool:
        scheme, _, given = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or self.token is None:
            return False
        return hmac.compare_digest(given.strip().encode(), self.token.encode())

    def _too_large(self) -> str:
        return f"request body too large: the limit is {self.max_body} bytes"


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """Read a request body; None once it passes the limit (chunked bodies declare no length)."""
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        part = message.get("body", b"")
        size += len(part)
        if size > limit:
            return None
        parts.append(part)
        if not message.get("more_body", False):
            break
    return b"".join(parts)


def _replay(body: bytes, receive: Receive) -> Receive:
    """Return a receive callable that gives the app the body read, then what follows it."""
    given = False

    async def replayed() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _secured(send: Send, path: str) -> Send:
    """Return a send callable that adds the security headers to the response."""
    extra = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
    ]
    if path not in DOCS_PATHS:
        extra.append((b"content-security-policy", PAGE_POLICY.encode()))

    async def secured(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), *extra]
        await send(message)

    return secured


async def _refuse(
    send: Send, path: str, status: int, reason: str, headers: dict[str, str] | None = None
) -> None:
    """Answer with an error: JSON on the API, plain text elsewhere."""
    if path.startswith("/api/"):
        body, kind = json.dumps({"error": reason}).encode(), b"application/json"
    else:
        body, kind = f"{reason}\n".encode(), b"text/plain; charset=utf-8"
    raw = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
