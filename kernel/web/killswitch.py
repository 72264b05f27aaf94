"""/killswitch: the kill switch's timeline as a picture (SVG drawn here) and as tables;
/api/killswitch: its JSON, exactly `omc-dev kernel killswitch history --format json`.

Read-only: trip and reset stay CLI commands with a named operator.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kernel import switchlog
from kernel.desk import utcnow
from kernel.schema import require_current
from kernel.web import params
from kernel.web.charts import duration, timeline_svg
from kernel.web.pages import render, web_state
from kernel.web.responses import json_response


def _timeline(request: Request) -> switchlog.Timeline:
    query = params.only(request.query_params.multi_items(), ("limit",))
    limit = params.limit(
        query.get("limit"), default=switchlog.DEFAULT_LIMIT, maximum=switchlog.MAX_LIMIT
    )
    state = web_state(request)
    require_current(state.db)
    with state.db.read() as session:
        return switchlog.timeline(session, utcnow(), limit)


def killswitch_page(request: Request) -> Response:
    timeline = _timeline(request)
    return render(
        request,
        "killswitch.html",
        {
            "t": timeline,
            "svg": timeline_svg(timeline),  # every text in it escaped by charts.esc
            "periods": list(reversed(timeline.periods)),
            "events": list(reversed(timeline.events)),
            "duration": lambda p: duration(p.seconds(timeline.as_of)),
        },
    )


def api_killswitch(request: Request) -> Response:
    return json_response(200, switchlog.timeline_json(_timeline(request)))


routes: list[Route] = [
    Route("/killswitch", killswitch_page, methods=["GET"]),
    Route("/api/killswitch", api_killswitch, methods=["GET"]),
]
