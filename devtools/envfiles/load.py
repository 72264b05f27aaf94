"""Assemble a `StackView` for a checkout: compose files, env files, and the registry's ports."""

from __future__ import annotations

from devtools.compose.cli import ComposeTarget
from devtools.compose.model import ComposeProject
from devtools.compose.source import read_source
from devtools.config import ProjectConfig
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


def load_view(config: ProjectConfig, target: ComposeTarget, project: ComposeProject) -> StackView:
    return collect(
        project,
        read_source(target.files),
        registry_host_ports(config),
        external_hosts(config),
    )
