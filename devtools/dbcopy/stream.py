"""Bytes from a producer to a consumer (`pg_dump` in one container, `pg_restore` in another, or a
snapshot file at either end), joined by pipes in this process, with the byte count shown.

Each child runs in a process group of its own and is ended with it on Ctrl-C or SIGTERM (see
devtools.proc). Between two pipes the kernel moves the bytes (`os.splice`): counting them costs
no copy. Writing a file also hashes what it writes, so its bytes pass through here once.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

CHUNK = 1 << 20
REFRESH_SECONDS = 0.25


@dataclass(frozen=True)
class Outcome:
    streamed: int  # bytes that reached the consumer
    producer_rc: int  # 0 for a file
    producer_err: str
    consumer_rc: int  # 0 for a file
    consumer_err: str
    sha256: str = ""  # of what was written, when the consumer is a file
    producer_stopped: bool = False  # ended by us because the consumer stopped reading

    @property
    def ok(self) -> bool:
        return self.producer_rc == 0 and self.consumer_rc == 0


class Progress:
    """`label: 12.3 MB` on one line of stderr, only at a terminal."""

    def __init__(self, label: str, *, enabled: bool | None = None) -> None:
        self.label = label
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.count = 0
        self._shown = 0.0

    def add(self, n: int) -> None:
        self.count += n
        now = time.monotonic()
        if self.enabled and now - self._shown >= REFRESH_SECONDS:
            self._shown = now
            sys.stderr.write(f"\r{self.label}: {human_size(self.count)}   ")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled and self._shown:
            sys.stderr.write(f"\r{self.label}: {human_size(self.count)}, done\n")
            sys.stderr.flush()


def human_size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def transfer(
    producer: Sequence[str] | Path,
    consumer: Sequence[str] | IO[bytes],
    *,
    producer_env: Mapping[str, str] | None = None,
    consumer_env: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> Outcome:
    """Run the producer (argv, or a file to read) into the consumer (argv, or a file to write).

    Failures of the children are in the Outcome; an OSError writing the file (disk full) is
    raised after both children are ended."""
    from devtools.proc import end_group, stop_signals_interrupt

    progress = progress or Progress("", enabled=False)
    started: list[subprocess.Popen[bytes]] = []
    with contextlib.ExitStack() as stack:
        logs = [stack.enter_context(tempfile.TemporaryFile()) for _ in range(2)]
        with stop_signals_interrupt():
            try:
                if isinstance(producer, Path):
                    source: IO[bytes] = stack.enter_context(producer.open("rb"))
                    made = None
                else:
                    made = _start(producer, producer_env, stdout=subprocess.PIPE, stderr=logs[0])
                    started.append(made)
                    assert made.stdout is not None
                    source = made.stdout
                if isinstance(consumer, Sequence):
                    taker = _start(consumer, consumer_env, stdin=subprocess.PIPE, stderr=logs[1])
                    started.append(taker)
                    assert taker.stdin is not None
                    sink: IO[bytes] = taker.stdin
                    digest = None
                else:
                    taker, sink, digest = None, consumer, hashlib.sha256()
                streamed, ended = _pump(source, sink, progress, digest)
                with contextlib.suppress(BrokenPipeError):
                    sink.close() if taker is not None else sink.flush()
                stopped = False
                if ended:  # the producer closed its output: it is exiting
                    producer_rc = made.wait() if made is not None else 0
                    consumer_rc = taker.wait() if taker is not None else 0
                else:  # the consumer stopped reading: nobody takes the rest
                    consumer_rc = taker.wait() if taker is not None else 0
                    if made is not None:
                        end_group(made)
                        stopped = True
                    producer_rc = (made.returncode or 0) if made is not None else 0
            except BaseException:
                for child in started:
                    end_group(child)
                raise
            finally:
                progress.close()
        errs = []
        for log in logs:
            log.seek(0)
            errs.append(log.read().decode(errors="replace"))
    return Outcome(
        streamed,
        producer_rc,
        errs[0],
        consumer_rc,
        errs[1],
        digest.hexdigest() if digest else "",
        stopped,
    )


def _start(
    argv: Sequence[str], env: Mapping[str, str] | None, **streams: Any
) -> subprocess.Popen[bytes]:
    streams.setdefault("stdin", subprocess.DEVNULL)
    streams.setdefault("stdout", subprocess.DEVNULL)
    return subprocess.Popen(
        list(argv), env=None if env is None else dict(env), process_group=0, **streams
    )


def _pump(source: IO[bytes], sink: IO[bytes], progress: Progress, digest: Any) -> tuple[int, bool]:
    """Copy until the source ends or the sink stops reading: (bytes delivered, source ended)."""
    src, dst = source.fileno(), sink.fileno()
    if digest is None and hasattr(os, "splice"):
        try:
            while n := os.splice(src, dst, CHUNK):
                progress.add(n)
            return progress.count, True
        except BrokenPipeError:
            return progress.count, False
        except OSError as exc:
            if exc.errno not in (errno.EINVAL, errno.ENOSYS):
                raise
            # Not spliceable here (some file systems): copy through the process instead.
    while chunk := os.read(src, CHUNK):
        if digest is not None:
            digest.update(chunk)
        view = memoryview(chunk)
        try:
            while view:
                view = view[os.write(dst, view) :]
        except BrokenPipeError:
            return progress.count, False
        progress.add(len(chunk))
    return progress.count, True
