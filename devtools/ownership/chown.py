"""Give files back to the developer: directly when we are root, else through a root container.

Ownership changes never dereference: a symlink is changed itself, never its target. A folder
we could not list (root-owned, mode 0700) is listed again once it is ours, until nothing new
turns up, so what is inside it is found, changed and reported like everything else.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from devtools.ownership.container import DEFAULT_IMAGE, run_as_root
from devtools.ownership.developer import Developer, can_chown_directly
from devtools.ownership.scan import Entry, scan
from devtools.ownership.tree import is_inside, open_dir_inside

Method = Literal["direct", "container"]
HOW: dict[Method, str] = {"direct": "directly, as root", "container": "through a helper container"}


@dataclass(frozen=True)
class Failure:
    entry: Entry
    reason: str


@dataclass
class ChownReport:
    developer: Developer
    method: Method
    dry_run: bool
    changed: list[Entry] = field(default_factory=list)  # as they were before the change
    failed: list[Failure] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # folders whose content stays unknown
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.unreadable


def chown_direct(root: Path, entries: Sequence[Entry], developer: Developer) -> list[Failure]:
    """lchown each entry, through an fd on its parent that is proven to be inside `root`."""
    failures: list[Failure] = []
    by_parent: dict[Path, list[Entry]] = defaultdict(list)
    for entry in entries:
        path = Path(entry.path)
        if path == root:
            os.chown(root, developer.uid, developer.gid, follow_symlinks=False)
        else:
            by_parent[path.parent].append(entry)
    for parent, children in by_parent.items():
        try:
            fd = open_dir_inside(root, parent)
        except OSError as exc:
            failures += [Failure(e, exc.strerror or str(exc)) for e in children]
            continue
        try:
            for entry in children:
                try:
                    os.chown(
                        Path(entry.path).name,
                        developer.uid,
                        developer.gid,
                        dir_fd=fd,
                        follow_symlinks=False,
                    )
                except OSError as exc:
                    failures.append(Failure(entry, exc.strerror or str(exc)))
        finally:
            os.close(fd)
    return failures


def chown_in_container(
    root: Path, entries: Sequence[Entry], developer: Developer, image: str
) -> list[Failure]:
    """`chown --no-dereference` as root in a helper container; then check each entry on disk."""
    run = run_as_root(
        root,
        ["chown", "--no-dereference", developer.owner],
        [e.path for e in entries],
        image=image,
    )
    failures = []
    for entry in entries:
        try:
            uid = os.lstat(entry.path).st_uid
        except FileNotFoundError:
            continue  # gone meanwhile: nothing left to give back
        if uid != developer.uid:
            failures.append(Failure(entry, run.last_error or f"still owned by uid {uid}"))
    return failures


def give_back(
    root: Path,
    paths: Sequence[Path],
    developer: Developer,
    *,
    dry_run: bool = False,
    since: float | None = None,
    image: str = DEFAULT_IMAGE,
) -> ChownReport:
    """Find what under `paths` (all inside `root`) is not the developer's, and give it back."""
    method: Method = "direct" if can_chown_directly() else "container"
    report = ChownReport(developer, method, dry_run)
    pending: list[str] = [os.fspath(p) for p in paths]
    while pending:
        found = scan(pending, developer.uid, since=since)
        report.warnings += found.warnings
        # Defence in depth: the scan starts inside the tree and never follows a symlink out.
        entries = [e for e in found.entries if is_inside(root, Path(e.path))]
        if dry_run or not entries:
            report.changed += entries
            report.unreadable += found.unreadable
            break
        if method == "direct":
            failures = chown_direct(root, entries, developer)
        else:
            failures = chown_in_container(root, entries, developer, image)
        failed = {f.entry.path for f in failures}
        report.failed += failures
        report.changed += [e for e in entries if e.path not in failed]
        # A folder we could not list may be listable now that it is ours: look inside.
        now_ours = {e.path for e in entries if e.kind == "dir"} - failed
        pending = [u for u in found.unreadable if u in now_ours]
        report.unreadable += [u for u in found.unreadable if u not in now_ours]
    return report
