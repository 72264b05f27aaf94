"""`omc-dev db clone` of a large database, against a bare `pg_dump | pg_restore` between the same
two containers (goal: at most 1.1x).

Two tracks of the reference stack in a scratch copy of this checkout (its own git repository and
compose project names; both torn down with `down --volumes` at the end). The source's database
gets the kernel's schema and one table of `--size-mb` MB (with its primary key). Then, in turn:

- bare: `docker exec SRC pg_dump -Fc | docker exec -i DST pg_restore` into a fresh database,
  the two processes joined by a pipe directly (nothing in between), as a user would type it;
- bare -Z0: the same without compression (what clone streams between two containers);
- clone: `omc-dev db clone --from SRC --track DST --yes`, end to end (plan, roles, restore into
  a new database, swap, and the migrate service run in a container).

Prints each wall time and clone's ratio to both. Needs the engine and the images omc-db:15 and
omc-backend:dev-web (built by `omc-dev up`). Not run in CI.
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
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COPIED = ("compose.yaml", "pyproject.toml", "docker", "devtools", "kernel", "scripts", "hooks")
GOAL = 1.1


def omc(root: Path, env: dict[str, str], *args: str) -> None:
    argv = [sys.executable, "-m", "devtools", *args]
    full = {**os.environ, **env, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(argv, cwd=root, env=full, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"omc-dev {' '.join(args)} failed: {proc.stderr[-2000:]}")


def container(project: str) -> str:
    out = subprocess.run(
        ["docker", "ps", "-q", "--filter", f"label=com.docker.compose.project={project}",
         "--filter", "label=com.docker.compose.service=db"],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    if not out:
        raise SystemExit(f"no running db in compose project {project}")
    return out[0]


def psql(cid: str, sql: str, db: str = "omc") -> str:
    argv = ["docker", "exec", cid, "psql", "-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-U", "omc"]
    return subprocess.run(
        [*argv, "-d", db, "-c", sql], capture_output=True, text=True, check=True
    ).stdout.strip()


def bare(src: str, dst: str, compress: bool) -> float:
    psql(dst, "DROP DATABASE IF EXISTS bare", db="postgres")
    psql(dst, "CREATE DATABASE bare", db="postgres")
    dump = ["docker", "exec", src, "pg_dump", "-Fc", "-U", "omc", "-d", "omc"]
    if not compress:
        dump.append("--compress=0")
    start = time.perf_counter()
    producer = subprocess.Popen(dump, stdout=subprocess.PIPE)
    assert producer.stdout is not None
    consumer = subprocess.run(
        ["docker", "exec", "-i", dst, "pg_restore", "-U", "omc", "-d", "bare"],
        stdin=producer.stdout, check=False,
    )  # fmt: skip
    producer.stdout.close()
    failed = producer.wait() or consumer.returncode
    elapsed = time.perf_counter() - start
    psql(dst, "DROP DATABASE bare", db="postgres")
    if failed:
        raise SystemExit("the bare pg_dump | pg_restore failed")
    return elapsed


def clone(root: Path, env: dict[str, str], source: str, target: str) -> float:
    start = time.perf_counter()
    omc(root, {**env, "OMC_TRACK": target}, "db", "clone", "--from", source, "--yes")
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="size of the big table")
    parser.add_argument("--runs", type=int, default=1, help="rounds (each runs all three)")
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="omc-bench-clone-"))
    root = base / "shop"
    root.mkdir()
    for name in COPIED:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, root / name)
    for name in ("tests", "benchmarks"):
        (root / name).mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    tag = uuid.uuid4().hex[:6]
    env = {"OMC_STATE_DIR": str(base / "state"), "OMC_IN_CONTAINER": "0"}
    source, target = f"bench{tag}a", f"bench{tag}b"
    sys.path.insert(0, str(REPO))
    from devtools import config
    from devtools.tracks.identity import project_name, resolve_track

    cfg = config.load(root)
    projects = {t: project_name(cfg, resolve_track(cfg, t)) for t in (source, target)}
    try:
        for track in (source, target):
            omc(root, {**env, "OMC_TRACK": track}, "db", "reset", "--yes")
        src, dst = container(projects[source]), container(projects[target])
        rows = args.size_mb * 1000 * 1000 // 300  # ~300 bytes a row on disk
        started = time.perf_counter()
        psql(
            src,
            "CREATE TABLE big (id bigint PRIMARY KEY, pad text NOT NULL); "
            "INSERT INTO big SELECT g, repeat(md5(g::text), 7) "
            f"FROM generate_series(1, {rows}) AS g",
        )
        size = psql(src, "SELECT pg_size_pretty(pg_database_size(current_database()))")
        print(f"source database: {size} (made in {time.perf_counter() - started:.0f}s)")
        times: dict[str, list[float]] = {"bare": [], "bare -Z0": [], "clone": []}
        for _ in range(args.runs):
            times["bare"].append(bare(src, dst, compress=True))
            times["bare -Z0"].append(bare(src, dst, compress=False))
            times["clone"].append(clone(root, env, source, target))
            dst = container(projects[target])
        medians = {k: statistics.median(v) for k, v in times.items()}
        for key, value in medians.items():
            print(f"{key:>9}: {value:7.1f} s")
        for key in ("bare", "bare -Z0"):
            ratio = medians["clone"] / medians[key]
            verdict = "within" if ratio <= GOAL else "over"
            print(f"clone / {key}: {ratio:.2f}x ({verdict} the {GOAL}x goal)")
    finally:
        for track in (source, target):
            try:
                omc(root, {**env, "OMC_TRACK": track}, "down", "--volumes", "--yes")
            except SystemExit as exc:
                print(exc, file=sys.stderr)
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
