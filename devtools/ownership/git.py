"""The few git questions clean asks, each in one batched git call (never one call per file)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from devtools.gitcmd import git
from devtools.omcdir import NAME as OMC_DIR


def _z_paths(output: bytes) -> list[str]:
    return [os.fsdecode(p) for p in output.split(b"\0") if p]


class Tracked:
    """Every path git tracks in a worktree (index included), and every folder above one."""

    def __init__(self, paths: list[str]) -> None:
        self.files = set(paths)
        self.folders: set[str] = set()
        for path in paths:
            # git prints "/"-separated paths relative to the worktree
            parent = path.rpartition("/")[0]
            while parent and parent not in self.folders:
                self.folders.add(parent)
                parent = parent.rpartition("/")[0]

    def covers(self, rel: str) -> bool:
        """Would removing `rel` (a file, or a folder with all it holds) remove a tracked file?"""
        return rel in self.files or rel in self.folders


def tracked(root: Path) -> Tracked:
    return Tracked(_z_paths(git(root, "ls-files", "-z", "--cached", "--full-name")))


@dataclass(frozen=True)
class Change:
    status: str  # git's two-letter XY code; "??" for untracked
    path: str  # relative to the worktree

    @property
    def untracked(self) -> bool:
        return self.status == "??"


def changes(root: Path) -> list[Change]:
    """Uncommitted changes: staged, modified, deleted, and untracked files that are not ignored.

    Untracked files in omc-dev's own `.omc/` folders are not work (an older omc-dev wrote them
    before `.omc/` ignored itself)."""
    out = git(root, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames")
    found = [Change(record[:2], record[3:]) for record in _z_paths(out)]
    return [c for c in found if not (c.untracked and OMC_DIR in c.path.split("/")[:-1])]


def remove_worktree(main: Path, worktree: Path) -> None:
    git(main, "worktree", "remove", "--force", str(worktree))
    git(main, "worktree", "prune")


def worktree_paths(main: Path) -> list[Path]:
    out = git(main, "worktree", "list", "--porcelain", "-z").decode(errors="surrogateescape")
    prefix = "worktree "
    return [Path(r[len(prefix) :]) for r in out.split("\0") if r.startswith(prefix)]
