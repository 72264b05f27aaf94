"""`omc-dev run --fix-ownership`: after a command, give back what it created or changed.

Only bind-mount sources inside the worktree are looked at, and only entries whose status changed
since the command started (ctime; the container and the host share the kernel's clock), so a
run never touches files outside the worktree nor ones the command did not write.

Configuration, `[tool.omc-dev.run]`:
    fix-ownership = ["alembic revision", "openapi-python-client generate"]  # generator commands
    fix-ownership = true    # every command;   false (the default): none
A command matches when its program has the same name and the other words follow in that order
(options in between are fine: `alembic -c kernel/alembic.ini revision -m x` matches).
The command line (`--fix-ownership` / `--no-fix-ownership`) wins over the configuration.

`omc-dev run`'s fast path imports this module, so its top level stays light: the scan and the
chown are imported only when a run actually gives files back.
"""

from __future__ import annotations

import posixpath
import sys
from collections.abc import Sequence

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

    from devtools.config import ProjectConfig
    from devtools.ownership.chown import ChownReport

KEY = "fix-ownership"
Setting = bool | list[str]
# Filesystem timestamps come from the kernel's coarse clock, up to one tick (<= 10 ms) behind
# time.time(); twice that, and a command run right after another does not inherit its files.
CLOCK_SLACK = 0.02


def setting(config: ProjectConfig) -> Setting:
    """`fix-ownership` in `[tool.omc-dev.run]`, checked: true, false or a list of commands."""
    import shlex

    from devtools.errors import UnusableInput

    value = config.section("run").get(KEY, False)
    if isinstance(value, bool):
        return value
    if isinstance(value, list) and all(isinstance(s, str) and shlex.split(s) for s in value):
        return list(value)
    raise UnusableInput(
        f"{config.pyproject}: [tool.omc-dev.run] {KEY} must be true, false or a list of "
        'commands such as ["alembic revision"]'
    )


def _matches(words: Sequence[str], argv: Sequence[str]) -> bool:
    if not words or not argv or posixpath.basename(argv[0]) != posixpath.basename(words[0]):
        return False
    rest = iter(argv[1:])
    return all(word in rest for word in words[1:])  # in order: `in` consumes the iterator


def wanted(configured: Setting, argv: Sequence[str], flag: bool | None) -> bool:
    """Should this run give files back? The flag if given, else the configured setting."""
    if flag is not None:
        return flag
    if isinstance(configured, bool):
        return configured
    import shlex

    return any(_matches(shlex.split(command), argv) for command in configured)


def mounted_parts(root: Path, sources: Sequence[Path]) -> list[Path]:
    """The parts of the worktree the command could write to through its bind mounts."""
    from devtools.ownership.tree import is_inside

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
    from devtools.ownership.chown import give_back
    from devtools.ownership.container import helper_image
    from devtools.ownership.developer import current
    from devtools.ownership.tree import worktree_root

    root = worktree_root(config, checkout_required=False)
    parts = [p for p in mounted_parts(root, [s.resolve() for s in sources]) if p.exists()]
    if not parts:
        return None
    return give_back(
        root, parts, current(), since=started - CLOCK_SLACK, image=helper_image(config)
    )


def after_run(
    configured: Setting,
    argv: Sequence[str],
    *,
    flag: bool | None,
    mounts: Sequence[tuple[str, str]],
    exec_user: str | None,
    started: float,
) -> None:
    """Called by `omc-dev run` once the command ended: report on stderr, never change its exit
    code (stdout is the command's). Skipped when the command ran as the developer already."""
    if not wanted(configured, argv, flag):
        return
    from pathlib import Path

    from devtools import config as config_mod
    from devtools.errors import UserError
    from devtools.ownership.chown import HOW
    from devtools.ownership.developer import current

    developer = current()
    if exec_user == developer.owner:
        return
    try:
        report = give_back_after(config_mod.load(), [Path(s) for s, _ in mounts], started)
    except (UserError, OSError) as exc:
        sys.stderr.write(f"omc-dev: --fix-ownership: {exc}\n")
        return
    if report is None:
        return
    if report.changed:
        sys.stderr.write(
            f"omc-dev: gave {len(report.changed)} entries the command created or changed back "
            f"to {developer.owner} ({HOW[report.method]})\n"
        )
    if not report.ok:
        stuck = len(report.failed) + len(report.unreadable) + len(report.hard_links)
        sys.stderr.write(
            f"omc-dev: {stuck} entries could not be given back: run `omc-dev chown` to see them\n"
        )
