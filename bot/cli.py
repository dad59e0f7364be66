"""The `newsbot` command line: a thin layer over the core functions."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from bot.catalog import Filters
from bot.config import Settings
from bot.errors import NewsbotError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
logger = logging.getLogger("bot")


def _one_line(text: str, settings: Settings | None = None) -> str:
    """Return text on one line, without any secret newsbot knows of."""
    from bot.slack.command import redact, secret_values

    return redact(" ".join(text.split()), secret_values(settings))


@contextmanager
def _edge(settings: Settings | None = None) -> Iterator[None]:
    """Turn every failure into one line on stderr and exit code 1, never a traceback."""
    try:
        yield
    except NewsbotError as exc:
        raise click.ClickException(_one_line(str(exc), settings)) from exc
    except KeyboardInterrupt as exc:
        raise click.ClickException("interrupted") from exc
    except OSError as exc:
        raise click.ClickException(_one_line(f"{exc.strerror or exc}", settings)) from exc
    except (click.ClickException, click.exceptions.Exit, click.Abort):
        raise
    except Exception as exc:  # a bug or an unforeseen dependency failure: still one line
        logger.info("unexpected failure", exc_info=True)
        raise click.ClickException(
            f"unexpected error ({type(exc).__name__}); run with -v to log the details"
        ) from exc


def _configuration_error(exc: Exception) -> str:
    """Describe invalid settings in one line, naming variables and never echoing values."""
    from pydantic import ValidationError

    if not isinstance(exc, ValidationError):
        return f"invalid configuration: {type(exc).__name__}"
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        field = ".".join(str(part) for part in error.get("loc", ())) or "settings"
        name = field.upper() if field.upper().startswith("SLACK_") else f"NEWSBOT_{field.upper()}"
        problems.append(f"{name}: {error.get('msg', 'invalid')}")
    return "invalid configuration: " + "; ".join(problems)


def _settings(ctx: click.Context, index: str | None) -> Settings:
    settings: Settings = ctx.obj["settings"]
    if index:
        settings = settings.model_copy(update={"index_dir": Path(index)})
    return settings


index_option = click.option(
    "--index", "index", type=click.Path(file_okay=False), help="Index folder (NEWSBOT_INDEX_DIR)."
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log what happens.")
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
    """Ask questions of news articles; contested claims come attributed and cited."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    for noisy in (
        "chromadb",
        "httpx",
        "sentence_transformers",
        "urllib3",
        "trafilatura",
        "htmldate",
    ):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    ctx.ensure_object(dict)
    try:
        settings = Settings()
    except Exception as exc:  # pydantic's ValidationError: a bad variable in the environment
        raise click.UsageError(_configuration_error(exc)) from exc
    if not 1 <= settings.chroma_port <= 65535:
        raise click.UsageError(
            f"invalid configuration: NEWSBOT_CHROMA_PORT: {settings.chroma_port} is not a port "
            "(1-65535)"
        )
    from bot.slack.command import protect_logs, secret_values

    protect_logs(secret_values(settings))
    ctx.obj["settings"] = settings


@cli.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH_OR_URL...")
@index_option
@click.option("--prune", is_flag=True, help="Remove articles whose files are gone.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def ingest(
    ctx: click.Context, paths: tuple[str, ...], index: str | None, prune: bool, as_json: bool
) -> None:
    """Load files, folders, article URLs and RSS/Atom feeds (unchanged articles are skipped)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from bot.claims import analyse
    from bot.embeddings import default_embeddings
    from bot.ingest import ingest as run_ingest
    from bot.store import open_store

    settings = _settings(ctx, index)
    console = Console(stderr=True)
    with _edge(settings):
        store = open_store(settings, create=True)
        try:
            with Progress(
                TextColumn("[bold]ingest[/]"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.description}"),
                console=console,
                transient=True,
                disable=as_json or not console.is_terminal,
            ) as bar:
                task = bar.add_task("", total=None)

                def progress(name: str, done: int, total: int) -> None:
                    bar.update(task, completed=done - 1, total=total, description=name)

                embeddings = default_embeddings()
                report = run_ingest(
                    paths, store, embeddings, analyse=analyse, prune=prune, progress=progress
                )
                index_dir = Path(settings.index_dir).expanduser().resolve()
                if report.chunks_embedded or not (index_dir / "onnx" / "model.json").exists():
                    bar.update(task, description="preparing the fast question encoder")
                    if not embeddings.prepare_fast_path(index_dir):
                        click.echo("note: questions will use sentence-transformers", err=True)
        finally:
            store.close()
    if as_json:
        click.echo(
            json.dumps(
                {
                    "added": report.added,
                    "updated": report.updated,
                    "skipped": report.skipped,
                    "pruned": report.pruned,
                    "failed": [{"path": f.path, "reason": f.reason} for f in report.failed],
                    "chunks_embedded": report.chunks_embedded,
                },
                indent=2,
            )
        )
        return
    for failure in report.failed:
        click.echo(f"failed: {failure.path}: {failure.reason}", err=True)
    click.echo(report.summary())


def _filters(outlet: str | None, since: str | None, until: str | None) -> Filters:
    from bot.catalog import date_ordinal

    for name, value in (("--since", since), ("--until", until)):
        if value and not date_ordinal(value):
            raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=name)
    return Filters(outlet=outlet, since=since, until=until)


@cli.command()
@click.argument("question")
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the JSON contract.")
@click.option("-k", "k", type=click.IntRange(1, 100), help="Chunks to retrieve (NEWSBOT_TOP_K).")
@click.option("--outlet", help="Only articles whose outlet contains this.")
@click.option("--since", help="Only articles published on or after YYYY-MM-DD.")
@click.option("--until", help="Only articles published on or before YYYY-MM-DD.")
@click.pass_context
def ask(
    ctx: click.Context,
    question: str,
    index: str | None,
    as_json: bool,
    k: int | None,
    outlet: str | None,
    since: str | None,
    until: str | None,
) -> None:
    """Answer QUESTION; with "-", answer each line of standard input."""
    from bot.chain import build_answerer

    settings = _settings(ctx, index)
    filters = _filters(outlet, since, until)
    questions = (
        [line.strip() for line in sys.stdin if line.strip()] if question == "-" else [question]
    )
    with _edge(settings):
        answerer = build_answerer(settings)
        for text in questions:
            result = answerer(text, k=k, filters=filters)
            if as_json:
                click.echo(result.to_json(indent=None if question == "-" else 2))
            else:
                _print_answer(result)
                if question == "-":
                    click.echo()


def _print_answer(result: Any) -> None:
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        click.echo(result.answer)
        return
    from bot.render import rich_answer

    console.print(rich_answer(result))


@cli.command()
@index_option
@click.option("-k", "k", type=click.IntRange(1, 100), help="Chunks to retrieve.")
@click.pass_context
def chat(ctx: click.Context, index: str | None, k: int | None) -> None:
    """Talk with the index; follow-ups ("and Vovchansk?") keep the thread."""
    from bot.chain import build_answerer
    from bot.conversation import Conversation

    settings = _settings(ctx, index)
    with _edge(settings):
        answerer = build_answerer(settings)
        conversation = Conversation()
        click.echo("Ask a question (empty line or Ctrl-D to quit).", err=True)
        while True:
            try:
                line = input("> ")
            except EOFError:
                break
            if not line.strip():
                break
            try:
                standalone = conversation.standalone(line)
                result = answerer(standalone, k=k)
            except NewsbotError as exc:
                click.echo(f"error: {_one_line(str(exc), settings)}", err=True)
                continue
            conversation.add(line, standalone, result)
            _print_answer(result)


@cli.command()
@index_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per article.")
@click.pass_context
def sources(ctx: click.Context, index: str | None, as_json: bool) -> None:
    """List what is indexed: outlet, date, title, chunks."""
    from bot.store import open_store

    settings = _settings(ctx, index)
    with _edge(settings):
        store = open_store(settings)
        try:
            records = store.catalog.articles()
        finally:
            store.close()
    if as_json:
        for r in records:
            click.echo(json.dumps(r.listing(), ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("outlet", "date", "title", "chunks")
    for r in records:
        table.add_row(r.outlet or "-", r.published or "-", r.title, str(r.chunks))
    Console().print(table)
    click.echo(f"{len(records)} articles, {sum(r.chunks for r in records)} chunks")


def _register_extensions() -> None:
    """Add the commands that live with their capability (eval, slack, feedback, serve)."""
    from bot.evaluation.command import eval_command
    from bot.slack.command import feedback_command, slack_command
    from bot.web.command import serve_command

    cli.add_command(eval_command, "eval")
    cli.add_command(slack_command, "slack")
    cli.add_command(feedback_command, "feedback")
    cli.add_command(serve_command, "serve")


_register_extensions()


def main() -> None:
    """Run the command line."""
    cli(obj={})


if __name__ == "__main__":
    main()
