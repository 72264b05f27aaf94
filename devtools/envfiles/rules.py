"""The environment rules: containers reach each other by service name and container port.

An ordered pipeline, each rule turning settings into findings with a file, a line and a fix:

  env-file-malformed            a file Compose would refuse (or read differently)
  env-host-not-a-service        a hostname no service answers to (`POSTGRES_SERVER=postgresserver`)
  env-host-loopback             localhost: inside a container that is the container itself
  env-port-is-host-port         a port some service publishes on the host, not its container port
  env-port-not-container-port   a port the target service does not declare (warning)
  env-host-variable-in-service  a host-side variable (published port, COMPOSE_*, ...) passed
                                into a container

Connection settings are recognised by name (`*_HOST`, `*_SERVER`, `*_ADDR`, `*_PORT`, ...) and by
shape (any `scheme://` URL, parsed). The service a setting means is the host it names, else
inferred from the name and the URL scheme (`POSTGRES_*`, `postgresql://` -> the service on 5432).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from urllib.parse import SplitResult, urlsplit

from devtools.compose.model import Service
from devtools.envfiles.model import HostPort, Setting, StackView
from devtools.findings import Finding, Severity

HOST_SUFFIXES = ("_HOSTNAME", "_HOST", "_SERVER", "_ADDRESS", "_ADDR")
PORT_SUFFIX = "_PORT"
HOST_PORT_SUFFIXES = ("_HOST_PORT", "_PUBLISHED_PORT", "_EXTERNAL_PORT")
HOST_TOOL_VARIABLES = frozenset(
    {"DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY"}
    | {"OMC_STATE_DIR", "OMC_PORT_RANGE", "OMC_TRACK"}
)
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_HOST_PORT = re.compile(r"^(?P<host>[A-Za-z0-9_.-]+)(?::(?P<port>\d{1,5}))?$")

# What a name or URL scheme says about the service it means: its usual container port.
WELL_KNOWN_PORTS = {
    "postgres": 5432,
    "postgresql": 5432,
    "postgis": 5432,
    "pg": 5432,
    "psql": 5432,
    "redis": 6379,
    "rediss": 6379,
    "valkey": 6379,
    "mysql": 3306,
    "mariadb": 3306,
    "mongo": 27017,
    "mongodb": 27017,
    "amqp": 5672,
    "rabbitmq": 5672,
    "rabbit": 5672,
    "elasticsearch": 9200,
    "opensearch": 9200,
    "memcached": 11211,
    "kafka": 9092,
    "nats": 4222,
    "clickhouse": 8123,
    "minio": 9000,
}


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "ip6-localhost", "0.0.0.0"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def prefix(name: str) -> str:
    upper = name.upper()
    for suffix in (*HOST_SUFFIXES, PORT_SUFFIX, "_URL", "_URI", "_DSN"):
        if upper.endswith(suffix):
            return upper[: -len(suffix)]
    return upper


def is_host_port_name(name: str) -> bool:
    return name.upper().endswith(HOST_PORT_SUFFIXES) or name.upper().startswith("OMC_PORT_")


@dataclass(frozen=True)
class Endpoint:
    """Where one setting (or the URL in it) points: a host, a port, or both."""

    setting: Setting
    host: str | None
    port: int | None
    check_host: bool  # False when the host only tells which service a port setting means
    hints: tuple[str, ...]  # lowercase words from the name and URL scheme
    url: SplitResult | None = None


def _hints(name: str, scheme: str = "") -> tuple[str, ...]:
    words = [w for w in re.split(r"[^a-z0-9]+", prefix(name).lower()) if w]
    words += [w for w in re.split(r"[^a-z0-9]+", scheme.lower()) if w]
    return tuple(words)


def _usable(value: str | None) -> bool:
    return bool(value) and "$" not in (value or "") and not any(c.isspace() for c in value or "")


def endpoints(view: StackView) -> Iterator[Endpoint]:
    by_file: dict[tuple[str, str], Setting] = {
        (str(s.path), s.name.upper()): s for s in view.settings
    }
    for setting in view.settings:
        value, name = setting.value, setting.name.upper()
        if not _usable(value):
            continue
        assert value is not None
        if _URL.match(value):
            try:
                url = urlsplit(value)
                port = url.port
            except ValueError:
                continue  # several hosts, or a port that is no number: not ours to judge
            if url.hostname:
                yield Endpoint(setting, url.hostname, port, True, _hints(name, url.scheme), url)
        elif name.endswith(HOST_SUFFIXES) and not is_host_port_name(name):
            match = _HOST_PORT.match(value)
            if match:
                port_text = match.group("port")
                yield Endpoint(
                    setting,
                    match.group("host"),
                    int(port_text) if port_text else None,
                    True,
                    _hints(name),
                )
        elif (name == "PORT" or name.endswith(PORT_SUFFIX)) and not is_host_port_name(name):
            if not value.isdigit():
                continue
            host = None
            for suffix in HOST_SUFFIXES:
                sibling = by_file.get((str(setting.path), prefix(name) + suffix))
                if sibling is not None and _usable(sibling.value):
                    host = sibling.value
                    break
            yield Endpoint(setting, host, int(value), False, _hints(name))


def target_service(view: StackView, endpoint: Endpoint) -> Service | None:
    """The service the endpoint means: the one its host names, else the best match by name."""
    names = view.names()
    if endpoint.host and endpoint.host.lower() in names:
        return names[endpoint.host.lower()]
    scores: dict[str, int] = {}
    prefix_upper = prefix(endpoint.setting.name)
    for service in view.project.services.values():
        words = set(re.split(r"[^a-z0-9]+", service.name.lower()))
        image = (service.image or "").lower()
        score = 0
        for hint in endpoint.hints:
            if hint in words or hint == service.name.lower():
                score += 3
            if hint in image:
                score += 2
            if WELL_KNOWN_PORTS.get(hint) in service.container_ports:
                score += 2
        # A service configured with POSTGRES_* (but not as a client of it) is the server.
        own = [k.upper() for k in service.environment]
        is_client = any(k == prefix_upper + s for k in own for s in HOST_SUFFIXES)
        if prefix_upper and not is_client and any(k.startswith(prefix_upper + "_") for k in own):
            score += 1
        if score:
            scores[service.name] = score
    if not scores:
        return None
    best = max(scores.values())
    winners = [name for name, score in scores.items() if score == best]
    return view.project.services[winners[0]] if len(winners) == 1 else None


# --- presentation ------------------------------------------------------------------------


def _shown(endpoint: Endpoint) -> str:
    """`NAME=value`, with a URL's password masked."""
    setting = endpoint.setting
    value = setting.value or ""
    if endpoint.url is not None and endpoint.url.password:
        value = _with_netloc(endpoint.url, password="***")
    return f"{setting.name}={value}"


def _with_netloc(
    url: SplitResult,
    *,
    host: str | None = None,
    port: int | None = None,
    password: str | None = None,
) -> str:
    user = url.username or ""
    secret = password if password is not None else (url.password or "")
    auth = f"{user}:{secret}@" if secret else (f"{user}@" if user else "")
    new_host = host if host is not None else (url.hostname or "")
    if ":" in new_host:
        new_host = f"[{new_host}]"
    new_port = port if port is not None else url.port
    netloc = auth + new_host + (f":{new_port}" if new_port is not None else "")
    return url._replace(netloc=netloc).geturl()


def fixed_value(endpoint: Endpoint, *, host: str | None, port: int | None) -> str:
    """The setting's value with its host and/or port replaced (a URL keeps everything else)."""
    setting = endpoint.setting
    if endpoint.url is not None:
        masked = "***" if endpoint.url.password else None
        return _with_netloc(endpoint.url, host=host, port=port, password=masked)
    if endpoint.check_host:
        new_host = host or endpoint.host or ""
        new_port = port if port is not None else endpoint.port
        return new_host + (f":{new_port}" if new_port is not None else "")
    return str(port) if port is not None else setting.value or ""


def _finding(
    view: StackView, rule: str, severity: Severity, setting: Setting, *, message: str, fix: str
) -> Finding:
    return Finding(rule, severity, message, view.relative(setting.path), setting.line, fix)


def _services_list(view: StackView) -> str:
    return ", ".join(sorted(view.project.services)) or "none"


# --- rules ---------------------------------------------------------------------------------


def malformed_files(view: StackView) -> Iterator[Finding]:
    for env_file in view.files:
        if env_file.error is not None:
            yield Finding(
                "env-file-malformed",
                Severity.ERROR,
                env_file.error.problem,
                view.relative(env_file.path),
                env_file.error.line,
                "write it as KEY=VALUE, one per line (quote values with spaces or #)",
            )


@dataclass(frozen=True)
class Verdict:
    """What is wrong with one endpoint, and the value that would be right."""

    endpoint: Endpoint
    target: Service | None
    host_problem: str | None = None  # "loopback" or "unknown"
    port_problem: str | None = None  # "host-port" or "undeclared"
    published: HostPort | None = None  # the host port the value names
    right_host: str | None = None
    right_port: int | None = None

    @property
    def fix(self) -> str | None:
        """`NAME=value` with every correction this verdict knows, or None when it knows none."""
        if self.right_host is None and self.right_port is None:
            return None
        value = fixed_value(self.endpoint, host=self.right_host, port=self.right_port)
        return f"{self.endpoint.setting.name}={value}"


def judge(view: StackView, endpoint: Endpoint) -> Verdict:
    target = target_service(view, endpoint)
    verdict = Verdict(endpoint, target)
    host = endpoint.host
    if endpoint.check_host and host is not None:
        lowered = host.lower()
        known = lowered in view.names() or lowered in view.external_hosts
        outside = not is_loopback(host) and ("." in host or _is_ip(host))
        if not known and not outside:
            problem = "loopback" if is_loopback(host) else "unknown"
            right = target.name if target is not None else None
            verdict = replace(verdict, host_problem=problem, right_host=right)
    port = endpoint.port
    declared = target.container_ports if target is not None else frozenset()
    if port is None or port in declared:
        return verdict
    only = next(iter(declared)) if len(declared) == 1 else None
    published = view.host_ports.get(port)
    all_declared = {p for s in view.project.services.values() for p in s.container_ports}
    if published is not None and (target is not None or port not in all_declared):
        right_port = only if only is not None else published.container_port
        return replace(
            verdict, port_problem="host-port", published=published, right_port=right_port
        )
    if declared:
        return replace(verdict, port_problem="undeclared", right_port=only)
    return verdict


def verdicts(view: StackView) -> Iterator[Verdict]:
    for endpoint in endpoints(view):
        verdict = judge(view, endpoint)
        if verdict.host_problem or verdict.port_problem:
            yield verdict


def hostnames(view: StackView) -> Iterator[Finding]:
    for verdict in verdicts(view):
        endpoint, host = verdict.endpoint, verdict.endpoint.host
        fix = (
            verdict.fix or f"use the name of the compose service it means ({_services_list(view)})"
        )
        if verdict.host_problem == "loopback":
            yield _finding(
                view,
                "env-host-loopback",
                Severity.ERROR,
                endpoint.setting,
                message=f"{_shown(endpoint)}: inside a container {host} is the container "
                "itself, not another service",
                fix=fix,
            )
        elif verdict.host_problem == "unknown":
            yield _finding(
                view,
                "env-host-not-a-service",
                Severity.ERROR,
                endpoint.setting,
                message=f"{_shown(endpoint)}: no compose service is called {host!r} "
                f"(services: {_services_list(view)})",
                fix=fix,
            )


def ports(view: StackView) -> Iterator[Finding]:
    for verdict in verdicts(view):
        endpoint, port, published = verdict.endpoint, verdict.endpoint.port, verdict.published
        if verdict.port_problem == "host-port" and published is not None:
            yield _finding(
                view,
                "env-port-is-host-port",
                Severity.ERROR,
                endpoint.setting,
                message=f"{_shown(endpoint)}: {port} is the host port {published.owner} "
                f"publishes for {published.service}:{published.container_port}; containers "
                "connect to the container port",
                fix=verdict.fix or f"use {published.service}'s container port",
            )
        elif verdict.port_problem == "undeclared" and verdict.target is not None:
            listed = ", ".join(str(p) for p in sorted(verdict.target.container_ports))
            yield _finding(
                view,
                "env-port-not-container-port",
                Severity.WARNING,
                endpoint.setting,
                message=f"{_shown(endpoint)}: {verdict.target.name} declares container "
                f"port(s) {listed}, not {port}",
                fix=verdict.fix or f"use one of {verdict.target.name}'s container ports ({listed})",
            )


def host_only_reason(view: StackView, name: str) -> str | None:
    """Why a variable belongs to the host, or None."""
    upper = name.upper()
    host_side = view.source.host_side_variables().get(name)
    if host_side is not None:
        where = f"{view.relative(host_side.file)}:{host_side.line}"
        return f"{where} uses it for a published port or a bind-mount source"
    if upper.startswith("COMPOSE_"):
        return "Compose itself reads it on the host"
    if upper in HOST_TOOL_VARIABLES:
        return "the docker CLI or omc-dev reads it on the host"
    if is_host_port_name(upper):
        return "by its name it is a port published on the host"
    return None


def host_variables(view: StackView) -> Iterator[Finding]:
    seen: set[tuple[str, int]] = set()
    for service in sorted(view.project.services.values(), key=lambda s: s.name):
        for name in sorted(service.environment):
            reason = host_only_reason(view, name)
            if reason is None:
                continue
            origin = next(
                (s for s in view.settings if s.name == name and service.name in s.services), None
            )
            path = origin.path if origin else view.source.files[0]
            line = origin.line if origin else 0
            if (str(path), line) in seen:
                continue
            seen.add((str(path), line))
            readers = ", ".join(
                sorted(s.name for s in view.project.services.values() if name in s.environment)
            )
            where = view.relative(path)
            if origin is None or path in view.source.files:
                how, fix = (
                    "`environment:`",
                    f"drop {name} from the service's environment in {where}",
                )
            else:
                how = f"`env_file: {where}`"
                fix = f"remove {name} from {where}"
                if path.name == ".env":
                    fix += " or stop passing .env as env_file (give containers their own file)"
                else:
                    fix += "; compose reads host-side values from .env or the shell"
            yield Finding(
                "env-host-variable-in-service",
                Severity.ERROR,
                f"{name} is meant for the host ({reason}) but {how} passes it into {readers}",
                where,
                line or None,
                fix,
            )


RULES: tuple[Callable[[StackView], Iterator[Finding]], ...] = (
    malformed_files,
    hostnames,
    ports,
    host_variables,
)


def check(view: StackView) -> list[Finding]:
    return [finding for rule in RULES for finding in rule(view)]
