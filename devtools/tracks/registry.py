"""The port registry: which host ports each track holds, shared by every repo and worktree of a user.

It lives in the user's state dir (`OMC_STATE_DIR`, else `$XDG_STATE_HOME/omc-dev`, else
`~/.local/state/omc-dev`) as JSON Lines: a header line, then one line per track, so a line
damaged on disk can be named exactly. Every read-modify-write happens under an exclusive `fcntl`
lock on a sibling lock file, and a new version lands by temp file + fsync + rename: a reader
never sees half a file, and a crash never leaves one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from devtools.atomic import write_atomic
from devtools.errors import EnvironmentMissing, UnusableInput

REGISTRY_FILE = "ports.jsonl"
LOCK_FILE = "ports.lock"
HEADER = {"omc-dev": "port-registry", "format": 1}
LOCK_TIMEOUT = 30.0  # seconds; allocations hold the lock for milliseconds


def state_dir() -> Path:
    explicit = os.environ.get("OMC_STATE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "omc-dev"


@dataclass(frozen=True)
class PortAssignment:
    """One published port of one service, and the host port the track holds for it."""

    service: str
    target: int  # the container port
    protocol: str
    host_ip: str | None
    published: int  # the host port

    @property
    def key(self) -> str:
        return port_key(self.service, self.target, self.protocol, self.host_ip)

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "target": self.target,
            "protocol": self.protocol,
            "host_ip": self.host_ip,
            "published": self.published,
        }


def port_key(service: str, target: int, protocol: str, host_ip: str | None) -> str:
    return f"{service}:{target}/{protocol}" + (f"@{host_ip}" if host_ip else "")


@dataclass(frozen=True)
class TrackEntry:
    repo: str  # identity of the repository (its shared git dir)
    repo_name: str
    track: str
    project: str  # the track's compose project name
    worktrees: tuple[str, ...]  # checkouts that used this track; gone when none exists
    ports: tuple[PortAssignment, ...]
    updated: float = 0.0

    @property
    def key(self) -> tuple[str, str]:
        return (self.repo, self.track)

    def is_gone(self) -> bool:
        return not any(Path(w).is_dir() for w in self.worktrees)

    def to_dict(self) -> dict[str, Any]:
        return {
            "repo": self.repo,
            "repo_name": self.repo_name,
            "track": self.track,
            "project": self.project,
            "worktrees": list(self.worktrees),
            "ports": [p.to_dict() for p in self.ports],
            "updated": round(self.updated, 3),
        }


class RegistryDamaged(UnusableInput):
    """The file on disk is not what omc-dev writes; it is never overwritten automatically."""


@dataclass
class Registry:
    path: Path
    entries: dict[tuple[str, str], TrackEntry] = field(default_factory=dict)

    def get(self, repo: str, track: str) -> TrackEntry | None:
        return self.entries.get((repo, track))

    def put(self, entry: TrackEntry) -> None:
        old = self.entries.get(entry.key)
        if old is not None and replace(old, updated=0.0) == replace(entry, updated=0.0):
            return  # unchanged: keep the file (and its timestamp) as it is
        self.entries[entry.key] = replace(entry, updated=time.time())

    def remove(self, repo: str, track: str) -> TrackEntry | None:
        return self.entries.pop((repo, track), None)

    def reclaim(self) -> list[TrackEntry]:
        """Drop the entries whose worktrees are all gone; their ports are free again."""
        gone = [e for e in self.entries.values() if e.is_gone()]
        for entry in gone:
            del self.entries[entry.key]
        return gone

    def holders(self) -> dict[int, TrackEntry]:
        """Host port -> the track holding it."""
        return {p.published: e for e in self.entries.values() for p in e.ports}

    def serialize(self) -> str:
        lines = [json.dumps(HEADER, sort_keys=True)]
        for key in sorted(self.entries):
            lines.append(json.dumps(self.entries[key].to_dict(), sort_keys=True))
        return "\n".join(lines) + "\n"


# --- reading -------------------------------------------------------------------------------


def _damaged(path: Path, line: int, what: str) -> RegistryDamaged:
    return RegistryDamaged(
        f"{path}:{line}: port registry damaged ({what}): fix or delete that line, "
        f"or remove the file to start over (its tracks then get new ports)"
    )


def _str(doc: Mapping[str, Any], name: str) -> str:
    value = doc.get(name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name!r} must be a non-empty string")
    return value


def _port(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise ValueError(f"{name!r} must be a port number, got {value!r}")
    return value


def _parse_assignment(doc: Any) -> PortAssignment:
    if not isinstance(doc, Mapping):
        raise ValueError("each port must be an object")
    host_ip = doc.get("host_ip")
    if host_ip is not None and not isinstance(host_ip, str):
        raise ValueError("'host_ip' must be a string or null")
    return PortAssignment(
        service=_str(doc, "service"),
        target=_port(doc.get("target"), "target"),
        protocol=_str(doc, "protocol"),
        host_ip=host_ip or None,
        published=_port(doc.get("published"), "published"),
    )


def _parse_entry(doc: Any) -> TrackEntry:
    if not isinstance(doc, Mapping):
        raise ValueError("a track line must be a JSON object")
    worktrees = doc.get("worktrees")
    ports = doc.get("ports")
    if not isinstance(worktrees, list) or not all(isinstance(w, str) for w in worktrees):
        raise ValueError("'worktrees' must be a list of paths")
    if not isinstance(ports, list):
        raise ValueError("'ports' must be a list")
    updated = doc.get("updated", 0.0)
    if isinstance(updated, bool) or not isinstance(updated, int | float):
        raise ValueError("'updated' must be a number")
    if not -1e12 < updated < 1e12:  # a time in Unix seconds (also: no float overflow, no NaN)
        raise ValueError(f"'updated' must be a time in Unix seconds, got {updated!r:.40}")
    return TrackEntry(
        repo=_str(doc, "repo"),
        repo_name=_str(doc, "repo_name"),
        track=_str(doc, "track"),
        project=_str(doc, "project"),
        worktrees=tuple(worktrees),
        ports=tuple(_parse_assignment(p) for p in ports),
        updated=float(updated),
    )


def parse(path: Path, text: str) -> Registry:
    registry = Registry(path)
    seen_ports: dict[int, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            doc = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise _damaged(path, number, f"not JSON: {exc.msg} at column {exc.colno}") from None
        except RecursionError:
            raise _damaged(path, number, "JSON nested too deeply") from None
        if number == 1:
            if doc != HEADER:
                raise _damaged(path, number, "not an omc-dev port registry header")
            continue
        try:
            entry = _parse_entry(doc)
        except ValueError as exc:
            raise _damaged(path, number, str(exc)) from None
        if entry.key in registry.entries:
            raise _damaged(path, number, f"track {entry.track!r} of {entry.repo} listed twice")
        for port in entry.ports:
            if port.published in seen_ports:
                raise _damaged(
                    path,
                    number,
                    f"host port {port.published} also held on line {seen_ports[port.published]}",
                )
            seen_ports[port.published] = number
        registry.entries[entry.key] = entry
    return registry


def read(path: Path) -> Registry:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Registry(path)
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise _damaged(path, line, "not UTF-8 text") from None
    except OSError as exc:
        raise EnvironmentMissing(f"cannot read the port registry {path}: {exc.strerror}") from None
    return parse(path, text)


def snapshot(directory: Path | None = None) -> Registry:
    """The registry as last written, for commands that only look: no lock is needed, since
    every write lands by rename (a reader sees one whole version), and nothing is created."""
    return read((directory or state_dir()) / REGISTRY_FILE)


# --- writing under the lock ----------------------------------------------------------------


def _acquire(fd: int, lock_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise EnvironmentMissing(
                    f"the port registry lock {lock_path} has been held by another process for "
                    f"{timeout:.0f} s: find it with `fuser {lock_path}` and let it finish or stop it"
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, 0.02)


@contextmanager
def locked(directory: Path | None = None, timeout: float = LOCK_TIMEOUT) -> Iterator[Registry]:
    """The registry under an exclusive lock; changes made to it are written on a clean exit."""
    directory = directory or state_dir()
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock_fd = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise EnvironmentMissing(
            f"cannot use the state dir {directory} for the port registry ({exc.strerror}): "
            "set OMC_STATE_DIR to a writable folder"
        ) from None
    try:
        _acquire(lock_fd, directory / LOCK_FILE, timeout)
        _remove_stale_temp_files(directory)
        registry = read(directory / REGISTRY_FILE)
        before = registry.serialize()
        yield registry
        after = registry.serialize()
        if after != before:
            _write(registry.path, after)
    finally:
        os.close(lock_fd)  # closing the descriptor releases the lock


def _remove_stale_temp_files(directory: Path) -> None:
    """Temp files a writer killed mid-write (kill -9) left behind. Only the lock holder writes
    one, and we hold the lock: every one there now is stale."""
    for stale in directory.glob(f".{REGISTRY_FILE}.*.tmp"):
        with contextlib.suppress(OSError):  # gone already, or not ours to remove: harmless
            stale.unlink()


def _write(path: Path, text: str) -> None:
    """The new version, by rename; a registry file made read-only is not replaced (root could,
    but whoever took its write bits away meant it to stay as it is)."""
    if path.exists() and (not os.access(path, os.W_OK) or not path.stat().st_mode & 0o222):
        raise EnvironmentMissing(
            f"the port registry {path} is read-only: make it writable (chmod u+w), "
            "or set OMC_STATE_DIR to another folder"
        )
    try:
        write_atomic(path, text, mode=0o600)
    except OSError as exc:
        raise EnvironmentMissing(
            f"cannot write the port registry {path} ({exc.strerror}): make {path.parent} "
            "writable, or set OMC_STATE_DIR to a writable folder"
        ) from None
