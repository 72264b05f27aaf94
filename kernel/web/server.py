"""`omc-dev kernel serve`: the dashboard under uvicorn until SIGTERM (exit 0) or Ctrl-C (130).

The socket is bound here, before uvicorn starts: a port in use is one line (exit 125), and the
announced address is the bound one (`--port 0` picks a free port). uvicorn's own signal
handling is replaced: on its way out it re-raises the signal it caught, and a SIGTERM must end
`serve` with 0 (a clean stop, as `docker stop` sends), as the stdlib server before it did.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sys
from collections.abc import Callable, Generator
from types import FrameType

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kernel.alerts import Outbox, OutboxWorker
from kernel.db import Database
from kernel.errors import EnvironmentMissing
from kernel.settings import KernelSettings
from kernel.web.app import create_app

GRACEFUL_SECONDS = 5  # open requests get this long to finish after SIGTERM


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        said = exc.strerror or str(exc)
        raise EnvironmentMissing(
            f"cannot listen on {host}:{port}: {said} (choose another --host/--port)"
        ) from None
    sock.set_inheritable(True)
    return sock


class _Server(uvicorn.Server):
    """uvicorn's server with the kernel's signal handling: SIGTERM and SIGINT stop it; which
    one arrived is kept, so `serve` can end as each should."""

    received: int | None = None

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        if self.should_exit and signum == signal.SIGINT:
            self.force_exit = True  # a second Ctrl-C: do not wait for open requests
        self.received = signum
        self.should_exit = True

    @contextlib.contextmanager
    def stopped_by_signals(self) -> Generator[None, None, None]:
        """SIGTERM and SIGINT stop the server from here on, also before it has started (a
        Ctrl-C right after the address is announced must not interrupt the loop's set-up)."""
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # uvicorn's own handlers: replaced by stopped_by_signals, installed earlier


class AccessLog:
    """One stderr line a request, as the kernel API has always logged them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = [500]

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            client = scope.get("client") or ("-", 0)
            sys.stderr.write(
                f'kernel api: {client[0]} "{scope["method"]} {scope["path"]}" {status[0]}\n'
            )


def serve(
    db: Database,
    host: str,
    port: int,
    *,
    settings: KernelSettings,
    announce: Callable[[str], None],
) -> None:
    """Serve until SIGTERM or Ctrl-C (KeyboardInterrupt, which the CLI turns into exit 130).

    With webhooks configured, a background worker also delivers the alert outbox, so alerts a
    short-lived command could not deliver are retried here.
    """
    sock = bind(host, port)
    config = uvicorn.Config(
        AccessLog(create_app(db, settings)),
        log_config=None,  # the kernel's lines only: no uvicorn start-up banner
        log_level="warning",
        access_log=False,
        lifespan="off",
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )
    server = _Server(config)
    worker = OutboxWorker(Outbox(db, settings.alerts)).start() if settings.alerts.channels else None
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in str(bound_host) else str(bound_host)
    try:
        with server.stopped_by_signals():
            announce(f"kernel API on http://{shown}:{bound_port} (database {db.display_url})")
            asyncio.run(server.serve(sockets=[sock]))
    finally:
        sock.close()
        if worker is not None:
            worker.stop()
    if server.received == signal.SIGINT:
        raise KeyboardInterrupt
