"""CLI start-up: `omc-dev --help` against `python -c "import click"`, side by side.

Prints the ratio of medians; the target is <= 1.5 (the CLI costs little more than click itself).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._common import installed_omc_dev, interleaved_medians  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)

    anchor_cmd = [sys.executable, "-c", "import click"]
    subject_cmd = [installed_omc_dev(), "--help"]
    a, s = interleaved_medians([anchor_cmd, subject_cmd], args.runs)
    ratio = s / a
    print(f"python -c 'import click': median {a * 1000:.1f} ms over {args.runs} runs (anchor)")
    print(f"omc-dev --help:           median {s * 1000:.1f} ms")
    print(
        f"ratio omc-dev --help / import click: {ratio:.2f}x (target <= 1.50) {'OK' if ratio <= 1.5 else 'OVER'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
