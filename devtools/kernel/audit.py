"""`omc-dev audit`: read the TradeAudit, or verify its hash chain."""

from __future__ import annotations

import json
import sys

import click

from devtools.kernel.options import db_option, row_limit

ACTIONS = (
    "ALGORITHM_SIGNAL",
    "ORDER_SUBMITTED",
    "ORDER_DENIED",
    "ORDER_FILLED",
    "ORDER_CANCELLED",
    "KILL_SWITCH_TRIPPED",
    "KILL_SWITCH_RESET",
    "MARKET_MODE_CHANGED",
)


@click.command()
@db_option
@click.option("--limit", default=20, show_default=True, type=row_limit(1))
@click.option("--actor", help="Only records by this actor (a strategy id, guard, an operator).")
@click.option(
    "--action", type=click.Choice(ACTIONS, case_sensitive=False), help="Only this action."
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option(
    "--verify", is_flag=True, help="Replay the hash chain; exit 1 naming the first broken record."
)
def audit(
    *, db_url: str | None, limit: int, actor: str | None, action: str | None, fmt: str, verify: bool
) -> int:
    """The last records of the append-only, hash-chained audit (oldest first)."""
    from kernel import audit as trade_audit
    from kernel.db import open_database
    from kernel.schema import require_current
    from kernel.status import audit_record_dict

    if verify and (actor or action):
        raise click.UsageError("--verify checks the whole chain: it takes no --actor or --action")
    db = open_database(db_url, create=False)
    try:
        require_current(db)
        with db.read() as session:
            if verify:
                result = trade_audit.verify(session)
            else:
                records = [
                    audit_record_dict(r)
                    for r in trade_audit.query(
                        session, limit=limit, actor=actor, action=action.upper() if action else None
                    )
                ]
    finally:
        db.dispose()

    if verify:
        broken = result.first_break
        if fmt == "json":
            payload = {
                "verified": broken is None,
                "records": result.records,
                "head": result.head_sequence,
                "first_broken": None
                if broken is None
                else {
                    "sequence": broken.sequence,
                    "problem": broken.problem,
                    "detail": broken.detail,
                },
            }
            sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        elif broken is None:
            click.echo(
                f"✓ audit chain intact: {result.records} records, head {result.head_sequence}"
            )
        else:
            click.echo(f"✗ audit chain broken at record {broken.sequence}: {broken.detail}")
        return 0 if broken is None else 1

    if fmt == "json":
        sys.stdout.write(json.dumps({"records": records}, indent=2) + "\n")
    else:
        from rich.console import Console

        from devtools.kernel.tables import audit_table

        Console(highlight=False).print(audit_table(records, f"audit ({len(records)} shown)"))
    return 0
