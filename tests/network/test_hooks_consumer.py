"""The published hooks as another project consumes them: a consumer repository names this
checkout (a snapshot of it, as a separate repository) in its .pre-commit-config.yaml and installs
the pre-commit, pre-merge-commit and pre-push stages; `pre-commit try-repo` runs them too.

Two tracks each add a migration on the same parent: each commit passes, the merge that joins
them is where two heads appear, and the pre-merge-commit hook blocks it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.fixtures.git import GitRepo, git_env, make_repo
from tests.fixtures.migrations import revision_file as rf
from tests.fixtures.snapshot import snapshot_checkout

pytestmark = pytest.mark.network

PRE_COMMIT = [sys.executable, "-m", "pre_commit"]
HEAVY = ("docker", "sqlalchemy", "alembic", "git", "rich", "psycopg")


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("omc-dev-hooks")
    return path, snapshot_checkout(path)


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def env_for(home: Path) -> dict[str, str]:
    env = git_env()
    env.pop("PYTHONPATH", None)  # the hook's own environment, never this checkout
    env.update(PRE_COMMIT_HOME=str(home), OMC_NO_CACHE="1", NO_COLOR="1")
    return env


def run(argv: list[str], repo: GitRepo, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        cwd=repo.path,
        env=env_for(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # git hooks write to stderr: one stream, in order
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture
def consumer(tmp_path: Path, hook_repo: tuple[Path, str], pre_commit_home: Path) -> GitRepo:
    path, rev = hook_repo
    config = {
        "repos": [
            {
                "repo": str(path),
                "rev": rev,
                "hooks": [{"id": "single-head"}, {"id": "immutable-index"}],
            }
        ]
    }
    (tmp_path / "consumer").mkdir()
    repo = make_repo(
        tmp_path / "consumer",
        {
            ".pre-commit-config.yaml": yaml.safe_dump(config),
            # Where the migrations are (try-repo passes no hook args; the setting serves both).
            "pyproject.toml": '[tool.omc-dev.migrations]\npath = "backend/alembic.ini"\n',
            "backend/alembic.ini": "[alembic]\nscript_location = %(here)s/app/alembic\n",
            "backend/app/alembic/versions/a1.py": rf("a1", None),
            "README.md": "# shop\n",
        },
    )
    installed = run(
        [
            *PRE_COMMIT,
            "install",
            "--install-hooks",
            "--hook-type",
            "pre-commit",
            "--hook-type",
            "pre-merge-commit",
            "--hook-type",
            "pre-push",
        ],
        repo,
        pre_commit_home,
    )
    assert installed.returncode == 0, installed.stdout
    return repo


def commit(
    repo: GitRepo, home: Path, files: dict[str, str], message: str
) -> subprocess.CompletedProcess[str]:
    repo.write(files)
    repo.git("add", "--all")
    return run(["git", "commit", "-m", message], repo, home)


def test_merge_of_two_tracks_adding_migrations_is_blocked_at_pre_merge_commit(
    consumer: GitRepo, pre_commit_home: Path, hook_repo: tuple[Path, str]
) -> None:
    consumer.branch("track-a")
    first = commit(
        consumer, pre_commit_home, {"backend/app/alembic/versions/b2.py": rf("b2", "a1")}, "orders"
    )
    assert first.returncode == 0, first.stdout
    assert "alembic single head" in first.stdout and "Passed" in first.stdout
    consumer.git("checkout", "--quiet", "main")
    second = commit(
        consumer,
        pre_commit_home,
        {"backend/app/alembic/versions/c3.py": rf("c3", "a1")},
        "payments",
    )
    assert second.returncode == 0, second.stdout
    before = consumer.git("rev-parse", "HEAD")

    merge = run(["git", "merge", "--no-ff", "--no-edit", "track-a"], consumer, pre_commit_home)
    assert merge.returncode != 0, merge.stdout
    out = merge.stdout
    assert "alembic single head" in out and "Failed" in out
    # The hook prints concise lines, `path:line: id message`, and nothing else (no rich table
    # wrapped at 80 columns, no counts line).
    assert re.search(
        r"^\S*versions/\w+\.py:\d+: multiple-heads the history has 2 heads", out, re.M
    ), out
    assert "error(s)" not in out and "┃" not in out, out
    assert consumer.git("rev-parse", "HEAD") == before  # nothing was merged
    assert (consumer.path / ".git" / "MERGE_HEAD").is_file()  # the merge waits for a fix

    # The same hook through try-repo, on the file the merge brings (try-repo would otherwise
    # look only at conflicting files while MERGE_HEAD exists).
    path, _ = hook_repo
    tried = run(
        [
            *PRE_COMMIT,
            *("try-repo", str(path), "single-head", "--hook-stage", "pre-merge-commit"),
            *("--files", "backend/app/alembic/versions/b2.py"),
        ],
        consumer,
        pre_commit_home,
    )
    assert tried.returncode == 1, tried.stdout
    assert "multiple-heads" in tried.stdout

    # Fixed by a merge migration joining the heads: the merge goes through.
    consumer.write({"backend/app/alembic/versions/d4.py": rf("d4", ("b2", "c3"))})
    consumer.git("add", "--all")
    done = run(["git", "commit", "--no-edit"], consumer, pre_commit_home)
    assert done.returncode == 0, done.stdout


def test_push_with_two_heads_is_blocked_at_pre_push(
    consumer: GitRepo, pre_commit_home: Path
) -> None:
    consumer.write(
        {
            "backend/app/alembic/versions/b2.py": rf("b2", "a1"),
            "backend/app/alembic/versions/c3.py": rf("c3", "a1"),
        }
    )
    consumer.git("add", "--all")
    consumer.git("commit", "--quiet", "--no-verify", "-m", "two heads, hooks skipped")
    push = run(["git", "push", "origin", "main"], consumer, pre_commit_home)
    assert push.returncode != 0, push.stdout
    assert "multiple-heads" in push.stdout
    assert consumer.git("rev-parse", "HEAD") != consumer.git("rev-parse", "origin/main")


def test_hooks_skip_when_nothing_relevant_changed_and_their_env_is_light(
    consumer: GitRepo, pre_commit_home: Path
) -> None:
    unrelated = commit(consumer, pre_commit_home, {"README.md": "# shop\n\nmore\n"}, "docs")
    assert unrelated.returncode == 0, unrelated.stdout
    lines = [ln for ln in unrelated.stdout.splitlines() if "alembic" in ln]
    assert len(lines) == 2 and all("Skipped" in ln for ln in lines), unrelated.stdout
    # The hook environment holds the core install only: no Docker SDK, SQLAlchemy, GitPython, rich.
    envs = list(pre_commit_home.glob("repo*/py_env-*/lib/python3*/site-packages"))
    assert envs
    for site in envs:
        present = {p.name.lower() for p in site.iterdir()}
        assert "devtools" in present and "click" in present
        assert not present & set(HEAVY), present & set(HEAVY)
