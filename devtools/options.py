"""Options shared by several commands: the CLI side of the report pipeline."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from devtools.report.render import FORMATS

F = TypeVar("F", bound=Callable[..., Any])

AUTO_HELP = "Output format (default: text on a terminal, concise otherwise)."


def default_format() -> str:
    """What a check prints when --format is not given: the rich text for a person at a terminal,
    one `path:line: id message` line per finding for logs, pipes, CI and hooks."""
    try:
        return "text" if sys.stdout.isatty() else "concise"
    except (AttributeError, ValueError):  # no stdout, or a closed one
        return "concise"


def _auto(ctx: click.Context, param: click.Parameter, value: str | None) -> str:
    return value if value is not None else default_format()


def format_option(*choices: str, default: str = "text") -> Callable[[F], F]:
    """The shared `--format` option: checks take FORMATS (text|concise|json|github), commands
    that print data DATA_FORMATS (table|json); a command passes its own only when it differs.

    A command that offers both text and concise defaults by where stdout goes (default_format);
    an explicit --format always wins."""
    choices = choices or FORMATS
    if default == "text" and "concise" in choices:
        return click.option(
            "--format",
            "fmt",
            type=click.Choice(choices),
            default=None,
            callback=_auto,
            help=AUTO_HELP,
        )
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices),
        default=default,
        show_default=True,
        help="Output format.",
    )
