"""Operations on a track's stack, through compose: up, down, status, and the db clean slate."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from devtools.compose.model import ComposeProject
from devtools.config import ProjectConfig
from devtools.docker.compose import ComposeTarget, run_compose
from devtools.errors import UnusableInput, UserError
from devtools.stack.target import compose_env


def _compose(target: ComposeTarget, *args: str, what: str) -> None:
    """A compose command whose progress the user watches; a failure names the step."""
    proc = run_compose(target, *args, capture=False, check=False, env=compose_env())
    if proc.returncode != 0:
        _require_engine()  # no engine is "environment missing" (125), not a failed step
        raise UserError(
            f"{what} failed (docker compose {args[0]} exited {proc.returncode}; its output is above)",
            exit_code=1,
        )


def _require_engine() -> None:
    """EnvironmentMissing (exit 125) when the Docker engine cannot be reached."""
    from devtools.docker.engine_api import Engine, EngineError

    try:
        Engine().request("GET", "/version")
    except EngineError:
        return  # it answered: it is there


def check_services(target: ComposeTarget, services: Sequence[str]) -> None:
    """One line (exit 2) for a service the project does not define, before compose says it in
    its own words. Services of every profile count: naming one starts it."""
    if not services:
        return
    proc = run_compose(target, "--profile", "*", "config", "--services", check=False)
    if proc.returncode != 0:
        return  # an older compose without `--profile '*'`: compose itself will say it
    known = sorted({line.strip() for line in proc.stdout.splitlines() if line.strip()})
    unknown = [s for s in services if s not in known]
    if unknown:
        raise UnusableInput(
            f"no service {unknown[0]!r} in compose project {target.name} "
            f"(services: {', '.join(known) or 'none'})"
        )


def up(target: ComposeTarget, services: Sequence[str] = (), *, build: bool = False) -> None:
    """Start the stack (or these services and what they depend on) and wait until healthy."""
    check_services(target, services)
    args = ["up", "--detach", "--wait", "--remove-orphans"]
    if build:
        args.append("--build")
    _compose(target, *args, *services, what=f"starting {' '.join(services) or 'the stack'}")


def down(target: ComposeTarget, *, volumes: bool = False) -> None:
    args = ["down", "--remove-orphans", *(["--volumes"] if volumes else [])]
    _compose(target, *args, what="stopping the stack")


@dataclass(frozen=True)
class ServiceState:
    service: str
    container: str
    state: str  # running, exited, ...
    health: str  # healthy, starting, unhealthy, or "" without a healthcheck
    ports: tuple[str, ...]  # "127.0.0.1:49153->8000/tcp"


def status(target: ComposeTarget) -> list[ServiceState]:
    """The project's containers, as `docker compose ps --all` sees them."""
    proc = run_compose(target, "ps", "--all", "--format", "json")
    rows = []
    for line in proc.stdout.splitlines():
        if not line.strip():
            continue
        doc = json.loads(line)
        # One row per published port (compose lists the IPv4 and IPv6 bindings separately).
        ports = {
            (p["PublishedPort"], p["TargetPort"], p.get("Protocol", "tcp")): p.get("URL")
            or "0.0.0.0"
            for p in reversed(doc.get("Publishers") or ())
            if p.get("PublishedPort")
        }
        rows.append(
            ServiceState(
                doc.get("Service", ""),
                doc.get("Name", ""),
                doc.get("State", ""),
                doc.get("Health", ""),
                tuple(
                    f"{ip}:{pub}->{tgt}/{proto}" for (pub, tgt, proto), ip in sorted(ports.items())
                ),
            )
        )
    return sorted(rows, key=lambda r: r.service)


@dataclass(frozen=True)
class ResetPlan:
    """The clean-slate protocol for the database, with the concrete names it will touch."""

    project: str
    db_service: str
    migrate_service: str
    volumes: tuple[str, ...]  # engine volume names

    def steps(self) -> list[str]:
        return [
            f"stop and remove the {self.db_service} container of compose project {self.project}",
            f"delete volume{'s' if len(self.volumes) > 1 else ''} {', '.join(self.volumes)} "
            "(every row in the database is lost)",
            f"start {self.db_service} and wait until it is healthy",
            f"run {self.migrate_service} (migrations to the newest revision)",
        ]


def db_services(
    config: ProjectConfig, project: ComposeProject, command: str = "db reset"
) -> tuple[str, str]:
    """The database service and the one-off migrate service ([tool.omc-dev.db] names them)."""
    section = config.section("db")
    names = []
    for key, default in (("service", "db"), ("migrate-service", "migrate")):
        value = str(section.get(key, default))
        if value not in project.services:
            known = ", ".join(sorted(project.services))
            raise UnusableInput(
                f"no service {value!r} for {command} (services: {known}): "
                f"set {key} in [tool.omc-dev.db]"
            )
        names.append(value)
    return names[0], names[1]


def reset_plan(config: ProjectConfig, project: ComposeProject) -> ResetPlan:
    """Which services and volumes `db reset` acts on ([tool.omc-dev.db] names the services)."""
    db_service, migrate_service = db_services(config, project)
    names = {"service": db_service, "migrate-service": migrate_service}
    db = project.services[names["service"]]
    volumes = tuple(
        project.volumes[m.source]
        for m in db.volumes
        if m.type == "volume" and m.source is not None and m.source in project.volumes
    )
    if not volumes:
        raise UnusableInput(
            f"service {db.name} keeps its data in no named volume: there is nothing to reset"
        )
    return ResetPlan(project.name, names["service"], names["migrate-service"], volumes)


def reset_db(target: ComposeTarget, plan: ResetPlan) -> None:
    """Remove the db volume, start db, wait until healthy, migrate."""
    _compose(target, "rm", "--stop", "--force", "--volumes", plan.db_service, what="removing db")
    for volume in plan.volumes:
        _remove_volume(volume)
    _compose(target, "up", "--detach", "--wait", "--no-deps", plan.db_service, what="starting db")
    migrate(target, plan.migrate_service)


def migrate(target: ComposeTarget, migrate_service: str) -> None:
    """Run the one-off migrate service (migrations to the newest revision)."""
    _compose(target, "run", "--rm", "--no-TTY", "--no-deps", migrate_service, what="migrating")


def _remove_volume(name: str) -> None:
    from devtools.docker import errors as docker_errors
    from devtools.docker.sdk import client

    try:
        client().volumes.get(name).remove()
    except docker_errors.NotFound:
        return  # already gone: the slate is clean
    except docker_errors.APIError as exc:
        raise UserError(
            f"cannot delete volume {name}: {exc.explanation or exc}: "
            "stop what uses it (omc-dev down), then reset again",
            exit_code=1,
        ) from None
