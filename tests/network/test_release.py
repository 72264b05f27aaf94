"""A release as another project gets it: `python -m build` makes an sdist and a wheel, and the
wheel, installed into a fresh virtualenv outside the checkout, runs from a scratch repository.

The core install (what the hooks use) lints migrations and names the extra `verify` needs; with
`[verify]` added, verify runs against a scratch repository with a bare origin.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from devtools import __version__
from tests.fixtures.git import git_env, make_repo
from tests.fixtures.migrations import revision_file as rf
from tests.fixtures.snapshot import snapshot_checkout
from tests.fixtures.verify import REAL_CLIENT, REAL_COMPONENT, SPEC, verify_env

pytestmark = pytest.mark.network


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source")
    snapshot_checkout(source)
    out = tmp_path_factory.mktemp("dist")
    proc = run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(source)], source, git_env()
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def test_build_makes_an_sdist_and_a_wheel_of_this_version(dist: Path) -> None:
    (wheel,) = dist.glob("omc_dev-*.whl")
    (sdist,) = dist.glob("omc_dev-*.tar.gz")
    assert wheel.name == f"omc_dev-{__version__}-py3-none-any.whl"
    assert sdist.name == f"omc_dev-{__version__}.tar.gz"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(f"omc_dev-{__version__}.dist-info/METADATA").decode()
    assert "devtools/migrations/catalogs/pg15.json" in names
    assert "kernel/migrations/env.py" in names
    requires = [ln for ln in metadata.splitlines() if ln.startswith("Requires-Dist:")]
    core = [ln for ln in requires if "extra ==" not in ln]
    assert {ln.split()[1].split(">")[0] for ln in core} == {"click", "PyYAML"}
    assert "Provides-Extra: all" in metadata and "Provides-Extra: verify" in metadata


def test_wheel_in_a_fresh_virtualenv_runs_from_another_project(dist: Path, tmp_path: Path) -> None:
    (wheel,) = dist.glob("omc_dev-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    omc = str(venv / "bin" / "omc-dev")
    env = verify_env()
    env.pop("PYTHONPATH", None)  # the installed wheel, never this checkout
    env["OMC_NO_CACHE"] = "1"

    installed = run([*pip, str(wheel)], tmp_path, env)
    assert installed.returncode == 0, installed.stderr[-3000:]

    (tmp_path / "project").mkdir()
    project = make_repo(
        tmp_path / "project",
        {
            "pyproject.toml": SPEC,
            "alembic.ini": "[alembic]\nscript_location = %(here)s/migrations\n",
            "migrations/versions/a1.py": rf("a1", None),
            "migrations/versions/b2.py": rf("b2", "a1"),
        },
    )
    version = run([omc, "--version"], project.path, env)
    assert version.stdout.strip() == f"omc-dev {__version__}", version.stderr

    clean = run([omc, "migrations", "lint"], project.path, env)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    project.commit({"migrations/versions/c3.py": rf("c3", "a1")}, "a second head")
    heads = run([omc, "migrations", "lint"], project.path, env)
    assert heads.returncode == 1, heads.stdout + heads.stderr
    # The core install has no rich: one plain line per finding, nothing wrapped.
    assert any(
        line.startswith("migrations/versions/") and "multiple-heads" in line
        for line in heads.stdout.splitlines()
    ), heads.stdout
    project.git("rm", "--quiet", "migrations/versions/c3.py")
    project.git("commit", "--quiet", "-m", "one head again")
    project.push()

    no_extra = run([omc, "verify"], project.path, env)
    assert no_extra.returncode == 125, no_extra.stdout + no_extra.stderr
    assert no_extra.stderr.count("\n") == 1
    assert "pip install 'omc-dev[verify]'" in no_extra.stderr and "Traceback" not in no_extra.stderr

    with_extra = run([*pip, f"{wheel}[verify]"], tmp_path, env)
    assert with_extra.returncode == 0, with_extra.stderr[-3000:]
    project.branch("feature")
    project.commit(
        {"web/src/pages/Orders.tsx": REAL_COMPONENT, "web/src/api/client.ts": REAL_CLIENT}, "real"
    )
    project.push("feature")
    verified = run([omc, "verify", "--format", "json"], project.path, env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert '"ok": true' in verified.stdout
    project.commit({"web/src/pages/Orders.tsx": REAL_COMPONENT + "\n// more\n"}, "not pushed")
    unpushed = run([omc, "verify", "--no-fetch"], project.path, env)
    assert unpushed.returncode == 1 and "unpushed-commits" in unpushed.stdout, unpushed.stdout
