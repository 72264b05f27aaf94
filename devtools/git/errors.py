"""The one failure of git itself, and its one exit code.

Git ran and could not answer (network, credentials, a damaged or locked clone, a timeout): the
environment is not in a state to answer, so the exit code is 125, whichever command asked.
A question the user asked wrongly (a `--base` ref that does not exist, a folder that is not a
repository) is checked by the caller first and reported as unusable input (2).
"""

from __future__ import annotations

from devtools.errors import EXIT_ENVIRONMENT, UserError


class GitFailed(UserError):
    """git ran and said no: the message names the git command, the folder and git's reason."""

    exit_code = EXIT_ENVIRONMENT


class NoMergeBase(Exception):
    """`base...head` has no merge base in this clone (unrelated histories or a shallow clone)."""
