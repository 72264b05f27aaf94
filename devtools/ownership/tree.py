"""The tree omc-dev may touch: the worktree, and paths proven to lie inside it.

Paths are checked after resolving every folder above them, but a path's last component is never
resolved: a symlink named on the command line is the link itself, never what it points at.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from devtools.config import ProjectConfig
from devtools.errors import UnusableInput
from devtools.git.layout import find as git_layout
from devtools.ownership.names import shown


def worktree_root(config: ProjectConfig, *, checkout_required: bool = True) -> Path:
    """The checkout's top folder. Outside any git checkout there is no tree that is surely the
    developer's (run from /tmp or a home folder, the "project" would be all of it): refuse, unless
    the caller already has a project (run --fix-ownership: the compose project's root)."""
    layout = git_layout(config.root)
    if layout is None and not checkout_required:
        return config.root.resolve()
    if layout is None:
        raise UnusableInput(
            shown(
                f"{config.root} is not in a git checkout: chown and clean only touch a project's "
                "checkout (cd into it, or pass a path inside it)"
            )
        )
    return layout.worktree


def relative(root: Path, path: str | Path) -> str:
    """How reports name a path: relative to the worktree ("." for the worktree itself)."""
    return os.path.relpath(path, root)


def is_inside(root: Path, path: Path) -> bool:
    return path == root or root in path.parents


def resolve_inside(root: Path, raw: str | os.PathLike[str], *, base: Path | None = None) -> Path:
    """`raw` as an absolute path inside `root` (its folders resolved, its last part not), or refuse."""
    given = Path(os.path.normpath(Path(base or Path.cwd(), raw)))
    if not os.path.lexists(given):
        raise UnusableInput(f"{shown(raw)}: no such file or folder")
    path = given if given == Path(given.anchor) else given.parent.resolve() / given.name
    if not is_inside(root, path):
        raise UnusableInput(
            shown(f"{raw} is outside the worktree {root}: omc-dev only touches files inside it")
        )
    return path


def resolve_all(
    root: Path, raws: Iterable[str | os.PathLike[str]], *, base: Path | None = None
) -> list[Path]:
    """Every path resolved inside `root`; nested duplicates dropped (a folder covers its content)."""
    paths = sorted({resolve_inside(root, raw, base=base) for raw in raws})
    kept: list[Path] = []
    for path in paths:
        if not any(is_inside(k, path) for k in kept):
            kept.append(path)
    return kept


def open_dir_inside(root: Path, folder: Path) -> int:
    """An fd on `folder`, proven (through the fd itself) to be a real folder inside `root`.

    O_NOFOLLOW refuses a symlink in last place; reading the fd's own path afterwards catches a
    folder above it that was swapped for a symlink after we looked.
    """
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(folder, flags)
    try:
        proc_link = Path(f"/proc/self/fd/{fd}")
        real = proc_link.readlink() if proc_link.exists() else Path(os.path.realpath(folder))
        if not is_inside(root, real):
            raise UnusableInput(
                shown(f"{folder} resolves to {real}, outside the worktree {root}: refused")
            )
    except BaseException:
        os.close(fd)
        raise
    return fd
