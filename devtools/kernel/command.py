"""`omc-dev kernel migrate|serve|run`: the reference trading kernel's own commands.

Only click is imported here; the kernel (and sqlalchemy, alembic, rich) load when a command runs.
"""

from __future__ import annotations

import click

from devtools.kernel.options import db_option


@click.group()
def kernel() -> None:
    """The reference trading kernel: migrate its database, serve its API, run it on paper."""


@kernel.command()
@db_option
def migrate(db_url: str | None) -> int:
    """Upgrade the kernel database to the latest schema (alembic upgrade head)."""
    from kernel.db import open_database
    from kernel.schema import upgrade

    db = open_database(db_url)
    try:
        revision = upgrade(db)
    finally:
        db.dispose()
    click.echo(f"kernel database {db.display_url} is at revision {revision} (head)")
    return 0


@kernel.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
def serve(db_url: str | None, host: str, port: int) -> int:
    """Serve GET /health and GET /status (the JSON of `omc-dev status --format json`)."""
    from kernel.api import serve as serve_api
    from kernel.db import open_database

    db = open_database(db_url)
    try:
        serve_api(db, host, port, announce=lambda line: click.echo(line, err=True))
    finally:
        db.dispose()
    return 0
