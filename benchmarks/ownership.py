"""The not-mine scan against `find -not -user` on the same 100,000-file tree, side by side.

Prints the ratio of medians for omc-dev's scan (the engine `omc-dev chown` uses: GNU find when
present) and, for reference, for the portable `os.scandir` engine. Target: <= 1.5.
When run as root, 1% of the files belong to another uid, so both sides report something.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devtools.ownership.scan import scan, scan_with_python

OTHER_UID = 54321


def build_tree(root: Path, files: int, per_folder: int = 100) -> int:
    """`files` empty files, `per_folder` to a folder, two levels deep; returns how many are foreign."""
    foreign = 0
    for n in range(files):
        folder = root / f"d{n // (per_folder * 10)}" / f"e{(n // per_folder) % 10}"
        if n % per_folder == 0:
            folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"f{n}.txt"
        path.touch()
        if os.geteuid() == 0 and n % 100 == 0:
            os.chown(path, OTHER_UID, OTHER_UID)
            foreign += 1
    return foreign


def wall(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)

    uid = os.getuid()
    base = Path(tempfile.mkdtemp(prefix="omc-bench-ownership-"))
    try:
        tree = base / "tree"
        foreign = build_tree(tree, args.files)
        anchor_cmd = ["find", str(tree), "-not", "-user", str(uid)]
        sides: dict[str, Callable[[], object]] = {
            "find -not -user": lambda: subprocess.run(
                anchor_cmd, stdout=subprocess.DEVNULL, check=False
            ),
            "omc-dev scan": lambda: scan([tree], uid),
            "os.scandir engine": lambda: scan_with_python([str(tree)], uid),
        }
        assert len(scan([tree], uid).entries) == foreign
        assert len(scan_with_python([str(tree)], uid).entries) == foreign
        for fn in sides.values():  # warm the dentry and inode caches
            fn()
        times: dict[str, list[float]] = {name: [] for name in sides}
        for _ in range(args.runs):  # interleaved, so drift hits every side alike
            for name, fn in sides.items():
                times[name].append(wall(fn))
        medians = {name: statistics.median(t) for name, t in times.items()}
        anchor = medians["find -not -user"]
        print(f"tree: {args.files} files, {foreign} owned by another uid; {args.runs} runs each")
        print(f"find -not -user:   median {anchor * 1000:.1f} ms (anchor)")
        ratio = medians["omc-dev scan"] / anchor
        print(
            f"omc-dev scan:      median {medians['omc-dev scan'] * 1000:.1f} ms, "
            f"ratio {ratio:.2f}x (target <= 1.50) {'OK' if ratio <= 1.5 else 'OVER'}"
        )
        portable = medians["os.scandir engine"]
        print(
            f"os.scandir engine: median {portable * 1000:.1f} ms, ratio {portable / anchor:.2f}x "
            "(reference: the fallback without GNU find)"
        )
    finally:
        shutil.rmtree(base)
    return 0


if __name__ == "__main__":
    sys.exit(main())
