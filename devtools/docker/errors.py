"""The Engine SDK's exceptions, for callers that catch them: they import this module (lazily, where
they use the SDK), never the SDK itself, so that Docker is reached only through `devtools.docker`."""

from __future__ import annotations

from docker.errors import APIError, DockerException, ImageNotFound, NotFound

__all__ = ["APIError", "DockerException", "ImageNotFound", "NotFound"]
