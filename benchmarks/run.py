"""`omc-dev run -- true` against `docker compose exec -T backend true`, side by side.

Both run a no-op in the same running backend container of the reference stack; the ratio of
medians (interleaved runs, so load drifts hit both alike) must be <= 0.8. `docker exec` is shown
too, as the floor any wrapper of the engine's exec pays.

By default the script starts a throwaway stack (`omc-dev up` on a track of its own) and removes
it afterwards; `--track NAME` measures against that track's running stack instead.

Bytecode: this machine sets PYTHONDONTWRITEBYTECODE=1, which makes every Python start compile
omc-dev's modules afresh. A developer's machine caches bytecode, so the subject runs without
that variable (the warm-up run writes the cache); `--no-bytecode-cache` measures the other case.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._common import installed_omc_dev  # noqa: E402

TARGET = 0.8


def measure(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time, and the CPU time (user + system) of the client process itself."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, argv)
    return elapsed, usage.ru_utime + usage.ru_stime


def stack_name(track: str) -> str:
    """The compose project `omc-dev up` gives this track's stack in this checkout."""
    from devtools import config
    from devtools.tracks.identity import project_name, resolve_track

    cfg = config.load(ROOT)
    return project_name(cfg, resolve_track(cfg, track))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--track", help="measure this track's running stack (default: a new one)")
    parser.add_argument("--no-bytecode-cache", action="store_true")
    args = parser.parse_args(argv)

    omc_dev = installed_omc_dev()
    track = args.track or f"bench-{uuid.uuid4().hex[:8]}"
    # This is the host, whatever a stray /.dockerenv says.
    env = {**os.environ, "OMC_TRACK": track, "OMC_IN_CONTAINER": "0"}
    subject_env = dict(env)
    if not args.no_bytecode_cache:
        subject_env.pop("PYTHONDONTWRITEBYTECODE", None)
    project = stack_name(track)
    try:
        if args.track is None:
            print(f"starting a throwaway stack ({project}) ...", file=sys.stderr)
            subprocess.run([omc_dev, "up"], cwd=ROOT, env=env, check=True, capture_output=True)
        container = subprocess.run(
            ["docker", "compose", "-p", project, "ps", "--quiet", "backend"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        commands = {
            "compose": (["docker", "compose", "-p", project, "exec", "-T", "backend", "true"], env),
            "omc-dev": ([omc_dev, "run", "--", "true"], subject_env),
            "docker": (["docker", "exec", container, "true"], env),
        }
        for cmd, cmd_env in commands.values():  # warm caches: page cache, bytecode, run cache
            measure(cmd, cmd_env)
        times: dict[str, list[float]] = {name: [] for name in commands}
        cpu: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, (cmd, cmd_env) in commands.items():
                elapsed, used = measure(cmd, cmd_env)
                times[name].append(elapsed)
                cpu[name].append(used)
    finally:
        if args.track is None:
            for cleanup in (["down", "--volumes", "--yes"], ["ports", "release", track, "--yes"]):
                subprocess.run(
                    [omc_dev, *cleanup], cwd=ROOT, env=env, capture_output=True, check=False
                )
    median = {name: statistics.median(values) for name, values in times.items()}
    busy = {name: statistics.median(values) * 1000 for name, values in cpu.items()}
    anchor = median["compose"]
    print(
        f"docker compose exec -T backend true: median {anchor * 1000:.1f} ms over {args.runs} runs "
        f"(anchor; client CPU {busy['compose']:.0f} ms)"
    )
    print(
        f"omc-dev run -- true:                 median {median['omc-dev'] * 1000:.1f} ms "
        f"(client CPU {busy['omc-dev']:.0f} ms)"
    )
    print(
        f"docker exec CONTAINER true:          median {median['docker'] * 1000:.1f} ms "
        f"(for reference; client CPU {busy['docker']:.0f} ms)"
    )
    ratio = median["omc-dev"] / anchor
    verdict = "OK" if ratio <= TARGET else "OVER"
    print(f"ratio omc-dev run / compose exec: {ratio:.2f}x (target <= {TARGET:.2f}) {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
