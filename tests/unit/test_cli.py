from __future__ import annotations

import json
import subprocess
import sys

from devtools import __version__
from devtools.cli import COMMANDS
from tests.fixtures.cli import REPO_ROOT, omc

HEAVY = (
    "docker",
    "git",
    "alembic",
    "sqlalchemy",
    "rich.console",
    "rich.table",
    "sqlparse",
    "kernel",
)


def test_version() -> None:
    proc = omc("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"omc-dev {__version__}"


def test_help_lists_every_landed_command_and_no_others() -> None:
    proc = omc("--help")
    assert proc.returncode == 0, proc.stderr
    listed = {
        line.split()[0] for line in proc.stdout.split("Commands:")[1].splitlines() if line.strip()
    }
    assert listed == set(COMMANDS)


def test_help_imports_nothing_heavy() -> None:
    probe = (
        "import sys, contextlib, io\n"
        "from devtools.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['--help'])\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(__import__('json').dumps(heavy))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(proc.stdout) == []


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
