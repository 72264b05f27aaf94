"""What only PostgreSQL has: session time zones, TRUNCATE, expression-index catalog entries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from kernel.db import Database
from tests.fixtures.cli import omc
from tests.fixtures.postgres import PgCluster


def test_per_day_index_is_on_the_utc_date_not_the_session_time_zone(db: Database) -> None:
    with db.read() as session:
        definition = session.execute(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'uq_day_open_utc_day'")
        ).scalar_one()
    assert "(created_at AT TIME ZONE 'UTC'::text))::date" in definition
    # 23:30 UTC and 00:30 UTC the next day are the same day in Sydney, different days in UTC.
    day = datetime(2025, 3, 1, 23, 30, tzinfo=UTC)
    with db.write() as session:
        session.execute(text("SET LOCAL TimeZone = 'Australia/Sydney'"))
        for at in (day, day + timedelta(hours=1)):
            session.execute(
                text("INSERT INTO day_open (created_at, equity) VALUES (:at, :e)"),
                {"at": at, "e": Decimal(1)},
            )


def test_audit_records_refuse_truncate(db: Database) -> None:
    with pytest.raises(DBAPIError, match="append-only"), db.write() as session:
        session.execute(text("TRUNCATE audit_records"))


def test_compose_style_variables_migrate_a_real_server(kernel_url: str) -> None:
    url = make_url(kernel_url)
    env = {
        "POSTGRES_SERVER": str(url.host),
        "POSTGRES_PORT": str(url.port),
        "POSTGRES_USER": str(url.username),
        "POSTGRES_DB": str(url.database),
    }
    proc = omc("kernel", "migrate", env=env)
    assert proc.returncode == 0, proc.stderr
    assert f"@{url.host}:{url.port}/{url.database} is at revision" in proc.stdout


def test_the_offline_sql_script_builds_the_same_schema(pg_cluster: PgCluster) -> None:
    """`alembic upgrade head --sql` output, run as a plain script, gives a working kernel schema."""
    import io
    from contextlib import redirect_stdout

    import psycopg
    from alembic import command

    from kernel.schema_version import alembic_config, head_revision

    with pg_cluster.database() as url:
        script = io.StringIO()
        with redirect_stdout(script):
            command.upgrade(alembic_config(url), "head", sql=True)
        dbname = url.rsplit("/", 1)[1]
        with psycopg.connect(pg_cluster.conninfo(dbname), autocommit=True) as conn:
            conn.execute(script.getvalue().encode())
            assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (
                head_revision(),
            )
            conn.execute(
                "INSERT INTO audit_records (sequence, created_at, actor, action, inputs, prev_hash, hash) "
                "VALUES (1, now(), 'a', 'X', '{}', 'p', 'h')"
            )
            with pytest.raises(psycopg.errors.RaiseException, match="append-only: UPDATE refused"):
                conn.execute("UPDATE audit_records SET actor = 'b'")
