"""The kernel's two JSON answers for the stack: `GET /health` and `GET /status`.

`/health` is what a compose healthcheck polls: 200 `{"status": "ok", "database": "ok"}` when the
database answers and is migrated to head; 503 with the reason otherwise. `/status` is exactly
`omc-dev kernel status --format json`. The dashboard (kernel/web/app.py) serves both, unchanged.
"""

from __future__ import annotations

from typing import Any

from kernel.db import Database
from kernel.errors import KernelError
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
