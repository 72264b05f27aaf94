"""/audit: the TradeAudit as a table (newest first, filtered, keyset-paged), a record's detail,
the rows added since a sequence (the live view's fragment) and `/api/audit` (JSON).

`/api/audit` answers `{"records": [...]}` with the record objects of
`omc-dev kernel audit show --format json`, oldest first as the CLI prints them.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from kernel.models import AuditRecord
from kernel.status import audit_record_dict
from kernel.web import auditquery as q
from kernel.web.pages import NotFound, render, web_state
from kernel.web.responses import json_response

LIVE_ROWS_MAX = 100  # new rows one poll brings at most (the page keeps its length)


def _query(request: Request, *, paging: bool) -> tuple[q.AuditFilter, q.PageRequest]:
    allowed = (*q.FILTER_PARAMS, *q.PAGE_PARAMS) if paging else q.FILTER_PARAMS
    values = q.single_values(request.query_params.multi_items(), allowed)
    return q.parse_filter(values), q.parse_page(values)


def _row(record: AuditRecord) -> dict[str, Any]:
    inputs = json.loads(record.inputs)
    clock = inputs.get("clock") if isinstance(inputs, dict) else None
    return {"record": record, "clock": clock if isinstance(clock, str) else None}


def audit_page(request: Request) -> Response:
    flt, page = _query(request, paging=True)
    if page.after is not None:
        raise q.BadQuery("the audit page pages with before=SEQUENCE (after= is for /api/audit)")
    state = web_state(request)
    state.require_current()
    with state.db.read() as session:
        records = q.newest_first(session, flt, page)
    rows = [_row(r) for r in records]
    older = records[-1].sequence if len(records) == page.limit else None
    filters = flt.params()
    return render(
        request,
        "audit.html",
        {
            "rows": rows,
            "filters": dict(filters),
            "filter_items": filters,
            "actions": q.ACTIONS,
            "page": page,
            "older": older,
            "live": page.before is None,
            "limit_param": [] if page.limit == q.DEFAULT_LIMIT else [("limit", str(page.limit))],
        },
    )


def audit_rows(request: Request) -> Response:
    """The rows newer than `after`, newest first, as the table's HTML (the live view's poll)."""
    flt, page = _query(request, paging=True)
    if page.after is None or page.before is not None:
        raise q.BadQuery("/audit/rows needs after=SEQUENCE (the newest row the page shows)")
    page = q.PageRequest(after=page.after, limit=min(page.limit, LIVE_ROWS_MAX))
    state = web_state(request)
    state.require_current()
    with state.db.read() as session:
        records = q.newest_first(session, flt, page)
    html = state.templates.get_template("_audit_rows.html").render(
        rows=[_row(r) for r in records], fresh=True
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


def record_page(request: Request) -> Response:
    sequence = _sequence(request.path_params["sequence"])
    state = web_state(request)
    state.require_current()
    with state.db.read() as session:
        record = q.record(session, sequence)
        if record is None:
            raise NotFound(f"no audit record {sequence}")
        has_next = q.record(session, sequence + 1) is not None
    inputs = json.loads(record.inputs)
    snapshot = inputs if isinstance(inputs, dict) else {"inputs": inputs}
    highlights = [
        (name, snapshot[name])
        for name in ("price", "limits", "mode", "state", "clock")
        if name in snapshot
    ]
    others = [(k, v) for k, v in snapshot.items() if k not in dict(highlights)]
    return render(
        request,
        "audit_record.html",
        {
            "r": record,
            "clock": snapshot.get("clock") if isinstance(snapshot.get("clock"), str) else None,
            "highlights": [(k, _shown(v)) for k, v in highlights],
            "others": [(k, _shown(v)) for k, v in others],
            "has_next": has_next,
        },
    )


def _shown(value: Any) -> str:
    """An input value as text: strings as they are, the rest as indented JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False)


def _sequence(raw: str) -> int:
    if not q.DIGITS.fullmatch(raw):
        shown = raw if len(raw) <= 40 else raw[:40] + "…"
        raise q.BadQuery(f"an audit record is named by its sequence number, got {shown!r}")
    sequence = int(raw)
    if sequence > q.MAX_SEQUENCE:
        raise NotFound(f"no audit record {sequence}")
    return sequence


def api_audit(request: Request) -> Response:
    flt, page = _query(request, paging=True)
    state = web_state(request)
    state.require_current()
    with state.db.read() as session:
        records = [audit_record_dict(r) for r in q.oldest_first(session, flt, page)]
    return json_response(200, {"records": records})


def api_audit_record(request: Request) -> Response:
    sequence = _sequence(request.path_params["sequence"])
    if request.query_params:
        raise q.BadQuery("/api/audit/SEQUENCE takes no query parameters")
    state = web_state(request)
    state.require_current()
    with state.db.read() as session:
        record = q.record(session, sequence)
        if record is None:
            raise NotFound(f"no audit record {sequence}")
        return json_response(200, audit_record_dict(record))


routes: list[Route] = [
    Route("/audit", audit_page, methods=["GET"]),
    Route("/audit/rows", audit_rows, methods=["GET"]),
    Route("/audit/{sequence}", record_page, methods=["GET"]),
    Route("/api/audit", api_audit, methods=["GET"]),
    Route("/api/audit/{sequence}", api_audit_record, methods=["GET"]),
]
