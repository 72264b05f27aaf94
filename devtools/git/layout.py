"""Where a checkout's git data is: the worktree's top folder, its git dir, the shared git dir.

Read from `.git` itself, without starting git: `omc-dev run` asks on every call, where a process
would cost more than the command. The shapes git writes:
- a clone: `<top>/.git` is the git dir (and the shared one);
- a linked worktree (`git worktree add`): `<top>/.git` is a file `gitdir: <main>/.git/worktrees/<n>`,
  whose `commondir` names the shared git dir;
- a submodule: `<top>/.git` is a file `gitdir: <super>/.git/modules/<name>`, a git dir of its own
  (no `commondir`): the submodule is its own repository, not a worktree of the superproject;
- a repository nested in another's folder: the nearest `.git` upward wins, as git decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


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
        """The repository's main checkout: this one unless this is a linked worktree."""
        if not self.is_linked_worktree:
            return self.worktree
        return self.common_dir.parent if self.common_dir.name == ".git" else self.common_dir


def _read_gitfile(folder: Path, dotgit: Path) -> GitLayout | None:
    try:
        text = dotgit.read_text(errors="replace").strip()
    except OSError:
        return None
    if not text.startswith("gitdir:"):
        return None  # git itself refuses such a checkout ("invalid gitfile format")
    git_dir = (folder / text.removeprefix("gitdir:").strip()).resolve()
    common = git_dir
    try:
        shared = (git_dir / "commondir").read_text().strip()
    except OSError:  # a submodule, or a worktree whose git dir is gone
        shared = ""
    if shared:
        common = (git_dir / shared).resolve()
    return GitLayout(folder, git_dir, common)


def at(folder: Path) -> GitLayout | None:
    """The layout of the checkout whose top folder is `folder`, or None if it holds no `.git`."""
    dotgit = folder / ".git"
    if dotgit.is_dir():
        return GitLayout(folder, dotgit, dotgit)
    if dotgit.is_file():
        return _read_gitfile(folder, dotgit)
    return None


def find(start: Path) -> GitLayout | None:
    """The layout of the checkout holding `start`, or None outside git."""
    here = start.resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return at(folder)
    return None


def top_level(start: Path) -> Path | None:
    """The worktree's top folder (`git rev-parse --show-toplevel`), or None outside git."""
    layout = find(start)
    return layout.worktree if layout else None


def current_branch(layout: GitLayout) -> str | None:
    """The checked-out branch, or None on a detached HEAD."""
    try:
        head = (layout.git_dir / "HEAD").read_text().strip()
    except OSError:
        return None
    prefix = "ref: refs/heads/"
    return head.removeprefix(prefix) if head.startswith(prefix) else None
