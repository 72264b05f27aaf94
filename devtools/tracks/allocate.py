"""Host ports for a track: deterministic, stable while held, never colliding.

Each published port of each service asks for one host port. Its first candidate is a hash of
(repo, track, service, container port) inside the port range, then the next ports in order, so
the same track gets the same ports on every machine state that allows it. A candidate is
refused, in this order, when: this allocation already chose it, another track holds it in the
registry, a container of another compose project publishes it (Engine), or binding it on the host
fails (a real bind). Ports the track already holds are kept unless one of those now applies.
The caller holds the registry lock for the whole decision.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from devtools.compose.model import ComposeProject
from devtools.config import ProjectConfig
from devtools.errors import EnvironmentMissing, UnusableInput
from devtools.tracks.occupancy import PublishedPort, bound_on_host
from devtools.tracks.registry import PortAssignment, Registry, TrackEntry, port_key

# Below Linux's ephemeral range (32768-60999), where the kernel hands out client ports.
DEFAULT_RANGE = "20000-29999"
MAX_SKIPS_REPORTED = 20


@dataclass(frozen=True)
class PortRange:
    low: int
    high: int

    @property
    def size(self) -> int:
        return self.high - self.low + 1

    def __str__(self) -> str:
        return f"{self.low}-{self.high}"

    @classmethod
    def parse(cls, text: str, source: str) -> PortRange:
        low_text, sep, high_text = text.strip().partition("-")
        try:
            low, high = int(low_text), int(high_text)
        except ValueError:
            low = high = -1
        if not sep or not 1024 <= low <= high <= 65535:
            raise UnusableInput(
                f"{source}: port range {text!r} must be LOW-HIGH with 1024 <= LOW <= HIGH <= 65535"
            )
        return cls(low, high)


def port_range(config: ProjectConfig) -> PortRange:
    """`OMC_PORT_RANGE`, else `range` in `[tool.omc-dev.ports]`, else 20000-29999."""
    if os.environ.get("OMC_PORT_RANGE"):
        return PortRange.parse(os.environ["OMC_PORT_RANGE"], "OMC_PORT_RANGE")
    configured = config.section("ports").get("range")
    if configured is not None:
        source = f"{config.pyproject}: [tool.omc-dev.ports] range"
        return PortRange.parse(str(configured), source)
    return PortRange.parse(DEFAULT_RANGE, "default")


@dataclass(frozen=True)
class PortRequest:
    """A published port of a service: the track needs one host port for it."""

    service: str
    target: int
    protocol: str
    host_ip: str | None

    @property
    def key(self) -> str:
        return port_key(self.service, self.target, self.protocol, self.host_ip)


def requests_for(project: ComposeProject) -> tuple[PortRequest, ...]:
    """Every published port of every service, in a stable order."""
    wanted = {
        PortRequest(service.name, p.target, p.protocol, p.host_ip)
        for service in project.services.values()
        for p in service.ports
    }
    return tuple(sorted(wanted, key=lambda r: r.key))


@dataclass(frozen=True)
class TrackRef:
    """The track asking for ports, as the registry knows it."""

    repo: str
    repo_name: str
    track: str
    project: str
    worktree: str


@dataclass(frozen=True)
class Skip:
    port: int
    reason: str


@dataclass(frozen=True)
class Move:
    old: PortAssignment
    new: PortAssignment
    reason: str


@dataclass(frozen=True)
class Allocation:
    entry: TrackEntry
    moved: tuple[Move, ...] = ()
    skipped: tuple[Skip, ...] = ()  # candidates refused on the way (the first few)
    engine_checked: bool = True


def preferred_port(ref: TrackRef, request: PortRequest, ports: PortRange) -> int:
    digest = hashlib.sha256(f"{ref.repo}\0{ref.track}\0{request.key}".encode()).digest()
    return ports.low + int.from_bytes(digest[:8], "big") % ports.size


def _bound_ip(address: str) -> str | None:
    """The engine reports "0.0.0.0" / "::" for mappings without a host IP."""
    return None if address in ("", "0.0.0.0", "::") else address


class _Occupancy:
    """Why a port cannot be used by this track right now (None: it can)."""

    def __init__(
        self, registry: Registry, ref: TrackRef, published: Sequence[PublishedPort] | None
    ) -> None:
        self.others = {
            port: entry
            for port, entry in registry.holders().items()
            if entry.key != (ref.repo, ref.track)
        }
        self.containers = {(p.port, p.protocol): p for p in published or ()}
        self.own_project = ref.project
        # Ports the track's own running containers publish, by the request they serve.
        self.running = {
            port_key(p.service, p.container_port, p.protocol, _bound_ip(p.host_ip)): p.port
            for p in published or ()
            if p.project == ref.project and p.service
        }
        self.chosen: set[int] = set()

    def reason(self, port: int, protocol: str, *, held: bool) -> str | None:
        if port in self.chosen:
            return "chosen for another port of this track"
        holder = self.others.get(port)
        if holder is not None:
            return f"held by track {holder.track} of {holder.repo_name}"
        container = self.containers.get((port, protocol))
        if container is not None:
            if held and container.project == self.own_project:
                return None  # the track's own stack is running on it
            project = f", compose project {container.project}" if container.project else ""
            return f"published by container {container.container}{project}"
        if bound_on_host(port, protocol):
            return "bound by a process on the host"
        return None


def allocate(
    registry: Registry,
    ref: TrackRef,
    requests: Sequence[PortRequest],
    ports: PortRange,
    *,
    published: Sequence[PublishedPort] | None,
) -> Allocation:
    """Decide the track's ports against the registry (the caller holds its lock) and the host."""
    existing = registry.get(ref.repo, ref.track)
    held = {a.key: a for a in existing.ports} if existing else {}
    occupancy = _Occupancy(registry, ref, published)
    assignments: list[PortAssignment] = []
    moved: list[Move] = []
    skipped: list[Skip] = []
    for request in sorted(requests, key=lambda r: r.key):
        old = held.get(request.key)
        # What the track has: its registered port, else what its running stack publishes
        # (after the registry lost it), kept unless something else now claims it.
        current = old.published if old else occupancy.running.get(request.key)
        why = None
        if current is not None:
            why = occupancy.reason(current, request.protocol, held=True)
            if why is None:
                occupancy.chosen.add(current)
                assignments.append(
                    PortAssignment(
                        request.service, request.target, request.protocol, request.host_ip, current
                    )
                )
                continue
        new = PortAssignment(
            request.service,
            request.target,
            request.protocol,
            request.host_ip,
            _first_free(ref, request, ports, occupancy, skipped),
        )
        occupancy.chosen.add(new.published)
        assignments.append(new)
        if old is not None:
            moved.append(Move(old, new, why or ""))
    worktrees = [w for w in (existing.worktrees if existing else ()) if Path(w).is_dir()]
    if ref.worktree not in worktrees:
        worktrees.append(ref.worktree)
    entry = TrackEntry(
        repo=ref.repo,
        repo_name=ref.repo_name,
        track=ref.track,
        project=ref.project,
        worktrees=tuple(sorted(worktrees)),
        ports=tuple(assignments),
        updated=existing.updated if existing else 0.0,
    )
    return Allocation(entry, tuple(moved), tuple(skipped), engine_checked=published is not None)


def _first_free(
    ref: TrackRef,
    request: PortRequest,
    ports: PortRange,
    occupancy: _Occupancy,
    skipped: list[Skip],
) -> int:
    start = preferred_port(ref, request, ports) - ports.low
    for step in range(ports.size):
        port = ports.low + (start + step) % ports.size
        why = occupancy.reason(port, request.protocol, held=False)
        if why is None:
            return port
        if len(skipped) < MAX_SKIPS_REPORTED:
            skipped.append(Skip(port, why))
    raise EnvironmentMissing(
        f"no free host port left in {ports} for {request.key} of track {ref.track}: "
        "release tracks you no longer use (omc-dev ports list / release), "
        "or widen range in [tool.omc-dev.ports]"
    )
