"""Run one exec to completion: stream output, feed stdin, forward signals, return its exit code.

Signals: without a TTY the engine gives no way to signal an exec'd process (the docker CLI does
not forward them either), so each command carries `OMC_RUN_ID=<token>` in its environment and a
signal is forwarded by a second, short exec as root that signals every process in the container
whose environment holds that token: the command and everything it started, much like a terminal
signals its foreground process group. Ctrl-C therefore stops the command inside the container,
and its exit code (130 for a process killed by SIGINT) is what `omc-dev run` returns. A third
Ctrl-C sends SIGKILL. With a TTY, Ctrl-C travels as a keystroke to the container's terminal.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import time

from devtools.container.spec import RUN_ID, ExecSpec
from devtools.docker.engine_api import Engine, EngineError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import FrameType

# Signals every process carrying the token, except this shell itself; fails when none matched.
KILL_SCRIPT = r"""n=0
for p in /proc/[0-9]*; do
  [ "${p#/proc/}" = "$$" ] && continue
  if tr '\0' '\n' < "$p/environ" 2>/dev/null | grep -qxF "$1"; then
    kill -s "$2" "${p#/proc/}" 2>/dev/null && n=$((n + 1))
  fi
done
[ "$n" -gt 0 ]"""

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
START_FAILED = b"OCI runtime exec failed"


def execute(engine: Engine, spec: ExecSpec, exec_id: str) -> int:
    """Start the created exec `exec_id`, attach to it, and return its exit code."""
    return _Session(engine, spec, exec_id).run()


class _Session:
    def __init__(self, engine: Engine, spec: ExecSpec, exec_id: str) -> None:
        self.engine = engine
        self.spec = spec
        self.exec_id = exec_id
        self.interrupts = 0
        self.stdout_open = True
        self.warned = False
        self.first_frame = True
        self.killers: list[tuple[str, signal.Signals, int]] = []  # signal execs not yet checked
        self.held: bytes | None = None  # a start failure message, shown once we know it is one

    def run(self) -> int:
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        caught = (*FORWARDED, signal.SIGWINCH) if self.spec.tty else FORWARDED
        previous = {sig: signal.signal(sig, _note) for sig in caught}
        old_wakeup = signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
        terminal = _RawTerminal() if self.spec.tty else None
        try:
            sock, rest = self.engine.start_exec(self.exec_id, tty=self.spec.tty)
            with sock:
                if terminal:
                    terminal.enter()
                    self._resize()
                self._stream(sock, rest, wake_r)
        finally:
            if terminal:
                terminal.leave()
            signal.set_wakeup_fd(old_wakeup)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            os.close(wake_r)
            os.close(wake_w)
        return self._exit_code()

    # -- output -----------------------------------------------------------------------------

    def _stream(self, sock: socket.socket, pending: bytes, wake_r: int) -> None:
        """One loop for everything: output, stdin, signals. (No thread: a thread left blocked
        reading a terminal can hold up the process's exit.)"""
        fd = sock.fileno()
        sock.setblocking(False)
        buffer, outgoing = pending, b""
        stdin_open = True
        while True:
            buffer = self._emit(buffer)
            want_read = [fd, wake_r] + ([0] if stdin_open and not outgoing else [])
            timeout = 0.05 if self.killers else None
            readable, writable, _ = select.select(want_read, [fd] if outgoing else [], [], timeout)
            if self.killers:
                self._check_killers()
            if wake_r in readable:
                for signum in os.read(wake_r, 64):
                    self._on_signal(signum)
            if 0 in readable:
                try:
                    outgoing = os.read(0, 65536)
                except OSError:
                    outgoing = b""
                if not outgoing:
                    stdin_open = False
                    _close_stdin(sock)
            if fd in writable:
                try:
                    outgoing = outgoing[sock.send(outgoing) :]
                except BlockingIOError:
                    pass
                except OSError:
                    outgoing, stdin_open = b"", False  # the exec no longer reads
            if fd in readable:
                try:
                    chunk = sock.recv(65536)
                except BlockingIOError:
                    continue
                if not chunk:
                    self._emit(buffer)
                    return
                buffer += chunk

    def _emit(self, buffer: bytes) -> bytes:
        """Write out what is complete: raw bytes with a TTY, else the engine's framed streams."""
        if self.spec.tty:
            self._write(1, buffer)
            return b""
        while len(buffer) >= 8:
            stream, size = buffer[0], int.from_bytes(buffer[4:8], "big")  # [type, 0, 0, 0, size]
            if len(buffer) < 8 + size:
                break
            payload, buffer = buffer[8 : 8 + size], buffer[8 + size :]
            first, self.first_frame = self.first_frame, False
            if first and payload.startswith(START_FAILED):
                self.held = payload
                continue
            self._write(2 if stream == 2 else 1, payload)
        return buffer

    def _write(self, fd: int, data: bytes) -> None:
        if fd == 1 and not self.stdout_open:
            return
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(fd, view) :]
        except BrokenPipeError:
            # Our reader went away (`omc-dev run -- yes | head -1`): the command gets SIGPIPE,
            # as it would in a local pipeline, and we drain the rest.
            if fd == 1:
                self.stdout_open = False
                self._forward(signal.SIGPIPE)

    # -- signals ----------------------------------------------------------------------------

    def _on_signal(self, signum: int) -> None:
        if signum == signal.SIGWINCH:
            self._resize()
            return
        if signum == signal.SIGINT:
            self.interrupts += 1
            if self.interrupts >= 3:
                signum = signal.SIGKILL
        self._forward(signal.Signals(signum))

    def _forward(self, sig: signal.Signals, attempt: int = 0) -> None:
        """Start a detached exec that signals the command's processes in the container.

        Detached, because waiting for it here would stop us reading the command's output, and a
        command blocked on a full pipe is not one the engine finishes. `_check_killers` reads
        its result later, and tries again while the command is still starting.
        """
        config = {
            "Cmd": [
                "sh",
                "-c",
                KILL_SCRIPT,
                "omc-signal",
                f"{RUN_ID}={self.spec.run_id}",
                sig.name[3:],
            ],
            "User": "0",
        }
        try:
            killer = self.engine.create_exec(self.spec.container, config)
            self.engine.start_detached(killer)
        except (EngineError, OSError):
            return  # the container went away: the stream ends on its own
        self.killers.append((killer, sig, attempt))

    def _check_killers(self) -> None:
        pending, self.killers = self.killers, []
        for killer, sig, attempt in pending:
            try:
                info = self.engine.inspect_exec(killer)
                code = info.get("ExitCode")
                if info.get("Running") or code is None:
                    self.killers.append((killer, sig, attempt))
                elif (
                    code == 1
                    and attempt < 10
                    and self.engine.inspect_exec(self.exec_id).get("Running")
                ):
                    self._forward(sig, attempt + 1)  # nothing matched: not started yet, look again
                elif code not in (0, 1) and not self.warned:
                    self.warned = True
                    os.write(
                        2,
                        f"omc-dev: could not forward {sig.name} into {self.spec.service} "
                        f"(exit {code}: the image needs sh, tr and grep)\n".encode(),
                    )
            except (EngineError, OSError):
                continue

    def _resize(self) -> None:
        try:
            cols, rows = os.get_terminal_size(1)
            self.engine.resize_exec(self.exec_id, rows, cols)
        except (OSError, EngineError):
            pass  # not a terminal, or the exec has already ended

    # -- result -----------------------------------------------------------------------------

    def _exit_code(self) -> int:
        info = self.engine.inspect_exec(self.exec_id)
        code = _wait_exit(self.engine, self.exec_id, info)
        if self.held is not None:
            if info.get("Pid"):
                self._write(1, self.held)  # the command itself printed it
            else:
                return _start_failure(self.spec, self.held)
        return code


def _wait_exit(engine: Engine, exec_id: str, info: dict[str, object] | None = None) -> int:
    """The exec's exit code; the engine records it a moment after the stream ends."""
    for _ in range(200):
        info = info or engine.inspect_exec(exec_id)
        code = info.get("ExitCode")
        if not info.get("Running") and isinstance(code, int):
            return code
        info = None
        time.sleep(0.01)
    return 1


def _start_failure(spec: ExecSpec, message: bytes) -> int:
    """The command never started: one line, and the shell's codes (127 not found, 126 other)."""
    text = message.decode(errors="replace").strip()
    reason = text.rsplit('": ', 1)[-1].removesuffix(": unknown")
    not_found = "not found" in reason or "no such file" in reason
    os.write(2, f"omc-dev: cannot run {spec.argv[0]} in {spec.service}: {reason}\n".encode())
    return 127 if not_found else 126


def _note(signum: int, frame: FrameType | None) -> None:
    """The handler is a no-op: the wakeup fd carries the signal to the stream loop."""


def _close_stdin(sock: socket.socket) -> None:
    """Our stdin ended: close the exec's stdin (a half-close; its output keeps coming)."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)


class _RawTerminal:
    """Our terminal in raw mode while attached to the container's TTY, restored afterwards."""

    def __init__(self) -> None:
        import termios

        self.saved = termios.tcgetattr(0)

    def enter(self) -> None:
        import tty

        tty.setraw(0)

    def leave(self) -> None:
        import termios

        # TCSANOW: TCSADRAIN would wait until the terminal has read everything we wrote.
        termios.tcsetattr(0, termios.TCSANOW, self.saved)
