"""The pre-push hook, run for real (the Action and the workflow: tests/unit/test_action.py).

The hook runs through pre-commit's installed pre-push hook in a temp repository pushing to a
bare origin.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pre_commit.clientlib import load_manifest  # type: ignore[import-untyped]

from tests.fixtures.cli import REPO_ROOT
from tests.fixtures.git import GitRepo, git_env
from tests.fixtures.verify import (
    REAL_CLIENT,
    REAL_COMPONENT,
    SPEC,
    STUB_COMPONENT,
    generated_client,
    verify_env,
)


@pytest.fixture
def omc_on_path(tmp_path: Path) -> dict[str, str]:
    """An environment whose `omc-dev` is this checkout's (as an installed hook would find it)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "omc-dev"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m devtools "$@"\n')
    shim.chmod(0o755)
    env = verify_env()
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    env["PYTHONPATH"] = str(REPO_ROOT)
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    return env


def published_hook() -> dict[str, Any]:
    (hook,) = [
        h
        for h in load_manifest(str(REPO_ROOT / ".pre-commit-hooks.yaml"))
        if h["id"] == "omc-dev-verify"
    ]
    return dict(hook)


def test_manifest_entry_is_valid_for_pre_commit() -> None:
    hook = published_hook()  # load_manifest validates against pre-commit's own schema
    assert hook["stages"] == ["pre-push"]
    assert hook["entry"] == "omc-dev verify --pre-push"
    assert hook["pass_filenames"] is False and hook["always_run"] is True


def push(repo: GitRepo, env: dict[str, str], *refspec: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "push", "origin", *refspec],
        cwd=repo.path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_installed_pre_push_hook(git_repo: GitRepo, omc_on_path: dict[str, str]) -> None:
    hook = published_hook()
    # The published hook, as a local one: `language: python` would install omc-dev from PyPI.
    local = {
        key: hook[key] for key in ("id", "name", "entry", "stages", "pass_filenames", "always_run")
    }
    local["language"] = "system"
    config = {"repos": [{"repo": "local", "hooks": [local]}]}
    git_repo.commit(
        {"pyproject.toml": SPEC, ".pre-commit-config.yaml": yaml.safe_dump(config)},
        "spec and hooks",
    )
    git_repo.push()
    subprocess.run(
        [sys.executable, "-m", "pre_commit", "install", "--hook-type", "pre-push"],
        cwd=git_repo.path,
        env=omc_on_path,
        check=True,
        capture_output=True,
    )
    env = {**git_env(), **omc_on_path}

    git_repo.branch("feature")
    git_repo.commit(
        {
            "web/src/api/schema.ts": generated_client(3000),
            "web/src/pages/Orders.tsx": STUB_COMPONENT,
        },
        "orders page",
    )
    blocked = push(git_repo, env, "feature")
    assert blocked.returncode != 0
    output = blocked.stdout + blocked.stderr
    assert "stub" in output and "generated-only" in output, output
    assert git_repo.git("ls-remote", "origin", "refs/heads/feature") == ""  # nothing was pushed

    git_repo.commit(
        {"web/src/pages/Orders.tsx": REAL_COMPONENT, "web/src/api/client.ts": REAL_CLIENT},
        "the real orders page",
    )
    allowed = push(git_repo, env, "feature")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert git_repo.git("ls-remote", "origin", "refs/heads/feature") != ""

    # the classic mistake: the track's work pushed onto main
    git_repo.commit({"web/src/pages/More.tsx": REAL_COMPONENT}, "more")
    onto_main = push(git_repo, env, "feature:main")
    assert onto_main.returncode != 0
    assert "branch-drift" in onto_main.stdout + onto_main.stderr
    assert "pushing local feature to origin/main" in onto_main.stdout + onto_main.stderr

    # the base branch itself, pushed from the base branch: nothing to object to
    git_repo.git("checkout", "--quiet", "main")
    git_repo.commit({"README.md": "# test repo, again\n"}, "main moves")
    assert push(git_repo, env, "main").returncode == 0

    # a new branch pushed before its first commit starts work: no empty-branch block
    git_repo.branch("next")
    started = push(git_repo, env, "next")
    assert started.returncode == 0, started.stdout + started.stderr

    # a tag is not a branch: nothing to verify
    git_repo.git("tag", "v1")
    assert push(git_repo, env, "v1").returncode == 0


def test_pre_push_without_pre_commit_refs_is_unusable_input(
    git_repo: GitRepo, omc_on_path: dict[str, str]
) -> None:
    proc = subprocess.run(
        ["omc-dev", "verify", "--pre-push"],
        cwd=git_repo.path,
        env=omc_on_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "PRE_COMMIT_REMOTE_BRANCH" in proc.stderr
