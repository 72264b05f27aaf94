"""The published pre-commit hooks, used from another repository with `pre-commit try-repo`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.migrations.command import immutable_index_hook, single_head_hook
from tests.fixtures.cli import REPO_ROOT
from tests.fixtures.git import git_env, make_repo
from tests.fixtures.migrations import revision_file as rf

BAD_INDEX = '    op.create_table("t", sa.Column("at", sa.DateTime(timezone=True)))\n    op.create_index("ix", "t", [sa.text("(at::date)")])'


@pytest.fixture(scope="module")
def consumer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository with an alembic.ini, two heads and an index PostgreSQL rejects."""
    repo = make_repo(
        tmp_path_factory.mktemp("consumer"),
        {
            "alembic.ini": "[alembic]\nscript_location = %(here)s/migrations\n",
            "migrations/versions/a1.py": rf("a1", None, upgrade=BAD_INDEX),
            "migrations/versions/b2.py": rf("b2", "a1"),
            "migrations/versions/c3.py": rf("c3", "a1"),
        },
    )
    return repo.path


def try_repo(consumer: Path, hook: str, home: Path) -> subprocess.CompletedProcess[str]:
    pre_commit = Path(sys.executable).with_name("pre-commit")
    env = {**git_env(), "PRE_COMMIT_HOME": str(home), "OMC_NO_CACHE": "1"}
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [str(pre_commit), "try-repo", str(REPO_ROOT), hook, "--all-files", "--color", "never"],
        cwd=consumer,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_hooks_work_from_another_repository(consumer: Path, tmp_path: Path) -> None:
    home = tmp_path / "pre-commit-home"
    single = try_repo(consumer, "alembic-single-head", home)
    assert single.returncode == 1, single.stdout + single.stderr
    assert "multiple-heads" in single.stdout and "non-immutable-index" not in single.stdout
    immutable = try_repo(consumer, "alembic-immutable-index", home)
    assert immutable.returncode == 1, immutable.stdout + immutable.stderr
    assert "non-immutable-index" in immutable.stdout and "multiple-heads" not in immutable.stdout


def test_hook_mains_take_lint_arguments(consumer: Path, capsys: pytest.CaptureFixture[str]) -> None:
    versions = str(consumer / "migrations")
    cwd = os.getcwd()
    os.chdir(consumer)
    try:
        assert single_head_hook([versions, "--format", "json"]) == 1
        single = capsys.readouterr().out
        assert immutable_index_hook([versions, "--format", "json"]) == 1
        immutable = capsys.readouterr().out
    finally:
        os.chdir(cwd)
    assert '"multiple-heads"' in single and "non-immutable-index" not in single
    assert '"non-immutable-index"' in immutable and "multiple-heads" not in immutable
