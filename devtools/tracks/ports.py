"""A track's ports: allocate them for its compose project, write its override, release them.

`omc-dev ports` and the commands that start the stack (`devtools.stack.target.ports_target`)
go through here, so they agree on the project name, the override file and the registry entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from devtools.compose.model import ComposeProject
from devtools.config import ProjectConfig
from devtools.docker.compose import ComposeTarget, load_project, targets_for
from devtools.errors import UnusableInput
from devtools.git.layout import find as git_layout
from devtools.tracks import registry, values
from devtools.tracks.allocate import Allocation, TrackRef, allocate, port_range, requests_for
from devtools.tracks.identity import (
    Track,
    legacy_project_name,
    project_name,
    repo_key,
    repo_name,
    resolve_track,
)
from devtools.tracks.occupancy import published_or_none
from devtools.tracks.override import remove_override, write_override


def track_ref(config: ProjectConfig, track: Track) -> TrackRef:
    layout = git_layout(config.root)
    worktree = layout.worktree if layout else config.root.resolve()
    return TrackRef(
        repo=repo_key(config),
        repo_name=repo_name(config),
        track=track.key,
        project=project_name(config, track),
        worktree=str(worktree),
    )


@dataclass(frozen=True)
class TrackPorts:
    ref: TrackRef
    allocation: Allocation
    override: Path | None  # None when no service publishes a port and no value is set
    reclaimed: tuple[registry.TrackEntry, ...]
    values: dict[str, str] = field(default_factory=dict)  # [tool.omc-dev.tracks.env], rendered


def base_target(config: ProjectConfig, track: Track) -> ComposeTarget:
    """Every service of every profile: a service started later with `--profile` (or a changed
    COMPOSE_PROFILES) must find its track's host ports already in the override."""
    return targets_for(config, project_name(config, track), profiles=("*",))


def ensure_ports(
    config: ProjectConfig, track: Track, project: ComposeProject | None = None
) -> TrackPorts:
    """Allocate (or confirm) the track's host ports and write its override file."""
    ref = track_ref(config, track)
    found = values.templates(config)  # a bad template is one line before anything changes
    project = project or load_project(base_target(config, track))
    requests = requests_for(project)
    # Ask the engine before taking the lock: the critical section stays a few milliseconds.
    published = published_or_none() if requests else []
    with registry.locked() as reg:
        reclaimed = tuple(reg.reclaim())
        _adopt_older_entry(config, reg, ref, track)
        allocation = allocate(reg, ref, requests, port_range(config), published=published)
        if requests:
            reg.put(allocation.entry)
        else:
            reg.remove(ref.repo, ref.track)
    if track.key != track.name:
        remove_override(config.root, track.name)  # an older version's file for this track
    names = values.TrackNames(ref.project, ref.track, ref.repo_name, allocation.entry.ports)
    rendered = values.render_all(found, names)
    environment = values.service_environment(
        found, rendered, {s.name: s.environment for s in project.services.values()}
    )
    if not requests and not environment:
        remove_override(config.root, track.key)
        return TrackPorts(ref, allocation, None, reclaimed, rendered)
    override = write_override(config, project, allocation.entry, environment)
    return TrackPorts(ref, allocation, override, reclaimed, rendered)


def track_env(config: ProjectConfig, track: Track) -> dict[str, str]:
    """The track's rendered values for compose's environment, from the registry as last written
    (no lock, no compose call); values that need ports are left out while the track holds none,
    and so is a template the stack cannot fill (a service it no longer publishes).
    Empty, at no cost, without `[tool.omc-dev.tracks.env]`."""
    try:
        found = values.templates(config)
    except UnusableInput:
        return {}  # said by `up`, `ports` and `doctor`
    if not found:
        return {}
    entry = registry.snapshot().get(repo_key(config), track.key)
    names = values.TrackNames(
        project_name(config, track),
        track.key,
        repo_name(config),
        entry.ports if entry is not None else None,
    )
    rendered = {}
    for template in found:
        try:
            rendered.update(values.render_all((template,), names, skip_unready=True))
        except UnusableInput:
            continue  # `up` and `ports` say it (exit 2); `down` and `run` still work meanwhile
    return rendered


def _adopt_older_entry(
    config: ProjectConfig, reg: registry.Registry, ref: TrackRef, track: Track
) -> None:
    """Earlier versions keyed a track by its sanitized name alone: this checkout's entry under
    that name becomes the track's (same ports), so an upgrade moves no port."""
    if track.key == track.name or reg.get(ref.repo, ref.track) is not None:
        return
    old = reg.get(ref.repo, track.name)
    # Only an entry an earlier version wrote (its project has the old name), never the entry of
    # the track whose given name is exactly `track.name`.
    if (
        old is not None
        and ref.worktree in old.worktrees
        and old.project == legacy_project_name(config, track)
    ):
        reg.remove(ref.repo, track.name)
        reg.put(replace(old, track=ref.track, project=ref.project))


def registered(config: ProjectConfig, track_name: str) -> registry.TrackEntry:
    """The registry entry of a track of this repository (by its key as `ports list` shows it,
    or by the name as given), or a one-line error naming the others."""
    repo = repo_key(config)
    reg = registry.snapshot()
    entry = reg.get(repo, track_name) or reg.get(repo, resolve_track(config, track_name).key)
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
