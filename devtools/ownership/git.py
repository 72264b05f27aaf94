"""The few git questions clean asks, each in one batched git call (never one call per file)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from devtools.git.runner import git
from devtools.omcdir import NAME as OMC_DIR


def _z_paths(output: bytes) -> list[str]:
    return [os.fsdecode(p) for p in output.split(b"\0") if p]


class Tracked:
    """Every path git tracks in a worktree (index included), and every folder above one.

    `gitlinks` are the submodules among them: folders that are checkouts of their own, whose
    files this index does not list (ask the submodule).
    """

    def __init__(self, paths: list[str], gitlinks: Iterable[str] = ()) -> None:
        self.files = set(paths)
        self.gitlinks = set(gitlinks)
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


_GITLINK = "160000"  # the mode git records for a submodule


def tracked(root: Path) -> Tracked:
    """What the checkout at `root` tracks (its own index only: submodules are asked apart)."""
    paths, gitlinks = [], []
    # "<mode> <object> <stage>\t<path>" per entry
    for record in _z_paths(git(root, "ls-files", "-z", "--stage", "--full-name")):
        meta, _, path = record.partition("\t")
        paths.append(path)
        if meta.startswith(_GITLINK + " "):
            gitlinks.append(path)
    return Tracked(paths, gitlinks)


@dataclass(frozen=True)
class Change:
    status: str  # git's two-letter XY code; "??" for untracked
    path: str  # relative to the worktree

    @property
    def untracked(self) -> bool:
        return self.status == "??"


def changes(root: Path) -> list[Change]:
    """Uncommitted changes: staged, modified, deleted, and untracked files that are not ignored.

    A submodule shows up when its tracked content or its commit changed, not for untracked files
    in it: ask the submodule itself for those (worktree.py does). Untracked files in omc-dev's own
    `.omc/` folders are not work (an older omc-dev wrote them before `.omc/` ignored itself).
    """
    out = git(
        root,
        "status",
        "--porcelain=v1",
        "-z",
        "--untracked-files=all",
        "--no-renames",
        "--ignore-submodules=untracked",
    )
    found = [Change(record[:2], record[3:]) for record in _z_paths(out)]
    return [c for c in found if not (c.untracked and OMC_DIR in c.path.split("/")[:-1])]


def unpushed(root: Path) -> bool:
    """Does the checkout hold commits (HEAD or a local branch) that no remote-tracking ref has?"""
    return bool(
        git(root, "rev-list", "-n", "1", "HEAD", "--branches", "--not", "--remotes").strip()
    )


def remove_worktree(main: Path, worktree: Path) -> None:
    git(main, "worktree", "remove", "--force", str(worktree))
    git(main, "worktree", "prune")


def worktree_paths(main: Path) -> list[Path]:
    out = git(main, "worktree", "list", "--porcelain", "-z").decode(errors="surrogateescape")
    prefix = "worktree "
    return [Path(r[len(prefix) :]) for r in out.split("\0") if r.startswith(prefix)]
