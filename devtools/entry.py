"""The `omc-dev` console script.

`omc-dev run` is the one command on a hot path (every test, migration and generator a developer
runs goes through it), so it first tries its fast path, which needs neither click nor compose.
Everything else, and every run the fast path declines, goes to the click CLI (`devtools.cli`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["run"]:
        from devtools.container.fast import fast_run

        try:
            code = fast_run(args[1:])
        except BaseException as exc:  # the command was started: report, never run it twice
            from devtools.cli import guarded

            return guarded(_raising(exc))
        if code is not None:
            return code
    from devtools.cli import main as cli_main

    return cli_main(args)


def _raising(exc: BaseException) -> Callable[[], None]:
    def action() -> None:
        raise exc

    return action
