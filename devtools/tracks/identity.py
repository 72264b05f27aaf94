"""Which track we are on, and the compose project name that keeps its stack apart.

The branch and the repository come from `devtools.git.layout`, which reads `.git` without
starting git: this runs on every `omc-dev run`, where a process would cost more than the command.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass

from devtools.config import ProjectConfig
from devtools.errors import UnusableInput
from devtools.git.layout import current_branch
from devtools.git.layout import find as git_layout

DEFAULT_TRACK = "default"
_INVALID = re.compile(r"[^a-z0-9_-]+")


@dataclass(frozen=True)
class Track:
    name: str
    source: str  # "--track", "OMC_TRACK", "branch", "worktree", "default"
    raw: str = ""  # as given (branch `Feature/Orders.X`); empty: the same as `name`

    @property
    def given(self) -> str:
        return self.raw or self.name

    @property
    def key(self) -> str:
        """The name the port registry and `.omc/tracks/` know this track by: `name`, plus a
        short hash of the name as given when sanitizing changed it, so `Feature/Orders.X` and
        `feature-orders-x` never share host ports or an override file."""
        if self.given == self.name:
            return self.name
        digest = hashlib.sha256(self.given.encode()).hexdigest()[:6]
        return f"{self.name[:56].rstrip('-_')}-{digest}"


def sanitize(raw: str) -> str:
    """A compose-safe name: lowercase letters, digits, `-` and `_`, starting with a letter or digit."""
    name = _INVALID.sub("-", raw.strip().lower()).strip("-_")
    return name[:63].rstrip("-_")


def resolve_track(config: ProjectConfig, explicit: str | None = None) -> Track:
    """`--track`, else `OMC_TRACK`, else the branch, else the worktree folder, else "default"."""
    if explicit is not None and not explicit.strip():
        raise UnusableInput(
            "the track name is empty: name a track (letters, digits, - or _), or leave "
            "--track out for the current one"
        )
    for raw, source in ((explicit, "--track"), (os.environ.get("OMC_TRACK"), "OMC_TRACK")):
        if raw:
            name = sanitize(raw)
            if not name:
                raise UnusableInput(
                    f"track name {raw!r} ({source}) has no usable characters: use letters, digits, - or _"
                )
            return Track(name, source, raw.strip())
    layout = git_layout(config.root)
    if layout is not None:
        branch = current_branch(layout)
        if branch and sanitize(branch):
            return Track(sanitize(branch), "branch", branch)
        if sanitize(layout.worktree.name):
            return Track(sanitize(layout.worktree.name), "worktree", layout.worktree.name)
    return Track(DEFAULT_TRACK, "default")


def repo_name(config: ProjectConfig) -> str:
    """`project` in `[tool.omc-dev]`, else the main worktree's folder name: shared by all tracks."""
    configured = config.get("project")
    if configured:
        return sanitize(str(configured)) or "omc"
    layout = git_layout(config.root)
    folder = layout.main_worktree if layout else config.root
    return sanitize(folder.name) or "omc"


def repo_key(config: ProjectConfig) -> str:
    """What makes a repository one repository on this machine: its shared git dir (the same for
    all of its worktrees), else the project folder. The port registry keys tracks by it."""
    layout = git_layout(config.root)
    return str(layout.common_dir if layout else config.root.resolve())


def project_name(config: ProjectConfig, track: Track) -> str:
    """The compose project name of this checkout's stack for a track.

    `<repo>-<track>-<hash>`: the hash (8 hex digits) is of the checkout folder and the track name
    as given, so two clones or worktrees on one branch, and tracks whose names normalise alike
    (`Feature/Orders.X`, `feature-orders-x`), never share containers, networks or volumes.
    A stack started before this scheme keeps its old name `<repo>-<track>` (see `stackname`).
    """
    from devtools.tracks.stackname import legacy_or_none

    key = (str(config.root.resolve()), repo_name(config), track.name, track.given)
    if key not in _NAMES:
        _NAMES[key] = legacy_or_none(config, legacy_project_name(config, track)) or _hashed(*key)
    return _NAMES[key]


_NAMES: dict[tuple[str, str, str, str], str] = {}  # one answer per process: it asks the engine


def _hashed(checkout: str, repo: str, track: str, given: str) -> str:
    digest = hashlib.sha256(f"{checkout}\0{given}".encode()).hexdigest()[:8]
    return f"{sanitize(f'{repo}-{track}')[:54].rstrip('-_')}-{digest}"


def legacy_project_name(config: ProjectConfig, track: Track) -> str:
    """The name earlier versions gave every checkout's stack of a track: `<repo>-<track>`."""
    return sanitize(f"{repo_name(config)}-{track.name}")
