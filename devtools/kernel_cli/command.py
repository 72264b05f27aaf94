"""`omc-dev kernel ...`: the reference trading kernel's own commands.

Only click is imported here; the kernel (and sqlalchemy, alembic, rich) load when a command runs.
"""

from __future__ import annotations

from pathlib import Path

import click

from devtools.kernel_cli.options import db_option
from devtools.lazy import LazyGroup

# The operator's commands, each in its own module (loaded when run), as in the root group.
OPERATOR_COMMANDS: dict[str, tuple[str, str]] = {
    "status": (
        "devtools.kernel_cli.status:status",
        "Show the trading kernel's state, positions and PnL.",
    ),
    "audit": (
        "devtools.kernel_cli.audit:audit_group",
        "Show, verify or anchor the kernel's hash-chained audit.",
    ),
    "killswitch": (
        "devtools.kernel_cli.killswitch:killswitch",
        "Trip, reset or review the kill switch.",
    ),
}


@click.group(cls=LazyGroup, lazy=OPERATOR_COMMANDS)
def kernel() -> None:
    """The reference trading kernel: migrate its database, serve its API, run it on paper,
    and the operator's status, audit and kill switch."""


@kernel.command()
@db_option
@click.option(
    "--app-role",
    metavar="ROLE",
    help="PostgreSQL: the role the kernel connects as; it gets INSERT and SELECT on the audit "
    "and no more (default: OMC_DATABASE_APP_ROLE; created with OMC_DATABASE_APP_PASSWORD).",
)
def migrate(db_url: str | None, app_role: str | None) -> int:
    """Upgrade the kernel database to the latest schema (alembic upgrade head)."""
    from devtools.kernel_cli.project import kernel_database
    from kernel.roles import app_role_from_env
    from kernel.schema_version import upgrade

    env_role, password = app_role_from_env()
    db = kernel_database(db_url, owner=True)
    try:
        # The variable is stack-wide: on SQLite (no roles) it is not an error, the flag is.
        role = app_role if app_role is not None else env_role
        if app_role is None and db.dialect != "postgresql":
            role = None
        revision = upgrade(db, role, password)
    finally:
        db.dispose()
    granted = f"; role {role} may only INSERT and SELECT on the audit" if role else ""
    click.echo(f"kernel database {db.display_url} is at revision {revision} (head){granted}")
    return 0


@kernel.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
def serve(db_url: str | None, host: str, port: int) -> int:
    """Serve the dashboard (/audit, ...), GET /health and GET /status (the JSON of
    `omc-dev kernel status --format json`). Read-only: trip and reset stay CLI commands."""
    from devtools.kernel_cli.project import kernel_database, kernel_settings
    from kernel.web.server import serve as serve_api

    settings = kernel_settings()
    db = kernel_database(db_url)
    try:
        serve_api(
            db, host, port, settings=settings, announce=lambda line: click.echo(line, err=True)
        )
    finally:
        db.dispose()
    return 0


@kernel.command()
@db_option
@click.option("--symbols", metavar="LIST", help="Comma-separated symbols (default: configured).")
@click.option(
    "--feed",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Replay a CSV or JSON price file (CoinSpot's latest-prices shape included).",
)
@click.option("--seed", type=int, help="Seed of the synthetic feed (the default feed; seed 1).")
@click.option("--ticks", type=click.IntRange(min=1), help="Stop after N ticks.")
@click.option("--duration", metavar="SPAN", help="Stop after this much feed time: 24h, 90m, 1d.")
@click.option("--realtime", is_flag=True, help="Pace ticks on the wall clock (default: simulated).")
def run(
    *,
    db_url: str | None,
    symbols: str | None,
    feed: Path | None,
    seed: int | None,
    ticks: int | None,
    duration: str | None,
    realtime: bool,
) -> int:
    """Trade on paper: MA crossover through the Guard, on a synthetic or replayed feed.

    Simulated time by default (a day of one-minute bars takes seconds); one transaction per
    tick, so Ctrl-C stops cleanly with every finished tick committed (exit 130).
    """
    from devtools.kernel_cli.running import run_paper

    if feed is not None and seed is not None:
        raise click.UsageError("--feed and --seed are alternatives: give one")
    if ticks is not None and duration is not None:
        raise click.UsageError("--ticks and --duration are alternatives: give one")
    requested = [s.strip().lower() for s in symbols.split(",") if s.strip()] if symbols else None
    if symbols is not None and not requested:
        raise click.UsageError("--symbols needs at least one symbol")
    return run_paper(
        db_url,
        symbols=requested,
        feed=feed,
        seed=1 if seed is None else seed,
        ticks=ticks,
        duration=duration,
        realtime=realtime,
    )
