"""The Docker Engine, through the Engine SDK (imported lazily: it costs ~100 ms)."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TYPE_CHECKING

from devtools.docker.engine_api import endpoint, unreachable

if TYPE_CHECKING:
    import docker
    from docker import DockerClient  # for callers' annotations: they never import the SDK

__all__ = ["DockerClient", "client", "engine_host"]


def engine_host() -> str:
    """The engine the docker CLI (and `omc-dev run`) uses: DOCKER_HOST, else the current context."""
    return endpoint()


@lru_cache(maxsize=1)
def client(timeout: int = 10) -> docker.DockerClient:
    """A connected client, or EnvironmentMissing naming the fix."""
    import docker.errors

    import docker

    host = engine_host()
    try:
        if os.environ.get("DOCKER_HOST"):
            engine = docker.from_env(timeout=timeout)  # with DOCKER_TLS_VERIFY / DOCKER_CERT_PATH
        else:  # the SDK knows no contexts: name the context's endpoint ourselves
            engine = docker.DockerClient(base_url=host, timeout=timeout)
        engine.ping()
    except docker.errors.DockerException as exc:
        reason = str(exc).split("(")[0].strip() or type(exc).__name__
        raise unreachable(host, reason) from None
    return engine
