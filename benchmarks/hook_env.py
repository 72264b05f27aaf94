"""The pre-commit hook environment, before and after the core/extras split: its size and how long
a cold `pre-commit try-repo` takes, as ratios.

Network tier: pip installs from the package index (its cache warm for both sides alike: each
side is pip-installed once for the size before any timing). For each git ref (default: 59d8ccb,
main before the split, and HEAD):

- size: `pip install <the ref's tree>` into a fresh virtualenv, `du` of the virtualenv, and what
  omc-dev adds to an empty one;
- cold: `pre-commit try-repo <this repository> <migration hook> --ref REF --all-files` in a
  scratch consumer repository with a fresh PRE_COMMIT_HOME (clone, hook environment, run);
- warm: the hook as an installed consumer runs it (`pre-commit run` with the ref in the
  consumer's config, its environment already installed): try-repo itself is never warm, since it
  clones the repository afresh, and so installs a new environment, on every call.

Prints each side and the after/before ratios (lower is better).
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BEFORE = "59d8ccb"
# The migration hook's id on each side (the short id is new; the old one is an alias after).
HOOK_IDS = ("single-head", "alembic-single-head")

REVISION = '''"""{rev}"""
revision = "{rev}"
down_revision = {down}
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
'''


def sh(argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return proc.stdout


def du_bytes(path: Path) -> int:
    return int(sh(["du", "-s", "--block-size=1", str(path)]).split()[0])


def mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def export(ref: str, target: Path) -> None:
    target.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)


def env_size(ref: str, work: Path, empty: int) -> tuple[int, int]:
    source = work / f"src-{ref}"
    export(ref, source)
    venv = work / f"venv-{ref}"
    sh([sys.executable, "-m", "venv", str(venv)])
    sh([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(source)])
    size = du_bytes(venv)
    return size, size - empty


def hook_id(ref: str) -> str:
    manifest = sh(["git", "-C", str(ROOT), "show", f"{ref}:.pre-commit-hooks.yaml"])
    return next(h for h in HOOK_IDS if f"- id: {h}\n" in manifest)


def consumer_repo(work: Path) -> Path:
    repo = work / "consumer"
    versions = repo / "migrations" / "versions"
    versions.mkdir(parents=True)
    (repo / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    down = "None"
    for number in range(20):
        rev = f"r{number:03d}"
        (versions / f"{rev}.py").write_text(REVISION.format(rev=rev, down=down))
        down = repr(rev)
    sh(["git", "init", "--quiet", str(repo)])
    sh(["git", "add", "--all"], cwd=repo)
    sh(["git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "x"], cwd=repo)
    return repo


def hook_env(home: Path) -> dict[str, str]:
    env = dict(os.environ, PRE_COMMIT_HOME=str(home), OMC_NO_CACHE="1")
    env.pop("PYTHONPATH", None)
    return env


def try_repo(ref: str, repo: Path, home: Path) -> float:
    argv = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), hook_id(ref)]
    start = time.perf_counter()
    sh([*argv, "--ref", ref, "--all-files"], cwd=repo, env=hook_env(home))
    return time.perf_counter() - start


def warm_run(ref: str, repo: Path, home: Path, runs: int = 3) -> float:
    """Median of `pre-commit run HOOK --all-files` once the consumer's environment exists."""
    config = f"repos:\n- repo: {ROOT}\n  rev: {ref}\n  hooks:\n  - id: {hook_id(ref)}\n"
    (repo / ".pre-commit-config.yaml").write_text(config)
    argv = [sys.executable, "-m", "pre_commit", "run", hook_id(ref), "--all-files"]
    sh([sys.executable, "-m", "pre_commit", "install-hooks"], cwd=repo, env=hook_env(home))
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        sh(argv, cwd=repo, env=hook_env(home))
        times.append(time.perf_counter() - start)
    (repo / ".pre-commit-config.yaml").unlink()
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", default=BEFORE)
    parser.add_argument("--after", default="HEAD")
    parser.add_argument("--runs", type=int, default=2, help="cold try-repo runs per side")
    args = parser.parse_args(argv)
    refs = {
        "before": sh(["git", "-C", str(ROOT), "rev-parse", args.before]).strip(),
        "after": sh(["git", "-C", str(ROOT), "rev-parse", args.after]).strip(),
    }
    with tempfile.TemporaryDirectory(prefix="omc-hook-bench-") as tmp:
        work = Path(tmp)
        empty_venv = work / "empty"
        sh([sys.executable, "-m", "venv", str(empty_venv)])
        empty = du_bytes(empty_venv)
        sizes = {side: env_size(ref, work, empty) for side, ref in refs.items()}
        repo = consumer_repo(work)
        cold: dict[str, list[float]] = {side: [] for side in refs}
        warm: dict[str, list[float]] = {side: [] for side in refs}
        for run in range(args.runs):  # interleaved: load drifting meanwhile hits both sides
            for side, ref in refs.items():
                home = work / f"home-{side}-{run}"
                cold[side].append(try_repo(ref, repo, home))
                warm[side].append(warm_run(ref, repo, home))
                shutil.rmtree(home)

    print(f"empty virtualenv: {mb(empty)}")
    for side, ref in refs.items():
        total, added = sizes[side]
        print(
            f"{side:6} {ref[:10]}: hook env {mb(total)} (omc-dev adds {mb(added)}), "
            f"cold try-repo median {statistics.median(cold[side]):.1f} s, "
            f"warm hook run {statistics.median(warm[side]):.2f} s, over {args.runs} runs"
        )

    def ratio(after: float, before: float) -> str:
        return f"{after / before:.2f}x"

    print(f"ratio env size after/before:        {ratio(sizes['after'][0], sizes['before'][0])}")
    print(f"ratio added by omc-dev after/before: {ratio(sizes['after'][1], sizes['before'][1])}")
    print(
        "ratio cold try-repo after/before:    "
        f"{ratio(statistics.median(cold['after']), statistics.median(cold['before']))}"
    )
    print(
        "ratio warm hook run after/before:    "
        f"{ratio(statistics.median(warm['after']), statistics.median(warm['before']))}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
