"""The environment rules: containers reach each other by service name and container port.

An ordered pipeline, each rule turning settings into findings with a file, a line and a fix:

  env-file-malformed            a file Compose would refuse (or read differently)
  env-host-not-a-service        a hostname no service answers to (`POSTGRES_SERVER=postgresserver`)
  env-host-loopback             localhost: inside a container that is the container itself
  env-port-is-host-port         a port some service publishes on the host, not its container port
  env-port-not-container-port   a port the target service does not declare (warning)
  env-host-variable-in-service  a host-side variable (published port, COMPOSE_*, ...) passed
                                into a container

What is judged is what each container receives (the resolved environment of `docker compose
config`), at the line that set it (`origin.py`); a `.env.example` line is judged as the value it
would give the containers that read it. Only connection addresses are judged (`kinds.py`): by
name (`*_HOST`, `*_SERVER`, `*_ADDR`, `*_PORT`, `*_HOSTS`, ...) and by shape (any `scheme://`
URL, parsed; list values item by item). The service a setting means is the host it names, else
inferred from the name and the URL scheme (`POSTGRES_*`, `postgresql://` -> the service on 5432).
When unsure (no service inferred, a name that says nothing), `localhost` is not called an error.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

from devtools.compose.model import Service
from devtools.envfiles.kinds import (
    HOST_SUFFIXES,
    LIST_SUFFIXES,
    LOOSE_SUFFIXES,
    NOT_HOSTS,
    PORT_SUFFIX,
    URL_SUFFIXES,
    canonical,
    is_url,
    items,
    kind,
    replace_item,
)
from devtools.envfiles.model import HostPort, Setting, StackView
from devtools.envfiles.origin import explicit_setters, origin_of, presumed_reader, received
from devtools.findings import Finding, Severity
from devtools.report.checks import Check, Outcome

HOST_PORT_SUFFIXES = ("_HOST_PORT", "_PUBLISHED_PORT", "_EXTERNAL_PORT")
HOST_TOOL_VARIABLES = frozenset(
    {"DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY"}
    | {"OMC_STATE_DIR", "OMC_PORT_RANGE", "OMC_TRACK"}
)
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
# Words that say "a server this container dials", even when no service in the stack matches.
STRONG_WORDS = frozenset(WELL_KNOWN_PORTS) | {
    "db",
    "database",
    "sql",
    "smtp",
    "mail",
    "email",
    "cache",
    "broker",
    "celery",
    "queue",
    "mq",
}
# Words a hint matches inside service names and images (`smtp` -> `mailpit`, `mailcatcher`).
NAME_PARTS = {"smtp": ("mail", "smtp"), "mail": ("mail",), "email": ("mail",)}


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "ip6-localhost"):
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
    upper = canonical(name)
    for suffix in (*LIST_SUFFIXES, *HOST_SUFFIXES, PORT_SUFFIX, *URL_SUFFIXES):
        if upper.endswith(suffix):
            return upper[: -len(suffix)]
    return upper


def is_host_port_name(name: str) -> bool:
    return name.upper().endswith(HOST_PORT_SUFFIXES) or name.upper().startswith("OMC_PORT_")


@dataclass(frozen=True)
class Endpoint:
    """Where one setting (or the URL in it, or one item of its list) points."""

    setting: Setting
    host: str | None
    port: int | None
    check_host: bool  # False when the host only tells which service a port setting means
    hints: tuple[str, ...]  # lowercase words from the name and URL scheme
    url: SplitResult | None = None
    index: int = 0  # the item of a list value
    strong: bool = False  # the name or scheme says it is a server the container dials


def _hints(name: str, scheme: str = "") -> tuple[str, ...]:
    words = [w for w in re.split(r"[^a-z0-9]+", prefix(name).lower()) if w]
    words += [w for w in re.split(r"[^a-z0-9]+", scheme.lower()) if w]
    return tuple(words)


def _usable(value: str | None) -> bool:
    return bool(value) and "$" not in (value or "") and not any(c.isspace() for c in value or "")


def _host_of(value: str) -> str | None:
    if is_url(value):
        try:
            return urlsplit(value).hostname
        except ValueError:
            return None
    match = _HOST_PORT.match(value)
    return match.group("host") if match else None


def endpoints_of(setting: Setting, env: Mapping[str, str | None]) -> Iterator[Endpoint]:
    """The connection addresses in one setting; `env` is what else its container receives."""
    value, name = setting.value, canonical(setting.reads_as or setting.name)
    if not _usable(value):
        return
    assert value is not None
    if kind(name, value) != "connection" or is_host_port_name(name):
        return
    parts = items(value)
    for index, item in enumerate(parts):
        if is_url(item):
            try:
                url = urlsplit(item)
                port = url.port
            except ValueError:
                continue  # several hosts, or a port that is no number: not ours to judge
            if url.hostname:
                hints = _hints(name, url.scheme)
                yield Endpoint(setting, url.hostname, port, True, hints, url, index, _strong(hints))
        elif name.endswith((*HOST_SUFFIXES, *LIST_SUFFIXES)):
            match = _HOST_PORT.match(item)
            if match and _looks_like_host(name, match.group("host"), match.group("port")):
                port_text = match.group("port")
                hints = _hints(name)
                yield Endpoint(
                    setting,
                    match.group("host"),
                    int(port_text) if port_text else None,
                    True,
                    hints,
                    None,
                    index,
                    _strong(hints),
                )
        elif name.endswith(PORT_SUFFIX) and len(parts) == 1 and item.isdigit():
            siblings = {canonical(k): v for k, v in env.items()}
            host = None
            for suffix in HOST_SUFFIXES:
                sibling = siblings.get(prefix(name) + suffix, "")
                if prefix(name) + suffix in siblings and not _usable(sibling):
                    return  # its host is empty or unresolved: nothing is dialled
                if _usable(sibling):
                    host = _host_of(sibling or "")
                    break
            hints = _hints(name)
            yield Endpoint(setting, host, int(item), False, hints, None, 0, _strong(hints))


def _looks_like_host(name: str, host: str, port: str | None) -> bool:
    """A word that may be a host name: not a switch or a number; for a name that holds a host
    only sometimes (`*_ADDRESS`), only with a port or when it is loopback."""
    if host.lower() in NOT_HOSTS or (not any(c.isalpha() for c in host) and not _is_ip(host)):
        return False
    return not name.endswith(LOOSE_SUFFIXES) or port is not None or is_loopback(host)


def _strong(hints: Iterable[str]) -> bool:
    return bool(set(hints) & STRONG_WORDS)


def target_service(view: StackView, endpoint: Endpoint) -> Service | None:
    """The service the endpoint means: the one its host names, else the best match by name."""
    names = view.names()
    if endpoint.host and endpoint.host.lower() in names:
        return names[endpoint.host.lower()]
    scores: dict[str, int] = {}
    prefix_upper = prefix(endpoint.setting.reads_as or endpoint.setting.name)
    for service in view.project.services.values():
        words = set(re.split(r"[^a-z0-9]+", service.name.lower()))
        image = (service.image or "").lower()
        score = 0
        for hint in endpoint.hints:
            parts = NAME_PARTS.get(hint, ())
            named = hint in words or hint == service.name.lower()
            if named or any(part in service.name.lower() for part in parts):
                score += 3
            if hint in image or any(part in image for part in parts):
                score += 2
            if WELL_KNOWN_PORTS.get(hint) in service.container_ports:
                score += 2
        # A service configured with POSTGRES_* (but not as a client of it) is the server.
        own = [canonical(k) for k in service.environment]
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


def _masked(endpoint: Endpoint) -> str:
    """The setting's value, with a URL's password masked."""
    value = endpoint.setting.value or ""
    if endpoint.url is not None and endpoint.url.password:
        masked = _with_netloc(endpoint.url, password="***")
        value = replace_item(value, endpoint.index, masked)
    return value


def _shown(endpoint: Endpoint) -> str:
    """`NAME=value`, with a URL's password masked."""
    return f"{endpoint.setting.name}={_masked(endpoint)}"


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


def fixed_value(
    endpoint: Endpoint, *, host: str | None, port: int | None, mask: bool = True
) -> str:
    """The setting's value with its host and/or port replaced (a URL keeps everything else)."""
    whole = endpoint.setting.value or ""
    if endpoint.url is not None:
        secret = "***" if mask and endpoint.url.password else None
        new = _with_netloc(endpoint.url, host=host, port=port, password=secret)
    elif endpoint.check_host:
        new_host = host or endpoint.host or ""
        new_port = port if port is not None else endpoint.port
        new = new_host + (f":{new_port}" if new_port is not None else "")
    else:
        return str(port) if port is not None else whole
    return replace_item(whole, endpoint.index, new)


def _services_list(view: StackView) -> str:
    return ", ".join(sorted(view.project.services)) or "none"


# --- what each container receives ------------------------------------------------------------


@dataclass(frozen=True)
class Judged:
    """One setting as one service receives it, with the rest of that service's environment."""

    setting: Setting
    service: Service
    env: Mapping[str, str | None]


def received_settings(view: StackView) -> Iterator[Judged]:
    explicit = explicit_setters(view)
    for item in received(view):
        if not presumed_reader(view, item, explicit):
            continue
        service = view.project.services[item.service]
        origin = item.origin
        written = (
            origin.variable if origin.how == "interpolation" and origin.variable else item.name
        )
        setting = Setting(
            written, item.value, origin.path, origin.line or 0, (item.service,), item.name
        )
        yield Judged(setting, service, service.environment)


def example_settings(
    view: StackView, path: Path, values: Mapping[str, tuple[str | None, int]]
) -> Iterator[Judged]:
    """The settings of an example file (`NAME -> (value, line)`), judged as if it were `.env`:
    each value goes where `.env`'s would, to the services that take it from a file."""
    explicit = explicit_setters(view)
    by_service: dict[str, list[tuple[str, str]]] = {}
    for item in received(view):
        origin = item.origin
        key = item.name if origin.how == "env_file" else origin.variable
        if key is None or key not in values or not presumed_reader(view, item, explicit):
            continue
        by_service.setdefault(item.service, []).append((item.name, key))
    for name, pairs in by_service.items():
        service = view.project.services[name]
        env = {**service.environment, **{n: values[k][0] for n, k in pairs}}
        for variable, key in pairs:
            value, line = values[key]
            yield Judged(Setting(key, value, path, line, (name,), variable), service, env)


def _example_files(view: StackView) -> Iterator[tuple[Path, dict[str, tuple[str | None, int]]]]:
    from devtools.envfiles.model import EXAMPLE

    path = view.root / EXAMPLE
    parsed = view.parsed.get(path)
    if parsed is not None:
        yield path, {v.name: (v.value, v.line) for v in parsed}


# --- verdicts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What is wrong with one endpoint in one container, and the value that would be right."""

    endpoint: Endpoint
    target: Service | None
    receiver: str | None = None
    host_problem: str | None = None  # "loopback" or "unknown"
    port_problem: str | None = None  # "host-port" or "undeclared"
    published: HostPort | None = None  # the host port the value names
    right_host: str | None = None
    right_port: int | None = None

    def fixed(self, *, mask: bool = True) -> str | None:
        """The value with every correction this verdict knows, or None when it knows none."""
        if self.right_host is None and self.right_port is None:
            return None
        return fixed_value(self.endpoint, host=self.right_host, port=self.right_port, mask=mask)

    @property
    def rules(self) -> tuple[str, ...]:
        """The ids of the findings this verdict gives."""
        found = []
        if self.host_problem == "loopback":
            found.append("env-host-loopback")
        elif self.host_problem:
            found.append("env-host-not-a-service")
        if self.port_problem == "host-port":
            found.append("env-port-is-host-port")
        elif self.port_problem:
            found.append("env-port-not-container-port")
        return tuple(found)

    @property
    def fix(self) -> str | None:
        """`NAME=value` with every correction this verdict knows, or None when it knows none."""
        value = self.fixed()
        return None if value is None else f"{self.endpoint.setting.name}={value}"


def judge(view: StackView, endpoint: Endpoint, receiver: Service | None = None) -> Verdict:
    target = target_service(view, endpoint)
    verdict = Verdict(endpoint, target, receiver.name if receiver else None)
    mode = (receiver.network_mode or "") if receiver else ""
    if receiver is not None and (mode == "host" or (target is not None and target is receiver)):
        return verdict  # the host's own network, or a service configuring itself
    host = endpoint.host
    if host is not None:
        lowered = host.lower()
        if lowered in view.names() or lowered in view.external_hosts:
            pass
        elif lowered in view.inactive_names:
            return verdict  # a service of a profile not enabled: right once that profile runs
        elif is_loopback(host):
            shared = mode.startswith("service:") and target is not None
            if shared and mode.partition(":")[2] == (target.name if target else ""):
                pass  # it shares that service's network namespace: localhost is that service
            elif not endpoint.check_host:
                pass  # the host line has its own finding; the port is still judged
            elif target is None and receiver is not None and _alone(view, receiver):
                return verdict  # no other service to mean: the app runs on the host
            elif target is not None or endpoint.strong:
                right = target.name if target is not None else None
                verdict = replace(verdict, host_problem="loopback", right_host=right)
            else:
                return verdict  # a name that says nothing about where it goes: not judged
        elif "." in host or _is_ip(host):
            return verdict  # outside the stack: its ports are its own
        elif endpoint.check_host:
            right = target.name if target is not None else None
            # On a network made outside the project, other stacks' containers answer too.
            outside = _external_networks(view, receiver)
            problem = "unknown" if not outside else "unknown-external"
            if not outside and receiver is not None and _alone(view, receiver):
                problem = "unknown-alone"  # no other service it could have meant
            verdict = replace(verdict, host_problem=problem, right_host=right)
    port = endpoint.port
    if port is None or target is None:
        return verdict
    declared = target.container_ports
    if port in declared:
        return verdict
    only = next(iter(declared)) if len(declared) == 1 else None
    published = view.host_ports.get(port)
    if published is not None:
        right_port = only if only is not None else published.container_port
        return replace(
            verdict, port_problem="host-port", published=published, right_port=right_port
        )
    if declared:
        return replace(verdict, port_problem="undeclared", right_port=only)
    return verdict


def _alone(view: StackView, receiver: Service) -> bool:
    """Whether the stack has no service but the receiver (e.g. only the database runs in it)."""
    return all(s is receiver for s in view.project.services.values())


def _external_networks(view: StackView, receiver: Service | None) -> list[str]:
    if receiver is None:
        return []
    return sorted(set(receiver.networks) & view.project.external_networks)


def verdicts_of(view: StackView, judged: Iterable[Judged]) -> Iterator[Verdict]:
    for item in judged:
        for endpoint in endpoints_of(item.setting, item.env):
            verdict = judge(view, endpoint, item.service)
            if verdict.host_problem or verdict.port_problem:
                yield verdict


def all_verdicts(view: StackView) -> list[Verdict]:
    found = list(verdicts_of(view, received_settings(view)))
    for path, values in _example_files(view):
        found += verdicts_of(view, example_settings(view, path, values))
    return found


# --- findings --------------------------------------------------------------------------------

Named = tuple[str | None, Finding]  # (the variable a finding is about, the finding)
Issue = tuple[Verdict, Finding]


def _finding(
    view: StackView, rule: str, severity: Severity, verdict: Verdict, *, message: str, fix: str
) -> Issue:
    setting = verdict.endpoint.setting
    where = view.relative(setting.path)
    return verdict, Finding(rule, severity, message, where, setting.line or None, fix)


def _grouped(issues: Iterable[Issue]) -> list[Named]:
    """One finding per rule and line, naming every service that receives the value."""
    groups: dict[Finding, tuple[str, set[str]]] = {}
    for verdict, finding in issues:
        _, receivers = groups.setdefault(finding, (verdict.endpoint.setting.name, set()))
        if verdict.receiver:
            receivers.add(verdict.receiver)
    out: list[Named] = []
    for finding, (name, receivers) in groups.items():
        listed = f" (received by {', '.join(sorted(receivers))})" if receivers else ""
        out.append((name, replace(finding, message=finding.message + listed)))
    return out


def _host_issues(view: StackView, verdicts: Iterable[Verdict]) -> Iterator[Issue]:
    for verdict in verdicts:
        endpoint, host = verdict.endpoint, verdict.endpoint.host
        fix = (
            verdict.fix or f"use the name of the compose service it means ({_services_list(view)})"
        )
        if verdict.host_problem == "loopback" and verdict.target is None:
            # No service is surely the one meant (an app's default mail relay, no mail service
            # in the stack): naming the stack's other services would be a wrong fix.
            yield _finding(
                view,
                "env-host-loopback",
                Severity.WARNING,
                verdict,
                message=f"{_shown(endpoint)}: inside a container {host} is the container "
                "itself, and no service in the stack is surely the server it means: nothing "
                "answers there unless that container runs it",
                fix="if the app dials it, set the host the container reaches it by (a server "
                "outside the stack, host.docker.internal for one on this machine) or add the "
                "service that runs it; if not, ignore this line (# omc-dev: "
                "ignore[env-host-loopback])",
            )
        elif verdict.host_problem == "loopback":
            yield _finding(
                view,
                "env-host-loopback",
                Severity.ERROR,
                verdict,
                message=f"{_shown(endpoint)}: inside a container {host} is the container "
                "itself, not another service",
                fix=fix,
            )
        elif verdict.host_problem == "unknown-alone":
            yield _finding(
                view,
                "env-host-not-a-service",
                Severity.WARNING,
                verdict,
                message=f"{_shown(endpoint)}: no compose service is called {host!r} and the "
                "stack runs no other service: a host outside it, or a setting not in use",
                fix="if the app dials it, add that service to the compose file or name a host "
                "the container reaches",
            )
        elif verdict.host_problem in ("unknown", "unknown-external"):
            external = verdict.host_problem == "unknown-external"
            message = (
                f"{_shown(endpoint)}: no compose service is called {host!r} "
                f"(services: {_services_list(view)})"
            )
            if external:
                message += "; it may be a container on an external network the service joins"
            yield _finding(
                view,
                "env-host-not-a-service",
                Severity.WARNING if external else Severity.ERROR,
                verdict,
                message=message,
                fix=fix if not external else f"{fix}, or list it in external-hosts",
            )


def _port_issues(view: StackView, verdicts: Iterable[Verdict]) -> Iterator[Issue]:
    for verdict in verdicts:
        endpoint, port, published = verdict.endpoint, verdict.endpoint.port, verdict.published
        if verdict.port_problem == "host-port" and published is not None:
            yield _finding(
                view,
                "env-port-is-host-port",
                Severity.ERROR,
                verdict,
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
                verdict,
                message=f"{_shown(endpoint)}: {verdict.target.name} declares container "
                f"port(s) {listed}, not {port}",
                fix=verdict.fix or f"use one of {verdict.target.name}'s container ports ({listed})",
            )


# --- rules ---------------------------------------------------------------------------------


def malformed_files(view: StackView) -> Iterator[Named]:
    for env_file in view.files:
        if env_file.error is not None:
            yield (
                None,
                Finding(
                    "env-file-malformed",
                    Severity.ERROR,
                    env_file.error.problem,
                    view.relative(env_file.path),
                    env_file.error.line,
                    "write it as KEY=VALUE, one per line (quote values with spaces or #)",
                ),
            )


def addresses(view: StackView) -> Iterator[Named]:
    """Hosts first, then ports: what each container receives, judged once."""
    verdicts = all_verdicts(view)
    yield from _grouped(_host_issues(view, verdicts))
    yield from _grouped(_port_issues(view, verdicts))


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


def host_variables(view: StackView) -> Iterator[Named]:
    seen: set[tuple[str, int]] = set()
    for service in sorted(view.project.services.values(), key=lambda s: s.name):
        for name in sorted(service.environment):
            reason = host_only_reason(view, name)
            if reason is None:
                continue
            origin = origin_of(view, service.name, name)
            # A passing `environment:` entry is where to drop it, even when .env holds the value.
            path, line = origin.entry if origin.entry is not None else (origin.path, origin.line)
            if (str(path), line or 0) in seen:
                continue
            seen.add((str(path), line or 0))
            readers = ", ".join(
                sorted(s.name for s in view.project.services.values() if name in s.environment)
            )
            where = view.relative(path)
            if origin.how != "env_file":
                how, fix = (
                    "`environment:`",
                    f"drop {name} from the service's environment in {where}",
                )
            else:
                how = f"`env_file: {where}`"
                fix = f"remove {name} from {where}"
                if path.name == ".env" and view.source.host_side_variables().get(name):
                    # compose interpolates it from this very file: removing it breaks the port
                    fix = (
                        "stop passing .env as env_file (give containers their own file); "
                        f"compose needs {name} in .env"
                    )
                elif path.name == ".env":
                    fix += " or stop passing .env as env_file (give containers their own file)"
                else:
                    fix += "; compose reads host-side values from .env or the shell"
            # With a whole env file, the container gets it whether or not its code reads it:
            # worth saying, not failing for; named in `environment:`, it is meant to be read.
            severity = Severity.WARNING if origin.how == "env_file" else Severity.ERROR
            yield (
                name,
                Finding(
                    "env-host-variable-in-service",
                    severity,
                    f"{name} is meant for the host ({reason}) but {how} passes it into {readers}",
                    where,
                    line or None,
                    fix,
                ),
            )


# The env rules, registered once: (check id, title, rule), in the order they run. `CHECKS` (the
# one Check shape, what doctor runs) and `RULES` (for `check_named`) are both read from here.
REGISTERED: tuple[tuple[str, str, Callable[[StackView], Iterator[Named]]], ...] = (
    ("env-files", "Env files parse", malformed_files),
    ("env-addresses", "Addresses name services and container ports", addresses),
    ("env-host-variables", "Host-only variables stay on the host", host_variables),
)
RULES = tuple(rule for _, _, rule in REGISTERED)


def check_named(view: StackView) -> list[Named]:
    """Every finding with the variable it is about (None for a whole file)."""
    return [named for rule in RULES for named in rule(view)]


@dataclass
class EnvModel:
    """What the env rules read as registered checks: the stack's env view, and which findings
    the user silenced (by the variable a finding is about); the silenced ones are kept apart."""

    view: StackView
    silences: Callable[[str | None, Finding], bool] = lambda name, finding: False
    silenced: list[Finding] = field(default_factory=list)


def _as_check(find: Callable[[StackView], Iterator[Named]]) -> Callable[[EnvModel], Outcome]:
    def run(model: EnvModel) -> Outcome:
        kept: list[Finding] = []
        for name, finding in find(model.view):
            (model.silenced if model.silences(name, finding) else kept).append(finding)
        return Outcome("checked", kept)

    return run


# The env rules in the one Check shape (devtools.report.checks).
CHECKS: tuple[Check[EnvModel], ...] = tuple(
    Check(id, title, _as_check(rule)) for id, title, rule in REGISTERED
)


def check(view: StackView) -> list[Finding]:
    return [finding for _, finding in check_named(view)]
