"""`omc-dev urls`: which of a track's published ports are web pages, and their URLs.

A published port is HTTP when, first match wins:
  1. `http` / `not-http` in `[tool.omc-dev.tracks]` names it (`"backend:8000/docs"`,
     `"https://proxy:443"`, `"mailpit:1025"`; a bare `"SERVICE"` means all its ports);
  2. it is UDP: never;
  3. the service's labels route HTTP to it (Traefik `loadbalancer.server.port`), or its
     healthcheck fetches `http://localhost:PORT`;
  4. its container port is a well-known non-HTTP port (PostgreSQL 5432, SMTP 1025, Redis 6379,
     ...): not HTTP; a well-known web port (80, 8000, 8080, 5173, 3000, mail catcher UIs, ...): HTTP.
Anything else is listed as "not known as HTTP", with the setting that makes it a URL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from devtools.compose.model import ComposeProject, Service
from devtools.config import ProjectConfig
from devtools.errors import UnusableInput
from devtools.tracks.registry import PortAssignment

HTTPS_PORTS = frozenset({443, 8443})
WEB_PORTS = frozenset(
    {80, 443, 1080, 3000, 3001, 4000, 4173, 4200, 5000, 5050, 5173, 5174, 5601, 6006}
    | {8000, 8001, 8008, 8025, 8080, 8081, 8088, 8090, 8443, 8888, 9090, 9323, 15672}
)
# Databases, brokers, mail (SMTP) and the like: a browser shows nothing there.
NOT_WEB_PORTS = frozenset(
    {21, 22, 25, 53, 110, 143, 389, 465, 587, 636, 993, 995, 1025, 1433, 1521, 1883, 2181}
    | {2525, 3306, 4222, 5432, 5433, 5672, 6379, 6380, 7687, 8883, 9042, 9092, 11211, 27017}
)
_SERVER_PORT = re.compile(r"^traefik\.http\.services\.[^.]+\.loadbalancer\.server\.port$")
_LOCAL_URL = re.compile(
    r"(?P<scheme>https?)://(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(?::(?P<port>\d{1,5}))?"
)
_RULE = re.compile(
    r"^(?:(?P<scheme>https?)://)?(?P<service>[A-Za-z0-9][A-Za-z0-9_.-]*)"
    r"(?::(?P<port>\d{1,5}))?(?P<path>/\S*)?$"
)


@dataclass(frozen=True)
class Rule:
    service: str
    port: int | None  # None: every port of the service
    scheme: str | None
    path: str


@dataclass(frozen=True)
class PortUrl:
    """One published port of the track: its URL when it is HTTP, and why it was judged so."""

    port: PortAssignment
    url: str | None
    why: str

    def to_dict(self) -> dict[str, Any]:
        p = self.port
        return {
            "service": p.service,
            "target": p.target,
            "protocol": p.protocol,
            "published": p.published,
            "url": self.url,
            "why": self.why,
        }


def rules(config: ProjectConfig, key: str) -> tuple[Rule, ...]:
    raw = config.section("tracks").get(key, [])
    where = f"{config.pyproject}: [tool.omc-dev.tracks] {key}"
    example = '["backend:8000/docs", "https://proxy:443", "adminer"]'
    if not isinstance(raw, list):
        raise UnusableInput(f"{where} must be a list such as {example}")
    found = []
    for item in raw:
        match = _RULE.match(item) if isinstance(item, str) else None
        if match is None:
            raise UnusableInput(f"{where}: {item!r} is not [http[s]://]SERVICE[:PORT][/PATH]")
        port = match.group("port")
        found.append(
            Rule(
                match.group("service"),
                int(port) if port else None,
                match.group("scheme"),
                match.group("path") or "",
            )
        )
    return tuple(found)


def _matching(rules: Sequence[Rule], port: PortAssignment) -> Rule | None:
    for rule in rules:
        if rule.service == port.service and rule.port in (None, port.target):
            return rule
    return None


def _hinted(service: Service | None, target: int) -> str | None:
    """Why the service's own definition says `target` serves HTTP, or None."""
    if service is None:
        return None
    for key, value in service.labels.items():
        if _SERVER_PORT.match(key) and value.strip() == str(target):
            return f"label {key}"
    for word in service.healthcheck_test:
        for match in _LOCAL_URL.finditer(word):
            scheme, port = match.group("scheme"), match.group("port")
            if int(port or (443 if scheme == "https" else 80)) == target:
                return "healthcheck fetches it"
    return None


def url_host(host_ip: str | None) -> str:
    if host_ip in (None, "", "0.0.0.0", "::"):
        return "localhost"
    return f"[{host_ip}]" if ":" in host_ip else host_ip


def judge(
    port: PortAssignment,
    service: Service | None,
    http: Sequence[Rule] = (),
    not_http: Sequence[Rule] = (),
) -> PortUrl:
    scheme = "https" if port.target in HTTPS_PORTS else "http"
    base = f"{url_host(port.host_ip)}:{port.published}"
    rule = _matching(http, port)
    if rule is not None:
        return PortUrl(
            port, f"{rule.scheme or scheme}://{base}{rule.path}", "http in [tool.omc-dev.tracks]"
        )
    if _matching(not_http, port) is not None:
        return PortUrl(port, None, "not-http in [tool.omc-dev.tracks]")
    if port.protocol != "tcp":
        return PortUrl(port, None, f"a {port.protocol.upper()} port")
    hint = _hinted(service, port.target)
    if hint is not None:
        return PortUrl(port, f"{scheme}://{base}", hint)
    if port.target in NOT_WEB_PORTS:
        return PortUrl(port, None, f"container port {port.target} is not a web port")
    if port.target in WEB_PORTS:
        return PortUrl(port, f"{scheme}://{base}", f"container port {port.target} is a web port")
    return PortUrl(port, None, "not known as HTTP")


def track_urls(
    config: ProjectConfig, project: ComposeProject, ports: Sequence[PortAssignment]
) -> list[PortUrl]:
    """Every published port of the track, judged, in the registry's order."""
    http, not_http = rules(config, "http"), rules(config, "not-http")
    services: Mapping[str, Service] = project.services
    for key, listed in (("http", http), ("not-http", not_http)):
        for rule in listed:
            if rule.service not in services:
                raise UnusableInput(
                    f"{config.pyproject}: [tool.omc-dev.tracks] {key}: no service "
                    f"{rule.service!r} in the compose project "
                    f"(services: {', '.join(sorted(services)) or 'none'})"
                )
    return [judge(p, services.get(p.service), http, not_http) for p in ports]
