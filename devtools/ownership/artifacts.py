"""Generated artifacts: find them by configured globs, never a tracked file, remove them safely.

`[tool.omc-dev.clean]` `artifacts` lists fnmatch globs: one without "/" matches a name at any
depth (`__pycache__`), one with "/" matches a path from the worktree root (`clients/generated`).
`keep` lists folders the search never enters (virtualenvs, node_modules). `.git` is never entered.
What is tracked is asked of the checkout a file is in: submodules are asked themselves, linked
worktrees and nested repositories are not entered at all (`checkouts.py`).
Root-owned artifacts are removed through the helper container when we are not root.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from devtools.config import ProjectConfig
from devtools.errors import UnusableInput, UserError
from devtools.ownership import git
from devtools.ownership.checkouts import Nested, classify, holds_git
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


@dataclass
class Search:
    """What the artifact search found, and what it left alone and why (plan notes)."""

    found: list[Artifact] = field(default_factory=list)  # not tracked by the checkout they are in
    kept: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # nested checkouts not entered
    unreadable: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Checkout:
    """The checkout a folder lies in: the worktree itself (prefix "") or a submodule."""

    prefix: str  # its path from the worktree root, with a trailing "/"
    tracked: Tracked

    def inner(self, rel: str) -> str:
        return rel[len(self.prefix) :]


def _checkout_inside(folder: str) -> str | None:
    """The first folder at or below `folder` that holds a `.git`, if any (artifacts are small)."""
    folders = [folder]
    while folders:
        current = folders.pop()
        try:
            with os.scandir(current) as it:
                for entry in it:
                    if entry.name == ".git":
                        return current
                    if entry.is_dir(follow_symlinks=False):
                        folders.append(entry.path)
        except OSError:  # unreadable or gone: nothing we can see
            continue
    return None


def find_artifacts(root: Path, patterns: Globs, tracked: Tracked | None = None) -> Search:
    """Artifacts under `root` (not entered once matched), each judged by the checkout it is in.

    `tracked` is what the worktree tracks (None: not a git checkout, nothing is). A submodule is
    entered and asked what it tracks; a linked worktree or a nested repository is not entered.
    A folder that vanishes while we look is simply not there any more.
    """
    search = Search()
    top = _Checkout("", tracked if tracked is not None else Tracked([]))
    folders = [(root, "", top)]
    while folders:
        folder, prefix, checkout = folders.pop()
        try:
            it = os.scandir(folder)
        except PermissionError:
            search.unreadable.append(prefix.rstrip("/") or ".")
            continue
        except (FileNotFoundError, NotADirectoryError):
            continue  # removed (or replaced) since it was listed
        with it:
            for entry in it:
                if entry.name == ".git":
                    continue
                rel = prefix + entry.name
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError:
                    continue
                inner = checkout.inner(rel)
                nested = (
                    classify(Path(entry.path), checkout.tracked.gitlinks, inner)
                    if is_dir and holds_git(entry.path)
                    else None
                )
                if Globs.matches(patterns.artifacts, entry.name, rel):
                    reason = _kept_because(checkout, inner, entry.path, is_dir, nested)
                    if reason:
                        search.kept.append(f"kept {rel}: {reason}")
                    else:
                        search.found.append(Artifact(Path(entry.path), rel, is_dir))
                elif not is_dir or Globs.matches(patterns.keep, entry.name, rel):
                    continue
                elif nested is None:
                    folders.append((Path(entry.path), rel + "/", checkout))
                elif nested.entered:
                    try:
                        inside = git.tracked(Path(entry.path))
                    except UserError as exc:
                        search.skipped.append(
                            f"skipped {rel}/: {nested.label} git could not describe ({exc})"
                        )
                        continue
                    folders.append((Path(entry.path), rel + "/", _Checkout(rel + "/", inside)))
                else:
                    search.skipped.append(
                        f"skipped {rel}/: {nested.label}, with its own tracked files, not this "
                        "worktree's: run omc-dev clean there"
                    )
    search.found.sort(key=lambda a: a.rel)
    for notes in (search.kept, search.skipped, search.unreadable):
        notes.sort()
    return search


def _kept_because(
    checkout: _Checkout, inner: str, path: str, is_dir: bool, nested: Nested | None
) -> str | None:
    """Why an artifact that matched a glob must stay, or None when it may go."""
    where = f" (submodule {checkout.prefix.rstrip('/')})" if checkout.prefix else ""
    if inner in checkout.tracked.files:
        return f"tracked by git{where}"
    if checkout.tracked.covers(inner):
        return f"holds tracked files{where}"
    if nested is not None:
        return f"it is {nested.label}"
    deeper = _checkout_inside(path) if is_dir else None
    if deeper is not None:
        return f"holds a git checkout ({os.path.relpath(deeper, path)})"
    return None


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
    tracked: Tracked | None,
    image: str,
) -> tuple[Step | None, list[str]]:
    """The artifacts step (None when there is nothing to remove) and notes on what is kept."""
    patterns = globs(config)
    search = find_artifacts(root, patterns, tracked)
    notes = [*search.kept, *search.skipped]
    notes += [
        f"could not look inside {rel} (permission denied): `omc-dev chown` first"
        for rel in search.unreadable
    ]
    removable = _needs_container(search.found, developer)
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
