"""Lines for the user: stdout carries the answer, stderr the progress (no click here: only the
command module parses flags)."""

from __future__ import annotations

import sys


def echo(line: str, *, err: bool = False) -> None:
    stream = sys.stderr if err else sys.stdout
    stream.write(line + "\n")
    stream.flush()
