"""Which track we are on, and the compose project name that keeps its stack apart.

Read from `.git` files directly rather than through git or GitPython: this runs on every
`omc-dev run`, where a subprocess or a heavy import would cost more than the command.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from devtools.config import ProjectConfig
from devtools.errors import UnusableInput

DEFAULT_TRACK = "default"
_INVALID = re.compile(r"[^a-z0-9_-]+")


@dataclass(frozen=True)
class Track:
    name: str
    source: str  # "--track", "OMC_TRACK", "branch", "worktree", "default"


@dataclass(frozen=True)
class GitLayout:
    worktree: Path  # the checkout's top folder
    git_dir: Path  # this worktree's git dir (".git", or ".git/worktrees/<name>")
    common_dir: Path  # the repository's shared git dir

    @property
    def is_linked_worktree(self) -> bool:
        return self.git_dir != self.common_dir

    @property
    def main_worktree(self) -> Path:
        return self.common_dir.parent if self.common_dir.name == ".git" else self.common_dir


def sanitize(raw: str) -> str:
    """A compose-safe name: lowercase letters, digits, `-` and `_`, starting with a letter or digit."""
    name = _INVALID.sub("-", raw.strip().lower()).strip("-_")
    return name[:63].rstrip("-_")


def git_layout(start: Path) -> GitLayout | None:
    for folder in (start.resolve(), *start.resolve().parents):
        dotgit = folder / ".git"
        if dotgit.is_dir():
            return GitLayout(folder, dotgit, dotgit)
        if dotgit.is_file():
            # A linked worktree: ".git" is a file "gitdir: <path>".
            text = dotgit.read_text(errors="replace").strip()
            if not text.startswith("gitdir:"):
                return None
            git_dir = (folder / text.removeprefix("gitdir:").strip()).resolve()
            common = git_dir
            commondir = git_dir / "commondir"
            if commondir.is_file():
                common = (git_dir / commondir.read_text().strip()).resolve()
            return GitLayout(folder, git_dir, common)
    return None


def current_branch(layout: GitLayout) -> str | None:
    """The checked-out branch, or None on a detached HEAD."""
    try:
        head = (layout.git_dir / "HEAD").read_text().strip()
    except OSError:
        return None
    prefix = "ref: refs/heads/"
    return head.removeprefix(prefix) if head.startswith(prefix) else None


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
            return Track(name, source)
    layout = git_layout(config.root)
    if layout is not None:
        branch = current_branch(layout)
        if branch and sanitize(branch):
            return Track(sanitize(branch), "branch")
        if sanitize(layout.worktree.name):
            return Track(sanitize(layout.worktree.name), "worktree")
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
    """The compose project name for a track: `<repo>-<track>`."""
    return sanitize(f"{repo_name(config)}-{track.name}")
