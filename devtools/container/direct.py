"""Inside a container already: run the command here, with the same argv, replacing omc-dev."""

from __future__ import annotations

import os
import sys

from devtools.container.request import RunRequest
from devtools.container.spec import RUN_ID, environment
from devtools.errors import UnusableInput


def run_directly(request: RunRequest, reason: str) -> int:
    """exec the command in this process (exit code and signals are then the command's own).

    `-w` and `-e` apply; `--service`, `--user` and `--start` name a container we are already in.
    """
    env = dict(os.environ)
    env.update(pair.split("=", 1) for pair in environment(request.env, os.environ))  # type: ignore[misc]
    env[RUN_ID] = env.get(RUN_ID) or os.urandom(8).hex()
    if request.user:
        sys.stderr.write(
            f"omc-dev: --user is ignored inside a container ({reason}): running as uid {os.getuid()}\n"
        )
    if request.workdir:
        try:
            os.chdir(request.workdir)
        except OSError as exc:
            raise UnusableInput(f"-w {request.workdir}: {exc.strerror}") from None
    argv = request.cmd
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe(argv[0], argv, env)
    except FileNotFoundError:
        sys.stderr.write(f"omc-dev: cannot run {argv[0]}: command not found\n")
        return 127
    except OSError as exc:
        sys.stderr.write(f"omc-dev: cannot run {argv[0]}: {exc.strerror}\n")
        return 126
    raise AssertionError("unreachable: execvpe returned")
