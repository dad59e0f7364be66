"""The one stand-in for the Slack Web API that every Slack test uses.

It plays the methods newsbot calls on 127.0.0.1, records every call (method, arguments,
headers), and keeps channels the way Slack does: messages the bot posts and messages a test
says users wrote (`say`), so that conversations.replies and conversations.history return a
thread's history with the bot's own answers and their metadata, and reactions.add refuses a
reaction the bot has already added (`already_reacted`), as Slack does.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

BOT_USER = "UBOT"
BOT_ID = "B1"


def sign(body: str, timestamp: int, secret: str) -> str:
    """Sign a request body the way Slack does."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def event_body(event: dict[str, Any], event_id: str) -> str:
    """Return the JSON body Slack posts to deliver an event."""
    return json.dumps(
        {
            "token": "verification-token",
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
        }
    )


def block_texts(blocks: list[dict[str, Any]]) -> list[str]:
    """Return every text object's text in Block Kit blocks."""
    found: list[str] = []
    for block in blocks:
        if "text" in block:
            found.append(block["text"]["text"])
        for element in block.get("elements", []):
            text = element.get("text")
            found.append(text if isinstance(text, str) else (text or {}).get("text", ""))
    return found


def _ts_key(ts: str) -> Decimal:
    return Decimal(ts)


class FakeSlack:
    """Plays the Slack Web API on 127.0.0.1 and records every call (thread-safe)."""

    def __init__(
        self,
        *,
        fail_posts_with: str | None = None,
        users: dict[str, str] | None = None,
        failing: dict[str, str] | None = None,
    ) -> None:
        self.calls: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self.lock = threading.Lock()
        self.fail_posts_with = fail_posts_with
        self.users = users or {}  # user id -> display name, for users.info
        self.failing = dict(failing or {})  # method -> the error it answers with
        self.messages: dict[str, list[dict[str, Any]]] = {}  # channel -> messages
        self.reactions: set[tuple[str, str, str]] = set()  # (channel, ts, name) of the bot
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        # A short poll interval keeps shutdown (and so each test's teardown) quick.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> FakeSlack:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    # --- what tests look at -----------------------------------------------------------------

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        with self.lock:
            return [data for name, data, _ in self.calls if name == method]

    def methods(self) -> list[str]:
        with self.lock:
            return [name for name, _, _ in self.calls]

    def wait_for(self, method: str, count: int = 1, timeout: float = 20.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.calls_to(method)) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.calls_to(method)

    def say(
        self,
        text: str,
        *,
        ts: str,
        channel: str = "C1",
        user: str = "U1",
        thread_ts: str | None = None,
    ) -> dict[str, Any]:
        """Record a message a user wrote, as Slack stores it before delivering its event."""
        message: dict[str, Any] = {"type": "message", "user": user, "text": text, "ts": ts}
        if thread_ts:
            message["thread_ts"] = thread_ts
        with self.lock:
            self.messages.setdefault(channel, []).append(message)
        return dict(message)

    # --- the API ------------------------------------------------------------------------------

    def _reply(self, method: str, data: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        with self.lock:
            self.calls.append((method, data, headers))
            # A new message comes after every message of its channel, as on Slack.
            known = [_ts_key(m["ts"]) for m in self.messages.get(str(data.get("channel")), [])]
            ts = f"{max(known, default=Decimal(2000000000)) + Decimal('0.000001'):.6f}"
            if method in self.failing:
                return {"ok": False, "error": self.failing[method]}
            if method == "auth.test":
                return {"ok": True, "user_id": BOT_USER, "bot_id": BOT_ID, "team_id": "T1"}
            if method == "chat.postMessage":
                return self._post(data, headers, ts)
            if method == "chat.postEphemeral":
                return {"ok": True, "message_ts": ts}
            if method in ("reactions.add", "reactions.remove"):
                return self._react(method, data)
            if method == "conversations.replies":
                return self._replies(data)
            if method == "conversations.history":
                return self._history(data)
            if method == "users.info":
                name = self.users.get(str(data.get("user")))
                if name is None:
                    return {"ok": False, "error": "user_not_found"}
                profile = {"display_name": name, "real_name": name}
                return {"ok": True, "user": {"id": data["user"], "name": name, "profile": profile}}
            return {"ok": True}

    def _post(self, data: dict[str, Any], headers: dict[str, str], ts: str) -> dict[str, Any]:
        if self.fail_posts_with is not None:
            # A misbehaving proxy that echoes the request's credentials in its error.
            return {
                "ok": False,
                "error": self.fail_posts_with,
                "echo": headers.get("authorization"),
            }
        message = {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "ts": ts}
        message |= {k: data[k] for k in ("text", "blocks", "thread_ts", "metadata") if k in data}
        self.messages.setdefault(str(data.get("channel")), []).append(message)
        return {"ok": True, "channel": data.get("channel"), "ts": ts, "message": message}

    def _react(self, method: str, data: dict[str, Any]) -> dict[str, Any]:
        key = (str(data.get("channel")), str(data.get("timestamp")), str(data.get("name")))
        if method == "reactions.add":
            if key in self.reactions:
                return {"ok": False, "error": "already_reacted"}
            self.reactions.add(key)
        elif key in self.reactions:
            self.reactions.discard(key)
        else:
            return {"ok": False, "error": "no_reaction"}
        return {"ok": True}

    def _shown(self, message: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        shown = dict(message)
        if str(data.get("include_all_metadata", "")).lower() not in ("1", "true"):
            shown.pop("metadata", None)
        return shown

    def _replies(self, data: dict[str, Any]) -> dict[str, Any]:
        thread = str(data.get("ts"))
        found = [
            self._shown(m, data)
            for m in self.messages.get(str(data.get("channel")), [])
            if m["ts"] == thread or m.get("thread_ts") == thread
        ]
        if not found:
            return {"ok": False, "error": "thread_not_found"}
        found.sort(key=lambda m: _ts_key(m["ts"]))
        return {"ok": True, "messages": found, "has_more": False}

    def _history(self, data: dict[str, Any]) -> dict[str, Any]:
        latest = _ts_key(str(data.get("latest") or "9999999999.999999"))
        top = [
            self._shown(m, data)
            for m in self.messages.get(str(data.get("channel")), [])
            if m.get("thread_ts") in (None, m["ts"]) and _ts_key(m["ts"]) < latest
        ]
        top.sort(key=lambda m: _ts_key(m["ts"]), reverse=True)  # newest first, as Slack does
        limit = int(data.get("limit") or 100)
        return {"ok": True, "messages": top[:limit], "has_more": len(top) > limit}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                self._answer(path, {k: v[0] for k, v in parse_qs(query).items()})

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if "json" in (self.headers.get("Content-Type") or ""):
                    data = json.loads(raw or "{}")
                else:
                    data = {k: v[0] for k, v in parse_qs(raw).items()}
                self._answer(self.path, data)

            def _answer(self, path: str, data: dict[str, Any]) -> None:
                for key in ("blocks", "metadata"):
                    if isinstance(data.get(key), str):
                        data[key] = json.loads(data[key])
                headers = {k.lower(): v for k, v in self.headers.items()}
                method = path.rsplit("/", 1)[-1]
                reply = json.dumps(fake._reply(method, data, headers)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
