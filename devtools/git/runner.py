"""The one way omc-dev starts git: argv lists, a timeout, no prompts, stoppable as a group.

Every git runs with an environment that cannot prompt (no terminal prompt, no askpass helper,
ssh in batch mode, stdin closed unless fed) and in a session of its own: it has no terminal to
prompt on, and git with its helpers (git-remote-https, ssh) can be ended as one process group on
a timeout, on Ctrl-C, or when the caller stops early. CI can never hang on git.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Generic, Self, TypeVar

from devtools.errors import EnvironmentMissing
from devtools.git.errors import GitFailed
from devtools.report.verbosity import show_command

LOCAL_TIMEOUT = 120.0  # seconds for a git call that only reads this clone
NETWORK_TIMEOUT = 300.0  # seconds for ls-remote and fetch

T = TypeVar("T")


def decode(raw: bytes) -> str:
    # Paths are bytes in git; surrogateescape round-trips any that are not UTF-8.
    return raw.decode("utf-8", "surrogateescape")


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


# The advice git closes a failed remote call with: the cause is on a line before it.
_REMOTE_ADVICE = frozenset(
    {
        "fatal: Could not read from remote repository.",
        "Please make sure you have the correct access rights",
        "and the repository exists.",
    }
)


def last_line(stderr: bytes) -> str:
    """git's reason for a failure: the last line of its stderr that is not generic advice."""
    lines = [line.strip() for line in decode(stderr).splitlines()]
    lines = [line for line in lines if line and line not in _REMOTE_ADVICE]
    return lines[-1] if lines else "no message"


def non_interactive_env(base: Mapping[str, str], ssh_command: str | None = None) -> dict[str, str]:
    """`base` with every way git could ask a person for something switched off."""
    env = dict(base)
    env["GIT_TERMINAL_PROMPT"] = "0"
    # Empty, not unset: git then skips core.askPass and SSH_ASKPASS as well.
    env["GIT_ASKPASS"] = ""
    env.pop("SSH_ASKPASS", None)
    env["SSH_ASKPASS_REQUIRE"] = "never"
    env["GCM_INTERACTIVE"] = "never"  # Git Credential Manager
    env["GIT_PAGER"] = "cat"
    env["GIT_OPTIONAL_LOCKS"] = "0"  # a read-only status takes no index lock
    env["LC_ALL"] = "C"  # messages omc-dev recognises ("no merge base") stay in English
    if "GIT_SSH" not in env or "GIT_SSH_COMMAND" in env:
        ssh = env.get("GIT_SSH_COMMAND") or ssh_command or "ssh"
        env["GIT_SSH_COMMAND"] = f"{ssh} -o BatchMode=yes -o ConnectTimeout=30"
    return env


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(proc.pid, signal.SIGKILL)


def _subcommand(args: Sequence[str]) -> str:
    """The subcommand, for messages: `git -c gc.auto=0 fetch ...` is "fetch"."""
    return next((a for i, a in enumerate(args) if i % 2 == 0 and a != "-c"), "git")


class Running:
    """A git process whose output a thread collects while the caller does other work."""

    def __init__(
        self,
        args: Sequence[str],
        proc: subprocess.Popen[bytes],
        input: bytes | None,
        timeout: float,
        cwd: Path,
    ) -> None:
        self.args = args
        self.name = _subcommand(args)
        self._cwd = cwd
        self._proc = proc
        self._input = input
        self._timeout = timeout
        self._out = self._err = b""
        self._timed_out = False
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        try:
            self._out, self._err = self._proc.communicate(self._input, timeout=self._timeout)
        except subprocess.TimeoutExpired:
            self._timed_out = True
            _kill_group(self._proc)  # git's helpers hold the pipes too
            self._out, self._err = self._proc.communicate()
        except OSError as exc:  # reported by result(), in the caller's thread
            _kill_group(self._proc)
            self._proc.wait()
            self._err = str(exc).encode()

    def stop(self) -> None:
        """Stop git and its helpers: the answer is no longer wanted."""
        if self._proc.poll() is None:
            _kill_group(self._proc)

    def result(self, *, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        try:
            self._thread.join()
        except BaseException:  # Ctrl-C: git is in its own session and did not get it
            self.stop()
            raise
        if self._timed_out:
            raise GitFailed(
                f"`git {self.name}` did not finish within {self._timeout:.0f}s in {self._cwd}: "
                "check the network and the remote, then retry"
            )
        returncode = self._proc.returncode
        if check and returncode != 0:
            raise GitFailed(f"`git {self.name}` failed in {self._cwd}: {last_line(self._err)}")
        return subprocess.CompletedProcess(["git", *self.args], returncode, self._out, self._err)


class Pending(Generic[T]):
    """A started git call and how to read its answer: start the calls you will need, do other
    work while they run, and read each answer when you need it."""

    def __init__(self, running: Running, parse: Callable[[subprocess.CompletedProcess[bytes]], T]):
        self._running = running
        self._parse = parse
        self._parsed: list[T] = []

    def result(self) -> T:
        """The answer, parsed once however often it is asked for."""
        if not self._parsed:
            self._parsed.append(self._parse(self._running.result(check=False)))
        return self._parsed[0]

    def stop(self) -> None:
        self._running.stop()


class ClosedOnExit:
    """Closed when its `with` block ends, however it ends."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        raise NotImplementedError


class Git(ClosedOnExit):
    """Runs git in one folder and counts every process it starts."""

    def __init__(self, cwd: Path, environ: Mapping[str, str] | None = None) -> None:
        self.cwd = cwd
        self._environ = dict(os.environ if environ is None else environ)
        self.env = non_interactive_env(self._environ)
        self.spawned = 0
        self._started: list[subprocess.Popen[bytes]] = []

    def close(self) -> None:
        """Stop whatever git is still running (the caller failed or was interrupted)."""
        for proc in self._started:
            if proc.poll() is None:
                _kill_group(proc)

    def use_ssh_command(self, command: str | None) -> None:
        """Keep the repository's core.sshCommand (the environment here would override it)."""
        self.env = non_interactive_env(self._environ, command)

    def _popen(self, args: Sequence[str], *, stdin: int, stderr: int) -> subprocess.Popen[bytes]:
        self.spawned += 1
        show_command(["git", *args])  # omc-dev -v
        try:
            proc = subprocess.Popen(
                ["git", *args],
                cwd=self.cwd,
                env=self.env,
                stdin=stdin,
                stdout=subprocess.PIPE,
                stderr=stderr,
                start_new_session=True,
            )
        except (FileNotFoundError, NotADirectoryError):
            if not Path(self.cwd).is_dir():
                raise GitFailed(f"cannot run git in {self.cwd}: no such folder") from None
            raise EnvironmentMissing("git is not installed (or not on PATH): install git") from None
        self._started.append(proc)
        return proc

    def start(
        self, *args: str, input: bytes | None = None, timeout: float = LOCAL_TIMEOUT
    ) -> Running:
        """Start git now; `.result()` waits for it."""
        stdin = subprocess.DEVNULL if input is None else subprocess.PIPE
        proc = self._popen(args, stdin=stdin, stderr=subprocess.PIPE)
        return Running(args, proc, input, timeout, self.cwd)

    def run(
        self,
        *args: str,
        input: bytes | None = None,
        timeout: float = LOCAL_TIMEOUT,
        check: bool = True,
    ) -> subprocess.CompletedProcess[bytes]:
        return self.start(*args, input=input, timeout=timeout).result(check=check)

    def popen(self, *args: str) -> subprocess.Popen[bytes]:
        """A long-lived git process spoken to through its stdin and stdout."""
        return self._popen(args, stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)


def git(cwd: Path, *args: str, stdin: bytes | None = None, timeout: float = LOCAL_TIMEOUT) -> bytes:
    """Run `git ARGS...` in `cwd` once and return its stdout; `GitFailed` if git says no."""
    return Git(cwd).run(*args, input=stdin, timeout=timeout).stdout
