"""Options shared by several commands: the CLI side of the report pipeline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from devtools.report.render import FORMATS

F = TypeVar("F", bound=Callable[..., Any])


def format_option(*choices: str, default: str = "text") -> Callable[[F], F]:
    """The shared `--format` option: checks take FORMATS (text|concise|json|github), commands
    that print data DATA_FORMATS (table|json); a command passes its own only when it differs."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices or FORMATS),
        default=default,
        show_default=True,
        help="Output format.",
    )
