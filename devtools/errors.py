"""Errors a user can act on. Each becomes one line on stderr and an exit code; never a traceback."""

from __future__ import annotations

# The exit-code convention shared by every omc-dev command: defined in one module.
from devtools.report.exitcodes import (
    EXIT_DECLINED,
    EXIT_ENVIRONMENT,
    EXIT_FINDINGS,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
)

__all__ = [
    "EXIT_DECLINED",
    "EXIT_ENVIRONMENT",
    "EXIT_FINDINGS",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "EnvironmentMissing",
    "UnusableInput",
    "UserError",
]


class UserError(Exception):
    """A failure the user can fix. `str(error)` is the whole message: what is wrong, what to do."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UnusableInput(UserError):
    """A file or argument omc-dev cannot work with (exit 2)."""

    exit_code = EXIT_USAGE


class EnvironmentMissing(UserError):
    """Something omc-dev needs is not there: engine, compose, a running service (exit 125)."""

    exit_code = EXIT_ENVIRONMENT


class Stopped(BaseException):
    """omc-dev was told to stop (SIGTERM, SIGHUP) while it waited for a child process: raised
    from the signal handler so the child's group is ended on the way out (exit 130, as Ctrl-C).
    A BaseException, like KeyboardInterrupt: `except Exception` must not swallow it."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name
