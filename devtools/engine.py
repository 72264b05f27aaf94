"""The Docker Engine, through the Engine SDK (imported lazily: it costs ~100 ms)."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TYPE_CHECKING

from devtools.errors import EnvironmentMissing

if TYPE_CHECKING:
    import docker


def engine_host() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


@lru_cache(maxsize=1)
def client(timeout: int = 10) -> docker.DockerClient:
    """A connected client, or EnvironmentMissing naming the fix."""
    import docker.errors

    import docker

    try:
        engine = docker.from_env(timeout=timeout)
        engine.ping()
    except docker.errors.DockerException as exc:
        reason = str(exc).split("(")[0].strip() or type(exc).__name__
        raise EnvironmentMissing(
            f"cannot reach the Docker engine at {engine_host()} ({reason}): "
            "start dockerd, or run scripts/provision-engine"
        ) from None
    return engine
