"""Stacks started before per-checkout project names keep working after the upgrade.

Earlier versions named a track's stack `<repo>-<track>`, shared by every clone on that branch.
When containers of that old name exist whose compose working directory is this checkout, this
checkout keeps the old name, and pins it in `.omc/legacy-projects` so it survives `omc-dev down`
(the volumes, i.e. the database, stay this checkout's). Every other checkout gets the new name.
`omc-dev down --volumes` and deleting that file move a checkout to the new name.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from devtools.config import ProjectConfig
from devtools.omcdir import NAME, omc_dir

PIN_FILE = "legacy-projects"  # lines "<project>\t<checkout>"
PROJECT_LABEL = "com.docker.compose.project"
WORKDIR_LABEL = "com.docker.compose.project.working_dir"


def pin_path(root: Path) -> Path:
    return root / NAME / PIN_FILE


def _pinned(root: Path) -> set[str]:
    try:
        text = pin_path(root).read_text(encoding="utf-8")
    except OSError:
        return set()
    here = str(root.resolve())
    # A copied folder carries the file but not the checkout path: it does not inherit the name.
    return {
        name
        for name, _, checkout in (line.partition("\t") for line in text.splitlines())
        if checkout == here
    }


def _pin(root: Path, project: str) -> None:
    # Without the pin the containers still say it next time: a failure here loses nothing.
    with contextlib.suppress(OSError), (omc_dir(root) / PIN_FILE).open("a", encoding="utf-8") as fh:
        fh.write(f"{project}\t{root.resolve()}\n")


def unpin(root: Path, project: str) -> None:
    """Forget a pinned old name (its stack and volumes are gone)."""
    path = pin_path(root)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return
    kept = [line for line in lines if line.partition("\t")[0] != project]
    with contextlib.suppress(OSError):
        if kept:
            path.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")
        else:
            path.unlink()


def _working_dir(config: ProjectConfig) -> str:
    from devtools.docker.compose import compose_files
    from devtools.errors import UserError

    try:
        return str(compose_files(config)[0].parent.resolve())
    except UserError:
        return str(config.root.resolve())


def legacy_or_none(config: ProjectConfig, legacy: str) -> str | None:
    """`legacy` when this checkout's stack already runs (or ran) under it, else None."""
    if legacy in _pinned(config.root):
        return legacy
    if legacy not in _projects_here(_working_dir(config)):
        return None
    _pin(config.root, legacy)
    return legacy


_HERE: dict[str, frozenset[str]] = {}  # one engine question per process and folder


def _projects_here(working_dir: str) -> frozenset[str]:
    """Compose projects with containers (running or stopped) whose working directory is this."""
    if working_dir not in _HERE:
        from devtools.docker.engine_api import Engine, EngineError
        from devtools.errors import UserError

        try:
            # A short timeout: an unreachable remote engine must not hold up every command.
            found = Engine(timeout=5).find_containers({WORKDIR_LABEL: working_dir}, stopped=True)
        except (EngineError, UserError, OSError):
            found = []  # no engine: there is no old stack to keep either
        _HERE[working_dir] = frozenset(
            str(c.get("Labels", {}).get(PROJECT_LABEL, "")) for c in found
        )
    return _HERE[working_dir]
