"""Generated artifacts: find them by configured globs, never a tracked file, remove them safely.

`[tool.omc-dev.clean]` `artifacts` lists fnmatch globs: one without "/" matches a name at any
depth (`__pycache__`), one with "/" matches a path from the worktree root (`clients/generated`).
`keep` lists folders the search never enters (virtualenvs, node_modules). `.git` is never entered.
Root-owned artifacts are removed through the helper container when we are not root.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from devtools.config import ProjectConfig
from devtools.errors import UnusableInput
from devtools.ownership.container import run_as_root
from devtools.ownership.developer import Developer, can_chown_directly
from devtools.ownership.git import Tracked
from devtools.ownership.plan import Outcome, Step
from devtools.ownership.scan import scan
from devtools.ownership.tree import open_dir_inside

DEFAULT_ARTIFACTS = ("__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache")
DEFAULT_KEEP = (".venv", "venv", "node_modules")


@dataclass(frozen=True)
class Globs:
    artifacts: tuple[str, ...]
    keep: tuple[str, ...]

    @staticmethod
    def matches(patterns: Sequence[str], name: str, rel: str) -> bool:
        return any(fnmatchcase(rel if "/" in p else name, p.strip("/")) for p in patterns)


def _globs(config: ProjectConfig, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = config.section("clean").get(key, default)
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
        raise UnusableInput(
            f"{config.pyproject}: [tool.omc-dev.clean] {key} must be a list of glob strings"
        )
    return tuple(value)


def globs(config: ProjectConfig) -> Globs:
    return Globs(
        _globs(config, "artifacts", DEFAULT_ARTIFACTS), _globs(config, "keep", DEFAULT_KEEP)
    )


@dataclass(frozen=True)
class Artifact:
    path: Path
    rel: str
    is_dir: bool
    via_container: bool = False  # something in it is not ours, or its folder is not writable


def find_artifacts(root: Path, patterns: Globs) -> tuple[list[Artifact], list[str]]:
    """Artifacts under `root` (not entered once matched), and folders we could not look into."""
    found: list[Artifact] = []
    unreadable: list[str] = []
    folders = [(root, "")]
    while folders:
        folder, prefix = folders.pop()
        try:
            it = os.scandir(folder)
        except PermissionError:
            unreadable.append(prefix.rstrip("/") or ".")
            continue
        with it:
            for entry in it:
                rel = prefix + entry.name
                is_dir = entry.is_dir(follow_symlinks=False)
                if entry.name == ".git":
                    continue
                if Globs.matches(patterns.artifacts, entry.name, rel):
                    found.append(Artifact(Path(entry.path), rel, is_dir))
                elif is_dir and not Globs.matches(patterns.keep, entry.name, rel):
                    folders.append((Path(entry.path), rel + "/"))
    return sorted(found, key=lambda a: a.rel), sorted(unreadable)


def _needs_container(artifacts: list[Artifact], developer: Developer) -> list[Artifact]:
    """Mark artifacts we cannot remove ourselves: anything in them is not ours, or their folder
    is not writable by us. Root removes everything directly."""
    if can_chown_directly():
        return artifacts
    not_mine = scan([a.path for a in artifacts], developer.uid)
    by_path = {a.path: a for a in artifacts}
    stuck: set[Path] = set()
    for blocked in [*(e.path for e in not_mine.entries), *not_mine.unreadable]:
        # Artifacts do not nest: the first one at or above a blocked entry is the one it is in.
        path = Path(blocked)
        hit = next((p for p in (path, *path.parents) if p in by_path), None)
        if hit is not None:
            stuck.add(hit)
    return [
        Artifact(
            a.path,
            a.rel,
            a.is_dir,
            via_container=a.path in stuck or not os.access(a.path.parent, os.W_OK | os.X_OK),
        )
        for a in artifacts
    ]


def _remove_directly(root: Path, artifact: Artifact) -> None:
    fd = open_dir_inside(root, artifact.path.parent)
    try:
        name = artifact.path.name
        if stat.S_ISDIR(os.lstat(name, dir_fd=fd).st_mode):
            shutil.rmtree(name, dir_fd=fd)  # fd-based: never follows a symlink inside
        else:
            os.unlink(name, dir_fd=fd)
    finally:
        os.close(fd)


def remove(root: Path, artifacts: Sequence[Artifact], image: str) -> Outcome:
    done: list[str] = []
    failed: list[str] = []
    errors: dict[str, str] = {}
    for a in artifacts:
        if not a.via_container:
            try:
                _remove_directly(root, a)
            except OSError as exc:
                errors[a.rel] = exc.strerror or str(exc)
    in_container = [a for a in artifacts if a.via_container]
    run = run_as_root(
        root, ["rm", "-rf", "--one-file-system"], [a.path for a in in_container], image=image
    )
    for a in artifacts:
        how = " (through the helper container)" if a.via_container else ""
        if os.path.lexists(a.path):
            reason = errors.get(a.rel) or run.last_error or "still there"
            failed.append(f"could not remove {a.rel}: {reason}")
        else:
            done.append(f"removed {a.rel}{'/' if a.is_dir else ''}{how}")
    return Outcome(tuple(done), tuple(failed))


def plan_artifacts(
    config: ProjectConfig,
    root: Path,
    developer: Developer,
    tracked: Tracked,
    image: str,
) -> tuple[Step | None, list[str]]:
    """The artifacts step (None when there is nothing to remove) and notes on what is kept."""
    patterns = globs(config)
    found, unreadable = find_artifacts(root, patterns)
    notes = [
        f"kept {a.rel}: {'tracked by git' if a.rel in tracked.files else 'holds tracked files'}"
        for a in found
        if tracked.covers(a.rel)
    ]
    notes += [
        f"could not look inside {rel} (permission denied): `omc-dev chown` first"
        for rel in unreadable
    ]
    removable = _needs_container([a for a in found if not tracked.covers(a.rel)], developer)
    if not removable:
        return None, notes
    items = tuple(
        f"{a.rel}{'/' if a.is_dir else ''}"
        + (" (not yours: through the helper container)" if a.via_container else "")
        for a in removable
    )
    step = Step(
        "artifacts",
        f"remove {len(removable)} generated artifact(s) matching {', '.join(patterns.artifacts)}",
        items,
        lambda: remove(root, removable, image),
    )
    return step, notes
