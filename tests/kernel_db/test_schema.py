"""The kernel contract: migrations, the models matching them, and the stack's HTTP endpoints."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from kernel.db import Database, open_database
from kernel.models import Base, DayOpen
from kernel.schema_version import alembic_config, current_revision, head_revision, upgrade
from tests.fixtures.cli import omc
from tests.fixtures.kernel import served_kernel


def test_migrate_creates_every_table_and_seeds_the_singletons(db: Database) -> None:
    assert current_revision(db) == head_revision()
    tables = set(inspect(db.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    with db.read() as session:
        assert session.execute(text("SELECT state, market_mode FROM trading_state")).all() == [
            ("ACTIVE", "NORMAL")
        ]
        assert session.execute(text("SELECT sequence FROM audit_head")).all() == [(0,)]


def test_models_match_the_migrations(db: Database) -> None:
    with db.engine.connect() as conn, warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diffs = compare_metadata(ctx, Base.metadata)
    # Expression indexes are invisible to the model (they differ per dialect): ignore those.
    diffs = [
        d for d in diffs if not (d[0] == "remove_index" and d[1].name == "uq_day_open_utc_day")
    ]
    assert diffs == []


def test_migrate_command_is_idempotent(kernel_url: str) -> None:
    for _ in range(2):
        proc = omc("kernel", "migrate", "--db", kernel_url)
        assert proc.returncode == 0, proc.stderr
        assert f"at revision {head_revision()} (head)" in proc.stdout


def test_downgrade_to_base_and_upgrade_again(db: Database) -> None:
    command.downgrade(alembic_config(db.url), "base")
    assert current_revision(db) is None
    assert "audit_records" not in inspect(db.engine).get_table_names()
    upgrade(db)
    assert current_revision(db) == head_revision()


def test_audit_records_refuse_update_and_delete_in_the_database(db: Database) -> None:
    with db.write() as session:
        session.execute(
            text(
                "INSERT INTO audit_records (sequence, created_at, actor, action, inputs, "
                "prev_hash, hash) VALUES (1, :at, 'test', 'ALGORITHM_SIGNAL', '{}', :p, :h)"
            ),
            {"at": datetime.now(UTC).replace(tzinfo=None), "p": "0" * 64, "h": "1" * 64},
        )
    for statement in (
        "UPDATE audit_records SET actor = 'mallory'",
        "DELETE FROM audit_records",
    ):
        with pytest.raises(DBAPIError, match="append-only"), db.write() as session:
            session.execute(text(statement))
    with db.read() as session:
        assert session.execute(text("SELECT actor FROM audit_records")).all() == [("test",)]


def _insert_day_open(db: Database, at: datetime) -> None:
    with db.write() as session:
        session.add(DayOpen(created_at=at, equity=Decimal("1")))


def test_day_open_is_unique_per_utc_day(db: Database) -> None:
    day = datetime(2025, 3, 1, tzinfo=UTC)
    _insert_day_open(db, day + timedelta(minutes=1))
    with pytest.raises(IntegrityError):
        _insert_day_open(db, day + timedelta(hours=23, minutes=59))
    _insert_day_open(db, day + timedelta(days=1))


def test_status_needs_a_migrated_database(kernel_url: str) -> None:
    proc = omc("kernel", "status", "--db", kernel_url)
    assert proc.returncode == 125
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "omc-dev kernel migrate" in proc.stderr


def test_health_is_503_until_migrated_then_200_and_status_matches_the_cli(
    kernel_url: str,
) -> None:
    # The stack's order of events: backend up first, migrate service later.
    empty = open_database(kernel_url)
    with served_kernel(kernel_url) as api:
        code, body = api.get("/health")
        assert code == 503
        assert body["database"] == "not migrated" and "omc-dev kernel migrate" in body["reason"]
        assert api.get("/status")[0] == 503

        upgrade(empty)
        assert api.get("/health") == (200, {"status": "ok", "database": "ok"})
        code, served = api.get("/status")
        assert code == 200
        cli = omc("kernel", "status", "--db", kernel_url, "--format", "json")
        assert cli.returncode == 0, cli.stderr
        assert served == json.loads(cli.stdout)
        assert api.get("/nope")[0] == 404
    empty.dispose()
