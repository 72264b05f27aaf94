"""The kernel's HTTP face for the stack: `GET /health` and `GET /status`, stdlib only.

`/health` is what a compose healthcheck polls: 200 `{"status": "ok", "database": "ok"}` when the
database answers and is migrated to head; 503 with the reason otherwise. `/status` is exactly
`omc-dev kernel status --format json`.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any

from kernel.alerts import Outbox, OutboxWorker
from kernel.db import Database
from kernel.errors import EnvironmentMissing, KernelError
from kernel.schema_version import schema_problem
from kernel.settings import KernelSettings
from kernel.status import snapshot

Reply = tuple[int, dict[str, Any]]


def health(db: Database) -> Reply:
    try:
        problem = schema_problem(db)
    except KernelError as exc:
        return 503, {"status": "error", "database": "unreachable", "reason": str(exc)}
    if problem is not None:
        reason = f"database {db.display_url} is {problem}: run `omc-dev kernel migrate`"
        return 503, {"status": "error", "database": "not migrated", "reason": reason}
    return 200, {"status": "ok", "database": "ok"}


def status(db: Database, settings: KernelSettings) -> Reply:
    try:
        return 200, snapshot(db, settings)
    except KernelError as exc:
        return 503, {"status": "error", "reason": str(exc)}


def make_server(
    db: Database, host: str, port: int, settings: KernelSettings
) -> ThreadingHTTPServer:
    routes: dict[str, Callable[[], Reply]] = {
        "/health": lambda: health(db),
        "/status": lambda: status(db, settings),
    }

    class Handler(BaseHTTPRequestHandler):
        server_version = "omc-kernel"

        def do_GET(self) -> None:
            route = routes.get(self.path.split("?", 1)[0])
            if route is None:
                code, body = 404, {"status": "error", "reason": f"no such endpoint: {self.path}"}
            else:
                code, body = route()
            data = (json.dumps(body, indent=2) + "\n").encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            sys.stderr.write(f"kernel api: {self.address_string()} {format % args}\n")

    try:
        httpd = ThreadingHTTPServer((host, port), Handler)
    except OSError as exc:
        raise EnvironmentMissing(
            f"cannot listen on {host}:{port}: {exc.strerror} (choose another --host/--port)"
        ) from None
    httpd.daemon_threads = True
    return httpd


def serve(
    db: Database,
    host: str,
    port: int,
    *,
    settings: KernelSettings,
    announce: Callable[[str], None],
) -> None:
    """Serve until SIGTERM (a clean stop, as `docker stop` sends) or Ctrl-C.

    With webhooks configured, a background worker also delivers the alert outbox, so alerts a
    short-lived command could not deliver are retried here.
    """
    httpd = make_server(db, host, port, settings)
    worker = OutboxWorker(Outbox(db, settings.alerts)).start() if settings.alerts.channels else None

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever to return: it must run outside this thread.
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    previous = signal.signal(signal.SIGTERM, _stop)
    bound_host, bound_port = httpd.server_address[:2]
    announce(f"kernel API on http://{bound_host!s}:{bound_port} (database {db.display_url})")
    try:
        httpd.serve_forever(poll_interval=0.2)
    finally:
        signal.signal(signal.SIGTERM, previous)
        httpd.server_close()
        if worker is not None:
            worker.stop()
