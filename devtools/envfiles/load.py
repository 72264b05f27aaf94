"""Assemble a `StackView` for a checkout: compose files, env files, and the registry's ports."""

from __future__ import annotations

from pathlib import Path

from devtools.compose.model import ComposeProject
from devtools.compose.source import read_source
from devtools.config import ProjectConfig
from devtools.docker.compose import ComposeTarget
from devtools.envfiles.model import HostPort, StackView, collect
from devtools.errors import UnusableInput
from devtools.tracks import registry
from devtools.tracks.identity import repo_key


def registry_host_ports(config: ProjectConfig) -> dict[int, HostPort]:
    """Host ports the registry gives this repository's tracks (any track: all are host ports)."""
    repo = repo_key(config)
    entries = [e for e in registry.snapshot().entries.values() if e.repo == repo]
    return {
        p.published: HostPort(p.published, p.service, p.target, f"track {e.track}")
        for e in entries
        for p in e.ports
    }


def external_hosts(config: ProjectConfig) -> frozenset[str]:
    """`external-hosts` in `[tool.omc-dev.env]`: names outside the stack that are fine."""
    names = config.section("env").get("external-hosts", [])
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise UnusableInput(
            f"{config.pyproject}: [tool.omc-dev.env] external-hosts must be a list of host names"
        )
    return frozenset(n.lower() for n in names)


def declared_names(files: tuple[Path, ...]) -> frozenset[str]:
    """Every service name and alias the compose files define, whatever profiles are enabled
    (`docker compose config` leaves out services of profiles that are not)."""
    import yaml

    names: set[str] = set()
    for file in files:
        try:
            doc = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue  # compose resolved it, so this is no input error of ours: names are a bonus
        services = doc.get("services") if isinstance(doc, dict) else None
        for name, raw in (services or {}).items() if isinstance(services, dict) else ():
            names.add(str(name))
            if not isinstance(raw, dict):
                continue
            names.update(str(raw[k]) for k in ("hostname", "container_name") if raw.get(k))
            networks = raw.get("networks")
            for net in networks.values() if isinstance(networks, dict) else ():
                if isinstance(net, dict):
                    names.update(str(a) for a in net.get("aliases") or ())
    return frozenset(names)


def load_view(config: ProjectConfig, target: ComposeTarget, project: ComposeProject) -> StackView:
    source = read_source(target.files)
    return collect(
        project,
        source,
        registry_host_ports(config),
        external_hosts(config),
        declared_names(tuple(source.files)),
    )
