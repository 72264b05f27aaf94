"""What the benchmark scripts share: the CLI under test, and timing commands side by side.

Not a benchmark itself (`make bench` runs only the scripts not starting with "_").
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path


def installed_omc_dev() -> str:
    """The `omc-dev` console script of this interpreter's environment (else the one on PATH);
    without one, say so and exit 2."""
    script = shutil.which("omc-dev", path=str(Path(sys.executable).parent)) or shutil.which(
        "omc-dev"
    )
    if script is None:
        print(
            "omc-dev is not installed in this environment: run `make venv` first", file=sys.stderr
        )
        raise SystemExit(2)
    return script


def wall(
    argv: Sequence[str], cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> float:
    """Seconds `argv` took, output discarded; a failure ends the benchmark with its stderr."""
    start = time.perf_counter()
    proc = subprocess.run(
        argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.decode()}")
    return elapsed


def interleaved_medians(
    commands: Sequence[Sequence[str]], runs: int, cwd: Path | None = None
) -> list[float]:
    """The median wall time of each command: one warm-up run each (page cache, bytecode), then
    `runs` rounds that run every command once, so load drifting meanwhile hits all alike."""
    for argv in commands:
        wall(argv, cwd)
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for samples, argv in zip(times, commands, strict=True):
            samples.append(wall(argv, cwd))
    return [statistics.median(samples) for samples in times]
