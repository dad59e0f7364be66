"""`newsbot eval` (placeholder until the evaluation harness lands)."""

import click


@click.command()
def eval_command() -> None:
    """Run an evaluation dataset."""
    raise click.ClickException("not implemented yet")
