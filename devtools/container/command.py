"""`omc-dev run`: parse with click, then the full path (`devtools.container.run`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from devtools.container.request import OPTIONS, RunRequest


def click_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Apply the request table's options to a click command (the fast path parses the same table
    without click)."""
    for dest, flags, kind, metavar, help_text in reversed(OPTIONS):
        if kind == "flag":
            command = click.option(*flags, dest, is_flag=True, help=help_text)(command)
        elif kind == "switch":
            on, off = flags
            command = click.option(f"{on}/{off}", dest, default=None, help=help_text)(command)
        else:
            command = click.option(
                *flags, dest, metavar=metavar, multiple=kind == "multiple", help=help_text
            )(command)
    return command


@click.command(context_settings={"ignore_unknown_options": False, "allow_interspersed_args": False})
@click_options
@click.argument("cmd", nargs=-1, required=True, type=click.UNPROCESSED, metavar="-- CMD [ARG]...")
def run(cmd: tuple[str, ...], **options: object) -> int:
    """Run CMD in the service's running container, or directly when already inside one.

    \b
    The argv passes through untouched (no shell); the exit code is CMD's own; Ctrl-C stops
    CMD inside the container (130); stdin is piped; a TTY only when stdin and stdout are one.
    The working directory and existing host paths among the arguments are translated through
    the service's bind mounts, so it works from any subfolder.
    Exit 125 (one line naming the fix) when there is no engine, no compose file, or the
    service is not running (`omc-dev up`, or --start).
    """
    from devtools.container.run import run_command

    return run_command(RunRequest(cmd, **options))  # type: ignore[arg-type]
