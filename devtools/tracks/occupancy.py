"""Is a host port taken: by a process on the host (a real bind), or by a container (the Engine)."""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass

from devtools.errors import EnvironmentMissing

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
WORKING_DIR_LABEL = "com.docker.compose.project.working_dir"


def bound_on_host(port: int, protocol: str = "tcp") -> bool:
    """True when binding `port` on every address (IPv4 and IPv6) fails because it is in use.

    SO_REUSEADDR, as docker-proxy and most servers set it: a port whose last connections sit in
    TIME_WAIT is free for them, so it is free for us too; a listener still makes bind fail.
    """
    kind = socket.SOCK_DGRAM if protocol == "udp" else socket.SOCK_STREAM
    for family, address in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        try:
            sock = socket.socket(family, kind)
        except OSError:
            continue  # no IPv6 on this host: nothing can be bound there
        with sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind((address, port))
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    return True
                if exc.errno in (errno.EACCES, errno.EPERM):
                    return True  # a privileged port we may not bind is no use to us either
                # EADDRNOTAVAIL and friends: this address family is not configured here.
    return False


@dataclass(frozen=True)
class PublishedPort:
    """A host port a running container publishes."""

    port: int
    protocol: str
    host_ip: str
    container_port: int
    container: str  # name, without the leading "/"
    container_id: str
    project: str | None  # compose project label, when compose created it
    service: str | None
    working_dir: str | None  # the compose project's folder on the host


def published_by_containers() -> list[PublishedPort]:
    """Every host port published by a running container, from one Engine API call.

    Raises EnvironmentMissing when the engine cannot be reached.
    """
    from devtools.docker.sdk import client

    found: list[PublishedPort] = []
    for summary in client().api.containers():
        labels = summary.get("Labels") or {}
        names = summary.get("Names") or [summary.get("Id", "")[:12]]
        for port in summary.get("Ports") or ():
            if not port.get("PublicPort"):
                continue
            found.append(
                PublishedPort(
                    port=int(port["PublicPort"]),
                    protocol=str(port.get("Type", "tcp")),
                    host_ip=str(port.get("IP", "")),
                    container_port=int(port.get("PrivatePort", 0)),
                    container=str(names[0]).lstrip("/"),
                    container_id=str(summary.get("Id", "")),
                    project=labels.get(PROJECT_LABEL),
                    service=labels.get(SERVICE_LABEL),
                    working_dir=labels.get(WORKING_DIR_LABEL),
                )
            )
    return found


def published_or_none() -> list[PublishedPort] | None:
    """Like `published_by_containers`, but None when there is no engine to ask."""
    try:
        return published_by_containers()
    except EnvironmentMissing:
        return None
