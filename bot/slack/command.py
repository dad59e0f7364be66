"""`newsbot slack` (run the Slack app) and `newsbot feedback` (what users thought of answers).

Imported by the CLI at startup, so slack-bolt, the index and the models load inside the commands.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bot.config import Settings
from bot.errors import NewsbotError

if TYPE_CHECKING:
    from bot.answer import Answer

logger = logging.getLogger(__name__)

_TOKEN = re.compile(r"\bx(?:ox[abposre]|app)-[A-Za-z0-9-]+")


def _settings(ctx: click.Context, index: str | None) -> Settings:
    obj = ctx.find_object(dict)
    settings: Settings = obj["settings"] if obj and "settings" in obj else Settings()
    if index:
        settings = settings.model_copy(update={"index_dir": Path(index)})
    return settings


index_option = click.option(
    "--index", "index", type=click.Path(file_okay=False), help="Index folder (NEWSBOT_INDEX_DIR)."
)


class WarmAnswerer:
    """The answerer, built before the first question and rebuilt on demand if that failed.

    A missing index does not stop the bot: each question then gets the :warning: reply that says
    so, and the first question after `newsbot ingest` finds the index.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._answerer: Any = None
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Open the index and load the models now, so the first question is answered fast."""
        try:
            answerer = self._get()
            # Retrieval loads the embedding model and the store without calling a chat model.
            retrieve = getattr(answerer, "retrieve", None)
            if retrieve is not None:
                retrieve("warm up")
        except NewsbotError as exc:
            logger.warning("not ready to answer yet: %s", exc)
            click.echo(f"warning: {exc}", err=True)
        except Exception:
            # Questions will report the problem; starting the bot is still worthwhile.
            logger.warning("warming up failed", exc_info=True)

    def __call__(self, question: str) -> Answer:
        """Answer one question."""
        result: Answer = self._get()(question)
        return result

    def _get(self) -> Any:
        with self._lock:
            if self._answerer is None:
                from bot.chain import build_answerer

                self._answerer = build_answerer(self._settings)
            return self._answerer


class RedactSecrets(logging.Filter):
    """Replace Slack tokens and the configured secrets in log records with "[redacted]"."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message without secrets; never drop it."""
        message = record.getMessage()
        clean = _TOKEN.sub("[redacted]", message)
        for secret in self._secrets:
            clean = clean.replace(secret, "[redacted]")
        if clean != message:
            record.msg, record.args = clean, None
        return True


def _protect_logs(settings: Settings) -> None:
    """Keep tokens out of every log line, whichever library writes it."""
    values = [settings.slack_bot_token, settings.slack_app_token, settings.slack_signing_secret]
    redact = RedactSecrets([v.get_secret_value() for v in values if v is not None])
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for handler in root.handlers:
        handler.addFilter(redact)


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
    if settings.slack_bot_token is None:
        raise click.ClickException(
            "SLACK_BOT_TOKEN is not set: the bot token (xoxb-...) from the app's OAuth page"
        )
    if http and settings.slack_signing_secret is None:
        raise click.ClickException(
            "SLACK_SIGNING_SECRET is not set: HTTP mode verifies every request with it"
        )
    app_token = settings.slack_app_token
    if not http and app_token is None:
        raise click.ClickException(
            "SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token (xapp-...) with "
            "connections:write; or run `newsbot slack --http --port N`"
        )
    _protect_logs(settings)

    from slack_bolt.error import BoltError

    from bot.slack.app import build_slack_app, serve_http

    answerer = WarmAnswerer(settings)
    answerer.warm()
    try:
        app = build_slack_app(settings, answerer)
    except (BoltError, NewsbotError) as exc:
        raise click.ClickException(f"cannot start the Slack app: {exc}") from exc
    try:
        if http:
            try:
                server = serve_http(app, host=host, port=port)
            except OSError as exc:
                raise click.ClickException(f"cannot listen on {host}:{port}: {exc}") from exc
            click.echo(f"newsbot: listening on http://{host}:{port}/slack/events", err=True)
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
