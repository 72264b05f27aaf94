"""The one git runner: a timeout or Ctrl-C ends git with its helpers, and git never prompts."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devtools.errors import EXIT_ENVIRONMENT
from devtools.git import runner
from devtools.git.errors import GitFailed
from tests.fixtures.cli import REPO_ROOT
from tests.fixtures.git import GitRepo, git_env
from tests.fixtures.webhook import Reply, WebhookServer


def _hang_alias(pidfile: Path) -> list[str]:
    """A git command that starts a grandchild (as git-remote-https or ssh would) and waits."""
    return ["-c", f"alias.hang=!sleep 60 & echo $! > {pidfile}; wait", "hang"]


def _wait_for_pid(pidfile: Path) -> int:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        text = pidfile.read_text().strip() if pidfile.exists() else ""
        if text:
            return int(text)
        time.sleep(0.05)
    raise AssertionError("the alias never started its child")


def _gone(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            return True
        if state == "Z":  # killed, waiting for its (new) parent to reap it
            return True
        time.sleep(0.05)
    return False


def test_a_timeout_ends_git_and_its_children(git_repo: GitRepo, tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    started = time.monotonic()
    with pytest.raises(GitFailed, match=r"`git hang` did not finish within 1s") as caught:
        runner.Git(git_repo.path, git_env()).run(*_hang_alias(pidfile), timeout=1.0)
    assert time.monotonic() - started < 10
    assert caught.value.exit_code == EXIT_ENVIRONMENT
    assert _gone(_wait_for_pid(pidfile)), "the grandchild outlived the timeout"


def test_ctrl_c_ends_git_and_its_children(git_repo: GitRepo, tmp_path: Path) -> None:
    # git runs in a session of its own (no terminal to prompt on), so the terminal's Ctrl-C
    # reaches only omc-dev: the runner must pass it on to git's whole group.
    pidfile = tmp_path / "child.pid"
    probe = (
        "import sys\nfrom pathlib import Path\nfrom devtools.git.runner import git\n"
        f"git(Path({str(git_repo.path)!r}), *{_hang_alias(pidfile)!r})\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", probe],
        cwd=REPO_ROOT,
        env={**git_env(), "PYTHONPATH": str(REPO_ROOT)},
        stderr=subprocess.PIPE,
    )
    try:
        child = _wait_for_pid(pidfile)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0 and b"KeyboardInterrupt" in (
        proc.stderr.read() if proc.stderr else b""
    )
    assert _gone(child), "git's child outlived the interrupt"


def test_a_server_asking_for_credentials_gets_no_prompt(
    git_repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = tmp_path / "asked"
    askpass = tmp_path / "askpass.sh"
    askpass.write_text(f"#!/bin/sh\ntouch {asked}\necho secret\n")
    askpass.chmod(askpass.stat().st_mode | stat.S_IEXEC)
    # Everything a user's environment might carry that would make git ask someone.
    for name, value in git_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("GIT_TERMINAL_PROMPT", raising=False)
    monkeypatch.setenv("GIT_ASKPASS", str(askpass))
    monkeypatch.setenv("SSH_ASKPASS", str(askpass))
    git_repo.git("config", "core.askPass", str(askpass))
    server = WebhookServer().start()
    try:
        server.default = Reply(401, {"WWW-Authenticate": 'Basic realm="git"'}, b"")
        started = time.monotonic()
        with pytest.raises(
            GitFailed, match=r"`git ls-remote` failed in .*: fatal: could not read Username"
        ):
            runner.git(git_repo.path, "ls-remote", server.url("/private.git"), timeout=30)
        assert time.monotonic() - started < 10
    finally:
        server.stop()
    assert not asked.exists()


def test_ssh_runs_in_batch_mode(git_repo: GitRepo, tmp_path: Path) -> None:
    seen = tmp_path / "ssh-args"
    fake_ssh = tmp_path / "ssh.sh"
    fake_ssh.write_text(f'#!/bin/sh\necho "$@" > {seen}\nexit 255\n')
    fake_ssh.chmod(fake_ssh.stat().st_mode | stat.S_IEXEC)
    environ = {**git_env(), "GIT_SSH_COMMAND": str(fake_ssh)}
    with pytest.raises(GitFailed):
        runner.Git(git_repo.path, environ).run("ls-remote", "ssh://git@example.invalid/app.git")
    assert "-o BatchMode=yes" in seen.read_text()


def test_a_missing_folder_or_git_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(GitFailed, match="no such folder"):
        runner.git(tmp_path / "gone", "status")
    env = {**os.environ, "PATH": str(tmp_path)}
    from devtools.errors import EnvironmentMissing

    with pytest.raises(EnvironmentMissing, match="git is not installed"):
        runner.Git(tmp_path, env).run("status")
