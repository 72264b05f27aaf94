"""`omc-dev tests` through a real compose stack: a sample project (tests/fixtures/data/pollution)
built from debian:bookworm-slim with Debian's python3-pytest, plus the reference stack's PostgreSQL,
whose tests leak state through a module global, a file on disk and a row in the database.
`polluter` must name each culprit, running every step in the container."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures.cli import REPO_ROOT, omc
from tests.fixtures.docker import ComposeStack, unique_project

SAMPLE = REPO_ROOT / "tests" / "fixtures" / "data" / "pollution"
VICTIMS = "tests/test_c_victims.py"


@dataclass
class Sample:
    root: Path
    env: dict[str, str]

    def omc(self, *args: str) -> subprocess.CompletedProcess[str]:
        return omc("tests", *args, cwd=self.root, env=self.env, timeout=300)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sample]:
    root = tmp_path_factory.mktemp("pollution") / "project"
    shutil.copytree(SAMPLE, root)
    (root / "docker").mkdir()
    for name in ("db.Dockerfile", "db-entrypoint.sh"):  # the reference stack's db image
        shutil.copy2(REPO_ROOT / "docker" / name, root / "docker" / name)
    name = unique_project("omcpoll")
    with (root / "pyproject.toml").open("a") as fh:
        fh.write(f'\n[tool.omc-dev]\nproject = "{name}"\n')
    env = {
        "OMC_TRACK": "t1",
        "OMC_IN_CONTAINER": "0",  # this is the host, whatever /.dockerenv says
        "XDG_CACHE_HOME": str(root.parent / "cache"),
        "OMC_PROJECT_DIR": str(root),
    }
    stack = ComposeStack(root, f"{name}-t1", ("compose.yaml",))
    try:
        stack.compose("build", "app", timeout=600)  # db: omc-db:15, built only when missing
        stack.compose("up", "--detach", "--wait", timeout=600)
        sample = Sample(root, env)
        # One recorded run: most hunts below take the suite's order from it (--from latest).
        assert sample.omc("run", "--", "-p", "no:cacheprovider").returncode == 1
        yield sample
    finally:
        stack.down()


def _polluter(sample: Sample, test_id: str, *options: str) -> list[str]:
    proc = sample.omc("polluter", *options, test_id)
    assert proc.returncode == 1, proc.stdout + proc.stderr[-2000:]
    return proc.stdout.splitlines()


def _runs(lines: list[str]) -> tuple[int, int]:
    line = next(ln for ln in lines if "pytest runs after learning the order" in ln)
    used, budget = line.split(" pytest runs")[0], line.rsplit("at most ", 1)[1].rstrip(")")
    return int(used), int(budget)


def test_polluter_through_a_module_global(sample: Sample) -> None:
    lines = _polluter(sample, f"{VICTIMS}::test_no_users_yet")
    assert lines[0] == "polluter: tests/test_a_users.py::test_adds_user", lines
    reproduce = next(ln for ln in lines if ln.startswith("reproduce: "))
    assert reproduce.endswith(
        "-p no:randomly -p no:cacheprovider tests/test_a_users.py::test_adds_user "
        f"{VICTIMS}::test_no_users_yet"
    )
    used, budget = _runs(lines)
    assert used <= budget == 7  # 21 tests before it: ceil(log2(21)) + 2


def test_polluter_through_a_file_on_disk(sample: Sample) -> None:
    lines = _polluter(sample, f"{VICTIMS}::test_scratch_is_empty", "--from", "latest")
    assert lines[0] == "polluter: tests/test_b_files.py::test_writes_report", lines


def test_polluter_through_a_database_row(sample: Sample) -> None:
    lines = _polluter(sample, f"{VICTIMS}::test_no_orders_yet", "--from", "latest")
    assert lines[0] == "polluter: tests/test_b_rows.py::test_places_order", lines


def test_a_test_that_needs_another(sample: Sample) -> None:
    lines = _polluter(sample, f"{VICTIMS}::test_mode_is_fast", "--from", "latest")
    assert lines[0] == "needed: tests/test_a_users.py::test_configures", lines


def test_an_independent_test_is_not_order_dependent(sample: Sample) -> None:
    proc = sample.omc("polluter", f"{VICTIMS}::test_independent")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "not order-dependent" in proc.stdout


def test_random_orders_name_the_order_dependent_tests(sample: Sample) -> None:
    proc = sample.omc("polluter", "--random-order", "3", "--seed", "7")
    assert proc.returncode == 1, proc.stdout + proc.stderr[-2000:]
    named = {ln.split(": ")[0].strip() for ln in proc.stdout.splitlines() if ln.startswith("  ")}
    assert named, proc.stdout
    assert named <= {
        f"{VICTIMS}::{t}"
        for t in (
            "test_no_users_yet",
            "test_scratch_is_empty",
            "test_mode_is_fast",
            "test_no_orders_yet",
        )
    }


def test_run_baseline_and_compare(sample: Sample) -> None:
    run = sample.omc("run", "--", "-p", "no:cacheprovider")
    assert run.returncode == 1, run.stderr[-2000:]  # pytest's own: three victims fail in order
    assert "recorded as" in run.stderr
    stored = list((sample.root / ".omc" / "tests" / "results").glob("*.json"))
    doc = json.loads(stored[0].read_text())
    assert doc["counts"]["failed"] == 3 and doc["counts"]["passed"] == 23, doc["counts"]
    assert sample.omc("baseline", "save").returncode == 0
    baseline = (sample.root / "tests-baseline.txt").read_text()
    assert f"failed\t{VICTIMS}::test_no_users_yet\n" in baseline
    assert sample.omc("compare").returncode == 0
    victim = sample.root / VICTIMS
    victim.write_text(victim.read_text().replace("assert 1 + 1 == 2", "assert 1 + 1 == 3"))
    assert sample.omc("run", "--", "-p", "no:cacheprovider").returncode == 1
    proc = sample.omc("compare", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    worse = json.loads(proc.stdout)["worse"]
    assert worse == [
        {
            "id": f"{VICTIMS}::test_independent",
            "before": "passed",
            "after": "failed",
            "kind": "new failure",
        }
    ]


def test_pytest_missing_in_the_container(sample: Sample) -> None:
    pyproject = sample.root / "pyproject.toml"
    saved = pyproject.read_text()
    try:
        missing = 'service = "app"\ncommand = ["python3", "-m", "no_such_pytest"]'
        pyproject.write_text(saved.replace('service = "app"', missing))
        proc = sample.omc("run")
        assert proc.returncode == 125, proc.stderr
        assert (
            proc.stderr.strip()
            .splitlines()[-1]
            .startswith("omc-dev: pytest did not run in service app")
        )
    finally:
        pyproject.write_text(saved)
