"""`.omc/`: the folder omc-dev writes in a checkout (ports overrides, pinned names, kernel db).

It ignores itself (`.gitignore` holding `*`), so nothing omc-dev writes ever shows as
uncommitted work, whether or not the project's own .gitignore mentions it.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

NAME = ".omc"
IGNORE_ALL = "*\n"


def ensure_ignored(folder: Path) -> None:
    """Write `folder/.gitignore` (content `*`) unless it is already there."""
    ignore = folder / ".gitignore"
    if ignore.is_file() or ignore.is_symlink():
        return
    # A concurrent command may write it first ("x" then fails): either way it is there.
    with contextlib.suppress(FileExistsError), ignore.open("x", encoding="utf-8") as fh:
        fh.write(IGNORE_ALL)


def omc_dir(root: Path) -> Path:
    """`root/.omc`, created and self-ignoring."""
    folder = root / NAME
    folder.mkdir(parents=True, exist_ok=True)
    ensure_ignored(folder)
    return folder
