"""`omc-dev run`'s fast path: the cached resolution and one exec through the Engine API.

It imports no click, compose, pathlib or dataclasses; it reads one small JSON file, stats the
inputs recorded with it, and creates the exec. It declines (returns None, nothing started) on
anything unusual: help or an unknown option, inside a container, no or stale cache entry, a
container the engine no longer runs. The full path then handles the call and refreshes the cache.
Both paths end the same way: `spec_here`, then `execute_and_give_back` once the exec exists.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

from devtools.container.cache import Resolution, RunCache
from devtools.container.detect import inside_container
from devtools.container.execute import execute
from devtools.container.request import RunRequest, parse_run_args
from devtools.container.spec import ExecSpec, ServiceInfo, build_spec
from devtools.docker.engine_api import Engine, EngineError
from devtools.errors import UserError

DISABLE = "OMC_RUN_CACHE"  # "0": always take the full path


def fast_run(args: Sequence[str]) -> int | None:
    """The command's exit code, or None when the full path should handle this call."""
    request = parse_run_args(args)
    return None if request is None else fast_exec(request)


def fast_exec(request: RunRequest) -> int | None:
    if os.environ.get(DISABLE) == "0" or inside_container():
        return None
    if request.track is not None and not request.track.strip():
        return None  # `--track ''`: the full path refuses it (the cache would take the default)
    cwd = os.getcwd()
    resolution = RunCache().lookup(cwd, request.track)
    if resolution is None:
        return None
    name = request.service or resolution.default_service
    info = resolution.services.get(name) if name else None
    if info is None:
        return None
    try:
        spec = spec_here(request, info, cwd)
        engine = Engine()
        started = time.time()
        exec_id = engine.create_exec(info.container, spec.exec_config())
    except (UserError, EngineError):
        return None  # bad input, no engine, or the container changed: the full path says which
    return execute_and_give_back(
        engine, spec, exec_id, request=request, info=info, resolution=resolution, started=started
    )


def spec_here(request: RunRequest, info: ServiceInfo, cwd: str) -> ExecSpec:
    """The exec for this process: its environment, its terminal, a fresh run id."""
    return build_spec(
        request,
        info,
        host_cwd=cwd,
        environ=os.environ,
        tty=os.isatty(0) and os.isatty(1),
        run_id=os.urandom(8).hex(),
    )


def execute_and_give_back(
    engine: Engine,
    spec: ExecSpec,
    exec_id: str,
    *,
    request: RunRequest,
    info: ServiceInfo,
    resolution: Resolution,
    started: float,
) -> int:
    """Run the created exec to its end, then `--fix-ownership` if wanted; the command's exit code."""
    code = execute(engine, spec, exec_id)
    if request.fix_ownership or (request.fix_ownership is None and resolution.fix_ownership):
        from devtools.ownership.fix import after_run  # only now: it is not light

        after_run(
            resolution.fix_ownership,
            request.cmd,
            flag=request.fix_ownership,
            mounts=info.mounts,
            exec_user=spec.user,
            started=started,
        )
    return code
