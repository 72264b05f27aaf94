"""The layout read from `.git` agrees with git itself: clones, linked worktrees, submodules,
and a repository nested in another's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.git import layout
from tests.fixtures.git import GitRepo, git, make_repo


def _git_says(folder: Path) -> tuple[Path, Path, Path]:
    top, git_dir, common = git(
        folder,
        "rev-parse",
        "--path-format=absolute",
        "--show-toplevel",
        "--git-dir",
        "--git-common-dir",
    ).splitlines()
    return Path(top).resolve(), Path(git_dir).resolve(), Path(common).resolve()


def _read(folder: Path) -> tuple[Path, Path, Path]:
    found = layout.find(folder)
    assert found is not None
    return found.worktree.resolve(), found.git_dir.resolve(), found.common_dir.resolve()


def test_a_clone_from_a_deep_folder(git_repo: GitRepo) -> None:
    deep = git_repo.path / "a" / "b"
    deep.mkdir(parents=True)
    assert _read(deep) == _git_says(deep)
    assert layout.top_level(deep) == git_repo.path.resolve()
    found = layout.find(deep)
    assert found is not None and not found.is_linked_worktree
    assert found.main_worktree == git_repo.path.resolve()
    assert layout.current_branch(found) == "main"


def test_a_linked_worktree(git_repo: GitRepo, tmp_path: Path) -> None:
    linked = tmp_path / "linked"
    git_repo.git("worktree", "add", "--quiet", "-b", "feature/x", str(linked))
    assert _read(linked) == _git_says(linked)
    found = layout.find(linked)
    assert found is not None and found.is_linked_worktree
    assert found.main_worktree == git_repo.path.resolve()
    assert layout.current_branch(found) == "feature/x"
    git(linked, "checkout", "--quiet", "--detach")
    assert layout.current_branch(found) is None


def test_a_submodule_is_its_own_repository(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "app").mkdir()
    library = make_repo(tmp_path / "lib", {"lib.py": "x = 1\n"})
    app = make_repo(tmp_path / "app")
    app.git(
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "--quiet",
        str(library.origin),
        "vendor/lib",
    )
    sub = app.path / "vendor" / "lib"
    assert (sub / ".git").is_file()  # a gitfile naming .git/modules/vendor/lib
    assert _read(sub) == _git_says(sub)
    found = layout.find(sub)
    assert found is not None and not found.is_linked_worktree
    assert found.main_worktree == sub.resolve()  # not the superproject, not .git/modules
    assert layout.current_branch(found) == "main"
    assert layout.top_level(app.path / "vendor") == app.path.resolve()


def test_a_repository_nested_in_another_folder(git_repo: GitRepo) -> None:
    inner = git_repo.path / "tools" / "inner"
    inner.mkdir(parents=True)
    git(inner, "init", "--quiet", "--initial-branch=trunk")
    (inner / "src").mkdir()
    assert _read(inner / "src") == _git_says(inner / "src")
    found = layout.find(inner / "src")
    assert found is not None and layout.current_branch(found) == "trunk"
    assert layout.top_level(git_repo.path / "tools") == git_repo.path.resolve()


def test_outside_git_and_a_broken_gitfile(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    assert layout.find(plain) is None and layout.top_level(plain) is None
    (plain / ".git").write_text("not a gitfile\n")
    assert layout.find(plain) is None
    with pytest.raises(AssertionError):  # git refuses it too
        git(plain, "rev-parse", "--git-dir")
