"""The not-mine scan: every file, folder and symlink under some paths whose owner is not `uid`.

Symlinks are never followed: a link is reported (and later changed) itself, and a link to a
folder is not entered. Two engines give the same answer: GNU find (the fast path: the walk and
the lstat calls happen in C, and only not-mine entries cross into Python) and a portable
`os.scandir` walk for systems without GNU find. `benchmarks/ownership.py` measures both.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from devtools.errors import EnvironmentMissing

Kind = Literal["file", "dir", "link", "other"]
_FIND_KINDS: dict[str, Kind] = {"f": "file", "d": "dir", "l": "link"}
# uid gid type links ctime path, NUL-terminated: paths may hold spaces and newlines.
_FIND_FORMAT = "%U %G %y %n %C@ %p\\0"
# A folder holding a `.git`: a checkout of its own (see checkouts.py); "G" is never a uid.
_CHECKOUT_FORMAT = "G %h\\0"
_DENIED = re.compile(r"^\S*find: '(?P<path>.*)': Permission denied$")  # argv[0] first


@dataclass(frozen=True)
class Entry:
    path: str  # absolute, as reached (never through a symlink)
    uid: int
    gid: int
    kind: Kind
    ctime: float  # seconds; "created or changed since" filters on it
    links: int = 1  # hard links to the inode: chown changes it under every name it has

    @property
    def owner(self) -> str:
        return f"{self.uid}:{self.gid}"


@dataclass
class ScanResult:
    entries: list[Entry] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # folders we could not list
    warnings: list[str] = field(default_factory=list)
    checkouts: list[str] = field(default_factory=list)  # folders below a start holding a `.git`

    def extend(self, other: ScanResult) -> None:
        self.entries += other.entries
        self.unreadable += other.unreadable
        self.warnings += other.warnings
        self.checkouts += other.checkouts


def _kind(mode: int) -> Kind:
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISREG(mode):
        return "file"
    return "other"


@lru_cache(maxsize=1)
def gnu_find() -> str | None:
    """The path of GNU find (it has `-printf`), or None."""
    for name in ("find", "gfind"):
        path = shutil.which(name)
        if path is None:
            continue
        try:
            proc = subprocess.run(
                [path, "--version"], capture_output=True, text=True, timeout=10, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if "GNU findutils" in proc.stdout:
            return path
    return None


SCAN_TIMEOUT = 3600.0  # seconds: 100,000 files take about one


def scan_with_find(find: str, paths: Sequence[str], uid: int) -> ScanResult:
    # -P: never follow symlinks, not even the starting points. "," evaluates both sides.
    argv = [find, "-P", *paths]
    argv += ["(", "-name", ".git", "-printf", _CHECKOUT_FORMAT, ")", ","]
    argv += ["(", "!", "-uid", str(uid), "-printf", _FIND_FORMAT, ")"]
    env = {**os.environ, "LC_ALL": "C"}
    from devtools import proc as procs

    try:
        # Bounded and stopped with omc-dev, as every child: a hung mount must not hang clean.
        proc = procs.run(argv, timeout=SCAN_TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        raise EnvironmentMissing(
            f"scanning {', '.join(paths)} did not finish within {SCAN_TIMEOUT:g} s and was "
            "stopped: is a folder in it on a slow or hung file system?"
        ) from None
    result = ScanResult()
    for record in proc.stdout.split(b"\0"):
        if not record:
            continue
        if record.startswith(b"G "):
            result.checkouts.append(os.fsdecode(record[2:]))
            continue
        uid_s, gid_s, kind, links, ctime, path = record.split(b" ", 5)
        result.entries.append(
            Entry(
                os.fsdecode(path),
                int(uid_s),
                int(gid_s),
                _FIND_KINDS.get(kind.decode(), "other"),
                float(ctime),
                int(links),
            )
        )
    for line in proc.stderr.decode(errors="replace").splitlines():
        denied = _DENIED.match(line)
        if denied:
            result.unreadable.append(denied["path"])
        elif "No such file or directory" not in line:  # vanished while we looked: not news
            result.warnings.append(line)
    return result


def scan_with_python(paths: Sequence[str], uid: int) -> ScanResult:
    result = ScanResult()
    entries, unreadable = result.entries, result.unreadable
    folders: list[str] = []
    for path in paths:
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            continue
        if st.st_uid != uid:
            entries.append(
                Entry(path, st.st_uid, st.st_gid, _kind(st.st_mode), st.st_ctime, st.st_nlink)
            )
        if Path(path).name == ".git":
            result.checkouts.append(str(Path(path).parent))
        if stat.S_ISDIR(st.st_mode):
            folders.append(path)
    # The hot loop: one lstat per entry (from the DirEntry), nothing else per file.
    is_dir = stat.S_ISDIR
    while folders:
        folder = folders.pop()
        try:
            it = os.scandir(folder)
        except PermissionError:
            unreadable.append(folder)
            continue
        except (FileNotFoundError, NotADirectoryError):
            continue
        with it:
            for entry in it:
                if entry.name == ".git":
                    result.checkouts.append(folder)
                try:
                    st = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if st.st_uid != uid:
                    entries.append(
                        Entry(
                            entry.path,
                            st.st_uid,
                            st.st_gid,
                            _kind(st.st_mode),
                            st.st_ctime,
                            st.st_nlink,
                        )
                    )
                if is_dir(st.st_mode):
                    folders.append(entry.path)
    return result


def scan(paths: Iterable[Path | str], uid: int, *, since: float | None = None) -> ScanResult:
    """Entries under `paths` (each included) not owned by `uid`; with `since`, only those whose
    status changed at or after that time (created or modified by a command that just ran)."""
    starts = [os.fspath(p) for p in paths]
    if not starts:
        return ScanResult()
    find = gnu_find()
    result = scan_with_find(find, starts, uid) if find else scan_with_python(starts, uid)
    if since is not None:
        result.entries = [e for e in result.entries if e.ctime >= since]
    return result
