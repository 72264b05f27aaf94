"""The ownership library without an engine: scan engines, containment, artifacts, tracked files.

Tests that hand files to other uids need root (CI runs as root); they skip otherwise.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import struct
import threading
import time
from pathlib import Path

import pytest

from devtools.config import ProjectConfig
from devtools.errors import UnusableInput
from devtools.ownership.artifacts import Globs, find_artifacts, globs
from devtools.ownership.clean import Selection
from devtools.ownership.command import top_level
from devtools.ownership.fix import Setting, give_back_after, mounted_parts, setting, wanted
from devtools.ownership.git import Tracked, tracked
from devtools.ownership.scan import Entry, gnu_find, scan, scan_with_find, scan_with_python
from devtools.ownership.tree import resolve_all, resolve_inside
from tests.fixtures.cli import omc
from tests.fixtures.git import GitRepo, git, make_repo
from tests.fixtures.userenv import UserEnv, user_tempdir

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="giving files to another uid needs root")
OTHER = 54321  # a uid nobody has


def _tricky_tree(base: Path) -> tuple[Path, Path]:
    """A tree with foreign-owned entries, odd names, and symlinks out of it."""
    tree, outside = base / "tree", base / "outside"
    (tree / "gen" / "deep").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret").write_text("not ours to touch")
    (tree / "mine.txt").write_text("x")
    (tree / "gen" / "a file with spaces").write_text("x")
    (tree / "gen" / "new\nline").write_text("x")
    (tree / "gen" / "deep" / "f").write_text("x")
    (tree / "link-out").symlink_to(outside / "secret")
    (tree / "dir-out").symlink_to(outside)
    for path in (tree / "gen", tree / "gen" / "new\nline", tree / "gen" / "deep" / "f"):
        os.chown(path, OTHER, OTHER)
    os.chown(tree / "link-out", OTHER, OTHER, follow_symlinks=False)
    os.chown(outside / "secret", OTHER, OTHER)
    return tree, outside


def _keys(entries: list[Entry]) -> set[tuple[str, int, int, str]]:
    return {(e.path, e.uid, e.gid, e.kind) for e in entries}


@needs_root
def test_both_scan_engines_find_exactly_the_foreign_entries_and_never_follow_links(
    tmp_path: Path,
) -> None:
    tree, _outside = _tricky_tree(tmp_path)
    expected = {
        (str(tree / "gen"), OTHER, OTHER, "dir"),
        (str(tree / "gen" / "new\nline"), OTHER, OTHER, "file"),
        (str(tree / "gen" / "deep" / "f"), OTHER, OTHER, "file"),
        (str(tree / "link-out"), OTHER, OTHER, "link"),
    }
    python = scan_with_python([str(tree)], os.getuid())
    assert _keys(python.entries) == expected
    find = gnu_find()
    assert find is not None, "GNU find is part of Debian's essential set"
    assert _keys(scan_with_find(find, [str(tree)], os.getuid()).entries) == expected
    # `outside/secret` is foreign too, but only reachable through the symlinks: never reported.


@needs_root
def test_scan_since_keeps_only_entries_changed_after_it(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    old.write_text("x")
    os.chown(old, OTHER, OTHER)
    time.sleep(0.05)
    since = time.time()
    new.write_text("x")
    os.chown(new, OTHER, OTHER)
    assert [e.path for e in scan([old, new], os.getuid(), since=since).entries] == [str(new)]


def test_paths_are_resolved_inside_the_worktree_and_links_are_kept_as_links(
    tmp_path: Path,
) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "x").touch()
    (root / "to-outside").symlink_to(outside)
    (root / "sub-link").symlink_to(root / "sub")
    assert resolve_inside(root, "sub", base=root) == root / "sub"
    # A symlink named on the command line is the link itself, inside the tree.
    assert resolve_inside(root, "to-outside", base=root) == root / "to-outside"
    with pytest.raises(UnusableInput, match="outside the worktree"):
        resolve_inside(root, "../outside", base=root)
    with pytest.raises(UnusableInput, match="outside the worktree"):
        resolve_inside(root, "to-outside/x", base=root)  # through the link: outside
    with pytest.raises(UnusableInput, match="no such file"):
        resolve_inside(root, "missing", base=root)
    assert resolve_all(root, ["sub", ".", "sub-link"], base=root) == [root]


def test_top_level_groups_entries_under_their_topmost_folder() -> None:
    def e(path: str) -> Entry:
        return Entry(path, 0, 0, "dir", 0.0)

    grouped = top_level([e("/t/gen/a"), e("/t/gen-x"), e("/t/gen"), e("/t/gen/a/b")])
    assert [(entry.path, below) for entry, below in grouped] == [("/t/gen", 2), ("/t/gen-x", 0)]


def test_tracked_covers_files_and_every_folder_above_them() -> None:
    t = Tracked(["a/b/c.py", "top.txt"])
    assert t.covers("a/b/c.py") and t.covers("a/b") and t.covers("a") and t.covers("top.txt")
    assert not t.covers("a/b/c.pyc") and not t.covers("b") and not t.covers("a/bb")


def test_artifacts_match_names_and_paths_skip_git_keep_and_symlinked_folders(
    tmp_path: Path,
) -> None:
    outside = tmp_path / "outside"
    (outside / "__pycache__").mkdir(parents=True)
    root = tmp_path / "root"
    for folder in (
        "src/pkg/__pycache__",
        ".git/__pycache__",
        ".venv/lib/__pycache__",
        "clients/generated/api",
        "other/generated",
    ):
        (root / folder).mkdir(parents=True)
    (root / "src" / "linked").symlink_to(outside)  # not entered: its __pycache__ is not ours
    (root / "__pycache__").symlink_to(outside / "__pycache__")  # a match: the link itself
    patterns = Globs(("__pycache__", "clients/generated"), (".venv",))
    search = find_artifacts(root, patterns)
    assert [(a.rel, a.is_dir) for a in search.found] == [
        ("__pycache__", False),
        ("clients/generated", True),
        ("src/pkg/__pycache__", True),
    ]
    assert search.unreadable == []


def test_artifact_globs_come_from_config_and_bad_values_are_one_line_errors(
    tmp_path: Path,
) -> None:
    cfg = ProjectConfig(tmp_path, {"clean": {"artifacts": ["build"], "keep": []}})
    assert globs(cfg) == Globs(("build",), ())
    bad = ProjectConfig(tmp_path, {"clean": {"artifacts": "build"}}, tmp_path / "pyproject.toml")
    with pytest.raises(UnusableInput, match=r"\[tool.omc-dev.clean\] artifacts must be a list"):
        globs(bad)


def test_selection_defaults_and_implications() -> None:
    flags = {"containers": False, "volumes": False, "artifacts": False, "worktree": False}
    assert Selection.from_flags(**flags) == Selection(True, False, True, False)
    assert Selection.from_flags(**{**flags, "volumes": True}) == Selection(True, True, False, False)
    assert Selection.from_flags(**{**flags, "worktree": True, "artifacts": True}) == Selection(
        True, False, False, True
    )


def test_git_tracked_lists_the_index(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"a/b.py": "x", "c.txt": "y"})
    (repo.path / "staged.py").write_text("z")
    repo.git("add", "staged.py")
    t = tracked(repo.path)
    assert t.files == {"a/b.py", "c.txt", "staged.py"}


def test_chown_refuses_a_path_outside_the_worktree(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    proc = omc("chown", str(tmp_path / "origin.git"), cwd=repo.path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "outside the worktree" in proc.stderr


@needs_root
def test_chown_as_root_under_sudo_gives_back_directly_and_leaves_link_targets(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path)
    tree, outside = _tricky_tree(repo.path)
    dev = {"SUDO_UID": "4242", "SUDO_GID": "4343"}
    for path in (repo.path, *repo.path.rglob("*")):  # the developer's checkout
        if os.lstat(path).st_uid == 0 and not path.is_relative_to(outside):
            os.chown(path, 4242, 4343, follow_symlinks=False)

    proc = omc("chown", "tree", "--format", "json", cwd=repo.path, env=dev)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["method"] == "direct" and doc["developer"] == "4242:4343"
    assert {c["path"] for c in doc["changed"]} == {
        str(tree / "gen"),
        str(tree / "gen" / "new\nline"),
        str(tree / "gen" / "deep" / "f"),
        str(tree / "link-out"),
    }
    assert os.lstat(tree / "link-out").st_uid == 4242
    assert os.stat(outside / "secret").st_uid == OTHER  # the link's target is untouched
    assert os.stat(tree / "gen" / "deep" / "f").st_gid == 4343


def test_clean_artifacts_plan_only_dry_run_and_tracked_files_kept(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path,
        {
            "pyproject.toml": '[tool.omc-dev.clean]\nartifacts = ["__pycache__", "*.pyc", "generated"]\n',
            "generated/README.md": "tracked, inside a generated folder\n",
            "lib/legacy.pyc": "tracked bytecode\n",
            "src/app.py": "print()\n",
        },
    )
    (repo.path / "src" / "__pycache__").mkdir()
    (repo.path / "src" / "__pycache__" / "app.cpython-311.pyc").write_text("x")
    (repo.path / "src" / "stray.pyc").write_text("x")
    removable = [repo.path / "src" / "__pycache__", repo.path / "src" / "stray.pyc"]

    plan_only = omc("clean", "--artifacts", cwd=repo.path)
    assert plan_only.returncode == 2
    assert "src/__pycache__/" in plan_only.stdout and "src/stray.pyc" in plan_only.stdout
    assert "kept generated: holds tracked files" in plan_only.stdout
    assert "kept lib/legacy.pyc: tracked by git" in plan_only.stdout
    assert plan_only.stderr.strip().endswith("rerun with --yes to apply it")
    assert all(p.exists() for p in removable)

    dry = omc("clean", "--artifacts", "--dry-run", "--format", "json", cwd=repo.path)
    assert dry.returncode == 0
    doc = json.loads(dry.stdout)
    assert doc["applied"] is False and [s["id"] for s in doc["plan"]] == ["artifacts"]
    assert all(p.exists() for p in removable)

    applied = omc("clean", "--artifacts", "--yes", "--format", "json", cwd=repo.path)
    assert applied.returncode == 0, applied.stderr
    doc = json.loads(applied.stdout)
    assert doc["results"] == [
        {
            "id": "artifacts",
            "status": "ok",
            "done": ["removed src/__pycache__/", "removed src/stray.pyc"],
            "failed": [],
        }
    ]
    assert not any(p.exists() for p in removable)
    assert repo.git("status", "--porcelain") == ""  # every tracked file is still there

    again = omc("clean", "--artifacts", cwd=repo.path)
    assert again.returncode == 0 and "nothing to clean" in again.stdout


def test_fix_ownership_setting_flag_wins_then_commands_by_argv_prefix(tmp_path: Path) -> None:
    def cfg(value: object) -> Setting:
        return setting(
            ProjectConfig(tmp_path, {"run": {"fix-ownership": value}}, tmp_path / "pyproject.toml")
        )

    generators = cfg(["alembic revision", "openapi-python-client generate"])
    assert wanted(generators, ["alembic", "revision", "-m", "x"], None)
    assert wanted(generators, ["/usr/local/bin/alembic", "revision"], None)
    assert wanted(generators, ["alembic", "-c", "kernel/alembic.ini", "revision", "-m", "x"], None)
    assert not wanted(generators, ["alembic", "-c", "revision.ini", "upgrade"], None)
    assert not wanted(generators, ["generate", "openapi-python-client"], None)
    assert not wanted(generators, ["alembic", "upgrade", "head"], None)
    assert not wanted(generators, ["openapi-python-client"], None)
    assert not wanted(generators, ["alembic", "revision"], False)
    assert wanted(cfg(False), ["pytest"], True)
    assert wanted(cfg(True), ["pytest"], None)
    assert not wanted(setting(ProjectConfig(tmp_path, {})), ["alembic", "revision"], None)
    for bad in ("alembic", [""], [1]):
        with pytest.raises(UnusableInput, match="must be true, false or a list"):
            cfg(bad)


def test_only_mounted_parts_of_the_worktree_are_looked_at(tmp_path: Path) -> None:
    root = tmp_path / "wt"
    got = mounted_parts(root, [root / "src", root / "src" / "pkg", tmp_path, Path("/var/run")])
    assert got == [root]  # a mount above the worktree covers it, and only it
    assert mounted_parts(root, [root / "src", root / "tests", Path("/etc")]) == [
        root / "src",
        root / "tests",
    ]


@needs_root
def test_give_back_after_changes_only_what_changed_since_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SUDO_UID", raising=False)
    repo = make_repo(tmp_path)
    out = repo.path / "out"
    out.mkdir()
    before, after = out / "before.txt", out / "after.txt"
    before.write_text("x")
    os.chown(before, OTHER, OTHER)
    time.sleep(0.3)
    started = time.time()
    after.write_text("x")
    os.chown(after, OTHER, OTHER)
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("x")
    os.chown(outside, OTHER, OTHER)
    # The developer is root here (no SUDO_UID): root gets the command's new file back.
    report = give_back_after(ProjectConfig(repo.path), [out, tmp_path], started)
    assert report is not None and [e.path for e in report.changed] == [str(after)]
    assert os.lstat(after).st_uid == 0
    assert os.lstat(before).st_uid == OTHER and os.lstat(outside).st_uid == OTHER


@needs_root
def test_both_engines_report_folders_a_user_cannot_read(as_test_user: UserEnv) -> None:
    env = as_test_user
    tree = user_tempdir(env.user, prefix="omc-scan-")
    try:
        (tree / "locked" / "inside").mkdir(parents=True)
        (tree / "mine").mkdir()
        for path in (tree / "mine",):
            os.chown(path, env.user.uid, env.user.gid)
        (tree / "locked").chmod(0o700)  # root's, and closed to the user
        probe = (
            "import json, sys\n"
            "from devtools.ownership.scan import gnu_find, scan_with_find, scan_with_python\n"
            "root, uid = sys.argv[1], int(sys.argv[2])\n"
            "out = {}\n"
            "for name, result in (('find', scan_with_find(gnu_find(), [root], uid)),"
            " ('python', scan_with_python([root], uid))):\n"
            "    out[name] = [sorted(e.path for e in result.entries), result.unreadable]\n"
            "print(json.dumps(out))\n"
        )
        proc = env.run([env.python, "-S", "-c", probe, str(tree), str(env.user.uid)], tree)
        assert proc.returncode == 0, proc.stderr
        doc = json.loads(proc.stdout)
        expected = [[str(tree / "locked")], [str(tree / "locked")]]
        assert doc == {"find": expected, "python": expected}
    finally:
        shutil.rmtree(tree)


# --- Nested checkouts, hard links, hostile names, vanishing folders (issue 12) ---------------

ARTIFACT_GLOBS = '[tool.omc-dev.clean]\nartifacts = ["__pycache__", "*.pyc", "generated"]\n'


def _checkout_files(path: Path) -> list[str]:
    return [p for p in git(path, "ls-files", "-z").split("\0") if p]


def _assert_checkout_intact(path: Path) -> None:
    """Every file the checkout at `path` tracks is on disk, unchanged."""
    listed = _checkout_files(path)
    assert listed and all(os.path.lexists(path / rel) for rel in listed), (path, listed)
    assert git(path, "status", "--porcelain", "--untracked-files=no") == ""


def _repo_with_nested_checkouts(tmp_path: Path) -> tuple[GitRepo, dict[str, Path]]:
    """A repository holding a linked worktree, a nested repository and a submodule, each with
    tracked files that match the artifact globs and untracked artifacts of its own."""
    (tmp_path / "lib").mkdir()
    lib = make_repo(
        tmp_path / "lib",
        {"pkg/mod.pyc": "tracked by the submodule\n", "pkg/__init__.py": "", "generated/x": "t\n"},
    )
    repo = make_repo(
        tmp_path,
        {
            "pyproject.toml": ARTIFACT_GLOBS,
            ".gitignore": ".worktrees/\ntools/\n",
            "src/app.py": "print()\n",
            "lib/legacy.pyc": "tracked bytecode\n",
        },
    )
    repo.git(
        "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib.origin), "vendor/lib"
    )
    repo.git("commit", "-q", "-m", "add the submodule")
    repo.git("worktree", "add", "-q", "-b", "feature", ".worktrees/feature")
    nested = repo.path / "tools" / "generated"  # a nested repository whose folder matches a glob
    nested.mkdir(parents=True)
    git(nested, "init", "-q", "-b", "main")
    (nested / "api.py").write_text("tracked by the nested repository\n")
    (nested / "old.pyc").write_text("tracked bytecode of the nested repository\n")
    git(nested, "add", "--all")
    git(nested, "commit", "-q", "-m", "nested")
    checkouts = {
        "worktree": repo.path / ".worktrees" / "feature",
        "submodule": repo.path / "vendor" / "lib",
        "repository": nested,
    }
    for path in (repo.path / "src", *checkouts.values()):  # untracked artifacts everywhere
        (path / "__pycache__").mkdir(exist_ok=True)
        (path / "__pycache__" / "m.cpython-311.pyc").write_text("x")
    return repo, checkouts


def test_clean_artifacts_asks_each_nested_checkout_and_deletes_nothing_any_of_them_tracks(
    tmp_path: Path,
) -> None:
    repo, checkouts = _repo_with_nested_checkouts(tmp_path)
    plan = omc("clean", "--artifacts", "--dry-run", cwd=repo.path)
    assert plan.returncode == 0, plan.stderr
    assert "skipped .worktrees/feature/: a linked worktree" in plan.stdout
    assert "kept tools/generated: it is a nested git repository" in plan.stdout
    assert "kept vendor/lib/pkg/mod.pyc: tracked by git (submodule vendor/lib)" in plan.stdout

    applied = omc("clean", "--artifacts", "--yes", "--format", "json", cwd=repo.path)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    done = json.loads(applied.stdout)["results"][0]["done"]
    # The worktree's own artifacts and the submodule's untracked ones go; nothing else.
    assert sorted(done) == ["removed src/__pycache__/", "removed vendor/lib/__pycache__/"]
    for path in (repo.path, *checkouts.values()):
        _assert_checkout_intact(path)
    # What the linked worktree and the nested repository hold is theirs to judge: untouched.
    assert (checkouts["worktree"] / "__pycache__" / "m.cpython-311.pyc").exists()
    assert (checkouts["worktree"] / "lib" / "legacy.pyc").exists()
    assert (checkouts["repository"] / "__pycache__" / "m.cpython-311.pyc").exists()


def test_clean_artifacts_keeps_an_artifact_folder_that_holds_a_checkout(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"pyproject.toml": ARTIFACT_GLOBS})
    inner = repo.path / "build" / "generated" / "client"
    inner.mkdir(parents=True)
    git(inner, "init", "-q", "-b", "main")
    (inner / "api.py").write_text("x\n")
    git(inner, "add", "--all")
    git(inner, "commit", "-q", "-m", "client")
    proc = omc("clean", "--artifacts", "--yes", cwd=repo.path)
    assert proc.returncode == 0, proc.stderr
    assert "kept build/generated: holds a git checkout (client)" in proc.stdout
    _assert_checkout_intact(inner)


DEV = {"SUDO_UID": "4242", "SUDO_GID": "4343"}


def _developers(tree: Path) -> None:
    """Setup: the checkout is the developer's (uid 4242), as it would be on their machine."""
    for path in (tree, *tree.rglob("*")):
        if os.lstat(path).st_uid == 0:
            os.chown(path, 4242, 4343, follow_symlinks=False)


@needs_root
def test_chown_as_root_leaves_a_hard_link_to_a_file_outside_the_tree_alone(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path)
    outside = tmp_path / "outside-secret"  # same filesystem, outside the worktree
    outside.write_text("someone else's\n")
    _developers(repo.path)
    os.chown(outside, OTHER, OTHER)
    os.link(outside, repo.path / "innocent.txt")  # one inode, two names: one outside
    (repo.path / "report.txt").write_text("a container's\n")
    os.chown(repo.path / "report.txt", OTHER, OTHER)

    dry = omc("chown", "--dry-run", "--format", "json", cwd=repo.path, env=DEV)
    assert dry.returncode == 0, dry.stderr
    assert [c["path"] for c in json.loads(dry.stdout)["changed"]] == [str(repo.path / "report.txt")]

    proc = omc("chown", cwd=repo.path, env=DEV)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # not everything is yours
    assert "✗ innocent.txt: it has 2 hard links" in proc.stdout
    assert os.stat(outside).st_uid == OTHER and os.stat(outside).st_gid == OTHER
    assert os.lstat(repo.path / "report.txt").st_uid == 4242


@needs_root
def test_chown_gives_back_in_submodules_and_does_not_enter_other_checkouts(
    tmp_path: Path,
) -> None:
    repo, checkouts = _repo_with_nested_checkouts(tmp_path)
    _developers(tmp_path)
    foreign = {kind: path / "root-made.txt" for kind, path in checkouts.items()}
    for path in foreign.values():
        path.write_text("a container's\n")
        os.chown(path, OTHER, OTHER)

    proc = omc("chown", cwd=repo.path, env=DEV)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "vendor/lib/root-made.txt" in proc.stdout
    assert "not entered: .worktrees/feature/ is a linked worktree" in proc.stdout
    assert "not entered: tools/generated/ is a nested git repository" in proc.stdout
    assert os.lstat(foreign["submodule"]).st_uid == 4242
    assert os.lstat(foreign["worktree"]).st_uid == OTHER
    assert os.lstat(foreign["repository"]).st_uid == OTHER

    named = omc("chown", "tools/generated", cwd=repo.path, env=DEV)  # named: the user asks
    assert named.returncode == 0, named.stderr
    assert os.lstat(foreign["repository"]).st_uid == 4242


def test_file_names_with_control_characters_cannot_forge_plan_lines(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"pyproject.toml": ARTIFACT_GLOBS})
    forged = "x\n  note: kept everything, nothing will be removed\x1b[2K.pyc"
    (repo.path / forged).write_text("x")
    proc = omc("clean", "--artifacts", "--dry-run", cwd=repo.path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert not any(line.startswith("  note: kept everything") for line in lines), lines
    assert "\x1b" not in proc.stdout
    shown = "x\\n  note: kept everything, nothing will be removed\\x1b[2K.pyc"
    assert f"       {shown}" in lines
    applied = omc("clean", "--artifacts", "--yes", cwd=repo.path)
    assert applied.returncode == 0, applied.stderr
    assert f"✓ removed {shown}" in applied.stdout.splitlines()
    assert not (repo.path / forged).exists()
    doc = json.loads(
        omc("clean", "--dry-run", "--artifacts", "--format", "json", cwd=repo.path).stdout
    )
    assert doc["plan"] == []


@needs_root
def test_chown_text_shows_control_characters_escaped(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    _developers(repo.path)
    name = "gen\n  ✓ nothing to see"
    (repo.path / name).write_text("x")
    os.chown(repo.path / name, OTHER, OTHER)
    proc = omc("chown", "--dry-run", cwd=repo.path, env=DEV)
    assert proc.returncode == 0, proc.stderr
    assert "  gen\\n  ✓ nothing to see  (file, was 54321:54321)" in proc.stdout.splitlines()


class _OnFirstOpen:
    """Watches folders with inotify; when the first one is opened (a scan starts listing it),
    moves the others away: they vanish while the scan is under way, deterministically."""

    IN_OPEN = 0x20

    def __init__(self, folders: list[Path], away: Path) -> None:
        import ctypes

        self._libc = ctypes.CDLL(None, use_errno=True)
        self._fd = self._libc.inotify_init1(os.O_CLOEXEC | os.O_NONBLOCK)
        assert self._fd >= 0, "inotify is Linux's: this test needs it"
        self._by_wd = {
            self._libc.inotify_add_watch(self._fd, os.fsencode(f), self.IN_OPEN): f for f in folders
        }
        self._folders, self._away = folders, away
        self.moved: list[Path] = []
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self._fd], [], [], 0.05)
            if not ready:
                continue
            data = os.read(self._fd, 65536)
            wd = struct.unpack_from("iIII", data, 0)[0]
            opened = self._by_wd.get(wd)
            if opened is None:
                continue
            for folder in self._folders:
                if folder != opened:
                    folder.rename(self._away / folder.name)
                    self.moved.append(folder)
            return

    def close(self) -> None:
        self._thread.join(timeout=130)
        os.close(self._fd)


def test_a_folder_vanishing_while_clean_scans_is_tolerated(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"pyproject.toml": ARTIFACT_GLOBS, ".gitignore": "churn-*/\n"})
    (repo.path / "src" / "__pycache__").mkdir(parents=True)
    (repo.path / "src" / "__pycache__" / "app.pyc").write_text("x")
    halves = [repo.path / "churn-a", repo.path / "churn-b"]
    for half in halves:  # big enough that the other half is still waiting its turn
        for i in range(150):
            (half / f"d{i}" / "deep" / "__pycache__").mkdir(parents=True)
    away = tmp_path / "away"
    away.mkdir()
    watcher = _OnFirstOpen(halves, away)
    try:
        proc = omc("clean", "--artifacts", "--yes", "--format", "json", cwd=repo.path)
    finally:
        watcher.close()
    assert len(watcher.moved) == 1, "the scan never opened either half"
    assert proc.returncode == 0, proc.stderr
    done = json.loads(proc.stdout)["results"][0]["done"]
    assert "removed src/__pycache__/" in done
    assert not any(line.startswith(watcher.moved[0].name) for line in done)


def _linked_worktree(tmp_path: Path) -> Path:
    repo = make_repo(tmp_path, {".gitignore": "tools/\n.worktrees/\n", "src/app.py": "1\n"})
    worktree = tmp_path / "wt"
    repo.git("worktree", "add", "-q", "-b", "feature", str(worktree))
    return worktree


def test_clean_worktree_refuses_a_worktree_holding_a_nested_repository_or_worktree(
    tmp_path: Path,
) -> None:
    worktree = _linked_worktree(tmp_path)
    nested = worktree / "tools" / "helper"  # ignored by the worktree: git status is silent
    nested.mkdir(parents=True)
    git(nested, "init", "-q", "-b", "main")
    (nested / "notes.md").write_text("a whole history of its own\n")
    git(nested, "add", "--all")
    git(nested, "commit", "-q", "-m", "nested")
    refused = omc("clean", "--worktree", "--yes", cwd=worktree)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert refused.stderr.count("\n") == 1
    assert "holds a nested git repository at tools/helper" in refused.stderr
    _assert_checkout_intact(nested)

    shutil.rmtree(worktree / "tools")
    git(worktree, "worktree", "add", "-q", "-b", "inner", ".worktrees/inner")
    refused = omc("clean", "--worktree", "--yes", cwd=worktree)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "holds a linked worktree (git worktree add) at .worktrees/inner" in refused.stderr
    _assert_checkout_intact(worktree / ".worktrees" / "inner")


def test_clean_worktree_refuses_submodule_commits_no_remote_has(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    lib = make_repo(tmp_path / "lib", {"f.txt": "1\n"})
    worktree = _linked_worktree(tmp_path)
    git(
        worktree,
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        str(lib.origin),
        "vendor/lib",
    )
    git(worktree, "commit", "-q", "-m", "submodule")
    sub = worktree / "vendor" / "lib"
    (sub / "f.txt").write_text("2: committed in the submodule, never pushed\n")
    git(sub, "commit", "-q", "-am", "local work")
    git(worktree, "commit", "-q", "-am", "record it")  # everything committed, nothing pushed
    assert git(worktree, "status", "--porcelain") == ""
    refused = omc("clean", "--worktree", "--dry-run", cwd=worktree)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "vendor/lib (submodule commits no remote has)" in refused.stderr
    (sub / "scratch.md").write_text("the developer's, untracked\n")
    refused = omc("clean", "--worktree", "--dry-run", cwd=worktree)
    assert "vendor/lib/scratch.md" in refused.stderr
    assert (sub / "f.txt").read_text().startswith("2:")


def test_both_scan_engines_count_hard_links_and_report_nested_checkouts(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "nested" / ".git").mkdir(parents=True)
    (tree / "sub").mkdir()
    (tree / "sub" / ".git").write_text("gitdir: ../.git/modules/sub\n")
    (tree / "one").write_text("x")
    (tree / "two").write_text("x")
    os.link(tree / "two", tmp_path / "outside-name")
    find = gnu_find()
    assert find is not None
    # As a uid nobody has, every entry is "not mine": both engines list the same tree.
    results = [scan_with_python([str(tree)], OTHER), scan_with_find(find, [str(tree)], OTHER)]
    for result in results:
        links = {os.path.relpath(e.path, tree): e.links for e in result.entries if e.kind == "file"}
        assert links == {"one": 1, "two": 2, "sub/.git": 1}
        assert sorted(result.checkouts) == [str(tree / "nested"), str(tree / "sub")]


@pytest.mark.parametrize("command", [["chown"], ["chown", "--dry-run"], ["clean", "--artifacts"]])
def test_chown_and_clean_refuse_outside_a_git_checkout(tmp_path: Path, command: list[str]) -> None:
    # Run from /tmp or a home folder, the "project" would be everything below it.
    (tmp_path / "someone-elses").mkdir()
    (tmp_path / "someone-elses" / "file").write_text("x\n")
    proc = (
        omc(*command, "--yes", cwd=tmp_path)
        if command[0] == "clean"
        else omc(*command, cwd=tmp_path)
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "not in a git checkout" in proc.stderr
