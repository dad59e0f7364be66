"""`newsbot slack` (run the Slack app) and `newsbot feedback` (what users thought of answers).

Imported by the CLI at startup, so slack-bolt, the index and the models load inside the commands.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any

import click

from bot.config import Settings
from bot.errors import NewsbotError

logger = logging.getLogger(__name__)

_TOKEN = re.compile(r"\bx(?:ox[abposre]|app)-[A-Za-z0-9-]+")
# Environment variables whose values are credentials: provider API keys, tokens, passwords.
_SECRET_NAME = re.compile(r"(?:TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|ACCESS_KEY|_KEY)$", re.I)
_MIN_SECRET = 6  # shorter values would redact ordinary words


def secret_values(settings: Settings | None = None) -> list[str]:
    """Return every credential newsbot knows of: Slack's, and *_TOKEN/*_KEY/... variables."""
    found = [v for k, v in os.environ.items() if _SECRET_NAME.search(k)]
    if settings is not None:
        for value in (
            settings.slack_bot_token,
            settings.slack_app_token,
            settings.slack_signing_secret,
            settings.api_token,
        ):
            if value is not None:
                found.append(value.get_secret_value())
    unique = {v.strip() for v in found if len(v.strip()) >= _MIN_SECRET}
    return sorted(unique, key=len, reverse=True)  # longest first: no partial leftovers


def redact(text: str, secrets: list[str]) -> str:
    """Replace Slack-shaped tokens and the given secret values in text with "[redacted]"."""
    clean = _TOKEN.sub("[redacted]", text)
    for secret in secrets:
        clean = clean.replace(secret, "[redacted]")
    return clean


def _settings(ctx: click.Context, index: str | None) -> Settings:
    obj = ctx.find_object(dict)
    settings: Settings = obj["settings"] if obj and "settings" in obj else Settings()
    if index:
        settings = settings.model_copy(update={"index_dir": Path(index)})
    return settings


index_option = click.option(
    "--index", "index", type=click.Path(file_okay=False), help="Index folder (NEWSBOT_INDEX_DIR)."
)


class RedactSecrets(logging.Filter):
    """Replace Slack tokens and the configured secrets in log records with "[redacted]"."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = sorted((s for s in secrets if s), key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message and traceback without secrets; never drop it."""
        message = record.getMessage()
        clean = redact(message, self._secrets)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            # Exception messages (a provider's error echoing a request) reach the log through
            # the formatted traceback, not the message. Formatters print exc_text when it is
            # set, so it is set here, redacted; exc_info stays for handlers that inspect it.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self._secrets)
        return True


def protect_logs(secrets: list[str]) -> None:
    """Redact secrets from every handler of the root logger (once per handler)."""
    guard = RedactSecrets(secrets)
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for handler in root.handlers:
        for old in [f for f in handler.filters if isinstance(f, RedactSecrets)]:
            handler.removeFilter(old)
        handler.addFilter(guard)


def _given(secret: Any) -> bool:
    """Say whether a credential is set to something (an empty variable is not set)."""
    return secret is not None and bool(secret.get_secret_value().strip())


def _protect_logs(settings: Settings) -> None:
    """Keep tokens out of every log line, whichever library writes it."""
    protect_logs(secret_values(settings))


@click.command()
@click.option("--http", "http", is_flag=True, help="Receive requests over HTTP, not Socket Mode.")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=3000, show_default=True, help="HTTP port."
)
@click.option("--host", default="0.0.0.0", show_default=True, help="HTTP address to bind.")
@index_option
@click.pass_context
def slack_command(ctx: click.Context, http: bool, port: int, host: str, index: str | None) -> None:
    """Run the Slack app (Socket Mode; with --http, a server verifying Slack's signatures)."""
    settings = _settings(ctx, index)
    if not _given(settings.slack_bot_token):
        raise click.ClickException(
            "SLACK_BOT_TOKEN is not set: the bot token (xoxb-...) from the app's OAuth page"
        )
    if http and not _given(settings.slack_signing_secret):
        raise click.ClickException(
            "SLACK_SIGNING_SECRET is not set: HTTP mode verifies every request with it"
        )
    app_token = settings.slack_app_token
    if not http and not _given(app_token):
        raise click.ClickException(
            "SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token (xapp-...) with "
            "connections:write; or run `newsbot slack --http --port N`"
        )
    _protect_logs(settings)

    from slack_bolt.error import BoltError
    from slack_sdk.errors import SlackClientError

    from bot.chain import WarmAnswerer
    from bot.slack.app import build_slack_app
    from bot.slack.server import serve_http

    answerer = WarmAnswerer(settings)
    problem = answerer.warm()
    if problem is not None:
        click.echo(f"warning: {problem}", err=True)
    try:
        app = build_slack_app(settings, answerer)
    except (BoltError, NewsbotError, SlackClientError) as exc:
        reason = redact(" ".join(str(exc).split()), secret_values(settings))
        raise click.ClickException(f"cannot start the Slack app: {reason}") from exc
    except OSError as exc:  # the Slack API unreachable: DNS, refused, TLS, timeout
        cause = getattr(exc, "reason", None) or exc
        raise click.ClickException(
            f"cannot start the Slack app: the Slack API is unreachable ({type(cause).__name__})"
        ) from exc
    try:
        if http:
            try:
                server = serve_http(app, host=host, port=port, health=answerer.health)
            except OSError as exc:
                raise click.ClickException(f"cannot listen on {host}:{port}: {exc}") from exc
            click.echo(
                f"newsbot: listening on http://{host}:{port}/slack/events (health: /healthz)",
                err=True,
            )
            try:
                server.serve_forever()
            finally:
                server.server_close()
        else:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            click.echo("newsbot: connecting to Slack (Socket Mode)", err=True)
            token = app_token.get_secret_value() if app_token else None
            SocketModeHandler(app, token).start()
    except KeyboardInterrupt:
        click.echo("newsbot: stopped", err=True)
    finally:
        app.close()


@click.command()
@index_option
@click.option(
    "-n",
    "limit",
    type=click.IntRange(0, 1000),
    default=10,
    show_default=True,
    help="How many of the latest 👎 to show.",
)
@click.option("--json", "as_json", is_flag=True, help="Print counts and 👎 as JSON.")
@click.pass_context
def feedback_command(ctx: click.Context, index: str | None, limit: int, as_json: bool) -> None:
    """Show 👍/👎 counts and the latest answers users disliked."""
    from bot.slack.feedback import FeedbackStore

    store = FeedbackStore.beside(_settings(ctx, index).index_dir)
    counts = store.counts()
    negative = store.latest_negative(limit)
    if as_json:
        items = [
            {
                "question": f.question,
                "answer": _parse(f.answer),
                "user": f.user,
                "channel": f.channel,
                "thread": f.thread,
                "time": f.time,
            }
            for f in negative
        ]
        click.echo(json.dumps({"counts": counts, "latest_negative": items}, ensure_ascii=False))
        return
    click.echo(f"👍 {counts['up']}  👎 {counts['down']}")
    if negative:
        click.echo("\nLatest 👎:")
    for f in negative:
        summary = _summary(f.answer)
        where = f"{f.channel} {f.thread}".strip()
        click.echo(f"  {f.time[:19]}  {f.user}  {where}")
        click.echo(f"    Q: {f.question or '(unknown question)'}")
        if summary:
            click.echo(f"    A: {summary}")


def _summary(answer: str) -> str:
    data = _parse(answer)
    return str(data.get("summary") or "") if isinstance(data, dict) else answer


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
