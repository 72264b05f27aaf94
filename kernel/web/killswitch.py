"""/killswitch: the kill switch's timeline as a picture (SVG drawn here) and as tables;
/api/killswitch: its JSON, exactly `omc-dev kernel killswitch history --format json`.

The page follows the switch live by short polling (kernel/web/static/fragment.js, every 2 s, as
the header does): `/killswitch/fragment?since=SEQ` answers 204 while the last change is still
SEQ, else the page's body again, rendered and escaped here. Polling, not server-sent events: a
change is rare, a poll is one indexed query, and it needs no long-lived connection per viewer.

Read-only: trip and reset stay CLI commands with a named operator.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from kernel import switchlog
from kernel.desk import utcnow
from kernel.web import params
from kernel.web.charts import duration, timeline_svg
from kernel.web.pages import render, web_state
from kernel.web.responses import json_response


def _timeline(request: Request, query: dict[str, str]) -> tuple[switchlog.Timeline, int]:
    limit = params.limit(
        query.get("limit"), default=switchlog.DEFAULT_LIMIT, maximum=switchlog.MAX_LIMIT
    )
    state = web_state(request)
    state.require_current()  # kept a few seconds: the live view asks every 2 s
    with state.db.read() as session:
        return switchlog.timeline(session, utcnow(), limit), limit


def _body(timeline: switchlog.Timeline, limit: int) -> dict[str, Any]:
    """What the page's body (`_killswitch_body.html`) shows."""
    return {
        "t": timeline,
        "svg": timeline_svg(timeline),  # every text in it escaped by charts.esc
        "periods": list(reversed(timeline.periods)),
        "events": list(reversed(timeline.events)),
        "duration": lambda p: _lasted(p, timeline),
        "limit": limit,
        "since": _last(timeline),
    }


def _lasted(period: switchlog.Period, timeline: switchlog.Timeline) -> str:
    """How long by the time written, and by the kernel clock where that says something else."""
    shown = duration(period.seconds(timeline.as_of))
    by_clock = period.clock_seconds(timeline.clock_now)
    if by_clock is not None and duration(by_clock) != shown:
        shown += f" (kernel clock {duration(by_clock)})"
    return shown


def _last(timeline: switchlog.Timeline) -> int:
    return timeline.events[-1].sequence if timeline.events else 0


def killswitch_page(request: Request) -> Response:
    query = params.only(request.query_params.multi_items(), ("limit",))
    return render(request, "killswitch.html", _body(*_timeline(request, query)))


def killswitch_fragment(request: Request) -> Response:
    query = params.only(request.query_params.multi_items(), ("limit", "since"))
    since = params.sequence(query.get("since"), "since")
    timeline, limit = _timeline(request, query)
    if since == _last(timeline):
        return Response(status_code=204, headers={"Cache-Control": "no-store"})
    page = web_state(request).templates.get_template("_killswitch_body.html")
    html = page.render(_body(timeline, limit))
    headers = {"Cache-Control": "no-store", "X-Last-Sequence": str(_last(timeline))}
    return HTMLResponse(html, headers=headers)


def api_killswitch(request: Request) -> Response:
    query = params.only(request.query_params.multi_items(), ("limit",))
    return json_response(200, switchlog.timeline_json(_timeline(request, query)[0]))


routes: list[Route] = [
    Route("/killswitch", killswitch_page, methods=["GET"]),
    Route("/killswitch/fragment", killswitch_fragment, methods=["GET"]),
    Route("/api/killswitch", api_killswitch, methods=["GET"]),
]
