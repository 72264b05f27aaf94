"""Remove a linked worktree so that git never fails half-way.

`git worktree remove --force` deletes `.git` first and then stops on the first file it may not
delete, leaving an orphaned tree git no longer knows. So, before git runs: everything becomes the
developer's again and every folder writable by its owner; only then does git remove the tree and
prune, and we check that neither the folder nor git's record of it is left.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

from devtools.errors import UnusableInput
from devtools.git.layout import GitLayout
from devtools.ownership import git
from devtools.ownership.artifacts import Globs
from devtools.ownership.checkouts import Finder, holds_git
from devtools.ownership.chown import HOW, give_back
from devtools.ownership.developer import Developer
from devtools.ownership.names import shown
from devtools.ownership.plan import Outcome, Step
from devtools.ownership.scan import scan
from devtools.ownership.tree import relative as _rel

_OWNER_RWX = stat.S_IRWXU


def _guard(layout: GitLayout, root: Path, developer: Developer, patterns: Globs) -> None:
    """Refuse when removing the worktree would lose work that is not committed."""
    if not layout.is_linked_worktree:
        raise UnusableInput(
            f"{root} is the repository's main worktree: --worktree removes a linked worktree "
            "(one made by `git worktree add`); run it there"
        )
    lost = _lost_work(root, developer, patterns)
    if lost:
        listed = ", ".join(lost[:5]) + (f" (+{len(lost) - 5} more)" if len(lost) > 5 else "")
        raise UnusableInput(
            shown(
                f"the worktree {root} has work that is not committed: {listed}: "
                "commit, stash or delete it, then run clean --worktree again"
            )
        )


def _lost_work(root: Path, developer: Developer, patterns: Globs, prefix: str = "") -> list[str]:
    """What removing the checkout at `root` would lose, its submodules asked in turn: their
    untracked files, and commits of theirs no remote has (their git dirs go with the worktree)."""
    lost = []
    for change in git.changes(root):
        rel = prefix + change.path
        if change.untracked:
            path = root / change.path
            name = PurePosixPath(change.path).name
            try:
                made_by_developer = os.lstat(path).st_uid == developer.uid
            except OSError:
                continue
            # Root-owned files came from a container, artifacts are regenerated: both may go.
            if not made_by_developer or Globs.matches(patterns.artifacts, name, rel):
                continue
        lost.append(rel)
    for sub in sorted(git.tracked(root).gitlinks):
        if not holds_git(root / sub):
            continue  # not checked out: nothing of it is here
        if git.unpushed(root / sub):
            lost.append(f"{prefix}{sub} (submodule commits no remote has)")
        lost += _lost_work(root / sub, developer, patterns, f"{prefix}{sub}/")
    return lost


def _nested_refusal(root: Path, checkouts: list[str]) -> str | None:
    """Why the worktree may not go, when it holds a checkout of its own that is not entered:
    `git worktree remove --force` would delete it, history and all."""
    nested = Finder(root).not_entered(checkouts, [root])
    if not nested:
        return None
    first = nested[0]
    more = f" (+{len(nested) - 1} more)" if len(nested) > 1 else ""
    return (
        f"the worktree {root} holds {first.label} at {_rel(root, first.path)}{more}: "
        "removing the worktree would delete it with everything in it: move it out or "
        "remove it yourself, then run clean --worktree again"
    )


def open_up_folders(root: Path) -> list[str]:
    """Give every folder (ours by now) owner rwx, so nothing inside is undeletable; the changes."""
    changed = []
    folders = [root]
    while folders:
        folder = folders.pop()
        mode = os.lstat(folder).st_mode
        if mode & _OWNER_RWX != _OWNER_RWX:
            folder.chmod(stat.S_IMODE(mode) | _OWNER_RWX, follow_symlinks=False)
            changed.append(str(folder))
        with os.scandir(folder) as it:
            folders += [Path(e.path) for e in it if e.is_dir(follow_symlinks=False)]
    return changed


def _make_removable(root: Path, developer: Developer, image: str) -> Outcome:
    report = give_back(root, [root], developer, image=image)
    done = [f"gave {len(report.changed)} entries back to {developer.owner} ({HOW[report.method]})"]
    failed = [f"could not give back {_rel(root, f.entry.path)}: {f.reason}" for f in report.failed]
    failed += [f"could not look inside {_rel(root, u)}" for u in report.unreadable]
    # A hard-linked file keeps its owner (another name may be outside); git removes this name.
    done += [
        f"left {_rel(root, f.entry.path)} to its owner ({f.entry.links} hard links): "
        "git removes this name only"
        for f in report.hard_links
    ]
    if not failed:
        # Folders that were closed to us at planning time are open now: look for checkouts again
        # (before any mode changes: nothing in a nested checkout is touched).
        refusal = _nested_refusal(root, scan([root], developer.uid).checkouts)
        if refusal is not None:
            failed.append(refusal)
    if not failed:
        try:
            opened = open_up_folders(root)
        except OSError as exc:
            failed.append(f"could not make {exc.filename} writable: {exc.strerror}")
        else:
            done += [f"made {_rel(root, folder)} writable for its owner" for folder in opened]
    return Outcome(tuple(done), tuple(failed))


def _remove(layout: GitLayout, root: Path) -> Outcome:
    main = layout.main_worktree
    git.remove_worktree(main, root)
    failed = []
    if os.path.lexists(root):
        failed.append(f"{root} is still there after git worktree remove")
    if root in git.worktree_paths(main):
        failed.append(f"git still lists {root} as a worktree")
    if failed:
        return Outcome((), tuple(failed))
    return Outcome((f"removed worktree {root} (git worktree remove; git worktree prune)",))


def plan_worktree(
    layout: GitLayout, root: Path, developer: Developer, patterns: Globs, image: str
) -> list[Step]:
    _guard(layout, root, developer, patterns)
    found = scan([root], developer.uid)
    refusal = _nested_refusal(root, found.checkouts)
    if refusal is not None:
        raise UnusableInput(shown(refusal))
    items = (
        [f"{len(found.entries)} entries not owned by {developer.owner}"] if found.entries else []
    )
    items += [f"{_rel(root, u)}/ (cannot look inside yet)" for u in found.unreadable]
    return [
        Step(
            "ownership",
            f"give everything in {root} back to {developer.owner} and make its folders writable",
            tuple(items) or ("nothing to give back",),
            lambda: _make_removable(root, developer, image),
        ),
        Step(
            "worktree",
            f"remove the worktree {root} with git and prune",
            (f"{root}", f"git record {layout.git_dir}"),
            lambda: _remove(layout, root),
        ),
    ]
