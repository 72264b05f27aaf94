"""The same git failure is one exit code (125, the environment) whichever command meets it."""

from __future__ import annotations

from pathlib import Path

from devtools.errors import EXIT_ENVIRONMENT
from tests.fixtures.cli import omc
from tests.fixtures.git import GitRepo
from tests.fixtures.migrations import revision_file as rf
from tests.fixtures.verify import run_verify


def test_a_damaged_clone_is_exit_125_for_migrations_and_verify(
    git_repo: GitRepo, tmp_path: Path
) -> None:
    git_repo.commit({"db/versions/a1.py": rf("a1", None)}, "first revision")
    git_repo.push()
    git_repo.branch("feature")
    git_repo.commit({"db/versions/b2.py": rf("b2", "a1")}, "second revision")
    git_repo.git("push", "--quiet", "--set-upstream", "origin", "feature")
    # main's root tree goes missing from this clone: the ref is right, git cannot read it
    tree = git_repo.git("rev-parse", "main^{tree}")
    (git_repo.path / ".git" / "objects" / tree[:2] / tree[2:]).unlink()

    lint = omc(
        "migrations",
        "lint",
        "db",
        "--base",
        "main",
        cwd=git_repo.path,
        env={"OMC_CACHE_DIR": str(tmp_path)},
    )
    verify = run_verify(git_repo.path, "--no-fetch")
    for proc in (lint, verify):
        assert proc.returncode == EXIT_ENVIRONMENT, proc.stdout + proc.stderr
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert "`git " in proc.stderr and "failed" in proc.stderr, proc.stderr  # which git, why
