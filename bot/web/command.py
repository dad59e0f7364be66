"""`newsbot serve`: the web page and the HTTP API on one port, bound to 127.0.0.1 by default."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import click

from bot.config import Settings


def listen(host: str, port: int) -> socket.socket:
    """Return a socket bound to host:port (port 0 picks a free one); raise OSError if it cannot."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def is_loopback(host: str) -> bool:
    """Say whether an address is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port", type=click.IntRange(1, 65535), default=8080, show_default=True, help="Port."
)
@click.option(
    "--index", "index", type=click.Path(file_okay=False), help="Index folder (NEWSBOT_INDEX_DIR)."
)
@click.pass_context
def serve_command(ctx: click.Context, host: str, port: int, index: str | None) -> None:
    """Serve the page and the API: POST /api/ask, GET /api/sources, /healthz, /docs."""
    import uvicorn

    from bot.chain import WarmAnswerer
    from bot.web.app import create_app

    obj = ctx.find_object(dict)
    settings: Settings = obj["settings"] if obj and "settings" in obj else Settings()
    if index:
        settings = settings.model_copy(update={"index_dir": Path(index)})
    answerer = WarmAnswerer(settings)
    problem = answerer.warm()
    if problem is not None:
        click.echo(f"warning: {problem}", err=True)
    app = create_app(settings, answerer)
    try:
        sock = listen(host, port)
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}"
        ) from exc
    token = settings.api_token.get_secret_value().strip() if settings.api_token else ""
    if not is_loopback(host) and not token:
        click.echo(
            f"warning: listening on {host} without NEWSBOT_API_TOKEN: anyone who can reach "
            "this port can use the API",
            err=True,
        )
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"newsbot: serving http://{shown}:{port}/ (API docs at /docs)", err=True)
    # log_config=None: uvicorn logs through the root logger, which redacts secrets and is
    # quiet unless `newsbot -v` is given.
    config = uvicorn.Config(app, log_config=None, timeout_graceful_shutdown=5)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn finishes the requests in flight, then passes Ctrl-C on
        pass
    finally:
        sock.close()
    click.echo("newsbot: stopped", err=True)
