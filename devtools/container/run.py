"""`omc-dev run`'s full path: resolve project, service and container from compose, then exec.

Every call that gets here records what it resolved for the fast path (`devtools.container.fast`).
"""

from __future__ import annotations

import time
from pathlib import Path

from devtools import config as config_mod
from devtools.compose.model import ComposeProject, Service
from devtools.config import ProjectConfig
from devtools.container.cache import Resolution, RunCache
from devtools.container.choose import candidates_label, choose_service
from devtools.container.detect import inside_container
from devtools.container.direct import run_directly
from devtools.container.fast import execute_and_give_back, spec_here
from devtools.container.request import RunRequest
from devtools.container.spec import ServiceInfo, resolve_user
from devtools.docker.compose import ComposeTarget, load_project
from devtools.docker.engine_api import Engine, EngineError
from devtools.errors import EnvironmentMissing, UnusableInput, UserError
from devtools.git.layout import find as git_layout
from devtools.ownership.fix import setting as fix_setting
from devtools.stack.target import stack_target
from devtools.tracks.identity import resolve_track


def run_command(request: RunRequest) -> int:
    """Run the request: directly when inside a container, else in the service's container."""
    reason = inside_container()
    if reason:
        return run_directly(request, reason)
    resolved = resolve_service(request)
    return exec_resolved(resolved, request)


class Resolved:
    """The running container of the requested service, and what `run` resolved to find it."""

    __slots__ = ("engine", "info", "project", "resolution", "track")

    def __init__(
        self,
        engine: Engine,
        info: ServiceInfo,
        resolution: Resolution,
        project: str,
        track: str | None,
    ) -> None:
        self.engine = engine
        self.info = info
        self.resolution = resolution
        self.project = project
        self.track = track


def resolve_service(request: RunRequest) -> Resolved:
    """Find (or with --start, start) the service's container; record it for the fast path."""
    cfg = config_mod.load()
    track = resolve_track(cfg, request.track)
    target = stack_target(cfg, track)
    project = load_project(target)
    here = Path.cwd()
    service = (
        project.service(request.service) if request.service else default_service(cfg, project, here)
    )
    engine = Engine()
    container = find_container(engine, target.name, service.name)
    if container is None:
        if not request.start:
            raise not_running(service.name, target.name, request.track)
        from devtools.stack.ops import up
        from devtools.stack.target import ports_target

        target = ports_target(cfg, track)  # on the track's own host ports
        up(target, [service.name])
        container = find_container(engine, target.name, service.name)
        if container is None:
            raise not_running(service.name, target.name, request.track)
    info = ServiceInfo(
        service.name,
        container,
        service.mount_pairs,
        service.working_dir,
        default_user(cfg, service.name),
    )
    resolution = Resolution(
        target.name, _default_name(cfg, project, here), {service.name: info}, fix_setting(cfg)
    )
    RunCache().store(str(here), request.track, resolution, watched_inputs(cfg, target))
    return Resolved(engine, info, resolution, target.name, request.track)


def exec_resolved(resolved: Resolved, request: RunRequest) -> int:
    """Run the request in the resolved container; the command's exit code."""
    spec = spec_here(request, resolved.info, str(Path.cwd()))
    started = time.time()
    try:
        exec_id = resolved.engine.create_exec(resolved.info.container, spec.exec_config())
    except EngineError as exc:
        if exc.status in (404, 409):  # stopped between the lookup and now
            raise not_running(resolved.info.name, resolved.project, resolved.track) from None
        raise UserError(f"the engine refused the exec: {exc.message}", exit_code=1) from None
    return execute_and_give_back(
        resolved.engine,
        spec,
        exec_id,
        request=request,
        info=resolved.info,
        resolution=resolved.resolution,
        started=started,
    )


def not_running(service: str, project: str, track: str | None) -> EnvironmentMissing:
    up_cmd = f"omc-dev up --track {track}" if track else "omc-dev up"
    return EnvironmentMissing(
        f"service {service} is not running in compose project {project}: "
        f"start the stack with `{up_cmd}`, or pass --start"
    )


def _default_name(cfg: ProjectConfig, project: ComposeProject, cwd: Path) -> str | None:
    configured = cfg.section("run").get("service")
    if configured:
        return str(configured)
    chosen = choose_service(project, cwd, cfg.root)
    return chosen.name if chosen is not None else None


def default_service(cfg: ProjectConfig, project: ComposeProject, cwd: Path) -> Service:
    """`service` in [tool.omc-dev.run], else the service whose code `cwd` is in (see choose)."""
    name = _default_name(cfg, project, cwd)
    if name:
        return project.service(name)
    candidates = candidates_label(project, cwd)
    if not candidates:
        # Only images (a database, a cache): the project's own code runs on the host.
        from devtools.docker.compose import compose_files

        own = ", ".join(f.name for f in compose_files(cfg))  # not omc-dev's ports override
        raise UnusableInput(
            f"no service in {own or 'the compose file'} "
            "builds this project's code or mounts this folder (services: "
            f"{', '.join(project.services) or 'none'}): run the command on the host, "
            "or pass -s SERVICE to run it in one of them"
        )
    raise UnusableInput(
        f"which service should run the command ({candidates})? "
        'pass -s SERVICE, or set service = "NAME" in [tool.omc-dev.run]'
    )


def default_user(cfg: ProjectConfig, service: str) -> str | None:
    """`user` in [tool.omc-dev.run.services.SERVICE]: host, root, UID or UID:GID."""
    value = cfg.section("run", "services", service).get("user")
    if value is None:
        return None
    try:
        resolve_user(str(value))
    except UnusableInput:
        raise UnusableInput(
            f"{cfg.pyproject}: [tool.omc-dev.run.services.{service}] user = {value!r}: "
            "use host, root, UID or UID:GID"
        ) from None
    return str(value)


def find_container(engine: Engine, project: str, service: str) -> str | None:
    """The id of the service's running container (the first replica), by its compose labels."""
    try:
        found = engine.find_containers(
            {
                "com.docker.compose.project": project,
                "com.docker.compose.service": service,
                "com.docker.compose.oneoff": "False",
            }
        )
    except EngineError as exc:
        raise UserError(
            f"the engine refused to list containers: {exc.message}", exit_code=1
        ) from None
    if not found:
        return None
    found.sort(key=lambda c: int(c.get("Labels", {}).get("com.docker.compose.container-number", 1)))
    return str(found[0]["Id"])


def watched_inputs(cfg: ProjectConfig, target: ComposeTarget) -> list[str]:
    """Every file the resolution read: a change to any sends `run` back to the full path."""
    paths = [cfg.root / "pyproject.toml", *target.files, target.files[0].parent / ".env"]
    layout = git_layout(cfg.root)
    if layout is not None:
        paths += [layout.worktree / ".git", layout.git_dir / "HEAD"]
    return [str(Path(p)) for p in paths]
