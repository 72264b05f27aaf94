"""CLI start-up: `omc-dev --help` against `python -c "import click"`, side by side.

Prints the ratio of medians; the target is <= 1.5 (the CLI costs little more than click itself).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def wall(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)

    script = shutil.which("omc-dev", path=str(Path(sys.executable).parent)) or shutil.which(
        "omc-dev"
    )
    if script is None:
        print(
            "omc-dev is not installed in this environment: run `make venv` first", file=sys.stderr
        )
        return 2
    anchor_cmd = [sys.executable, "-c", "import click"]
    subject_cmd = [script, "--help"]
    for cmd in (anchor_cmd, subject_cmd):  # warm the page cache and bytecode
        wall(cmd)
    anchor, subject = [], []
    for _ in range(args.runs):  # interleaved, so drift hits both sides alike
        anchor.append(wall(anchor_cmd))
        subject.append(wall(subject_cmd))
    a, s = statistics.median(anchor), statistics.median(subject)
    ratio = s / a
    print(f"python -c 'import click': median {a * 1000:.1f} ms over {args.runs} runs (anchor)")
    print(f"omc-dev --help:           median {s * 1000:.1f} ms")
    print(
        f"ratio omc-dev --help / import click: {ratio:.2f}x (target <= 1.50) {'OK' if ratio <= 1.5 else 'OVER'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
