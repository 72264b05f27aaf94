"""`docker exec` through the docker CLI: for commands whose bytes stream through a pipe between
containers (pg_dump into pg_restore), where the CLI's own stdin/stdout are the simplest channel."""

from __future__ import annotations

from collections.abc import Sequence

from devtools.errors import EnvironmentMissing

DOCKER_MISSING = "docker is not installed: install Docker"


def exec_argv(
    container: str, argv: Sequence[str], *, stdin: bool = False, env: Sequence[str] = ()
) -> list[str]:
    """`docker exec [--interactive] [--env NAME[=VALUE] ...] CONTAINER ARGV...`.

    An `env` item without `=` takes its value from the docker CLI's own environment, so a
    secret never appears on a command line.
    """
    args = ["docker", "exec"]
    if stdin:
        args.append("--interactive")
    for item in env:
        args += ["--env", item]
    return [*args, container, *argv]


def docker_missing() -> EnvironmentMissing:
    return EnvironmentMissing(DOCKER_MISSING)
