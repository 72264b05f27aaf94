"""Give files back to the developer: directly when we are root, else through a root container.

Ownership changes never dereference: a symlink is changed itself, never its target. A folder
we could not list (root-owned, mode 0700) is listed again once it is ours, until nothing new
turns up, so what is inside it is found, changed and reported like everything else.

Ownership belongs to the inode, not the name: a file with more than one hard link may have a
name outside the worktree, and changing it here changes it there. Nothing can prove every
name lies inside (that takes a walk of the whole filesystem), so such a file is left as it is
and reported, with what to do. Linked worktrees and nested repositories below the tree are not
entered (checkouts.py): they are another track's or another project's; submodules are.
"""

from __future__ import annotations

import os
import stat
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from devtools.ownership.checkouts import Finder, Nested
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


def hard_link_reason(links: int) -> str:
    return (
        f"it has {links} hard links, and a name outside the worktree would change owner too: "
        "left as it is (replace it with a copy, or chown it yourself once "
        "`find / -xdev -samefile` shows every name is yours)"
    )


@dataclass(frozen=True)
class Skipped:
    """A nested checkout not entered, and how many entries in it are not the developer's."""

    nested: Nested
    entries: int


@dataclass
class ChownReport:
    developer: Developer
    method: Method
    dry_run: bool
    changed: list[Entry] = field(default_factory=list)  # as they were before the change
    failed: list[Failure] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # folders whose content stays unknown
    warnings: list[str] = field(default_factory=list)
    hard_links: list[Failure] = field(default_factory=list)  # left as they are, and why
    nested: list[Skipped] = field(default_factory=list)  # checkouts not entered

    @property
    def ok(self) -> bool:
        """Everything in scope is the developer's now (nested checkouts are out of scope)."""
        return not self.failed and not self.unreadable and not self.hard_links


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
                    reason = _chown_one(fd, Path(entry.path).name, developer)
                except OSError as exc:
                    reason = exc.strerror or str(exc)
                if reason is not None:
                    failures.append(Failure(entry, reason))
        finally:
            os.close(fd)
    return failures


@lru_cache(maxsize=1)
def _proc_fds() -> bool:
    return Path("/proc/self/fd").is_dir()


def _chown_one(dir_fd: int, name: str, developer: Developer) -> str | None:
    """lchown `name` unless, now, it is a file with more than one hard link; why not, or None.

    A regular file is changed through an fd whose inode was checked (one link), so the name
    swapped for a hard link to an outside file after the scan still cannot reach that file.
    """
    st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    if stat.S_ISDIR(st.st_mode):
        os.chown(name, developer.uid, developer.gid, dir_fd=dir_fd, follow_symlinks=False)
        return None
    if not stat.S_ISREG(st.st_mode) or not _proc_fds():
        if st.st_nlink > 1:
            return hard_link_reason(st.st_nlink)
        os.chown(name, developer.uid, developer.gid, dir_fd=dir_fd, follow_symlinks=False)
        return None
    # O_PATH opens nothing (no device or FIFO side effect); /proc reaches exactly that inode.
    fd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return "it changed while we looked: run omc-dev chown again"
        if st.st_nlink > 1:
            return hard_link_reason(st.st_nlink)
        os.chown(f"/proc/self/fd/{fd}", developer.uid, developer.gid)
    finally:
        os.close(fd)
    return None


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
        entries = _outside_nested(root, paths, found.checkouts, entries, report)
        report.hard_links += [
            Failure(e, hard_link_reason(e.links))
            for e in entries
            if e.kind != "dir" and e.links > 1
        ]
        entries = [e for e in entries if e.kind == "dir" or e.links <= 1]
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


def _outside_nested(
    root: Path,
    starts: Sequence[Path],
    checkouts: Sequence[str],
    entries: list[Entry],
    report: ChownReport,
) -> list[Entry]:
    """`entries` minus those in nested checkouts that are not entered (counted in the report)."""
    if not checkouts:
        return entries
    skipped = Finder(root).not_entered(checkouts, starts)
    if not skipped:
        return entries
    counts = dict.fromkeys((s.path for s in skipped), 0)
    kept = []
    for entry in entries:
        path = Path(entry.path)
        where = next((s.path for s in skipped if is_inside(s.path, path)), None)
        if where is None:
            kept.append(entry)
        else:
            counts[where] += 1
    known = {s.nested.path for s in report.nested}
    report.nested += [
        Skipped(s, counts[s.path]) for s in skipped if counts[s.path] and s.path not in known
    ]
    return kept
