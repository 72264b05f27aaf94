"""The fast path's memory of a resolution, per working directory and `--track`.

The full path of `omc-dev run` reads pyproject.toml, the git HEAD and `docker compose config`
(together ~300 ms) to learn the compose project, the default service, its bind mounts and its
container. It records the result here together with a fingerprint of every input: the stat of
each file it read and the environment variables that select the project. The next call from the
same folder checks the fingerprint (a few stat calls) and execs straight into the recorded
container. A changed input, or an engine that no longer knows the container as running (it was
recreated or stopped), sends the call back to the full path, which records afresh.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping

from devtools.container.spec import ServiceInfo

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

VERSION = 2  # 2: fix_ownership
MAX_ENTRIES = 64
# Environment variables that change which project, files or engine a resolution used.
ENV_KEYS = (
    "OMC_TRACK",
    "OMC_PROJECT_DIR",
    "COMPOSE_FILE",
    "COMPOSE_PATH_SEPARATOR",
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DOCKER_CONFIG",
)


def cache_path(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "omc-dev", "run-cache.json")


def _stat(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size, st.st_ino]


def _key(cwd: str, track: str | None) -> str:
    return f"{cwd}\0{track or ''}"


class Resolution:
    """What the full path learned for one folder: the project, its default service, services."""

    __slots__ = ("default_service", "fix_ownership", "project", "services")

    def __init__(
        self,
        project: str,
        default_service: str | None,
        services: Mapping[str, ServiceInfo],
        fix_ownership: bool | list[str] = False,
    ) -> None:
        self.project = project
        self.default_service = default_service
        self.services = dict(services)
        self.fix_ownership = fix_ownership  # [tool.omc-dev.run] fix-ownership, checked


class RunCache:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ
        self.path = cache_path(self.environ)

    def _env(self) -> dict[str, str | None]:
        return {key: self.environ.get(key) for key in ENV_KEYS}

    def _load(self) -> dict[str, Any]:
        try:
            with open(self.path, "rb") as fh:
                doc = json.load(fh)
        except (OSError, ValueError):
            return {}
        if not isinstance(doc, dict) or doc.get("version") != VERSION:
            return {}
        entries = doc.get("entries")
        return entries if isinstance(entries, dict) else {}

    def lookup(self, cwd: str, track: str | None) -> Resolution | None:
        """The recorded resolution, if every input it depended on is unchanged."""
        entry = self._load().get(_key(cwd, track))
        if not isinstance(entry, dict) or entry.get("env") != self._env():
            return None
        try:
            if any(_stat(path) != stat for path, stat in entry["stats"]):
                return None
            services = {
                name: ServiceInfo.from_json(name, doc) for name, doc in entry["services"].items()
            }
            return Resolution(
                entry["project"],
                entry.get("default_service"),
                services,
                entry.get("fix_ownership", False),
            )
        except (KeyError, TypeError, ValueError):
            return None  # written by another version: resolve afresh

    def store(
        self,
        cwd: str,
        track: str | None,
        resolution: Resolution,
        inputs: Iterable[str],
    ) -> None:
        """Record a resolution (keeping services already recorded for the same inputs)."""
        entries = self._load()
        key = _key(cwd, track)
        stats = [[path, _stat(path)] for path in sorted(set(inputs))]
        entry: dict[str, Any] = {
            "env": self._env(),
            "stats": stats,
            "project": resolution.project,
            "default_service": resolution.default_service,
            "fix_ownership": resolution.fix_ownership,
            "services": {name: info.to_json() for name, info in resolution.services.items()},
        }
        old = entries.pop(key, None)
        if isinstance(old, dict) and all(
            old.get(k) == entry[k] for k in ("env", "stats", "project")
        ):
            entry["services"] = {**old.get("services", {}), **entry["services"]}
        entries[key] = entry  # most recent last; the oldest go first
        while len(entries) > MAX_ENTRIES:
            entries.pop(next(iter(entries)))
        self._write({"version": VERSION, "entries": entries})

    def _write(self, doc: Mapping[str, Any]) -> None:
        from pathlib import Path  # only the full path writes: the fast path stays without pathlib

        from devtools.atomic import write_atomic

        try:
            os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
            write_atomic(Path(self.path), json.dumps(doc))
        except OSError:
            pass  # a cache that cannot be written only costs speed
