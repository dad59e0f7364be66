"""Prompt templates, kept as files in `prompts/` and rendered strictly."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


@cache
def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(
        loader=FileSystemLoader(str(PROMPTS_DIR)),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def render(name: str, **variables: Any) -> str:
    """Render `prompts/NAME.md`; a variable the template uses but is not given is an error."""
    return str(_environment().get_template(f"{name}.md").render(**variables))
