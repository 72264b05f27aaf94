"""PostgreSQL: the migrations run as the tables' owner; the kernel connects as an application
role that may only INSERT and SELECT on the audit, so it cannot switch the triggers off."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy.engine import make_url

from kernel import audit
from kernel.auditkey import parse_keyring
from kernel.db import open_database
from kernel.models import AuditRecord
from kernel.schema_version import upgrade
from tests.fixtures.cli import omc
from tests.fixtures.kernel import fill_chain
from tests.fixtures.postgres import PgCluster

KEYS = f"k1:{'k' * 40}"


@pytest.fixture
def app_role(pg_cluster: PgCluster, pg_url: str) -> Iterator[str]:
    """A role name for the kernel; whatever migrate creates or grants is removed afterwards."""
    role = f"app_{uuid.uuid4().hex[:10]}"
    yield role
    dbname = make_url(pg_url).database
    assert dbname is not None
    exists = f"SELECT 1 FROM pg_roles WHERE rolname = '{role}'"
    with psycopg.connect(pg_cluster.conninfo(dbname), autocommit=True) as conn:
        if conn.execute(exists).fetchone():
            conn.execute(f'DROP OWNED BY "{role}"')
    pg_cluster.execute(f'DROP ROLE IF EXISTS "{role}"')


def as_role(url: str, role: str) -> str:
    return make_url(url).set(username=role).render_as_string(hide_password=False)


def conninfo(url: str) -> str:
    parsed = make_url(url)
    return f"host={parsed.host} port={parsed.port} user={parsed.username} dbname={parsed.database}"


def migrate(pg_url: str, role: str) -> None:
    proc = omc(
        "kernel",
        "migrate",
        "--db",
        pg_url,
        "--app-role",
        role,
        env={"OMC_DATABASE_APP_PASSWORD": "app-secret"},
    )
    assert proc.returncode == 0, proc.stderr
    assert f"role {role} may only INSERT and SELECT on the audit" in proc.stdout


BYPASSES = {
    "update": "UPDATE audit_records SET actor = 'mallory' WHERE sequence = 1",
    "delete": "DELETE FROM audit_records WHERE sequence = 1",
    "truncate": "TRUNCATE audit_records",
    "disable-triggers": "ALTER TABLE audit_records DISABLE TRIGGER USER",
    "upsert": "INSERT INTO audit_records SELECT * FROM audit_records WHERE sequence = 1 "
    "ON CONFLICT (sequence) DO UPDATE SET actor = 'mallory'",
    "replication-role": "SET session_replication_role = replica",
    "take-ownership": "ALTER TABLE audit_records OWNER TO CURRENT_USER",
    "drop": "DROP TABLE audit_records",
}


def test_the_kernel_runs_as_the_app_role_which_cannot_rewrite_the_audit(
    pg_url: str, app_role: str
) -> None:
    migrate(pg_url, app_role)
    app_url = as_role(pg_url, app_role)
    env = {"OMC_AUDIT_KEY": KEYS}
    run = omc("kernel", "run", "--db", app_url, "--ticks", "60", env=env)
    assert run.returncode == 0, run.stderr
    trip = omc("killswitch", "trip", "--db", app_url, "--by", "ops", "--reason", "drill", env=env)
    assert trip.returncode == 0, trip.stderr

    refused = {}
    for name, statement in BYPASSES.items():
        with psycopg.connect(conninfo(app_url)) as conn:
            try:
                conn.execute(statement)
            except psycopg.errors.InsufficientPrivilege as exc:
                refused[name] = str(exc).splitlines()[0]
            conn.rollback()
    assert set(refused) == set(BYPASSES), f"not refused: {set(BYPASSES) - set(refused)}"

    verify = omc("kernel", "audit", "verify", "--db", app_url, "--format", "json", env=env)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    result = json.loads(verify.stdout)
    assert result["verified"] and result["authenticated"] and result["unsigned_records"] == 0


def test_migrate_refuses_an_app_role_that_could_bypass_the_triggers(
    pg_cluster: PgCluster, pg_url: str, app_role: str
) -> None:
    owner = omc("kernel", "migrate", "--db", pg_url, "--app-role", "postgres")
    assert owner.returncode == 2 and owner.stderr.count("\n") == 1, owner.stderr
    assert "owns the tables" in owner.stderr
    missing = omc("kernel", "migrate", "--db", pg_url, "--app-role", app_role)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    pg_cluster.execute(f'CREATE ROLE "{app_role}" LOGIN IN ROLE postgres')
    member = omc("kernel", "migrate", "--db", pg_url, "--app-role", app_role)
    assert member.returncode == 2 and "member of the role that owns" in member.stderr
    pg_cluster.execute(f'ALTER ROLE "{app_role}" SUPERUSER')
    superuser = omc("kernel", "migrate", "--db", pg_url, "--app-role", app_role)
    assert superuser.returncode == 2 and "superuser" in superuser.stderr


def test_the_owner_switching_the_triggers_off_is_caught_by_the_key(pg_url: str) -> None:
    db = open_database(pg_url)
    try:
        upgrade(db)
        db.audit_keys = parse_keyring(KEYS, "test")
        fill_chain(db, 5)
        with db.read() as s:
            record = s.get(AuditRecord, 3)
            assert record is not None
            forged = audit.record_hash(
                sequence=3,
                created_at=record.created_at,
                actor="mallory",
                action=record.action,
                symbol=record.symbol,
                decision=record.decision,
                reason=record.reason,
                outcome=record.outcome,
                inputs=record.inputs,
                prev_hash=record.prev_hash,
            )
        # The owner may do this; the application role may not (above).
        with psycopg.connect(conninfo(pg_url), autocommit=True) as conn:
            conn.execute("ALTER TABLE audit_records DISABLE TRIGGER USER")
            conn.execute(
                "UPDATE audit_records SET actor = 'mallory', hash = %s WHERE sequence = 3",
                (forged,),
            )
            conn.execute("ALTER TABLE audit_records ENABLE TRIGGER USER")
        with db.read() as s:
            broken = audit.verify(s, db.audit_keys).first_break
        assert broken is not None and (broken.sequence, broken.problem) == (3, "mac_mismatch")
    finally:
        db.dispose()


def test_compose_style_variables_migrate_as_the_owner_and_run_as_the_app_role(
    pg_url: str, app_role: str
) -> None:
    # What compose.yaml gives both the migrate and the backend service.
    url = make_url(pg_url)
    env = {
        "POSTGRES_SERVER": str(url.host),
        "POSTGRES_PORT": str(url.port),
        "POSTGRES_USER": str(url.username),
        "POSTGRES_DB": str(url.database),
        "OMC_DATABASE_APP_ROLE": app_role,
        "OMC_DATABASE_APP_PASSWORD": "app-secret",
    }
    migrated = omc("kernel", "migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert f"//{url.username}@{url.host}:{url.port}/{url.database} is at revision" in (
        migrated.stdout
    )
    assert f"role {app_role} may only INSERT and SELECT on the audit" in migrated.stdout
    run = omc("kernel", "run", "--ticks", "30", env=env)
    assert run.returncode == 0, run.stderr
    status = omc("status", "--format", "json", env=env)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["database"].startswith(f"postgresql+psycopg://{app_role}:")
    # Connected as the app role, the kernel cannot switch the audit's triggers off.
    app = psycopg.connect(conninfo(as_role(pg_url, app_role)))
    with app, pytest.raises(psycopg.errors.InsufficientPrivilege):
        app.execute("ALTER TABLE audit_records DISABLE TRIGGER USER")
