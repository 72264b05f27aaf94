"""The track's containers, networks and volumes, and stale containers that hold its ports.

Compose does the tearing down (`devtools.docker.compose` is the only caller of its CLI); the Engine SDK
only lists, so the plan can name every container, network and volume before anything stops.
Stale containers are those of this repository's other compose projects (`<repo>-<track>`) that
publish a host port this track needs: a leftover of an old track keeps it from starting.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from devtools.config import ProjectConfig
from devtools.docker.compose import ComposeTarget, load_project, run_compose
from devtools.errors import EnvironmentMissing
from devtools.ownership.plan import Outcome, Step
from devtools.stack.target import stack_target
from devtools.tracks.identity import Track, project_name, repo_name
from devtools.tracks.occupancy import PROJECT_LABEL

if TYPE_CHECKING:
    from devtools.docker.sdk import DockerClient


@dataclass(frozen=True)
class Resources:
    containers: tuple[str, ...]
    networks: tuple[str, ...]
    volumes: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not (self.containers or self.networks or self.volumes)

    def lines(self) -> tuple[str, ...]:
        return (
            *(f"container {n}" for n in self.containers),
            *(f"network {n}" for n in self.networks),
            *(f"volume {n}" for n in self.volumes),
        )


def _resources(engine: DockerClient, project: str, volumes: bool) -> Resources:
    label: dict[str, str | list[str] | bool] = {"label": f"{PROJECT_LABEL}={project}"}
    return Resources(
        tuple(sorted(str(c.name) for c in engine.containers.list(all=True, filters=label))),
        tuple(sorted(str(n.name) for n in engine.networks.list(filters=label))),
        tuple(sorted(str(v.name) for v in engine.volumes.list(filters=label))) if volumes else (),
    )


def host_ports(container: Any) -> set[int]:
    """Host ports a running container publishes."""
    ports: set[int] = set()
    for bindings in (container.ports or {}).values():
        for binding in bindings or ():
            if str(binding.get("HostPort", "")).isdigit():
                ports.add(int(binding["HostPort"]))
    return ports


def _target(config: ProjectConfig, track: Track) -> ComposeTarget:
    """The track's stack as `up` made it; by name alone when its compose files are gone
    (compose can take a project down without them)."""
    try:
        return stack_target(config, track)
    except EnvironmentMissing:
        return ComposeTarget(project_name(config, track), ())


def _wanted_ports(target: ComposeTarget, running: Iterable[Any]) -> set[int]:
    """Host ports this track publishes: in its resolved compose files, and on its containers."""
    ports: set[int] = set()
    if target.files:
        project = load_project(target)
        ports |= {p.published for s in project.services.values() for p in s.ports if p.published}
    for container in running:
        ports |= host_ports(container)
    return ports


def plan_stack(
    config: ProjectConfig, track: Track, *, volumes: bool
) -> tuple[list[Step], list[str]]:
    """Steps that take the track's stack down and free its ports; notes on what is left alone."""
    from devtools.docker.sdk import client

    engine = client()
    project = project_name(config, track)
    target = _target(config, track)
    found = _resources(engine, project, True)
    mine = found if volumes else replace(found, volumes=())
    steps: list[Step] = []
    notes: list[str] = []
    if not volumes and found.volumes:
        kept = ", ".join(found.volumes)
        notes.append(f"volumes kept: {kept} (add --volumes for a clean slate)")
    if not mine.empty:
        what = "containers, networks and volumes" if volumes else "containers and networks"
        steps.append(
            Step(
                "containers",
                f"stop and remove the {what} of project {project}",
                mine.lines(),
                lambda: _down(engine, target, volumes, mine),
            )
        )

    running = engine.containers.list(filters={"status": "running"})
    ours = [c for c in running if c.labels.get(PROJECT_LABEL) == project]
    wanted = _wanted_ports(target, ours)
    prefix = f"{repo_name(config)}-"
    stale: list[tuple[Any, set[int]]] = []
    for container in running:
        other = container.labels.get(PROJECT_LABEL, "")
        held = host_ports(container) & wanted
        if other == project or not held:
            continue
        if other.startswith(prefix):
            stale.append((container, held))
        else:
            owner = f"project {other}" if other else "no compose project"
            notes.append(
                f"port(s) {_ports(held)} held by container {container.name} ({owner}), "
                "not this repository's: left alone"
            )
    if stale:
        steps.append(
            Step(
                "stale-containers",
                f"remove stale containers of this repository that hold ports of {project}",
                tuple(
                    f"container {c.name} (project {c.labels[PROJECT_LABEL]}) holds {_ports(h)}"
                    for c, h in stale
                ),
                lambda: _remove_stale(stale),
            )
        )
    return steps, notes


def _ports(ports: Iterable[int]) -> str:
    return ", ".join(str(p) for p in sorted(ports))


def _down(engine: DockerClient, target: ComposeTarget, volumes: bool, before: Resources) -> Outcome:
    args = ["down", "--remove-orphans", "--timeout", "10"]
    run_compose(target, *args, *(["--volumes"] if volumes else []), timeout=600)
    left = _resources(engine, target.name, volumes)
    gone = Resources(
        tuple(n for n in before.containers if n not in left.containers),
        tuple(n for n in before.networks if n not in left.networks),
        tuple(n for n in before.volumes if n not in left.volumes),
    )
    return Outcome(
        tuple(f"removed {line}" for line in gone.lines()),
        tuple(f"still there: {line}" for line in left.lines()),
    )


def _remove_stale(stale: list[tuple[Any, set[int]]]) -> Outcome:
    from devtools.docker import errors as docker_errors

    done, failed = [], []
    for container, held in stale:
        try:
            container.remove(force=True)
        except docker_errors.NotFound:
            pass
        except docker_errors.APIError as exc:
            failed.append(f"could not remove container {container.name}: {exc.explanation}")
            continue
        done.append(f"removed container {container.name}, freeing {_ports(held)}")
    return Outcome(tuple(done), tuple(failed))
