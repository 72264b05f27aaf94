"""How much a command says: `omc-dev -q` (quiet), the default, `omc-dev -v` (verbose).

One meaning everywhere:
- quiet: findings and errors only: no "no problems found", no counts line, no list of checks
  that passed, no progress lines on stderr. The exit code says the rest.
- verbose: more detail: each finding's fix in the concise format too, every child process
  omc-dev starts (compose, git, pytest) echoed on stderr as `omc-dev: $ argv`, and lists that are
  otherwise cut short (tests compare's better tests) in full.
JSON and GitHub annotations are the same at every level: tools read them.

The root group sets the level on every invocation (a module value, not an environment variable:
the commands `omc-dev run` starts must not inherit it)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

QUIET, NORMAL, VERBOSE = -1, 0, 1
_level = NORMAL


def set_level(value: int) -> None:
    global _level  # noqa: PLW0603 (one value per process, set by the root group)
    _level = max(QUIET, min(VERBOSE, value))


def level() -> int:
    return _level


def quiet() -> bool:
    return level() <= QUIET


def verbose() -> bool:
    return level() >= VERBOSE


def progress(line: str) -> None:
    """A progress or status line on stderr; quiet drops it."""
    if not quiet():
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


def show_command(argv: Sequence[str]) -> None:
    """Verbose: the child process about to start, as a shell would run it."""
    if verbose():
        import shlex

        sys.stderr.write(f"omc-dev: $ {shlex.join(list(argv))}\n")
        sys.stderr.flush()
