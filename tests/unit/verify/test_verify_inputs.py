"""`omc-dev verify` on input that slipped through: an empty `--branch` (it verified the current
branch instead) and a deliverable that is random bytes (it counted as present and real)."""

from __future__ import annotations

import random

import pytest

from tests.fixtures.git import GitRepo
from tests.fixtures.verify import REAL_CLIENT, SPEC, checks, run_verify, verify_json


@pytest.fixture
def project(git_repo: GitRepo) -> GitRepo:
    git_repo.commit({"pyproject.toml": SPEC}, "add the deliverables spec")
    git_repo.push()
    git_repo.branch("feature")
    return git_repo


@pytest.mark.parametrize("flag", ["--branch", "--base", "--remote"])
def test_an_empty_name_is_refused_not_the_default(project: GitRepo, flag: str) -> None:
    proc = run_verify(project.path, flag, "")
    assert proc.returncode == 2, proc.stderr
    assert (
        proc.stderr == f"omc-dev: {flag} is empty: name one, or leave {flag} out for the default\n"
    )


def test_a_random_binary_deliverable_is_reported(project: GitRepo) -> None:
    noise = random.Random(12).randbytes(6000)
    project.commit(
        {"web/src/pages/Orders.tsx": noise, "web/src/api/client.ts": REAL_CLIENT}, "orders page"
    )
    project.git("push", "--quiet", "--set-upstream", "origin", "feature")

    code, doc = verify_json(project.path)

    assert code == 1
    assert "stub" in checks(doc)
    (binary,) = [f for f in doc["findings"] if "binary data" in f["message"]]
    assert binary["path"] == "web/src/pages/Orders.tsx"
    assert binary["severity"] == "error"
    assert binary["message"].startswith("deliverable 'orders page': web/src/pages/Orders.tsx")
