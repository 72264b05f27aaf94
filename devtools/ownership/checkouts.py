"""Checkouts nested in the worktree: submodules, linked worktrees, nested repositories.

A folder below the worktree root that holds a `.git` (folder or file) is a checkout of its own:
the worktree's index says nothing about what is in it, so judging its files by the worktree's
`git ls-files` deletes what that checkout tracks. clean and chown treat them alike:
- a submodule (a gitlink in the index of the checkout around it) is part of this checkout: it is
  entered, and asked itself what it tracks;
- a linked worktree or a nested repository belongs elsewhere (another track's worktree, another
  project): it is not entered, and a note names it, so nothing in it is deleted or changed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from devtools.errors import UserError
from devtools.git import layout
from devtools.ownership import git

Kind = Literal["submodule", "worktree", "repository"]
LABEL: dict[Kind, str] = {
    "submodule": "a submodule",
    "worktree": "a linked worktree (git worktree add)",
    "repository": "a nested git repository",
}


@dataclass(frozen=True)
class Nested:
    path: Path
    kind: Kind

    @property
    def entered(self) -> bool:
        return self.kind == "submodule"

    @property
    def label(self) -> str:
        return LABEL[self.kind]


def holds_git(folder: str | os.PathLike[str]) -> bool:
    return os.path.lexists(Path(folder, ".git"))


def _is_linked_worktree(folder: Path) -> bool:
    """`.git` is a file naming a git dir that has a `commondir`: a `git worktree add` checkout."""
    if (folder / ".git").is_symlink():  # never followed out of the tree
        return False
    found = layout.at(folder)
    return found is not None and found.is_linked_worktree


def classify(folder: Path, gitlinks: Iterable[str], rel: str) -> Nested:
    """`folder` (holding a `.git`) is `rel` in the checkout around it, whose gitlinks are given."""
    if rel in set(gitlinks):
        return Nested(folder, "submodule")
    return Nested(folder, "worktree" if _is_linked_worktree(folder) else "repository")


def gitlinks_of(checkout: Path) -> set[str] | None:
    """The submodules the checkout's index records; None when git cannot tell (then nothing
    below it is entered: better kept than deleted)."""
    if not holds_git(checkout):
        return set()
    try:
        return git.tracked(checkout).gitlinks
    except UserError:
        return None


class Finder:
    """Classifies the `.git`-holding folders a scan met, asking git once per checkout around."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._links: dict[Path, set[str] | None] = {}

    def _around(self, folder: Path) -> Path:
        """The checkout `folder` lies in: the nearest folder above it with a `.git`, else root."""
        for parent in folder.parents:
            if parent == self.root or not parent.is_relative_to(self.root):
                return self.root
            if holds_git(parent):
                return parent
        return self.root

    def classify(self, folder: Path) -> Nested:
        around = self._around(folder)
        if around not in self._links:
            self._links[around] = gitlinks_of(around)
        links = self._links[around]
        if links is None:
            return Nested(folder, "repository")
        return classify(folder, links, folder.relative_to(around).as_posix())

    def not_entered(self, folders: Iterable[str | Path], starts: Iterable[Path]) -> list[Nested]:
        """Nested checkouts among `folders` (reported holding a `.git`) that must not be entered:
        the outermost ones, each strictly below the worktree root and not named as a start."""
        named = set(starts) | {self.root}
        found = sorted({Path(f) for f in folders} - named, key=lambda p: len(p.parts))
        skipped: list[Nested] = []
        for folder in found:
            if (
                not folder.is_relative_to(self.root)
                or ".git" in folder.relative_to(self.root).parts
            ):
                continue
            if any(folder.is_relative_to(s.path) for s in skipped):
                continue  # inside one that is skipped already
            nested = self.classify(folder)
            if not nested.entered:
                skipped.append(nested)
        return skipped
