from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.fixtures.cli import REPO_ROOT
from tests.fixtures.users import as_user_kwargs, ensure_test_user


@pytest.mark.root  # as root it runs the script as the test user, created with useradd
def test_provision_refuses_without_root_in_one_line() -> None:
    # As a non-root user, with no docker on PATH, there is work to do and no right to do it.
    base = Path(tempfile.mkdtemp(prefix="omc-prov-"))
    try:
        base.chmod(0o755)
        script = base / "provision-engine"
        shutil.copy(REPO_ROOT / "scripts" / "provision-engine", script)
        bindir = base / "bin"
        bindir.mkdir()
        for tool in ("bash", "grep", "id", "env"):
            found = shutil.which(tool, path="/usr/bin:/bin")
            assert found, tool
            (bindir / tool).symlink_to(found)
        proc = subprocess.run(
            [str(bindir / "bash"), str(script)],
            env={"PATH": str(bindir), "HOME": str(base)},
            capture_output=True,
            text=True,
            check=False,
            **as_user_kwargs(ensure_test_user()),
        )
    finally:
        shutil.rmtree(base)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "cannot provision: must run as root" in proc.stderr
