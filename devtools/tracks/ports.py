"""A track's ports: allocate them for its compose project, write its override, release them.

`omc-dev ports` and the commands that start the stack (`devtools.stack.target.ports_target`)
go through here, so they agree on the project name, the override file and the registry entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from devtools.compose.cli import ComposeTarget, load_project, targets_for
from devtools.compose.model import ComposeProject
from devtools.config import ProjectConfig
from devtools.errors import UnusableInput
from devtools.tracks import registry
from devtools.tracks.allocate import Allocation, TrackRef, allocate, port_range, requests_for
from devtools.tracks.identity import Track, git_layout, project_name, repo_key, repo_name
from devtools.tracks.occupancy import published_or_none
from devtools.tracks.override import remove_override, write_override


def track_ref(config: ProjectConfig, track: Track) -> TrackRef:
    layout = git_layout(config.root)
    worktree = layout.worktree if layout else config.root.resolve()
    return TrackRef(
        repo=repo_key(config),
        repo_name=repo_name(config),
        track=track.name,
        project=project_name(config, track),
        worktree=str(worktree),
    )


@dataclass(frozen=True)
class TrackPorts:
    ref: TrackRef
    allocation: Allocation
    override: Path | None  # None when no service publishes a port
    reclaimed: tuple[registry.TrackEntry, ...]


def base_target(config: ProjectConfig, track: Track) -> ComposeTarget:
    """Every service of every profile: a service started later with `--profile` (or a changed
    COMPOSE_PROFILES) must find its track's host ports already in the override."""
    return targets_for(config, project_name(config, track), profiles=("*",))


def ensure_ports(
    config: ProjectConfig, track: Track, project: ComposeProject | None = None
) -> TrackPorts:
    """Allocate (or confirm) the track's host ports and write its override file."""
    ref = track_ref(config, track)
    project = project or load_project(base_target(config, track))
    requests = requests_for(project)
    # Ask the engine before taking the lock: the critical section stays a few milliseconds.
    published = published_or_none() if requests else []
    with registry.locked() as reg:
        reclaimed = tuple(reg.reclaim())
        allocation = allocate(reg, ref, requests, port_range(config), published=published)
        if requests:
            reg.put(allocation.entry)
        else:
            reg.remove(ref.repo, ref.track)
    if not requests:
        remove_override(config.root, track.name)
        return TrackPorts(ref, allocation, None, reclaimed)
    return TrackPorts(ref, allocation, write_override(config, project, allocation.entry), reclaimed)


def registered(config: ProjectConfig, track_name: str) -> registry.TrackEntry:
    """The registry entry of a track of this repository, or a one-line error naming the others."""
    repo = repo_key(config)
    reg = registry.snapshot()
    entry = reg.get(repo, track_name)
    known = sorted(e.track for e in reg.entries.values() if e.repo == repo)
    if entry is None:
        listed = ", ".join(known) or "none"
        raise UnusableInput(
            f"unknown track {track_name!r}: no ports registered for it in {repo_name(config)} "
            f"(tracks with ports: {listed}); see omc-dev ports list"
        )
    return entry


def release(entry: registry.TrackEntry) -> None:
    """Forget the track's ports and delete its override files."""
    with registry.locked() as reg:
        reg.remove(entry.repo, entry.track)
    for worktree in entry.worktrees:
        remove_override(Path(worktree), entry.track)
