"""`newsbot slack` and `newsbot feedback` (placeholders until the Slack app lands)."""

import click


@click.command()
def slack_command() -> None:
    """Run the Slack app."""
    raise click.ClickException("not implemented yet")


@click.command()
def feedback_command() -> None:
    """Show feedback counts."""
    raise click.ClickException("not implemented yet")
