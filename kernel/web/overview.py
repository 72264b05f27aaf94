"""/ : the overview (trading state, market mode and limits in force, positions at their marks with
PnL, the day's equity curve as an SVG drawn here); /api/overview: its JSON, the document
`omc-dev kernel status --format json` prints plus `equity_curve`.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kernel import equity, switchlog
from kernel.desk import utcnow
from kernel.status import snapshot
from kernel.web import params
from kernel.web.charts import equity_svg
from kernel.web.pages import render, web_state
from kernel.web.responses import json_response


def _overview(
    request: Request,
) -> tuple[dict[str, Any], equity.EquityCurve, list[switchlog.Period]]:
    query = params.only(request.query_params.multi_items(), ("day",))
    asked = params.day(query.get("day"))
    state = web_state(request)
    status = snapshot(state.db, state.settings)  # checks the schema first
    with state.db.read() as session:
        day = asked or equity.default_day(session, utcnow().date())
        curve = equity.curve(session, state.settings, day)
        spells = switchlog.timeline(session, utcnow()).periods
    return status, curve, spells


def overview_page(request: Request) -> Response:
    status, curve, spells = _overview(request)
    return render(
        request,
        "overview.html",
        {
            "s": status,
            "curve": equity.curve_json(curve),
            "svg": equity_svg(curve, spells),  # every text in it escaped by charts.esc
            "volatile": status["market"]["mode"] == "VOLATILE",
            "prev_day": _beside(curve.day, -1),
            "next_day": _beside(curve.day, 1),
        },
    )


def _beside(day: date, step: int) -> str:
    """The day before or after `day`, kept to the days `?day=` accepts."""
    inside = min(
        max(day, params.FIRST_DAY + timedelta(days=1)), params.LAST_DAY - timedelta(days=1)
    )
    return (inside + timedelta(days=step)).isoformat()


def api_overview(request: Request) -> Response:
    status, curve, _ = _overview(request)
    return json_response(200, {**status, "equity_curve": equity.curve_json(curve)})


routes: list[Route] = [
    Route("/", overview_page, methods=["GET"]),
    Route("/api/overview", api_overview, methods=["GET"]),
]
