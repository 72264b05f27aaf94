"""A typed model of `docker compose config --format json`: the project after compose resolved it.

Parsing is a pure function of the JSON document, so every consumer (run, ports, doctor,
ownership) sees the same paths, ports and mounts that compose itself will use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from devtools.compose.paths import container_path
from devtools.errors import UnusableInput


@dataclass(frozen=True)
class Mount:
    type: str  # "bind", "volume", "tmpfs", ...
    source: str | None  # host path for binds (absolute, resolved by compose); volume name otherwise
    target: str  # path inside the container
    read_only: bool = False

    @property
    def is_bind(self) -> bool:
        return self.type == "bind" and self.source is not None


@dataclass(frozen=True)
class PortMapping:
    target: int  # container port
    published: int | None  # host port; None means "engine picks one"
    host_ip: str | None = None
    protocol: str = "tcp"


@dataclass(frozen=True)
class Service:
    name: str
    image: str | None = None
    build_context: Path | None = None
    build_network: str | None = None
    dockerfile: str | None = None  # with build_context: which image the service's code is
    build_args: Mapping[str, str | None] = field(default_factory=dict)  # `build: args:`
    volumes: tuple[Mount, ...] = ()
    ports: tuple[PortMapping, ...] = ()
    environment: Mapping[str, str | None] = field(default_factory=dict)
    user: str | None = None
    working_dir: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    has_healthcheck: bool = False
    healthcheck_test: tuple[str, ...] = ()  # the healthcheck's command, as words
    profiles: tuple[str, ...] = ()
    # Other names it answers to on its networks: container_name, hostname, aliases, links.
    aliases: tuple[str, ...] = ()
    expose: tuple[int, ...] = ()  # container ports declared with `expose`
    network_mode: str | None = None  # "host", "service:db", ...: where `localhost` leads
    networks: tuple[str, ...] = ()  # the project networks it joins (logical names)

    @property
    def container_ports(self) -> frozenset[int]:
        """Ports the service is known to listen on inside its container."""
        return frozenset({p.target for p in self.ports} | set(self.expose))

    @property
    def bind_mounts(self) -> tuple[Mount, ...]:
        return tuple(m for m in self.volumes if m.is_bind)

    def container_path(self, host_path: Path) -> PurePosixPath | None:
        """The path inside the container for `host_path`, through the most specific bind mount."""
        found = container_path(str(host_path), self.mount_pairs)
        return PurePosixPath(found) if found is not None else None

    @property
    def mount_pairs(self) -> tuple[tuple[str, str], ...]:
        """(host source, container target) of every bind mount."""
        return tuple((m.source, m.target) for m in self.volumes if m.is_bind and m.source)


@dataclass(frozen=True)
class ComposeProject:
    name: str
    working_dir: Path
    files: tuple[Path, ...]
    services: Mapping[str, Service]
    volumes: Mapping[str, str]  # logical volume name -> engine volume name
    networks: Mapping[str, str]
    # Networks created outside the project (`external: true`): other stacks' containers are there.
    external_networks: frozenset[str] = frozenset()

    def service(self, name: str) -> Service:
        try:
            return self.services[name]
        except KeyError:
            known = ", ".join(sorted(self.services)) or "none"
            raise UnusableInput(
                f"no service {name!r} in {self._files_label()} (services: {known})"
            ) from None

    @property
    def buildable(self) -> tuple[Service, ...]:
        return tuple(s for s in self.services.values() if s.build_context is not None)

    def _files_label(self) -> str:
        own = [f for f in self.files if ".omc" not in f.parts]  # not omc-dev's ports override
        return ", ".join(f.name for f in own) or "the compose project"


def _int_or_none(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _aliases(raw: Mapping[str, Any]) -> tuple[str, ...]:
    names = [raw.get("container_name"), raw.get("hostname")]
    networks = raw.get("networks") or {}
    if isinstance(networks, Mapping):
        for net in networks.values():
            if isinstance(net, Mapping):
                names += list(net.get("aliases") or ())
    for link in raw.get("links") or ():
        names.append(str(link).rpartition(":")[2])
    return tuple(sorted({str(n) for n in names if n}))


def _parse_service(name: str, raw: Mapping[str, Any]) -> Service:
    build = raw.get("build")
    context = network = dockerfile = None
    args: dict[str, str | None] = {}
    if isinstance(build, Mapping) and build.get("context"):
        context = Path(str(build["context"]))
        network = build.get("network")
        dockerfile = build.get("dockerfile")
        raw_args = build.get("args")
        if isinstance(raw_args, Mapping):
            args = {str(k): (None if v is None else str(v)) for k, v in raw_args.items()}
    mounts = tuple(
        Mount(
            type=str(v.get("type", "volume")),
            source=v.get("source"),
            target=str(v.get("target", "")),
            read_only=bool(v.get("read_only", False)),
        )
        for v in raw.get("volumes") or ()
        if isinstance(v, Mapping)
    )
    ports = tuple(
        PortMapping(
            target=int(p["target"]),
            published=_int_or_none(p.get("published")),
            host_ip=p.get("host_ip") or None,
            protocol=str(p.get("protocol", "tcp")),
        )
        for p in raw.get("ports") or ()
        if isinstance(p, Mapping) and p.get("target") is not None
    )
    env = raw.get("environment") or {}
    return Service(
        name=name,
        image=raw.get("image"),
        build_context=context,
        build_network=network,
        dockerfile=None if dockerfile is None else str(dockerfile),
        build_args=args,
        volumes=mounts,
        ports=ports,
        environment={str(k): (None if v is None else str(v)) for k, v in env.items()},
        user=raw.get("user"),
        working_dir=raw.get("working_dir"),
        labels={str(k): str(v) for k, v in (raw.get("labels") or {}).items()},
        has_healthcheck=bool(raw.get("healthcheck")) and not raw["healthcheck"].get("disable"),
        healthcheck_test=_healthcheck_test(raw.get("healthcheck")),
        profiles=tuple(raw.get("profiles") or ()),
        aliases=_aliases(raw),
        expose=tuple(
            port
            for item in raw.get("expose") or ()
            if (port := _int_or_none(str(item).partition("/")[0].partition("-")[0])) is not None
        ),
        network_mode=raw.get("network_mode") or None,
        networks=_network_names(raw.get("networks")),
    )


def _healthcheck_test(raw: Any) -> tuple[str, ...]:
    test = raw.get("test") if isinstance(raw, Mapping) else None
    if isinstance(test, str):
        return tuple(test.split())
    if isinstance(test, list):
        return tuple(str(word) for word in test)
    return ()


def _network_names(raw: Any) -> tuple[str, ...]:
    if isinstance(raw, Mapping):
        return tuple(sorted(str(k) for k in raw))
    if isinstance(raw, list):
        return tuple(sorted(str(k) for k in raw))
    return ()


def parse_config(doc: Mapping[str, Any], *, files: tuple[Path, ...] = ()) -> ComposeProject:
    """Build the model from compose's own resolved JSON."""
    if not isinstance(doc.get("services"), Mapping):
        raise UnusableInput("compose config has no services")
    services = {name: _parse_service(name, raw) for name, raw in doc["services"].items()}
    working_dir = files[0].parent if files else Path.cwd()
    return ComposeProject(
        name=str(doc.get("name", "")),
        working_dir=working_dir,
        files=files,
        services=services,
        volumes={k: str((v or {}).get("name", k)) for k, v in (doc.get("volumes") or {}).items()},
        networks={k: str((v or {}).get("name", k)) for k, v in (doc.get("networks") or {}).items()},
        external_networks=frozenset(
            str(k)
            for k, v in (doc.get("networks") or {}).items()
            if isinstance(v, Mapping) and v.get("external")
        ),
    )
