"""`omc-dev tests polluter` on a 500-test suite with one polluter: real pytest runs, counted.

Subject: the hunt for the test that makes a late test fail, run here (OMC_IN_CONTAINER=1: pytest
as a child process, no engine needed; in a container each run is the same pytest run). The suite
is 500 tests in 10 modules; test 10 of module 1 leaks a module global that the last test checks.
Prints the number of pytest runs after learning the order against the issue's bound
(ceil(log2(500)) + 2 = 11), the wall time, and the anchor: one run of the whole suite.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODULES, PER_MODULE = 10, 50


def write_suite(root: Path) -> str:
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "bench"\n[tool.omc-dev.tests]\ncommand = ["{sys.executable}", "-m", "pytest"]\n'
    )
    (root / "leak.py").write_text("STATE: dict[str, int] = {}\n")
    for m in range(MODULES):
        lines = ["import leak", ""]
        for t in range(PER_MODULE):
            if (m, t) == (1, 10):
                lines.append(f"def test_{t:03d}():\n    leak.STATE['dirty'] = 1\n")
            elif (m, t) == (MODULES - 1, PER_MODULE - 1):
                lines.append(f"def test_{t:03d}():\n    assert leak.STATE == {{}}\n")
            else:
                lines.append(f"def test_{t:03d}():\n    assert True\n")
        (root / f"test_m{m:02d}.py").write_text("\n".join(lines))
    return f"test_m{MODULES - 1:02d}.py::test_{PER_MODULE - 1:03d}"


def main() -> int:
    base = Path(tempfile.mkdtemp(prefix="omc-bench-polluter-"))
    try:
        target = write_suite(base)
        env = {
            **os.environ,
            "OMC_IN_CONTAINER": "1",
            "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            cwd=base,
            env=env,
            capture_output=True,
            check=False,
        )
        anchor = time.perf_counter() - start
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "devtools", "tests", "polluter", target],
            cwd=base,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - start
        print(proc.stdout.strip())
        match = re.search(r"(\d+) pytest runs after learning the order", proc.stdout)
        if proc.returncode != 1 or match is None:
            print(proc.stderr[-2000:], file=sys.stderr)
            return 2
        runs, bound = int(match.group(1)), math.ceil(math.log2(MODULES * PER_MODULE - 1)) + 2
        print(f"{runs} pytest runs after the first (bound {bound}); {elapsed:.1f} s in all")
        print(f"anchor: one run of the whole suite {anchor:.1f} s; ratio {elapsed / anchor:.1f}")
        return 0 if runs <= bound else 1
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
