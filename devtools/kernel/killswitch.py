"""`omc-dev killswitch trip|reset|history`: the operator's hand on the kill switch.

Trip and reset name the operator and the reason; both are committed (and audited) before any
alert is attempted, then the alerts get a short delivery window; what is left stays in the
outbox for `kernel run` / `kernel serve` to retry.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from devtools.kernel.options import db_option, row_limit


@click.group()
def killswitch() -> None:
    """Trip or reset the latching kill switch; show its history."""


def _operator_options(func: Any) -> Any:
    func = click.option("--reason", required=True, help="Why: recorded in the audit and alerts.")(
        func
    )
    return click.option("--by", "by", required=True, metavar="NAME", help="The operator's name.")(
        func
    )


def _change(action: str, db_url: str | None, by: str, reason: str, fmt: str) -> int:
    import time

    from kernel import killswitch as switch
    from kernel.alerts import Outbox
    from kernel.db import open_database
    from kernel.desk import utcnow
    from kernel.schema import require_current
    from kernel.settings import load_settings

    settings = load_settings()
    channels = tuple(settings.alerts.channels)
    db = open_database(db_url, create=False)
    try:
        require_current(db)
        change_fn = switch.trip if action == "trip" else switch.reset
        with db.write() as session:
            change = change_fn(session, by=by, reason=reason, now=utcnow(), channels=channels)
            row = switch.state_row(session)
            since = row.tripped_at if action == "trip" else row.reset_at
        delivered = True
        if change.alert_id is not None:
            outbox = Outbox(db, settings.alerts)
            delivered = outbox.drain(time.monotonic() + settings.alerts.timeout * 2)
    finally:
        db.dispose()

    payload = {
        "changed": change.changed,
        "state": str(change.state),
        "at": since.isoformat() if since else None,
        "audit_sequence": change.record.sequence if change.record else None,
        "alert_id": change.alert_id,
        "alerts_delivered": delivered if change.alert_id else None,
    }
    if fmt == "json":
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return 0
    if not change.changed:
        click.echo(f"kill switch already tripped (since {payload['at']}): nothing changed")
        return 0
    word = "TRIPPED" if action == "trip" else "RESET"
    click.echo(
        f"kill switch {word} by {by} (audit record {payload['audit_sequence']}): "
        f"trading is {change.state}"
    )
    if change.alert_id is not None:
        click.echo(
            f"alert {change.alert_id}: "
            + ("delivered" if delivered else "not delivered yet; kept in the outbox for retries")
        )
    return 0


@killswitch.command()
@db_option
@_operator_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def trip(*, db_url: str | None, by: str, reason: str, fmt: str) -> int:
    """Halt trading now: new orders are denied until a named operator resets it."""
    return _change("trip", db_url, by, reason, fmt)


@killswitch.command()
@db_option
@_operator_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def reset(*, db_url: str | None, by: str, reason: str, fmt: str) -> int:
    """Unlatch the kill switch (only when tripped)."""
    return _change("reset", db_url, by, reason, fmt)


@killswitch.command()
@db_option
@click.option("--limit", type=row_limit(1), help="Only the last N events.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def history(*, db_url: str | None, limit: int | None, fmt: str) -> int:
    """The timeline of trips and resets, from the audit chain."""
    from kernel import killswitch as switch
    from kernel.db import open_database
    from kernel.schema import require_current

    db = open_database(db_url, create=False)
    try:
        require_current(db)
        with db.read() as session:
            events = [
                {
                    "sequence": r.sequence,
                    "at": r.created_at.isoformat(),
                    "event": "trip" if r.action == "KILL_SWITCH_TRIPPED" else "reset",
                    "by": r.actor,
                    "reason": r.reason,
                    "outcome": r.outcome,
                }
                for r in switch.history(session, limit)
            ]
    finally:
        db.dispose()
    if fmt == "json":
        sys.stdout.write(json.dumps({"events": events}, indent=2) + "\n")
        return 0
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    if not events:
        console.print("the kill switch has never been tripped")
        return 0
    table = Table(title="kill switch history", title_justify="left")
    for column in ("seq", "at (UTC)", "event", "by", "reason", "outcome"):
        table.add_column(column, overflow="fold")
    for e in events:
        style = "red" if e["event"] == "trip" else "green"
        cells = [
            str(e[key] or "") for key in ("sequence", "at", "event", "by", "reason", "outcome")
        ]
        cells[1] = cells[1][:19].replace("T", " ")
        cells[2] = f"[{style}]{cells[2]}[/]"
        table.add_row(*cells)
    console.print(table)
    return 0
