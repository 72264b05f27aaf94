"""The revision history as it is at a git ref (`--base origin/main`), read from git objects.

Nothing is checked out: `git ls-tree` lists the versions folders at the ref and one
`git cat-file --batch` streams every file, so the base costs one process pair however long the
history is.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from devtools.errors import UnusableInput
from devtools.gitcmd import GitFailed, git
from devtools.migrations.graph import REVISION_FILE, RevisionGraph, build_graph, read_revision
from devtools.migrations.location import ScriptLocation


def _git(cwd: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        return git(cwd, *args, stdin=stdin)
    except GitFailed as exc:
        raise UnusableInput(str(exc)) from None  # --base names something git cannot read


def history_at(location: ScriptLocation, ref: str, cwd: Path) -> RevisionGraph:
    """The graph of the revision files that exist at `ref` in the same folders."""
    first = location.versions[0]
    anchor = first if first.is_dir() else first.parent
    try:
        top = Path(_git(anchor, "rev-parse", "--show-toplevel").decode().strip())
    except UnusableInput:
        raise UnusableInput(f"--base {ref}: {anchor} is not inside a git repository") from None
    try:
        _git(top, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except UnusableInput:
        raise UnusableInput(f"--base {ref}: no such commit, branch or tag in {top}") from None
    wanted: list[str] = []
    for folder in location.versions:
        rel = PurePosixPath(Path(os.path.relpath(folder.resolve(), top.resolve())).as_posix())
        listing = _git(top, "ls-tree", "-r", "-z", "--name-only", ref, "--", f"{rel}/")
        for name in filter(None, listing.decode().split("\0")):
            path = PurePosixPath(name)
            inside = path.relative_to(rel)
            if not location.recursive and len(inside.parts) > 1:
                continue
            if "__pycache__" in inside.parts or not REVISION_FILE.match(path.name):
                continue
            wanted.append(name)
    wanted.sort(key=lambda n: (str(PurePosixPath(n).parent), PurePosixPath(n).name))
    blobs = _cat_files(top, ref, wanted)
    files = []
    for name in wanted:
        display = f"{ref}:{os.path.relpath(top / name, cwd)}"
        files.append(read_revision(str(top / name), display, source=blobs[name]))
    return build_graph(files)


def _cat_files(top: Path, ref: str, names: list[str]) -> dict[str, bytes]:
    if not names:
        return {}
    request = "".join(f"{ref}:{name}\n" for name in names).encode()
    out = _git(top, "cat-file", "--batch", stdin=request)
    blobs: dict[str, bytes] = {}
    pos = 0
    for name in names:
        header_end = out.index(b"\n", pos)
        header = out[pos:header_end].split()
        size = int(header[2])
        blobs[name] = out[header_end + 1 : header_end + 1 + size]
        pos = header_end + 1 + size + 1
    return blobs
