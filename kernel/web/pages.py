"""Rendering an HTML page with the header every page shows.

The helper pages use::

    render(request: Request, template: str, context: Mapping[str, Any] | None = None,
           *, status_code: int = 200) -> HTMLResponse

`template` names a file in `kernel/web/templates/` that extends `base.html` and fills its blocks
`title` and `content`. `render` adds to `context`:

- `header`: a `Header` (the kill switch and market state, the chain status) for base.html;
- `request`: the request (for `request.url`, `request.query_params`);
- `nav`: the current path, for the navigation's highlighted item.

`web_state(request).require_current()` says, as `kernel.schema_version.require_current` does, that the
database is not migrated (HTTP 503). Jinja2 autoescaping is on for every template: values from the audit render as text. The
application's state (`web_state(request)`) gives a route its `Database`, settings and chain watch:
`web_state(request).db.read()` is a read-only session. Routes are sync functions (Starlette runs
them in its thread pool) and read only; raise `BadQuery` for a bad query parameter (HTTP 400,
one line) and `NotFound` for a missing item (HTTP 404).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from kernel.db import Database
from kernel.models import TradingStateRow
from kernel.schema_version import require_current
from kernel.settings import KernelSettings
from kernel.web.chain import ChainStatus, ChainWatch

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")


class NotFound(Exception):
    """Nothing at this address (HTTP 404); `str()` is the one-line message."""


SCHEMA_RECHECK_SECONDS = 5.0  # how long a "migrated to head" answer is trusted


@dataclass
class WebState:
    """What every route needs, kept on `app.state.web`."""

    db: Database
    settings: KernelSettings
    chain: ChainWatch
    templates: Environment
    _schema_ok_until: float = 0.0

    def require_current(self) -> None:
        """`kernel.schema_version.require_current`, its positive answer kept a few seconds: a page asks
        for it more than once, and the live view asks every two seconds (a database that is not
        migrated is asked every time, so it is seen as soon as it is)."""
        now = time.monotonic()
        if now < self._schema_ok_until:
            return
        require_current(self.db)
        self._schema_ok_until = now + SCHEMA_RECHECK_SECONDS


def web_state(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


def make_templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["utc"] = utc
    return env


def utc(value: datetime | str | None) -> str:
    """A time as the pages show it: `2026-12-04 17:03:12 UTC` (seconds; the API has it all)."""
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            return value  # not a time: shown as it is (escaped)
    else:
        when = value
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    return when.isoformat(sep=" ", timespec="seconds")[:19] + " UTC"


@dataclass(frozen=True)
class Header:
    """The header's facts: trading state (the kill switch), market mode, chain status."""

    state: str  # ACTIVE | REDUCING | HALTED
    market_mode: str  # NORMAL | VOLATILE
    tripped_by: str | None
    trip_reason: str | None
    chain: ChainStatus

    def as_json(self) -> dict[str, Any]:
        return {
            "trading": {
                "state": self.state,
                "tripped": self.state == "HALTED",
                "tripped_by": self.tripped_by,
                "trip_reason": self.trip_reason,
            },
            "market": {"mode": self.market_mode},
            "chain": {
                **self.chain.as_json(),
                "summary": self.chain.summary,
                "state": self.chain.state,
            },
        }


def header(state: WebState) -> Header:
    """The header's facts now; the chain status replays only the records added since the last
    view (a long backlog in the background)."""
    state.require_current()
    with state.db.read() as session:
        row = session.get(TradingStateRow, 1)
        assert row is not None, "trading_state singleton missing (the migration seeds it)"
        trading = (row.state, row.market_mode, row.tripped_by, row.trip_reason)
    return Header(*trading, chain=state.chain.status(state.db))


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    state = web_state(request)
    page = state.templates.get_template(template)
    html = page.render(
        {**(context or {}), "header": header(state), "request": request, "nav": request.url.path}
    )
    return HTMLResponse(html, status_code=status_code)
