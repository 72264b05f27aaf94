from __future__ import annotations

import json
import subprocess
import sys

import pytest

from devtools import __version__
from devtools.cli import COMMANDS
from tests.fixtures.cli import REPO_ROOT, omc

HEAVY = (
    "docker",
    "git",
    "gitdb",
    "alembic",
    "sqlalchemy",
    "rich",
    "sqlparse",
    "psycopg",
    "yaml",
    "kernel",
    # kernel serve's dashboard: imported by `serve` alone.
    "starlette",
    "jinja2",
    "uvicorn",
    "anyio",
)


def test_version() -> None:
    proc = omc("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"omc-dev {__version__}"


def test_help_lists_every_landed_command_and_no_others() -> None:
    proc = omc("--help")
    assert proc.returncode == 0, proc.stderr
    listed = {
        line.split()[0]
        for line in proc.stdout.split("Commands:")[1].split("\n\n")[0].splitlines()
        if line.strip()
    }
    assert listed == set(COMMANDS)


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_import_nothing_heavy(flag: str) -> None:
    # Through the console script's entry point, as `omc-dev --help` runs it.
    probe = (
        "import sys, contextlib, io, json\n"
        "from devtools.entry import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    code = main([{flag!r}])\n"
        f"heavy = sorted(m for m in sys.modules if m.partition('.')[0] in {HEAVY!r})\n"
        "print(json.dumps({'code': code, 'out': out.getvalue(), 'heavy': heavy}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    result = json.loads(proc.stdout)
    assert result["code"] == 0 and "omc-dev" in result["out"]  # the probe really ran the CLI
    assert result["heavy"] == []


def test_every_listed_command_imports_and_has_help() -> None:
    for name in COMMANDS:
        proc = omc(name, "--help")
        assert proc.returncode == 0, f"{name}: {proc.stderr}"
        assert "Usage: omc-dev " + name in proc.stdout


def test_unknown_command_is_one_line_exit_2() -> None:
    proc = omc("frobnicate")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "No such command 'frobnicate'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_option_is_one_line_exit_2() -> None:
    proc = omc("doctor", "--format", "yaml")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "omc-dev doctor" in proc.stderr and "--format" in proc.stderr


def test_shell_completion_source_is_generated() -> None:
    proc = omc(env={"_OMC_DEV_COMPLETE": "bash_source"})
    assert proc.returncode == 0
    assert "_omc_dev_completion()" in proc.stdout
    assert "complete -o nosort -F _omc_dev_completion omc-dev" in proc.stdout


@pytest.mark.parametrize("old", ["status", "audit", "killswitch"])
def test_kernel_commands_moved_under_kernel_still_run_by_their_old_names(old: str) -> None:
    new = omc("kernel", old, "--help")
    moved = omc(old, "--help")
    assert new.returncode == moved.returncode == 0, moved.stderr
    if old != "audit":  # `audit` became a group (show|verify|anchor); the old flat form stays
        assert moved.stdout == new.stdout.replace("omc-dev kernel ", "omc-dev ")
    assert f"`{old}` is now `kernel {old}`" in moved.stderr
    assert old not in omc("--help").stdout.split("Commands:")[1].split()  # not listed
