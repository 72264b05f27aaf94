"""Per-track values: `[tool.omc-dev.tracks.env]` templates rendered with a track's names and ports.

A value such as `FRONTEND_HOST = "http://localhost:{port:frontend:80}"` names the host port this
track publishes for the frontend's container port 80, so every track's backend links to its own
frontend. Placeholders:

  {project}                the track's compose project name (unique per checkout and track)
  {track}                  the track as the port registry knows it (`ports list`)
  {repo}                   the repository's name (`project` in [tool.omc-dev])
  {port:SERVICE}           the host port of SERVICE's only published port
  {port:SERVICE:PORT}      the host port of SERVICE's container PORT (`PORT/udp` for UDP)
  {{ and }}                a literal brace

A value is a string, or a table `{ value = "...", services = ["backend"] }` naming the services
whose containers get it. Without `services`, the services whose resolved environment already
has the variable get it (they read it from `.env`, an `env_file` or `environment:`). Every value
is also passed to compose's own environment, so `${NAME}` interpolation (labels, image tags,
build args) sees the track's value, never the one in `.env`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from devtools.config import ProjectConfig
from devtools.errors import UnusableInput
from devtools.tracks.registry import PortAssignment

SECTION = ("tracks", "env")
WHERE = "[tool.omc-dev.tracks.env]"
NAMES = ("project", "track", "repo")  # the placeholders without arguments
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Read by the tools themselves: in compose's environment they would retarget the command.
RESERVED_PREFIXES = ("COMPOSE_", "DOCKER_", "OMC_")
# `{{`, `}}`, a placeholder `{...}`, or a lone brace (an error).
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_PORT_ARG = re.compile(r"^(?P<port>\d{1,5})(?:/(?P<protocol>tcp|udp))?$")


@dataclass(frozen=True)
class Template:
    name: str  # the variable
    text: str  # the template as written
    services: tuple[str, ...] | None  # None: the services that already have the variable

    @property
    def uses_ports(self) -> bool:
        return any(p.startswith("port:") for p in placeholders(self))


@dataclass(frozen=True)
class TrackNames:
    """What placeholders are rendered from. `ports` is None before the track holds ports."""

    project: str
    track: str
    repo: str
    ports: Sequence[PortAssignment] | None


def _bad(template: Template, what: str) -> UnusableInput:
    return UnusableInput(f"{WHERE} {template.name} = {template.text!r}: {what}")


def placeholders(template: Template) -> list[str]:
    """The placeholders of a template (without braces), checked for syntax."""
    found = []
    for match in _TOKEN.finditer(template.text):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        if match.group(1) is None:
            raise _bad(template, f"lone {token!r} (write {token * 2} for a literal brace)")
        found.append(_check_placeholder(template, match.group(1).strip()))
    return found


def _check_placeholder(template: Template, body: str) -> str:
    kind, _, args = body.partition(":")
    if kind in NAMES and not args:
        return body
    if kind == "port" and args:
        service, _, port = args.partition(":")
        if service and (not port or _PORT_ARG.match(port)):
            return body
        raise _bad(
            template,
            f"{{{body}}} must be {{port:SERVICE}} or {{port:SERVICE:CONTAINER_PORT}} "
            "(e.g. {port:frontend:80})",
        )
    known = ", ".join(f"{{{n}}}" for n in NAMES)
    raise _bad(template, f"unknown placeholder {{{body}}} (known: {known}, {{port:SERVICE:PORT}})")


def templates(config: ProjectConfig) -> tuple[Template, ...]:
    """The templates in `[tool.omc-dev.tracks.env]`, syntax-checked (exit 2 on a bad one)."""
    table = config.section(*SECTION)
    found = []
    for name, raw in table.items():
        template = _template(config, str(name), raw)
        placeholders(template)
        found.append(template)
    return tuple(found)


def _template(config: ProjectConfig, name: str, raw: Any) -> Template:
    where = f"{config.pyproject}: {WHERE} {name}"
    if not _VARIABLE.match(name):
        raise UnusableInput(f"{where}: not a variable name (letters, digits and _)")
    if name.upper().startswith(RESERVED_PREFIXES):
        raise UnusableInput(
            f"{where}: compose, docker and omc-dev read {name} themselves (the track's project, "
            "files and ports are set already): not a per-track value; remove it"
        )
    if isinstance(raw, str):
        return Template(name, raw, None)
    if isinstance(raw, Mapping):
        unknown = sorted(set(raw) - {"value", "services"})
        value, services = raw.get("value"), raw.get("services")
        if unknown:
            raise UnusableInput(f"{where}: unknown key {unknown[0]!r} (known: services, value)")
        if not isinstance(value, str):
            raise UnusableInput(f'{where}: needs value = "..." (a string)')
        if services is None:
            return Template(name, value, None)
        if not isinstance(services, list) or not all(isinstance(s, str) for s in services):
            raise UnusableInput(f'{where}: services must be a list of service names ["backend"]')
        return Template(name, value, tuple(services))
    raise UnusableInput(
        f'{where}: must be a string ("http://localhost:{{port:frontend:80}}") '
        'or a table { value = "...", services = ["backend"] }'
    )


def render(template: Template, names: TrackNames) -> str:
    """The template with its placeholders filled in; a port the track does not publish is one
    line naming the ports it does (exit 2)."""

    def fill(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        body = _check_placeholder(template, (match.group(1) or "").strip())
        if body in NAMES:
            return str(getattr(names, body))
        return str(_port(template, names, body.partition(":")[2]))

    placeholders(template)  # lone braces first: one clear line, not a half-rendered value
    return _TOKEN.sub(fill, template.text)


def _port(template: Template, names: TrackNames, args: str) -> int:
    service, _, port_text = args.partition(":")
    ports = [p for p in names.ports or () if p.service == service]
    if names.ports is None:
        raise _bad(template, "the track holds no host ports yet: run omc-dev ports first")
    if not ports:
        services = sorted({p.service for p in names.ports})
        raise _bad(
            template,
            f"service {service!r} publishes no port (services that do: "
            f"{', '.join(services) or 'none'})",
        )
    if not port_text:
        if len(ports) > 1:
            listed = ", ".join(_arg(p) for p in ports)
            raise _bad(template, f"{service} publishes several ports ({listed}): name one")
        return ports[0].published
    match = _PORT_ARG.match(port_text)
    assert match is not None  # checked by _check_placeholder
    target, protocol = int(match.group("port")), match.group("protocol") or "tcp"
    chosen = [p for p in ports if p.target == target and p.protocol == protocol]
    if not chosen:
        listed = ", ".join(_arg(p) for p in ports)
        raise _bad(
            template,
            f"{service} does not publish container port {port_text} (it publishes {listed})",
        )
    return chosen[0].published


def _arg(p: PortAssignment) -> str:
    return f"{{port:{p.service}:{p.target}{'/udp' if p.protocol == 'udp' else ''}}}"


def render_all(
    found: Sequence[Template], names: TrackNames, *, skip_unready: bool = False
) -> dict[str, str]:
    """Every template rendered. With `skip_unready`, templates that need ports are left out
    while the track holds none (e.g. `down` before the first `up`)."""
    return {
        t.name: render(t, names)
        for t in found
        if not (skip_unready and names.ports is None and t.uses_ports)
    }


def services_for(
    template: Template, services: Mapping[str, Mapping[str, str | None]]
) -> tuple[str, ...]:
    """The services whose containers get the value: the listed ones, else those whose resolved
    environment (`services`: name -> environment) already has the variable."""
    if template.services is None:
        return tuple(sorted(s for s, env in services.items() if template.name in env))
    unknown = [s for s in template.services if s not in services]
    if unknown:
        raise _bad(
            template,
            f"no service {unknown[0]!r} in the compose project "
            f"(services: {', '.join(sorted(services)) or 'none'})",
        )
    return tuple(template.services)


def service_environment(
    found: Sequence[Template],
    rendered: Mapping[str, str],
    services: Mapping[str, Mapping[str, str | None]],
) -> dict[str, dict[str, str]]:
    """service -> {variable: value} for the track's override."""
    out: dict[str, dict[str, str]] = {}
    for template in found:
        if template.name not in rendered:
            continue
        for service in services_for(template, services):
            out.setdefault(service, {})[template.name] = rendered[template.name]
    return out
