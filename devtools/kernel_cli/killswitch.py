"""`omc-dev kernel killswitch trip|reset|history`: the operator's hand on the kill switch.

Trip and reset name the operator and the reason; both are committed (and audited) before any
alert is attempted, then the alerts get a bounded delivery window (DELIVERY_WINDOW); the command
says, per channel, what was delivered, what failed for good and what stays in the outbox for
`kernel run` / `kernel serve` to retry.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from devtools.errors import EXIT_USAGE
from devtools.kernel_cli.options import db_option, row_limit
from devtools.options import format_option
from devtools.report.render import DATA_FORMATS

# The alerts of a trip or reset get this many `alerts.timeout`s (wall clock) to be delivered; the
# command returns by then (plus its start-up and database time): 10 s with the default 5 s.
DELIVERY_WINDOW = 2


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

    from devtools.kernel_cli.project import kernel_database, kernel_settings
    from kernel import killswitch as switch
    from kernel.alerts import ChannelReport, Outbox
    from kernel.desk import utcnow
    from kernel.errors import UnusableInput
    from kernel.schema_version import require_current

    # A halt never waits on the settings: with settings the kernel cannot use (a malformed
    # webhook URL, say), the trip still halts, sends nothing, and says why (exit 2).
    settings_problem: str | None = None
    try:
        settings = kernel_settings()
    except UnusableInput as exc:
        if action != "trip":
            raise
        settings, settings_problem = None, str(exc)
    channels = tuple(settings.alerts.channels) if settings else ()
    window = settings.alerts.timeout * DELIVERY_WINDOW if settings else 0
    db = kernel_database(db_url, create=False)
    report: list[ChannelReport] = []
    try:
        require_current(db)
        change_fn = switch.trip if action == "trip" else switch.reset
        with db.write() as session:
            change = change_fn(session, by=by, reason=reason, now=utcnow(), channels=channels)
            row = switch.state_row(session)
            since = row.tripped_at if action == "trip" else row.reset_at
        if change.alert_id is not None and settings is not None:
            # Committed: the halt stands whatever the webhooks do. They get a bounded window.
            outbox = Outbox(db, settings.alerts)
            outbox.drain(time.monotonic() + window)
            report = sorted(outbox.report(change.alert_id), key=lambda r: r.channel)
    finally:
        db.dispose()

    payload = {
        "changed": change.changed,
        "state": str(change.state),
        "at": since.isoformat() if since else None,
        "audit_sequence": change.record.sequence if change.record else None,
        "alert_id": change.alert_id,
        # True only when every channel answered 2xx; `alerts` says what happened to each.
        "alerts_delivered": (
            all(r.status == "delivered" for r in report) if change.alert_id else None
        ),
        "alerts_problem": settings_problem,
        "alerts": [
            {
                "channel": r.channel,
                "status": r.status,
                "attempts": r.attempts,
                "error": r.error,
                "next_attempt_at": r.next_attempt_at.isoformat() if r.next_attempt_at else None,
            }
            for r in report
        ],
    }
    code = EXIT_USAGE if settings_problem else 0
    if fmt == "json":
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    elif not change.changed:
        click.echo(f"kill switch already tripped (since {payload['at']}): nothing changed")
    else:
        _print_change(action, by, change, payload, report)
    if settings_problem:
        click.echo(f"omc-dev: no alert sent: {settings_problem}", err=True)
    return code


def _print_change(action: str, by: str, change: Any, payload: dict[str, Any], report: Any) -> None:
    word = "TRIPPED" if action == "trip" else "RESET"
    click.echo(
        f"kill switch {word} by {by} (audit record {payload['audit_sequence']}): "
        f"trading is {change.state}"
    )
    for r in report:
        click.echo(f"alert {change.alert_id} to {r.channel}: {_said(r)}")


def _said(r: Any) -> str:
    """One channel's outcome, plainly: delivered, failed for good, or queued for a retry."""
    if r.status == "delivered":
        return "delivered"
    if r.status == "failed":
        return f"FAILED, not retried ({r.error})"
    return (
        f"not delivered yet ({r.error or 'not tried'}); queued in the outbox, retried by "
        "`omc-dev kernel serve` or `kernel run`"
    )


@killswitch.command()
@db_option
@_operator_options
@format_option("text", "json")
def trip(*, db_url: str | None, by: str, reason: str, fmt: str) -> int:
    """Halt trading now: new orders are denied until a named operator resets it.

    The halt is committed first; the alerts then get up to twice `alerts.timeout` (10 s by
    default), and the command says per channel what was delivered, failed or stays queued.
    """
    return _change("trip", db_url, by, reason, fmt)


@killswitch.command()
@db_option
@_operator_options
@format_option("text", "json")
def reset(*, db_url: str | None, by: str, reason: str, fmt: str) -> int:
    """Unlatch the kill switch (only when tripped)."""
    return _change("reset", db_url, by, reason, fmt)


@killswitch.command()
@db_option
@click.option("--limit", type=row_limit(1), help="Only the last N events.")
@format_option(*DATA_FORMATS, default="table")
def history(*, db_url: str | None, limit: int | None, fmt: str) -> int:
    """The timeline of trips, resets and REDUCING spells, from the audit chain."""
    from devtools.kernel_cli.project import kernel_database
    from kernel import switchlog
    from kernel.desk import utcnow
    from kernel.schema_version import require_current

    db = kernel_database(db_url, create=False)
    try:
        require_current(db)
        with db.read() as session:
            # The same JSON as the dashboard's GET /api/killswitch.
            data = switchlog.timeline_json(switchlog.timeline(session, utcnow(), limit))
    finally:
        db.dispose()
    events = data["events"]
    if fmt == "json":
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
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
        style = {"trip": "red", "reduce": "yellow"}.get(e["event"], "green")
        cells = [
            str(e[key] or "") for key in ("sequence", "at", "event", "by", "reason", "outcome")
        ]
        cells[1] = cells[1][:19].replace("T", " ")
        cells[2] = f"[{style}]{cells[2]}[/]"
        table.add_row(*cells)
    console.print(table)
    return 0
