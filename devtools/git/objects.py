"""Git objects read through one long-lived `git cat-file --batch`, by sha or `<rev>:<path>`:
files are read at any ref without a checkout, however many there are, in one process."""

from __future__ import annotations

import contextlib
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO

from devtools.git.errors import GitFailed
from devtools.git.runner import LOCAL_TIMEOUT, ClosedOnExit, Git, encode


@dataclass(frozen=True)
class GitObject:
    sha: str
    type: str  # "blob", "tree", "commit", "tag"
    data: bytes


class ObjectReader(ClosedOnExit):
    """One `git cat-file --batch` process for every object a command reads."""

    def __init__(self, git: Git) -> None:
        self._git = git
        self._proc: subprocess.Popen[bytes] | None = None

    def close(self) -> None:
        if self._proc is None:
            return
        proc, self._proc = self._proc, None
        assert proc.stdin is not None and proc.stdout is not None
        with contextlib.suppress(OSError):  # git already went away
            proc.stdin.close()
        # Closed before waiting: a cat-file stopped mid-answer (Ctrl-C, an error) would block
        # writing to a pipe nobody reads; with it closed, git ends on the broken pipe.
        proc.stdout.close()
        try:
            proc.wait(timeout=LOCAL_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def read(self, names: Sequence[str]) -> list[GitObject | None]:
        """The objects named, in order; None for a name that does not resolve."""
        results: list[GitObject | None] = [None] * len(names)
        # The protocol is line-based: a path with a newline cannot be asked for.
        wanted = [(i, name) for i, name in enumerate(names) if "\n" not in name]
        if not wanted:
            return results
        if self._proc is None:
            self._proc = self._git.popen("cat-file", "--batch")
        proc = self._proc
        assert proc.stdin is not None and proc.stdout is not None
        payload = b"".join(encode(name) + b"\n" for _, name in wanted)
        # Write from a thread: git answers while we still send, and both pipes are finite.
        writer = threading.Thread(target=_write_all, args=(proc.stdin, payload), daemon=True)
        writer.start()
        for index, _name in wanted:
            header = proc.stdout.readline()
            if not header:
                raise GitFailed(
                    f"`git cat-file --batch` stopped answering in {self._git.cwd}: "
                    "is the clone damaged? (`git fsck` says)"
                )
            parts = header.split()
            if len(parts) != 3:  # "<name> missing" or "<name> ambiguous"
                continue
            size = int(parts[2])
            data = proc.stdout.read(size)
            proc.stdout.read(1)  # the newline after the contents
            results[index] = GitObject(parts[0].decode(), parts[1].decode(), data)
        writer.join()
        return results

    def blobs(self, names: Sequence[str]) -> list[bytes | None]:
        return [obj.data if obj and obj.type == "blob" else None for obj in self.read(names)]


def _write_all(stream: IO[bytes], payload: bytes) -> None:
    with contextlib.suppress(OSError):  # git went away; the reader reports it
        stream.write(payload)
        stream.flush()
