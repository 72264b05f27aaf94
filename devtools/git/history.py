"""The history: a range's changed files (one `git diff`), the files at a ref, ancestry, and
which branches hold which commits."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from devtools.git.errors import GitFailed, NoMergeBase
from devtools.git.runner import Git, Pending, decode, last_line

ZERO_SHA = "0" * 40


@dataclass(frozen=True)
class FileChange:
    path: str  # the path at the head side (the old path for a deletion)
    status: str  # A added, M modified, D deleted, R renamed, C copied, T type change
    insertions: int
    deletions: int
    binary: bool
    old_path: str | None = None  # for renames and copies
    old_blob: str | None = None
    new_blob: str | None = None

    @property
    def blob(self) -> str | None:
        """The blob whose content describes the file: the new one, or the old for a deletion."""
        return self.new_blob or self.old_blob


def diff_range(git: Git, base: str, head: str) -> Pending[list[FileChange]]:
    """Every file changed in `base...head`, with line counts and blob ids, from one diff."""

    def parse(proc: subprocess.CompletedProcess[bytes]) -> list[FileChange]:
        if proc.returncode != 0:
            message = last_line(proc.stderr)
            if "no merge base" in message:
                raise NoMergeBase(message)
            raise GitFailed(f"`git diff` failed: {message}")
        return parse_raw_numstat(proc.stdout)

    running = git.start(
        "diff",
        "--raw",
        "--numstat",
        "-z",
        "--no-abbrev",
        "-M",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        f"{base}...{head}",
        "--",
    )
    return Pending(running, parse)


def parse_raw_numstat(out: bytes) -> list[FileChange]:
    tokens = decode(out).split("\0")  # decoded once: thousands of paths
    raws: list[tuple[str, str | None, str | None, str | None]] = []
    i = 0
    while i < len(tokens) and tokens[i].startswith(":"):
        _old_mode, _new_mode, old_sha, new_sha, status = tokens[i][1:].split(" ")
        if status[0] in "RC":
            old_path: str | None = tokens[i + 1]
            i += 3
        else:
            old_path = None
            i += 2
        raws.append(
            (
                status[0],
                old_path,
                None if old_sha == ZERO_SHA else old_sha,
                None if new_sha == ZERO_SHA else new_sha,
            )
        )
    changes: list[FileChange] = []
    for status, old_path, old_blob, new_blob in raws:
        added, deleted, path = tokens[i].split("\t", 2)
        if path:
            i += 1
        else:  # a rename or copy: the two paths follow as their own tokens
            path = tokens[i + 2]
            i += 3
        binary = added == "-"
        changes.append(
            FileChange(
                path=path,
                status=status,
                insertions=0 if binary else int(added),
                deletions=0 if binary else int(deleted),
                binary=binary,
                old_path=old_path,
                old_blob=old_blob,
                new_blob=new_blob,
            )
        )
    return changes


def list_files(git: Git, rev: str) -> dict[str, str]:
    """Every file at `rev`: path -> blob id (submodules left out)."""
    out = decode(git.run("ls-tree", "-r", "-z", "--full-tree", rev).stdout)
    files: dict[str, str] = {}
    for entry in out.split("\0"):
        meta, _, path = entry.partition("\t")
        if meta[7:11] == "blob":  # "<mode:6> blob <sha>"
            files[path] = meta[12:]
    return files


# ---- history ---------------------------------------------------------------------------------


def commits_between(
    git: Git, tip: str, exclude: Iterable[str], *, first_parent: bool, limit: int = 500
) -> list[str]:
    """Commits reachable from `tip` and from none of `exclude`, newest first.

    Excluded commits this clone does not have are ignored rather than fatal.
    """
    stdin = b"".join(b"^" + sha.encode() + b"\n" for sha in exclude)
    proc = git.run(
        "rev-list",
        "--ignore-missing",
        f"--max-count={limit}",
        *(["--first-parent"] if first_parent else []),
        tip,
        "--stdin",
        input=stdin,
    )
    return decode(proc.stdout).split()


_NAME_SUFFIX = re.compile(r"[~^].*$")


def remote_branches_containing(
    git: Git, shas: Sequence[str], remote: str, *, exclude_branch: str
) -> dict[str, str]:
    """For each commit that some branch of `remote` contains, one such branch (`origin/main`).

    One `git name-rev` over the remote-tracking refs answers for every commit at once.
    """
    if not shas:
        return {}
    proc = git.run(
        "name-rev",
        f"--refs=refs/remotes/{remote}/*",
        f"--exclude=refs/remotes/{remote}/HEAD",
        f"--exclude=refs/remotes/{remote}/{exclude_branch}",
        *shas,
    )
    found: dict[str, str] = {}
    for line in decode(proc.stdout).splitlines():
        sha, _, name = line.partition(" ")
        if name and name != "undefined":
            found[sha] = _NAME_SUFFIX.sub("", name.removeprefix("remotes/"))
    return found


def is_ancestor(git: Git, commit: str, of: str) -> bool:
    proc = git.run("merge-base", "--is-ancestor", commit, of, check=False)
    if proc.returncode not in (0, 1):
        raise GitFailed(f"`git merge-base` failed: {last_line(proc.stderr)}")
    return proc.returncode == 0


def on_first_parent_line(git: Git, commit: str, tip: str) -> bool:
    """Whether `commit` (an ancestor of `tip`) is on `tip`'s first-parent line: a commit of
    that branch's own history, not one merged into it from a side branch.

    The walk stops at `commit` and its ancestors, so it is as long as the history since.
    """
    if commit == tip:
        return True
    proc = git.run("rev-list", "--first-parent", "--parents", tip, f"^{commit}")
    for line in decode(proc.stdout).splitlines():
        parents = line.split()[1:2]
        if parents == [commit]:
            return True
    return False


def commit_adding(git: Git, rev: str, path: str) -> str | None:
    """The newest commit at `rev` that added `path`."""
    proc = git.run(
        "-c",
        "log.showSignature=false",
        "log",
        "-1",
        "--format=%H",
        "--diff-filter=A",
        rev,
        "--",
        path,
    )
    return decode(proc.stdout).strip() or None
