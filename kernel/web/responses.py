"""Responses shaped as the kernel's HTTP API has always answered: indented JSON and a newline."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response


def json_response(code: int, body: Any) -> Response:
    """`json.dumps(body, indent=2)` plus a newline, as `application/json` (what /health, /status
    and the CLI's `--format json` print)."""
    data = (json.dumps(body, indent=2) + "\n").encode()
    return Response(data, status_code=code, media_type="application/json")


def error_json(code: int, reason: str) -> Response:
    return json_response(code, {"status": "error", "reason": reason})
