"""The revision history as it is at a git ref (`--base origin/main`), read from git objects.

Nothing is checked out: `git ls-tree` lists the versions folders at the ref and one
`git cat-file --batch` streams every file, so the base costs one process pair however long the
history is.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from devtools.errors import UnusableInput
from devtools.git.errors import GitFailed
from devtools.git.layout import top_level
from devtools.git.objects import ObjectReader
from devtools.git.runner import Git
from devtools.migrations.graph.alembic import build_graph
from devtools.migrations.graph.model import RevisionGraph
from devtools.migrations.graph.read import REVISION_FILE, read_revision
from devtools.migrations.location import ScriptLocation


def history_at(location: ScriptLocation, ref: str, cwd: Path) -> RevisionGraph:
    """The graph of the revision files that exist at `ref` in the same folders."""
    first = location.versions[0]
    anchor = first if first.is_dir() else first.parent
    top = top_level(anchor)
    if top is None:
        raise UnusableInput(f"--base {ref}: {anchor} is not inside a git repository")
    with Git(top) as git, ObjectReader(git) as objects:
        if git.run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False).returncode:
            raise UnusableInput(f"--base {ref}: no such commit, branch or tag in {top}")
        return _graph_at(location, ref, cwd, git, objects)


def _graph_at(
    location: ScriptLocation, ref: str, cwd: Path, git: Git, objects: ObjectReader
) -> RevisionGraph:
    top = git.cwd
    wanted: list[str] = []
    for folder in location.versions:
        rel = PurePosixPath(Path(os.path.relpath(folder.resolve(), top.resolve())).as_posix())
        listing = git.run("ls-tree", "-r", "-z", "--name-only", ref, "--", f"{rel}/").stdout
        for name in filter(None, listing.decode().split("\0")):
            path = PurePosixPath(name)
            inside = path.relative_to(rel)
            if not location.recursive and len(inside.parts) > 1:
                continue
            if "__pycache__" in inside.parts or not REVISION_FILE.match(path.name):
                continue
            wanted.append(name)
    wanted.sort(key=lambda n: (str(PurePosixPath(n).parent), PurePosixPath(n).name))
    blobs = objects.blobs([f"{ref}:{name}" for name in wanted])
    files = []
    for name, blob in zip(wanted, blobs, strict=True):
        if blob is None:  # listed by ls-tree, yet not a readable blob
            raise GitFailed(f"cannot read {ref}:{name} in {top}: is the clone damaged?")
        display = f"{ref}:{os.path.relpath(top / name, cwd)}"
        files.append(read_revision(str(top / name), display, source=blob))
    return build_graph(files)
