"""Destructive commands print their plan, then act only on `--yes` or a "yes" typed at a terminal.

Declining, and having no terminal to ask without `--yes`, are one outcome with one exit code
(EXIT_DECLINED): nothing was changed because the go-ahead was not given."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from devtools.errors import UserError
from devtools.report.exitcodes import EXIT_DECLINED


class Declined(UserError):
    """The go-ahead was not given: nothing was changed."""

    exit_code = EXIT_DECLINED


def ask(question: str, *, yes: bool, refused: str, declined: str = "nothing was changed") -> None:
    """Return to go ahead: `--yes`, or "y"/"yes" typed at a terminal. Otherwise raise Declined
    with `refused` (no terminal to ask) or `declined` (the answer was no)."""
    if yes:
        return
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise Declined(refused)
    sys.stdout.write(f"{question} [y/N]: ")
    sys.stdout.flush()
    answer = sys.stdin.readline()  # "" at end of input: no answer is no
    if answer.strip().lower() not in ("y", "yes"):
        raise Declined(declined)


def confirm_plan(title: str, steps: Sequence[str], *, yes: bool) -> None:
    """Print the numbered plan; return to go ahead, raise Declined (nothing changed) otherwise."""
    lines = [title] + [f"  {number}. {step}" for number, step in enumerate(steps, 1)]
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
    refused = "nothing was changed: pass --yes to go ahead (no terminal to ask)"
    ask("Go ahead?", yes=yes, refused=refused)
