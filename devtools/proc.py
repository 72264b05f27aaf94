"""Child processes omc-dev waits for: each has a deadline, and none outlives omc-dev.

A child starts in a process group of its own, so it ends together with what it started (the
docker CLI starts the compose plugin, git starts its helpers): on its deadline, on Ctrl-C, and
when omc-dev is told to stop (SIGTERM, SIGHUP) while it waits. The group gets SIGTERM, a short
grace, then SIGKILL: the compose plugin ignores SIGTERM while it expands a YAML file.

Being in a group of its own, a child does not see the terminal's Ctrl-C itself; omc-dev sees it
and ends the child's group (`KeyboardInterrupt`, then the usual "interrupted" line, exit 130).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from types import FrameType
from typing import IO, Any

from devtools.errors import Stopped

GRACE_SECONDS = 2.0  # between SIGTERM and SIGKILL to the child's group
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def end_group(proc: subprocess.Popen[Any]) -> None:
    """Stop the child's process group (SIGTERM, grace, SIGKILL) and reap the child."""
    _signal_group(proc, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=GRACE_SECONDS)
    # Always: members that ignored SIGTERM may outlive the leader (the group id stays theirs).
    _signal_group(proc, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=GRACE_SECONDS)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def _signal_group(proc: subprocess.Popen[Any], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(proc.pid, signum)


@contextlib.contextmanager
def stop_signals_interrupt() -> Iterator[None]:
    """While a child runs: SIGTERM and SIGHUP raise `Stopped` (as Ctrl-C raises
    KeyboardInterrupt), so the child's group is ended before omc-dev exits. Only the main thread
    can take signals."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum: int, _frame: FrameType | None) -> None:
        raise Stopped(signal.Signals(signum).name)

    previous = {}
    for signum in _STOP_SIGNALS:
        handler = signal.getsignal(signum)
        if handler is signal.SIG_IGN:  # nohup: the user asked us to survive it
            continue
        previous[signum] = signal.signal(signum, _raise)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run(
    argv: Sequence[str],
    *,
    timeout: float | None,
    input: bytes | str | None = None,
    capture: bool = True,
    text: bool = False,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> subprocess.CompletedProcess[Any]:
    """`subprocess.run`, with the child in its own process group, ended with its children on a
    timeout (`subprocess.TimeoutExpired` is raised after) or when omc-dev is interrupted.

    `FileNotFoundError` when the program is not installed, as `subprocess.run`."""
    from devtools.report.verbosity import show_command

    show_command(argv)
    stdin: int | IO[Any] | None = subprocess.DEVNULL if input is None else subprocess.PIPE
    output = subprocess.PIPE if capture else None
    with stop_signals_interrupt():
        proc = subprocess.Popen(
            list(argv),
            stdin=stdin,
            stdout=output,
            stderr=output,
            text=text,
            env=None if env is None else dict(env),
            cwd=cwd,
            process_group=0,
        )
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except BaseException:
            end_group(proc)
            raise
    return subprocess.CompletedProcess(list(argv), proc.returncode, out, err)
