"""The dashboard application: `create_app(db, settings) -> Starlette`, read-only.

Routes (GET and HEAD only; any other method is 405):

- `/health`, `/status`: JSON, exactly as the kernel has always answered them (kernel/api.py);
- `/audit`, `/audit/{sequence}`, `/audit/rows`, `/api/audit`, `/api/audit/{sequence}`:
  kernel/web/auditpages.py;
- `/api/chain`: the chain status (the keys of `omc-dev kernel audit verify --format json`);
- `/api/header`: what every page's header shows (the live script polls it);
- `/killswitch`, `/`: kernel/web/killswitch.py and kernel/web/overview.py (each a `routes`
  list); while `/` has no page, it redirects to `/audit`;
- `/static/...`: the CSS and the live-update script shipped in the package (no CDN).

Errors are one line: a bad query parameter 400, nothing there 404, a database that is not there
or not migrated 503, anything else a plain 500 line (never a traceback page). Under `/api/`,
`/health` and `/status` (and unknown paths) the line is JSON `{"status": "error", "reason": ...}`;
under the HTML pages it is a small HTML page.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kernel import api
from kernel.db import Database
from kernel.errors import KernelError, UnusableInput
from kernel.settings import KernelSettings
from kernel.web import auditpages, killswitch, overview
from kernel.web.auditquery import BadQuery
from kernel.web.chain import ChainWatch
from kernel.web.pages import STATIC, NotFound, WebState, header, make_templates, web_state
from kernel.web.responses import error_json, json_response

# What a browser may load on these pages: only this server's own files, no inline script.
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


def create_app(
    db: Database, settings: KernelSettings, *, anchor_file: Path | None = None
) -> Starlette:
    """The dashboard over `db`. `anchor_file`: the chain status's witness file (default:
    OMC_AUDIT_ANCHOR_FILE, as `omc-dev kernel audit verify`)."""

    def health(_request: Request) -> Response:
        return json_response(*api.health(db))

    def status(_request: Request) -> Response:
        return json_response(*api.status(db, settings))

    def api_chain(request: Request) -> Response:
        state = web_state(request)
        return json_response(200, state.chain.status(state.db).as_json())

    def api_header(request: Request) -> Response:
        response = json_response(200, header(web_state(request)).as_json())
        response.headers["Cache-Control"] = "no-store"
        return response

    def home(_request: Request) -> Response:
        return RedirectResponse("/audit", status_code=302)

    routes: list[BaseRoute] = [
        Route("/health", health, methods=["GET"]),
        Route("/status", status, methods=["GET"]),
        Route("/api/chain", api_chain, methods=["GET"]),
        Route("/api/header", api_header, methods=["GET"]),
        *auditpages.routes,
        *killswitch.routes,
        *overview.routes,
        Route("/", home, methods=["GET"]),  # reached only while overview has no "/"
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            BadQuery: _bad_query,
            NotFound: _not_found,
            UnusableInput: _bad_query,
            KernelError: _unavailable,
            HTTPException: _http_error,
            Exception: _internal_error,
        },
    )
    app.router.redirect_slashes = False  # /health/ is 404, as it always was
    app.state.web = WebState(db, settings, ChainWatch(anchor_file), make_templates())
    app.add_middleware(SecurityHeaders)
    return app


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path in ("/health", "/status")


def _error(request: Request, code: int, message: str) -> Response:
    if _wants_json(request):
        return error_json(code, message)
    page = web_state(request).templates.get_template("error.html")
    return HTMLResponse(page.render(code=code, message=message), status_code=code)


async def _bad_query(request: Request, exc: Exception) -> Response:
    return _error(request, 400, str(exc))


async def _not_found(request: Request, exc: Exception) -> Response:
    return _error(request, 404, str(exc))


async def _unavailable(request: Request, exc: Exception) -> Response:
    return _error(request, 503, str(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        # Unknown paths answer as the kernel API always has.
        return error_json(404, f"no such endpoint: {request.url.path}")
    if exc.status_code == 405:
        return error_json(405, f"{request.method} is not allowed: the dashboard is read-only")
    return error_json(exc.status_code, str(exc.detail))


async def _internal_error(request: Request, exc: Exception) -> Response:
    # The response says nothing of the internals; the server's log gets the exception's line.
    sys.stderr.write(f"kernel api: {request.method} {request.url.path} failed: {exc!r}\n")
    return PlainTextResponse("internal error: see the server's log\n", status_code=500)


class SecurityHeaders:
    """Adds `SECURITY_HEADERS` to every HTTP response, and `Server-Timing: app;dur=MS`: the
    time the application took until the response started (what the benchmark reads)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                took = f"app;dur={(time.perf_counter() - start) * 1000:.2f}".encode()
                message["headers"] = [
                    *message.get("headers", []),
                    *SECURITY_HEADERS,
                    (b"server-timing", took),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)
