"""Serving the Slack app over HTTP: Slack's signed requests, and a health check for replicas."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from slack_bolt import App, BoltRequest

logger = logging.getLogger(__name__)

# Slack's largest payloads (block_actions with a full message) are far below a MiB.
MAX_BODY_BYTES = 1 << 20
LISTEN_BACKLOG = 512  # connections the HTTP server queues before accepting them
HEALTH_PATH = "/healthz"
# Returns whether questions can be answered now, and what to report (the index generation).
Health = Callable[[], tuple[bool, dict[str, Any]]]


def serve_http(
    app: App,
    *,
    host: str = "0.0.0.0",
    port: int = 3000,
    path: str = "/slack/events",
    max_body: int = MAX_BODY_BYTES,
    health: Health | None = None,
) -> ThreadingHTTPServer:
    """Return an HTTP server (bound, not yet serving) that hands Slack's requests to the app.

    With `health`, GET /healthz answers with what it reports: 200 and the index generation
    served while questions can be answered, 503 and the reason while they cannot.
    """

    class Handler(BaseHTTPRequestHandler):
        server_version = "newsbot"
        timeout = 15  # a client that stalls mid-request must not hold a thread forever

        def do_POST(self) -> None:
            target, _, query = self.path.partition("?")
            if target != path:
                self._reply(404, "not found")
                return
            length = self.headers.get("Content-Length", "")
            if not length.isdigit():
                self._reply(411, "length required")
                return
            if int(length) > max_body:
                self.close_connection = True
                self._reply(413, "request body too large")
                return
            try:
                body = self.rfile.read(int(length)).decode("utf-8")
            except UnicodeDecodeError:
                self._reply(400, "body is not UTF-8")
                return
            stamp = self.headers.get("X-Slack-Request-Timestamp", "")
            if not (stamp.isascii() and stamp.isdigit()):
                # Unsigned, or a timestamp Bolt's verifier would crash on: refused, not logged.
                self._reply(401, "invalid request")
                return
            headers: dict[str, str | Sequence[str]] = {
                name.lower(): self.headers.get_all(name) or [] for name in self.headers
            }
            response = app.dispatch(BoltRequest(body=body, query=query, headers=headers))
            self._reply(response.status, response.body, response.headers)

        def do_GET(self) -> None:
            if self.path.partition("?")[0] != HEALTH_PATH or health is None:
                self._reply(404, "not found")
                return
            try:
                ready, report = health()
            except Exception as exc:  # a health check must answer, whatever went wrong
                logger.warning("health check failed: %s", type(exc).__name__)
                ready, report = False, {"error": f"health check failed ({type(exc).__name__})"}
            body = json.dumps({"ok": ready, **report}, ensure_ascii=False)
            self._reply(200 if ready else 503, body, {"content-type": ["application/json"]})

        def _reply(self, status: int, body: str, headers: dict[str, Any] | None = None) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            for name, values in (headers or {"content-type": ["text/plain"]}).items():
                if name != "content-length":
                    for value in values:
                        self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("%s " + format, self.address_string(), *args)

    class Server(ThreadingHTTPServer):
        # The default listen backlog of 5 resets connections when Slack delivers a burst.
        request_queue_size = LISTEN_BACKLOG
        daemon_threads = True

    return Server((host, port), Handler)
