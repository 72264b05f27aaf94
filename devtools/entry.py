"""The `omc-dev` console script.

`omc-dev run` is the one command on a hot path (every test, migration and generator a developer
runs goes through it), so it first tries its fast path, which needs neither click nor compose.
Everything else, and every run the fast path declines, goes to the click CLI (`devtools.cli`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence


def main(argv: Sequence[str] | None = None) -> int:
    _ensure_standard_fds()
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["run"]:
        from devtools.container.fast import fast_run

        try:
            code = fast_run(args[1:])
        except BaseException as exc:  # the command was started: report, never run it twice
            from devtools.cli import guarded

            return guarded(_raising(exc), command="run")
        if code is not None:
            return code
    from devtools.cli import main as cli_main

    return cli_main(args)


def _ensure_standard_fds() -> None:
    """Started with stdin, stdout or stderr closed (`cmd <&-`): put /dev/null there, or the next
    socket we open would take the free number and be read or written as if it were stdin."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            os.open(os.devnull, os.O_RDWR)  # the lowest free number: this one


def _raising(exc: BaseException) -> Callable[[], None]:
    def action() -> None:
        raise exc

    return action
