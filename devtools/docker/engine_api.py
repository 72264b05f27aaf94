"""A small Docker Engine API client over the engine's socket, for `omc-dev run`'s exec path.

`omc-dev run` pays for every millisecond of start-up, so this speaks HTTP/1.1 to the engine
directly with the standard library (json, socket) instead of importing the Engine SDK (~100 ms)
or spawning the docker CLI (~80 ms). It covers only what `run` needs: find and inspect a
container, create, start (a hijacked stream), resize and inspect an exec.
"""

from __future__ import annotations

import json
import os
import socket

from devtools.errors import EnvironmentMissing

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

API = "/v1.41"  # Docker Engine 20.10; every later engine still serves it
DEFAULT_HOST = "unix:///var/run/docker.sock"


class EngineError(Exception):
    """The engine answered a request with an error status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def endpoint(environ: Mapping[str, str] | None = None) -> str:
    """The engine the docker CLI would use: DOCKER_HOST, else the current context, else the default."""
    env = os.environ if environ is None else environ
    if env.get("DOCKER_HOST"):
        return env["DOCKER_HOST"]
    config_dir = env.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    context = env.get("DOCKER_CONTEXT") or _read_json(os.path.join(config_dir, "config.json")).get(
        "currentContext"
    )
    if context and context != "default":
        import hashlib

        digest = hashlib.sha256(str(context).encode()).hexdigest()
        meta = _read_json(os.path.join(config_dir, "contexts", "meta", digest, "meta.json"))
        host = meta.get("Endpoints", {}).get("docker", {}).get("Host")
        if host:
            return str(host)
    return DEFAULT_HOST


def _read_json(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            doc = json.load(fh)
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def unreachable(host: str, reason: str) -> EnvironmentMissing:
    return EnvironmentMissing(
        f"cannot reach the Docker engine at {host} ({reason}): "
        "start Docker (`sudo systemctl start docker`, or Docker Desktop), or install it"
    )


class Engine:
    """One engine endpoint; every request opens its own connection (they are cheap on a socket)."""

    def __init__(self, host: str | None = None, timeout: float | None = None) -> None:
        self.host = host or endpoint()
        self.timeout = timeout  # seconds per socket operation; None waits as long as it takes

    def connect(self) -> socket.socket:
        host = self.host
        try:
            if host.startswith("unix://"):
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(self.timeout)
                sock.connect(host.removeprefix("unix://"))
                return sock
            if host.startswith("tcp://"):
                name, _, port = host.removeprefix("tcp://").rstrip("/").rpartition(":")
                return socket.create_connection((name.strip("[]"), int(port)), self.timeout)
        except PermissionError:
            raise EnvironmentMissing(
                f"permission denied on the Docker engine socket {host}: "
                "add your user to the docker group (then log in again), or run as root"
            ) from None
        except (OSError, ValueError) as exc:
            raise unreachable(host, getattr(exc, "strerror", None) or str(exc)) from None
        raise EnvironmentMissing(
            f"omc-dev run reaches the engine over a unix socket or plain tcp, not {host}: "
            "point DOCKER_HOST at the engine's socket"
        )

    # -- plain requests ---------------------------------------------------------------------

    def request(
        self, method: str, path: str, body: object = None, *, ok: tuple[int, ...] = (200, 201, 204)
    ) -> Any:
        """One request; the decoded JSON answer (None when empty), EngineError on another status."""
        sock = self.connect()
        try:
            sock.sendall(_head(method, path, body, upgrade=False))
            status, headers, rest = _read_head(sock)
            data = _read_body(sock, headers, rest)
        finally:
            sock.close()
        if status not in ok:
            raise EngineError(status, _message(data))
        return json.loads(data) if data.strip() else None

    def inspect_container(self, ref: str) -> dict[str, Any]:
        doc = self.request("GET", f"/containers/{ref}/json")
        assert isinstance(doc, dict)
        return doc

    def find_containers(
        self, labels: Mapping[str, str], *, stopped: bool = False
    ) -> list[dict[str, Any]]:
        """Running containers (and stopped ones too when `stopped`) carrying all these labels."""
        filters = json.dumps({"label": [f"{k}={v}" for k, v in labels.items()]})
        every = "all=1&" if stopped else ""
        found = self.request("GET", f"/containers/json?{every}filters={_quote(filters)}")
        assert isinstance(found, list)
        return found

    def read_archive(self, container: str, path: str) -> bytes:
        """A tar archive of `path` in the container (how `docker cp` reads a file out)."""
        sock = self.connect()
        try:
            sock.sendall(
                _head(
                    "GET",
                    f"/containers/{container}/archive?path={_quote(path)}",
                    None,
                    upgrade=False,
                )
            )
            status, headers, rest = _read_head(sock)
            data = _read_body(sock, headers, rest)
        finally:
            sock.close()
        if status != 200:
            raise EngineError(status, _message(data))
        return data

    # -- exec -------------------------------------------------------------------------------

    def create_exec(self, container: str, config: Mapping[str, object]) -> str:
        """The new exec's id. EngineError 404: no such container; 409: not running or paused."""
        doc = self.request("POST", f"/containers/{container}/exec", dict(config), ok=(201,))
        return str(doc["Id"])

    def start_exec(self, exec_id: str, *, tty: bool) -> tuple[socket.socket, bytes]:
        """Start an attached exec: the hijacked connection and any stream bytes already read."""
        sock = self.connect()
        try:
            sock.sendall(_head("POST", f"/exec/{exec_id}/start", {"Detach": False, "Tty": tty}))
            status, headers, rest = _read_head(sock)
            if status not in (101, 200):
                raise EngineError(status, _message(_read_body(sock, headers, rest)))
        except BaseException:
            sock.close()
            raise
        return sock, rest

    def start_detached(self, exec_id: str) -> None:
        """Start an exec without attaching to it."""
        self.request("POST", f"/exec/{exec_id}/start", {"Detach": True, "Tty": False})

    def inspect_exec(self, exec_id: str) -> dict[str, Any]:
        doc = self.request("GET", f"/exec/{exec_id}/json")
        assert isinstance(doc, dict)
        return doc

    def resize_exec(self, exec_id: str, rows: int, cols: int) -> None:
        self.request("POST", f"/exec/{exec_id}/resize?h={rows}&w={cols}")


def _head(method: str, path: str, body: object, *, upgrade: bool = True) -> bytes:
    data = b"" if body is None else json.dumps(body).encode()
    lines = [
        f"{method} {API}{path} HTTP/1.1",
        "Host: docker",
        "User-Agent: omc-dev",
        f"Content-Length: {len(data)}",
    ]
    if data:
        lines.append("Content-Type: application/json")
    lines += ["Connection: Upgrade", "Upgrade: tcp"] if upgrade else ["Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def _read_head(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Status, lower-cased headers, and the bytes read past the header block."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise EngineError(0, "the engine closed the connection without an answer")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parts = status_line.split(" ", 2)
    headers = {}
    for line in header_lines:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    return int(parts[1]), headers, rest


def _read_body(sock: socket.socket, headers: Mapping[str, str], rest: bytes) -> bytes:
    chunks = [rest]
    while True:  # the server closes the connection after the answer (Connection: close)
        chunk = sock.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
    data = b"".join(chunks)
    if headers.get("transfer-encoding", "").lower() == "chunked":
        return _dechunk(data)
    if "content-length" in headers:
        return data[: int(headers["content-length"])]
    return data


def _dechunk(data: bytes) -> bytes:
    out: list[bytes] = []
    pos = 0
    while True:
        eol = data.index(b"\r\n", pos)
        size = int(data[pos:eol].split(b";")[0], 16)
        if size == 0:
            return b"".join(out)
        out.append(data[eol + 2 : eol + 2 + size])
        pos = eol + 2 + size + 2


def _message(data: bytes) -> str:
    try:
        doc = json.loads(data)
    except ValueError:
        return data.decode(errors="replace").strip() or "no message"
    return str(doc.get("message", doc)) if isinstance(doc, dict) else str(doc)


_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _quote(text: str) -> str:
    # urllib.parse.quote, without importing urllib on the fast path.
    return "".join(chr(b) if b in _SAFE else f"%{b:02X}" for b in text.encode())
