"""Options shared by several commands: the CLI side of the findings renderer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from devtools.render import FORMATS

F = TypeVar("F", bound=Callable[..., Any])


def format_option(*choices: str, default: str = "text") -> Callable[[F], F]:
    """The shared `--format` option; commands pass the formats they support."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(choices or FORMATS),
        default=default,
        show_default=True,
        help="Output format.",
    )
