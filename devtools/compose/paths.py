"""Host path -> container path through bind mounts: pure string work on (source, target) pairs.

Kept free of pathlib and dataclasses so `omc-dev run`'s fast path can use it on cached mounts;
`Service.container_path` delegates here, so both paths translate the same way.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable


def container_path(host_path: str, mounts: Iterable[tuple[str, str]]) -> str | None:
    """The container path of absolute `host_path` through the most specific bind mount, or None."""
    path = posixpath.normpath(host_path)
    best: tuple[int, str] | None = None
    for raw_source, target in mounts:
        source = posixpath.normpath(raw_source)
        if path == source:
            rel = ""
        elif path.startswith(source.rstrip("/") + "/"):
            rel = path[len(source) :].lstrip("/")
        else:
            continue
        if best is None or len(source) > best[0]:
            best = (len(source), posixpath.join(target, rel) if rel else posixpath.normpath(target))
    return best[1] if best else None
