"""`omc-dev kernel status`: the kernel's state for an operator (rich tables) or a tool (JSON)."""

from __future__ import annotations

import json
import sys

import click

from devtools.kernel_cli.options import db_option, row_limit
from devtools.options import format_option


@click.command()
@db_option
@click.option(
    "--limit", default=10, show_default=True, type=row_limit(0), help="Audit records shown."
)
@format_option("text", "json")
def status(db_url: str | None, limit: int, fmt: str) -> int:
    """Trading state and kill switch, market mode, strategies, balances, positions, PnL, audit."""
    from devtools.kernel_cli.project import kernel_database, kernel_settings
    from kernel.status import snapshot

    settings = kernel_settings()
    db = kernel_database(db_url, create=False)
    try:
        data = snapshot(db, settings, audit_limit=limit)
    finally:
        db.dispose()
    if fmt == "json":
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        from devtools.kernel_cli.tables import print_status

        print_status(data)
    return 0
