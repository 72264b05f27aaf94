"""Where each value a container receives was written: the line a finding points at.

`docker compose config` gives every service's resolved environment but not where a value came
from. Compose's own precedence answers it: the last `environment:` entry for the name (override
files come after the file they override), else the last `env_file` that sets it. An entry that
is only `${VAR}` takes its value from `.env` (when the shell does not set VAR): then the `.env`
line is where it was written, and where a fix belongs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from devtools.compose.model import Service
from devtools.compose.source import EnvironmentEntry
from devtools.envfiles.model import DOTENV, StackView

How = Literal["environment", "env_file", "interpolation", "unknown"]

# `${VAR}`, `${VAR:-x}`, `${VAR-x}`, `${VAR:?e}`, `${VAR?e}`, `$VAR` as the whole value.
_WHOLE = re.compile(
    r"^(?:\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?::?[-?][^}]*)?\}|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*))$"
)


@dataclass(frozen=True)
class Origin:
    path: Path
    line: int | None
    how: How
    variable: str | None = None  # the variable the whole value is interpolated from (`${VAR}`)
    entry: tuple[Path, int] | None = None  # the `environment:` line that passes it, if any


@dataclass(frozen=True)
class Received:
    """One variable as one service's container receives it."""

    service: str
    name: str
    value: str | None
    origin: Origin


def whole_variable(raw: str | None) -> str | None:
    """VAR when `raw` is a single interpolation and nothing else."""
    match = _WHOLE.match(raw or "")
    return (match.group("braced") or match.group("bare")) if match else None


def _dotenv_lines(view: StackView) -> dict[str, tuple[int, str | None]]:
    return {v.name: (v.line, v.value) for v in view.parsed.get(view.root / DOTENV, [])}


def origin_of(view: StackView, service: str, name: str) -> Origin:
    entries = [e for e in view.source.environment if e.service == service and e.name == name]
    dotenv = _dotenv_lines(view)
    if entries:
        order = {file: i for i, file in enumerate(view.source.files)}
        last: EnvironmentEntry = max(entries, key=lambda e: (order.get(e.file, -1), e.line))
        variable = name if last.value is None else whole_variable(last.value)
        entry = (last.file, last.line)
        from_dotenv = variable is not None and variable in dotenv and variable not in os.environ
        if from_dotenv and variable is not None:
            line, value = dotenv[variable]
            # `${VAR:-default}` with `VAR=` empty in .env: the default is what arrives.
            if value or ":-" not in (last.value or ""):
                return Origin(view.root / DOTENV, line, "interpolation", variable, entry)
        return Origin(last.file, last.line, "environment", variable, entry)
    for ref in reversed([r for r in view.source.env_files if r.service == service]):
        lines = [v.line for v in view.parsed.get(ref.path, []) if v.name == name]
        if lines:
            return Origin(ref.path, lines[-1], "env_file")
    return Origin(view.source.files[0], None, "unknown")


def received(view: StackView) -> list[Received]:
    return [
        Received(service.name, name, value, origin_of(view, service.name, name))
        for service in sorted(view.project.services.values(), key=lambda s: s.name)
        for name, value in sorted(service.environment.items())
    ]


def _code(service: Service) -> tuple[str, ...] | None:
    """What identifies the code a service runs: its build, else its image."""
    if service.build_context is not None:
        return ("build", str(service.build_context), service.dockerfile or "Dockerfile")
    return ("image", service.image) if service.image else None


def presumed_reader(
    view: StackView, item: Received, explicit: Mapping[str, frozenset[str]]
) -> bool:
    """Whether the service's code may read the variable at all.

    A whole `.env` passed with `env_file` hands every service every name. When some services set
    the name themselves in `environment:`, those are the ones that read it: a service that only
    got it with the rest of the file, and runs other code than all of them, is presumed not to.
    """
    if item.origin.how != "env_file":
        return True
    setters = explicit.get(item.name, frozenset()) - {item.service}
    if not setters:
        return True
    mine = _code(view.project.services[item.service])
    return any(
        mine is not None and _code(view.project.services[s]) == mine
        for s in setters
        if s in view.project.services
    )


def explicit_setters(view: StackView) -> dict[str, frozenset[str]]:
    """For each name: the services that set it in `environment:`."""
    found: dict[str, set[str]] = {}
    for entry in view.source.environment:
        found.setdefault(entry.name, set()).add(entry.service)
    return {name: frozenset(services) for name, services in found.items()}
