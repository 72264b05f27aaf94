"""Webhook URLs and one POST to them under a wall-clock deadline.

One parser (`parse_url`) serves both the settings, which reject a bad URL when they are loaded,
and `send`, which connects to exactly what the parser returned: a URL that passes configuration
cannot fail later for a reason the parser could have seen.

`send` holds the whole exchange (name lookup, connect, request, every byte of the answer) to one
deadline. A socket timeout alone bounds each read, so a server trickling its answer a byte at a
time could hold a caller for ever; here the exchange runs on a helper thread, and when the deadline
passes its socket is shut down and the caller gets `TimeoutError` at once. Like urllib, it goes
through the proxy the environment names (`https_proxy`, `http_proxy`, `no_proxy`).
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import threading
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import http.client

MAX_ANSWER = 64 * 1024  # bytes of an answer body kept: enough for any error message
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
_ENCODED_CONTROL = re.compile(r"%(?:[01][0-9a-fA-F]|7[fF])")
_LABEL = r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
_HOSTNAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*\.?$")


class BadWebhookURL(ValueError):
    """Why a webhook URL cannot be used. The message never repeats the URL: its path is a secret."""


@dataclass(frozen=True)
class Target:
    scheme: str  # http | https
    host: str  # a name, an IPv4 address, or an IPv6 address without brackets
    port: int
    path: str  # path and query, as sent on the request line

    @property
    def origin(self) -> str:
        """The URL without its path: safe to print (webhook paths carry the token)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def parse_url(url: str) -> Target:
    """The target of an http(s) webhook URL, or `BadWebhookURL` saying what is wrong with it."""
    if not url.isascii():
        raise BadWebhookURL("it has a non-ASCII character (percent-encode it; punycode hosts)")
    if _CONTROL.search(url):
        raise BadWebhookURL("it has a space or a control character")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:  # "Invalid IPv6 URL", "Port could not be cast to integer value"
        raise BadWebhookURL(f"it does not parse as a URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise BadWebhookURL("expected an http:// or https:// URL")
    if "@" in parts.netloc:
        raise BadWebhookURL("credentials in the URL are not supported")
    if parts.fragment or url.endswith("#"):
        raise BadWebhookURL("a webhook URL has no #fragment")
    host = parts.hostname or ""
    if not host:
        raise BadWebhookURL("it names no host")
    if "[" in parts.netloc:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise BadWebhookURL("its host is not a valid IPv6 address") from None
    elif not _HOSTNAME.match(host):
        raise BadWebhookURL("its host is not a valid host name or address")
    if port == 0 or (port is None and parts.netloc.endswith(":")):
        raise BadWebhookURL("its port must be a number from 1 to 65535")
    path = parts.path or "/"
    if not path.startswith("/"):
        raise BadWebhookURL("its path must start with /")
    if _ENCODED_CONTROL.search(path + parts.query):
        raise BadWebhookURL("its path or query has an encoded control character (such as %0d%0a)")
    scheme = parts.scheme.lower()
    return Target(
        scheme=scheme,
        host=host,
        port=port or (443 if scheme == "https" else 80),
        path=path + (f"?{parts.query}" if parts.query else ""),
    )


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes  # at most MAX_ANSWER bytes


@dataclass(frozen=True)
class _Proxy:
    host: str
    port: int
    headers: dict[str, str]  # Proxy-Authorization, when the proxy URL has credentials


def _proxy_for(target: Target) -> _Proxy | None:
    """The proxy the environment names for `target` (`https_proxy`, `http_proxy`, `no_proxy`,
    read as urllib reads them), or None to connect directly."""
    import urllib.request  # here: only an attempt to send needs it

    proxy = urllib.request.getproxies().get(target.scheme)
    if not proxy or urllib.request.proxy_bypass(target.host):
        return None
    try:
        parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        port = parts.port or 80
    except ValueError as exc:
        raise ConnectionError(f"the {target.scheme}_proxy setting is not usable ({exc})") from None
    if not parts.hostname:
        raise ConnectionError(f"the {target.scheme}_proxy setting names no host")
    headers = {}
    if parts.username is not None:
        import base64

        user = urllib.parse.unquote(parts.username)
        secret = urllib.parse.unquote(parts.password or "")
        token = base64.b64encode(f"{user}:{secret}".encode()).decode()
        headers["Proxy-Authorization"] = f"Basic {token}"
    return _Proxy(parts.hostname, port, headers)


class _Connection:
    """One HTTP(S) connection, direct or through the environment's proxy, whose socket another
    thread may shut down."""

    def __init__(self, target: Target, seconds: float) -> None:
        import http.client  # here: it brings in ssl, which settings-only callers do not need

        proxy = _proxy_for(target)
        self.request_target = target.path
        self.extra_headers: dict[str, str] = {}
        self.http: http.client.HTTPConnection
        if proxy is None:
            cls: type[http.client.HTTPConnection] = (
                http.client.HTTPSConnection
                if target.scheme == "https"
                else http.client.HTTPConnection
            )
            self.http = cls(target.host, target.port, timeout=seconds)
        elif target.scheme == "https":  # a CONNECT tunnel: TLS end to end, as urllib does it
            self.http = http.client.HTTPSConnection(proxy.host, proxy.port, timeout=seconds)
            self.http.set_tunnel(target.host, target.port, headers=proxy.headers)
        else:  # plain HTTP: the proxy gets the absolute URL
            self.http = http.client.HTTPConnection(proxy.host, proxy.port, timeout=seconds)
            self.request_target = f"{target.origin}{target.path}"
            self.extra_headers = proxy.headers
        self._lock = threading.Lock()
        self._aborted = False

    def abort(self) -> None:
        """Unblock the thread using the connection: a shut-down socket ends a pending read."""
        import socket

        with self._lock:
            self._aborted = True
            sock = self.http.sock
        if sock is not None:
            # The plain socket's shutdown, also for TLS: leave the TLS object to its thread.
            with contextlib.suppress(OSError):  # already closed, or never connected
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def exchange(self, body: bytes, headers: dict[str, str]) -> Answer:
        try:
            self.http.connect()
            with self._lock:
                if self._aborted:
                    raise TimeoutError("aborted")
            self.http.request(
                "POST", self.request_target, body=body, headers=headers | self.extra_headers
            )
            response = self.http.getresponse()
            data = response.read(MAX_ANSWER)
            return Answer(response.status, {k: v for k, v in response.getheaders()}, data)
        finally:
            self.http.close()


def send(target: Target, body: bytes, headers: dict[str, str], *, seconds: float) -> Answer:
    """POST `body` to `target`; the answer, or an exception, within `seconds` of wall-clock time.

    Raises TimeoutError when the deadline passes, OSError or http.client.HTTPException when the
    connection fails or the answer is not HTTP.
    """
    conn = _Connection(target, seconds)
    outcome: list[Answer | BaseException] = []

    def run() -> None:
        try:
            outcome.append(conn.exchange(body, headers))
        except BaseException as exc:  # handed to the caller below, never lost in the thread
            outcome.append(exc)

    # A daemon: a name lookup cannot be interrupted, and must not keep the process alive.
    thread = threading.Thread(target=run, name="webhook-post", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive() or not outcome:
        conn.abort()
        raise TimeoutError(f"no complete answer within {seconds:g} s")
    result = outcome[0]
    if isinstance(result, TimeoutError):
        # The socket's own timeout can fire a moment before the wall clock's: the same verdict.
        raise TimeoutError(f"no complete answer within {seconds:g} s") from None
    if isinstance(result, BaseException):
        raise result
    return result
