"""`omc-dev run --fix-ownership`: after a command, give back what it created or changed.

Only bind-mount sources inside the worktree are looked at, and only entries whose status changed
since the command started (ctime; the container and the host share the kernel's clock), so a
run never touches files outside the worktree nor ones the command did not write.

Configuration, `[tool.omc-dev.run]`:
    fix-ownership = ["alembic revision", "openapi-python-client"]  # these commands (argv prefixes)
    fix-ownership = true    # every command;   false (the default): none
The command line (`--fix-ownership` / `--no-fix-ownership`) wins over the configuration.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from devtools.config import ProjectConfig
from devtools.errors import UnusableInput
from devtools.ownership.chown import ChownReport, give_back
from devtools.ownership.container import helper_image
from devtools.ownership.developer import current
from devtools.ownership.tree import is_inside, worktree_root

# Filesystem timestamps come from the kernel's coarse clock, a tick behind time.time().
CLOCK_SLACK = 0.1
KEY = "fix-ownership"


def _matches(prefix: Sequence[str], argv: Sequence[str]) -> bool:
    if not prefix or len(argv) < len(prefix):
        return False
    first_ok = PurePosixPath(argv[0]).name == PurePosixPath(prefix[0]).name
    return first_ok and list(argv[1 : len(prefix)]) == list(prefix[1:])


def wanted(config: ProjectConfig, argv: Sequence[str], flag: bool | None) -> bool:
    """Should this run give files back? The flag if given, else `[tool.omc-dev.run]`."""
    if flag is not None:
        return flag
    setting = config.section("run").get(KEY, False)
    if isinstance(setting, bool):
        return setting
    if isinstance(setting, list) and all(isinstance(s, str) and s.strip() for s in setting):
        return any(_matches(shlex.split(s), argv) for s in setting)
    raise UnusableInput(
        f"{config.pyproject}: [tool.omc-dev.run] {KEY} must be true, false or a list of "
        'commands such as ["alembic revision"]'
    )


def mounted_parts(root: Path, sources: Sequence[Path]) -> list[Path]:
    """The parts of the worktree the command could write to through its bind mounts."""
    parts = []
    for source in sources:
        if is_inside(root, source):
            parts.append(source)
        elif is_inside(source, root):  # a mount above the worktree: only the worktree is ours
            parts.append(root)
    return sorted({p for p in parts if not any(q != p and is_inside(q, p) for q in parts)})


def give_back_after(
    config: ProjectConfig, sources: Sequence[Path], started: float
) -> ChownReport | None:
    """Give back what changed under the mounted parts of the worktree since `started`."""
    root = worktree_root(config)
    parts = [p for p in mounted_parts(root, [s.resolve() for s in sources]) if p.exists()]
    if not parts:
        return None
    return give_back(
        root, parts, current(), since=started - CLOCK_SLACK, image=helper_image(config)
    )
