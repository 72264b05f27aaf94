"""verify's checks are registered in the one Check shape (devtools.report.checks), and a run
says what was checked, what found something and what was skipped, on a real clone."""

from __future__ import annotations

from pathlib import Path

from devtools.report.checks import Check
from devtools.verify.checks import CHECKS, verify
from devtools.verify.model import Request
from devtools.verify.spec import Spec
from tests.fixtures.git import git_env, make_repo

STUB = "def handler(request):\n    pass\n"
REAL = "def handler(request):\n    return {'id': request.id, 'ok': True}\n"


def _verify(path: Path, branch: str) -> list[tuple[str, str, list[str]]]:
    request = Request(start=path, spec=Spec("test"), branch=branch, environ=git_env())
    return [(r.id, r.status, [f.id for f in r.findings]) for r in verify(request).checks]


def test_the_checks_are_registered_in_the_one_shape() -> None:
    assert all(isinstance(check, Check) for check in CHECKS)
    ids = [check.id for check in CHECKS]
    assert ids == ["remote", "where", "deliverables", "classification", "stubs", "generated-only"]


def test_a_run_records_each_check_with_its_findings(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    repo.branch("feature")
    repo.commit({"app/api.py": STUB}, "handler")
    repo.push("feature")
    repo.commit({"app/more.py": REAL}, "not pushed")
    assert _verify(repo.path, "feature") == [
        ("remote", "pass", []),
        ("where", "fail", ["unpushed-commits"]),
        ("deliverables", "pass", []),
        ("classification", "pass", []),
        ("stubs", "fail", ["stub"]),
        ("generated-only", "pass", []),
    ]


def test_a_branch_with_nothing_in_it_skips_the_checks_of_its_lines(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    repo.branch("empty")
    repo.commit({"a.py": REAL}, "add")
    repo.git("rm", "--quiet", "a.py")
    repo.git("commit", "--quiet", "-m", "remove")
    repo.push("empty")
    checks = _verify(repo.path, "empty")
    assert checks[3] == ("classification", "fail", ["empty-branch"])
    assert [(i, s) for i, s, _ in checks[4:]] == [("stubs", "skip"), ("generated-only", "skip")]
