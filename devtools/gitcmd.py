"""Running git for omc-dev's own questions: one environment, and a failure as one line.

(verify streams many objects through long-lived git processes: `devtools/verify/gitrefs.py`.)
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from devtools.errors import EnvironmentMissing, UserError
from devtools.proc import run

# Plain English messages to parse, no credential prompt that could hang, no lock taken for
# the index refresh a read-only status would otherwise do.
GIT_ENV = {"LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"}


class GitFailed(UserError):
    """git ran and said no; the message names the git command, the folder and git's reason."""


# Local questions (ls-files, status, worktree): seconds even in a large repository.
GIT_TIMEOUT = 300.0


def git(cwd: Path, *args: str, stdin: bytes | None = None, timeout: float = GIT_TIMEOUT) -> bytes:
    """Run `git -C cwd ARGS...` and return its stdout; stopped (with its helpers) after
    `timeout` seconds or when omc-dev is interrupted."""
    try:
        proc = run(
            ["git", "-C", str(cwd), *args],
            input=stdin,
            timeout=timeout,
            env={**os.environ, **GIT_ENV},
        )
    except FileNotFoundError:
        raise EnvironmentMissing("git is not installed: install git") from None
    except subprocess.TimeoutExpired:
        raise EnvironmentMissing(
            f"git {args[0]} did not finish within {timeout:g} s in {cwd} and was stopped: "
            "is the repository on a slow or hung file system?"
        ) from None
    if proc.returncode != 0:
        lines = [ln.strip() for ln in proc.stderr.decode(errors="replace").splitlines()]
        reason = next((ln for ln in reversed(lines) if ln), f"exit code {proc.returncode}")
        raise GitFailed(f"git {args[0]} failed in {cwd}: {reason}", exit_code=1)
    stdout: bytes = proc.stdout
    return stdout
