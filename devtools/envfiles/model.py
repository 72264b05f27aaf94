"""What the environment checks look at: every setting, where it is written, where it goes.

A *setting* is one `NAME=value` with its file and line: from `.env` and `.env.example` in the
project folder, from each `env_file`, and from `environment:` in the compose files. Each knows
the services whose containers receive it. Around them, the facts the rules judge against:
the services and the names they answer to, their container ports, and every host port that is
published (fixed in the compose files, or held by a track in the port registry).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from devtools.compose.dotenv import DotenvError, EnvVar, parse_file
from devtools.compose.model import ComposeProject, Service
from devtools.compose.source import ComposeSource

DOTENV = ".env"
EXAMPLE = ".env.example"


@dataclass(frozen=True)
class Setting:
    name: str
    value: str | None  # None: passed through from the environment, no value written
    path: Path
    line: int
    services: tuple[str, ...]  # the services whose containers receive it
    reads_as: str | None = None  # the name the container reads it as, when not `name`


@dataclass(frozen=True)
class EnvFile:
    path: Path
    services: tuple[str, ...]  # services that read it with `env_file`
    error: DotenvError | None = None


@dataclass(frozen=True)
class HostPort:
    """A host port something publishes: its owner and the container port behind it."""

    port: int
    service: str
    container_port: int
    owner: str  # "compose.yaml" or "track main"


@dataclass
class StackView:
    project: ComposeProject
    source: ComposeSource
    files: list[EnvFile]
    settings: list[Setting]
    host_ports: dict[int, HostPort] = field(default_factory=dict)
    external_hosts: frozenset[str] = frozenset()
    parsed: dict[Path, list[EnvVar]] = field(default_factory=dict)  # each env file's variables
    # Names of services the compose files define but the resolved project leaves out (a profile
    # not enabled): still names a container may dial once that profile runs.
    inactive_names: frozenset[str] = frozenset()

    @property
    def root(self) -> Path:
        return self.source.project_dir

    def names(self) -> dict[str, Service]:
        """Every name a container can reach another by: service names and aliases."""
        found: dict[str, Service] = {}
        for service in self.project.services.values():
            for name in (*service.aliases, service.name):
                found[name.lower()] = service
        return found

    def relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)


def env_files(source: ComposeSource) -> list[EnvFile]:
    """`.env`, `.env.example` and every `env_file`, each once, with the services reading it."""
    readers: dict[Path, list[str]] = {}
    for name in (DOTENV, EXAMPLE):
        readers.setdefault(source.project_dir / name, [])
    for ref in source.env_files:
        readers.setdefault(ref.path, []).append(ref.service)
    return [
        EnvFile(path, tuple(sorted(set(services))))
        for path, services in readers.items()
        if path.is_file()
    ]


def collect(
    project: ComposeProject,
    source: ComposeSource,
    host_ports: Mapping[int, HostPort] | None = None,
    external_hosts: frozenset[str] = frozenset(),
    declared_names: frozenset[str] = frozenset(),
) -> StackView:
    files: list[EnvFile] = []
    settings: list[Setting] = []
    by_path: dict[Path, list[EnvVar]] = {}
    for env_file in env_files(source):
        try:
            parsed = parse_file(env_file.path)
        except DotenvError as exc:
            files.append(EnvFile(env_file.path, env_file.services, exc))
            continue
        files.append(env_file)
        by_path[env_file.path] = parsed
        settings += [Setting(v.name, v.value, v.path, v.line, env_file.services) for v in parsed]
    # One `environment:` block shared through a YAML anchor is one setting for all its services.
    shared: dict[tuple[Path, int, str], list[str]] = {}
    values: dict[tuple[Path, int, str], str | None] = {}
    for entry in source.environment:
        key = (entry.file, entry.line, entry.name)
        shared.setdefault(key, []).append(entry.service)
        values[key] = entry.value
    for (file, line, name), services in shared.items():
        settings.append(Setting(name, values[(file, line, name)], file, line, tuple(services)))
    ports = dict(host_ports or {})
    for service in project.services.values():
        for mapping in service.ports:
            if mapping.published is not None:
                owner = source.files[0].name
                ports.setdefault(
                    mapping.published,
                    HostPort(mapping.published, service.name, mapping.target, owner),
                )
    active = {n.lower() for s in project.services.values() for n in (s.name, *s.aliases)}
    inactive = frozenset(n.lower() for n in declared_names) - active
    return StackView(project, source, files, settings, ports, external_hosts, by_path, inactive)
