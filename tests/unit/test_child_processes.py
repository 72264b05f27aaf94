"""Every child omc-dev waits for has a deadline and ends, with its own children, when omc-dev
stops waiting: on the deadline, on Ctrl-C, and on SIGTERM to omc-dev itself."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devtools import proc
from devtools.git.errors import GitFailed
from devtools.git.runner import git
from tests.fixtures import git as git_fixture
from tests.fixtures.cli import REPO_ROOT, cli_env

MARKER = "OMC_TEST_MARKER"  # in the environment of every process a test starts


def new_marker(monkeypatch: pytest.MonkeyPatch) -> str:
    marker = f"omc-{os.getpid()}-{time.monotonic_ns()}"
    monkeypatch.setenv(MARKER, marker)
    return marker


def alive(marker: str) -> list[int]:
    """Processes carrying this test's marker in their environment (its descendants inherit it)."""
    found = []
    needle = f"{MARKER}={marker}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or entry.name == str(os.getpid()):
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def kill_all(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def wait_gone(marker: str, seconds: float = 5.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := alive(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


# A shell whose child ignores SIGTERM, as the compose plugin did: only SIGKILL ends it.
FAMILY = ["sh", "-c", "sh -c \"trap '' TERM; sleep 300\" & sleep 300"]


def test_a_timeout_ends_the_child_and_its_children(monkeypatch: pytest.MonkeyPatch) -> None:
    marker = new_marker(monkeypatch)
    started = time.monotonic()
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            proc.run(FAMILY, timeout=0.5)
        assert time.monotonic() - started < 0.5 + 2 * proc.GRACE_SECONDS + 2
        assert wait_gone(marker) == []
    finally:
        kill_all(alive(marker))


def test_sigterm_to_omc_dev_ends_the_child_group_and_reports_interrupted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    marker = new_marker(monkeypatch)
    script = (
        "import sys\n"
        "from devtools.cli import guarded\n"
        "from devtools import proc\n"
        f"sys.exit(guarded(lambda: proc.run({FAMILY!r}, timeout=300)))\n"
    )
    runner = subprocess.Popen(
        [sys.executable, "-c", script],
        env=cli_env(),
        cwd=REPO_ROOT,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while len(alive(marker)) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(alive(marker)) >= 3, "the children never started"  # the runner, sh, sleeps
        runner.send_signal(signal.SIGTERM)
        _, stderr = runner.communicate(timeout=30)
        assert runner.returncode == 130, stderr
        assert stderr == "omc-dev: interrupted (SIGTERM)\n"
        assert wait_gone(marker) == []
    finally:
        kill_all(alive(marker))
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
            runner.wait()


def test_a_hung_git_is_stopped_at_its_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = new_marker(monkeypatch)
    git_fixture.git(tmp_path, "init", "--quiet")
    # git status runs the fsmonitor hook and waits for it: a hook that never answers.
    hook = tmp_path / "hang.sh"
    hook.write_text("#!/bin/sh\nsleep 300\n")
    hook.chmod(0o755)
    git_fixture.git(tmp_path, "config", "core.fsmonitor", str(hook))
    try:
        with pytest.raises(GitFailed, match="did not finish within 1s"):
            git(tmp_path, "status", "--porcelain", timeout=1)
        assert wait_gone(marker) == []
    finally:
        kill_all(alive(marker))
