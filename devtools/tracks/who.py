"""`omc-dev ports who PORT`: every holder of a host port, each with the command that frees it.

Three places are asked: the port registry (which track holds it), the Engine (which running
container publishes it, with its compose project) and the host (/proc: which process listens).
A container whose compose project folder no longer exists is a zombie: it keeps the port from a
track that is gone.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from devtools.tracks import hostsockets, registry
from devtools.tracks.occupancy import PublishedPort, bound_on_host, published_or_none

HolderKind = Literal["track", "container", "process", "unknown"]


@dataclass(frozen=True)
class Holder:
    kind: HolderKind
    name: str  # track, container name, or "pid 123 (comm)"
    detail: str
    fix: str
    facts: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "detail": self.detail,
            "fix": self.fix,
            **self.facts,
        }


@dataclass(frozen=True)
class WhoReport:
    port: int
    protocol: str
    holders: tuple[Holder, ...]
    engine_checked: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "port": self.port,
            "protocol": self.protocol,
            "free": not self.holders,
            "engine_checked": self.engine_checked,
            "holders": [h.to_dict() for h in self.holders],
        }


def _track_holders(port: int) -> list[Holder]:
    found = []
    entry = registry.snapshot().holders().get(port)
    if entry is not None:
        assignment = next(p for p in entry.ports if p.published == port)
        where = ", ".join(entry.worktrees)
        if entry.is_gone():
            detail = f"{assignment.key} in {entry.repo_name}; its worktree {where} is gone"
            fix = "nothing: the next `omc-dev ports` anywhere reclaims it"
        else:
            detail = f"{assignment.key} in {entry.repo_name} (worktree {where})"
            fix = f"cd {shlex.quote(entry.worktrees[0])} && omc-dev ports release {entry.track}"
        found.append(
            Holder(
                "track",
                entry.track,
                detail,
                fix,
                {
                    "repo": entry.repo,
                    "project": entry.project,
                    "service": assignment.service,
                    "worktrees": list(entry.worktrees),
                },
            )
        )
    return found


def _container_holder(published: PublishedPort) -> Holder:
    facts: dict[str, Any] = {
        "container": published.container,
        "container_id": published.container_id[:12],
        "project": published.project,
        "service": published.service,
        "container_port": published.container_port,
    }
    target = f"{published.container_port}/{published.protocol}"
    if published.project:
        detail = f"compose project {published.project}, service {published.service}, port {target}"
        fix = f"docker compose --project-name {shlex.quote(published.project)} down"
        if published.working_dir and not Path(published.working_dir).is_dir():
            detail += f"; zombie: its project folder {published.working_dir} is gone"
            facts["zombie"] = True
    else:
        detail = f"container port {target}"
        fix = f"docker rm --force {shlex.quote(published.container)}"
    return Holder("container", published.container, detail, fix, facts)


def _process_holders(port: int, protocol: str, containers_found: bool) -> list[Holder]:
    found = []
    socks = hostsockets.sockets(port, protocol)
    owners = hostsockets.owners({s.inode for s in socks})
    seen: set[int] = set()
    verb = "listens on" if protocol == "tcp" else "bound to"
    for sock in socks:
        address = f"[{sock.address}]" if ":" in sock.address else sock.address
        endpoint = f"{address}:{port}/{protocol}"
        procs = owners.get(sock.inode, [])
        for proc in procs:
            if proc.pid in seen:
                continue
            seen.add(proc.pid)
            if proc.name == "docker-proxy" and containers_found:
                continue  # the engine's proxy for the container listed above
            fix = f"kill {proc.pid}"
            if proc.name == "docker-proxy":
                fix = f"docker ps --filter publish={port} (then stop that container)"
            found.append(
                Holder(
                    "process",
                    f"pid {proc.pid} ({proc.name})",
                    f"{verb} {endpoint}: {proc.command}",
                    fix,
                    {"pid": proc.pid, "command": proc.command, "address": sock.address},
                )
            )
        if not procs:
            found.append(
                Holder(
                    "process",
                    f"uid {sock.uid}",
                    f"a socket on {endpoint} whose process this user cannot see",
                    f"run as root, or: ss --listening --processes 'sport = :{port}'",
                    {"uid": sock.uid, "address": sock.address},
                )
            )
    return found


def who(port: int, protocol: str = "tcp") -> WhoReport:
    holders: list[Holder] = _track_holders(port)
    published = published_or_none()
    containers = [
        _container_holder(p) for p in published or () if p.port == port and p.protocol == protocol
    ]
    unique = {h.name: h for h in containers}  # IPv4 and IPv6 bindings of one container
    holders += unique.values()
    processes = _process_holders(port, protocol, bool(unique))
    holders += processes
    if not unique and not processes and bound_on_host(port, protocol):
        holders.append(
            Holder(
                "unknown",
                "?",
                "binding it fails, but no listener is visible (another network namespace?)",
                f"ss --listening --processes 'sport = :{port}'",
            )
        )
    return WhoReport(port, protocol, tuple(holders), engine_checked=published is not None)
