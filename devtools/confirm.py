"""Destructive commands print their plan, then act only on `--yes` or a "yes" typed at a terminal."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from devtools.errors import UnusableInput, UserError


def ask(question: str, *, yes: bool, refused: str) -> bool:
    """Go ahead? `--yes`, else the answer typed at a terminal; without one, `refused` (exit 2)."""
    if yes:
        return True
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UnusableInput(refused)
    return click.confirm(question, default=False)


def confirm_plan(title: str, steps: Sequence[str], *, yes: bool) -> None:
    """Print the numbered plan; return to go ahead, raise (nothing changed) otherwise."""
    click.echo(title)
    for number, step in enumerate(steps, 1):
        click.echo(f"  {number}. {step}")
    refused = "nothing was changed: pass --yes to go ahead (no terminal to ask)"
    if not ask("Go ahead?", yes=yes, refused=refused):
        raise UserError("nothing was changed", exit_code=1)
