"""Values that name another stack's host port: a track's backend linking to the default frontend.

A track publishes its services on its own host ports, so `FRONTEND_HOST=http://localhost:5173`
(5173: the frontend's port in the compose files) is the same in every track, and every track's
emails and CORS answers point at the stack started without omc-dev, or at nothing. Judged is
what each container of the track receives: its resolved environment with the track's values
(`[tool.omc-dev.tracks.env]`, in compose's environment and in the override). Only values a
browser or the host opens are judged (`kinds.kind` == "browser": `FRONTEND_HOST`, CORS origins,
`VITE_*`), item by item, and only a port named with a host-side address (`localhost`,
`127.0.0.1`, `*.localhost`, `host.docker.internal`). Never judged: a value without a port, a
port this track holds, a container address (`http://backend:8000`), a port the receiving
container itself listens on (`localhost` inside it is itself).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from devtools.compose.model import ComposeProject
from devtools.doctor.model import DoctorCheck, DoctorContext, Outcome
from devtools.errors import UserError
from devtools.findings import Finding, Severity

if TYPE_CHECKING:
    from devtools.tracks.registry import Registry

RULE = "track-env-foreign-port"
HOST_SIDE = frozenset(
    {"localhost", "127.0.0.1", "::1", "0.0.0.0", "host.docker.internal", "gateway.docker.internal"}
)
FROM_HOST = frozenset({"host.docker.internal", "gateway.docker.internal"})
VIEW_FACT = "track-env:view"  # the env files read once for all findings' lines


@dataclass(frozen=True)
class Owner:
    """Who publishes a host port: the default stack (compose files) or another track."""

    who: str
    service: str
    target: int
    protocol: str


def _host_port(item: str) -> tuple[str, int] | None:
    """(host, port) of an item naming an explicit port, else None."""
    from devtools.envfiles.kinds import is_url

    try:
        if is_url(item):
            parts = urlsplit(item)
            host, port = parts.hostname or "", parts.port
        else:
            host, sep, port_text = item.rpartition(":")
            port = int(port_text) if sep and port_text.isdigit() else None
            host = host.strip("[]").lower()
    except ValueError:
        return None  # a port out of range, a broken IPv6 literal: no address
    if port is None or not 0 < port < 65536:
        return None
    return host, port


def _host_side(host: str) -> bool:
    return host in HOST_SIDE or host.endswith(".localhost")


def named_ports(name: str, value: str) -> Iterator[tuple[str, int]]:
    """The host-side (host, port) pairs a browser-facing value names."""
    from devtools.envfiles.kinds import items, kind

    if kind(name, value) != "browser":
        return
    for item in items(value):
        found = _host_port(item.strip())
        if found is not None and _host_side(found[0]):
            yield found


def suggestion(value: str, ports: Mapping[int, str]) -> str:
    """The value as a template: braces escaped, each named port replaced by its placeholder."""
    text = value.replace("{", "{{").replace("}", "}}")
    for port, placeholder in ports.items():
        text = re.sub(rf"(?<=:){port}(?!\d)", placeholder, text)
    return text


def check_track_env(ctx: DoctorContext) -> Outcome:
    try:
        return _check(ctx)
    except UserError as exc:
        return Outcome("not checked", [Finding("track-env-check-failed", Severity.ERROR, str(exc))])


def _check(ctx: DoctorContext) -> Outcome:
    from devtools.docker.compose import load_project, targets_for
    from devtools.doctor.ignore import Ignores
    from devtools.tracks import registry, values
    from devtools.tracks.identity import project_name, repo_key, repo_name

    config, track = ctx.config, ctx.track
    templates = values.templates(config)
    reg = registry.snapshot()
    repo = repo_key(config)
    own = reg.get(repo, track.key)
    own_ports = {p.published for p in own.ports} if own else set()
    project_id = project_name(config, track)
    rendered = values.render_all(
        templates,
        values.TrackNames(project_id, track.key, repo_name(config), own.ports if own else None),
        skip_unready=True,
    )
    # Templated but not yet renderable (the track holds no ports before its first `up`/`ports`):
    # the template gives the track's own port once it has one, so the value is not judged.
    pending = {t.name for t in templates if t.name not in rendered}
    # What the track's containers receive: interpolated with the track's values, then the
    # values the override sets.
    project = ctx.project
    if rendered:
        project = load_project(targets_for(config, project_id, env=rendered))
    environment = {s.name: dict(s.environment) for s in project.services.values()}
    by_service = values.service_environment(
        templates, rendered, {s.name: s.environment for s in project.services.values()}
    )
    for service, added in by_service.items():
        environment.setdefault(service, {}).update(added)

    owners = _owners(ctx.project, reg, (repo, track.key))

    ignores = Ignores.from_config(config)
    # (is a build arg, variable, value) -> the services, and the foreign ports it names.
    grouped: dict[tuple[bool, str, str], list[str]] = {}
    foreign: dict[tuple[bool, str, str], dict[int, Owner]] = {}
    checked = 0
    for service_name, is_arg, values_of in _received(project, environment):
        receiver = project.services.get(service_name)
        inside = receiver.container_ports if receiver else frozenset()
        for var, value in values_of.items():
            if value is None or var in pending:
                continue
            for host, port in named_ports(var, value):
                checked += 1
                owner = owners.get(port)
                if port in own_ports or owner is None:
                    continue
                if host not in FROM_HOST and port in inside:
                    continue  # `localhost` in the container is the container: its own port
                key = (is_arg, var, value)
                foreign.setdefault(key, {})[port] = owner
                grouped.setdefault(key, [])
                if service_name not in grouped[key]:
                    grouped[key].append(service_name)

    published = {(p.service, p.target, p.protocol) for p in own.ports} if own else None
    findings = []
    for (is_arg, var, value), services in grouped.items():
        finding = _finding(
            ctx,
            templates,
            var=var,
            value=value,
            services=services,
            ports=foreign[(is_arg, var, value)],
            published=published,
            build_arg=is_arg,
        )
        if not ignores.silences(finding, config.root, var):
            findings.append(finding)
    detail = f"{checked} host address{'es' if checked != 1 else ''} in browser-facing values"
    return Outcome(detail, findings)


def _owners(default: ComposeProject, reg: Registry, own_key: tuple[str, str]) -> dict[int, Owner]:
    """Who publishes each host port: every other track's ports, and the compose files' own ports
    once this repository has a second track (then a value naming them is the same in two tracks).
    With one track, an untouched project stays silent."""
    owners: dict[int, Owner] = {}
    others = [entry for entry in reg.entries.values() if entry.key != own_key]
    if any(entry.repo == own_key[0] for entry in others):
        for base in default.services.values():
            for m in base.ports:
                if m.published is not None:
                    owners[m.published] = Owner(
                        "the default stack", base.name, m.target, m.protocol
                    )
    for entry in others:
        who = f"track {entry.track}" + (
            "" if entry.repo == own_key[0] else f" of {entry.repo_name}"
        )
        for p in entry.ports:
            owners[p.published] = Owner(who, p.service, p.target, p.protocol)
    return owners


def _received(
    project: ComposeProject, environment: Mapping[str, Mapping[str, str | None]]
) -> Iterator[tuple[str, bool, Mapping[str, str | None]]]:
    """(service, is a build arg, variables): each service's environment, then its build args
    (code built for the browser, `VITE_API_URL`, keeps the URL it was built with)."""
    for name in sorted(environment):
        yield name, False, environment[name]
    for service in sorted(project.services.values(), key=lambda s: s.name):
        if service.build_args:
            yield service.name, True, service.build_args


def _finding(
    ctx: DoctorContext,
    templates: tuple[object, ...],
    *,
    var: str,
    value: str,
    services: list[str],
    ports: Mapping[int, Owner],
    published: set[tuple[str, int, str]] | None,
    build_arg: bool = False,
) -> Finding:
    named = ", ".join(
        f"host port {port} ({o.who}'s {o.service}:{o.target})" for port, o in sorted(ports.items())
    )
    placeholders = {
        port: f"{{port:{o.service}:{o.target}{'/udp' if o.protocol == 'udp' else ''}}}"
        for port, o in ports.items()
        if published is None or (o.service, o.target, o.protocol) in published
    }
    if placeholders:
        template = f'"{suggestion(value, placeholders)}"'
        if build_arg:  # for interpolation only: a container's own VITE_API_URL stays as it is
            template = f"{{ value = {template}, services = [] }}"
        fix = (
            f"set {var} = {template} in [tool.omc-dev.tracks.env]: "
            "each track then gets its own port (omc-dev ports --format env shows it)"
        )
        if build_arg and not _interpolated(ctx, var, services[0]):
            fix = f"write the build arg as {var}=${{{var}}}, and {fix}"
    else:
        fix = "name one of this track's own host ports (omc-dev ports), or a service address"
    if build_arg:
        path, line = _arg_line(ctx, var, services[0])
    else:
        path, line = _where(ctx, var, services[0], templates)
    what = "build arg " if build_arg else ""
    return Finding(
        RULE,
        Severity.WARNING,
        f"{what}{var}={value} ({', '.join(services)}) names {named}, "
        f"not a port of track {ctx.track.name}",
        path=path,
        line=line,
        fix=fix,
    )


def _arg_lines(ctx: DoctorContext, var: str, service: str) -> list[tuple[Path, int, str]]:
    """Lines of the compose files that set build arg `var` (`- VAR=...` or `VAR: ...`) in
    `service`'s block, in file order."""
    setting = re.compile(rf"^\s*(?:-\s*)?[\"']?{re.escape(var)}[\"']?\s*[=:]")
    header = re.compile(rf"^(\s*)[\"']?{re.escape(service)}[\"']?\s*:\s*(?:#.*)?$")
    found = []
    for file in ctx.target.files:
        try:
            lines = file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        indent: int | None = None  # inside the service's block: the indent of its name
        for number, text in enumerate(lines, 1):
            match = header.match(text)
            if match is not None:
                indent = len(match.group(1))
                continue
            stripped = text.strip()
            if indent is not None and stripped and not stripped.startswith("#"):
                if len(text) - len(text.lstrip()) <= indent:
                    indent = None  # the next key at the service's level: its block ended
                elif setting.match(text):
                    found.append((file, number, text))
    return found


def _arg_line(ctx: DoctorContext, var: str, service: str) -> tuple[str | None, int | None]:
    """The last compose line setting the arg (an override file's comes last and wins)."""
    try:
        lines = _arg_lines(ctx, var, service)
    except UserError:
        return None, None
    return (str(lines[-1][0]), lines[-1][1]) if lines else (None, None)


def _interpolated(ctx: DoctorContext, var: str, service: str) -> bool:
    try:
        lines = _arg_lines(ctx, var, service)
    except UserError:
        return False
    return bool(lines) and "${" in lines[-1][2]


def _where(
    ctx: DoctorContext, var: str, service: str, templates: tuple[object, ...]
) -> tuple[str | None, int | None]:
    """The file and line that set the value: its template in pyproject.toml, else the line
    compose's precedence says (`.env`, `env_file`, `environment:`)."""
    from devtools.tracks.values import Template

    config = ctx.config
    if config.pyproject and any(isinstance(t, Template) and t.name == var for t in templates):
        return str(config.pyproject), _line_of(config.pyproject, var)
    try:
        from devtools.envfiles.load import load_view
        from devtools.envfiles.model import StackView
        from devtools.envfiles.origin import origin_of

        view = ctx.facts.get(VIEW_FACT)
        if not isinstance(view, StackView):
            view = ctx.facts[VIEW_FACT] = load_view(config, ctx.target, ctx.project)
        origin = origin_of(view, service, var)
    except (UserError, OSError):
        return None, None
    return str(origin.path), origin.line


def _line_of(path: Path, var: str) -> int | None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    pattern = re.compile(rf"^\s*[\"']?{re.escape(var)}[\"']?\s*=")
    return next((n for n, text in enumerate(lines, 1) if pattern.match(text)), None)


CHECKS = [
    DoctorCheck(
        "track-env",
        "Browser-facing values name this track's own host ports",
        check_track_env,
        needs=("compose-file",),
    ),
]
