"""PostgreSQL: the application's own role, which may only INSERT and SELECT on the audit.

The migrations run as the role that owns the tables (the stack's POSTGRES_USER). A table's owner
can always `ALTER TABLE ... DISABLE TRIGGER USER`, so a kernel connected as the owner could
rewrite its own audit. The kernel therefore connects as a second role: `kernel migrate
--app-role NAME` (or OMC_DATABASE_APP_ROLE) grants it what the kernel does on each table and no
more: SELECT and INSERT on `audit_records` (no UPDATE, DELETE, TRUNCATE, TRIGGER, nor ownership),
SELECT on `alembic_version`, read and write on the rest. It is re-applied on every migrate, so
tables a later revision adds are covered.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from sqlalchemy import Connection, text

from kernel.db import APP_PASSWORD_ENV, APP_ROLE_ENV
from kernel.errors import UnusableInput
from kernel.models import Base

APPEND_ONLY = ("audit_records",)
READ_ONLY = ("alembic_version",)


def app_role_from_env(environ: Mapping[str, str] | None = None) -> tuple[str | None, str | None]:
    env = os.environ if environ is None else environ
    return env.get(APP_ROLE_ENV) or None, env.get(APP_PASSWORD_ENV) or None


def _literal(value: str) -> str:
    # CREATE ROLE takes no bind parameters; standard_conforming_strings is on since 9.1.
    return "'" + value.replace("'", "''") + "'"


def grant_app_role(conn: Connection, role: str, password: str | None = None) -> None:
    """Give `role` the kernel's privileges (creating it, with `password`, if it is missing)."""
    quote = conn.dialect.identifier_preparer.quote
    row = conn.execute(
        text(
            "SELECT rolsuper, rolbypassrls, rolname = current_user "
            "FROM pg_roles WHERE rolname = :role"
        ),
        {"role": role},
    ).one_or_none()
    if row is None:
        if password is None:
            raise UnusableInput(
                f"the application role {role!r} does not exist: create it (CREATE ROLE {role} "
                f"LOGIN PASSWORD '...') or set {APP_PASSWORD_ENV} for migrate to create it"
            )
        conn.execute(text(f"CREATE ROLE {quote(role)} LOGIN PASSWORD {_literal(password)}"))
    elif row[2]:
        raise UnusableInput(
            f"the application role {role!r} is the role running the migrations, which owns the "
            "tables and could disable the audit's triggers: connect the kernel as another role"
        )
    elif row[0]:
        raise UnusableInput(
            f"the application role {role!r} is a superuser, which could rewrite the audit: "
            "use a role without SUPERUSER"
        )
    elif conn.execute(
        text(
            "SELECT bool_or(pg_has_role(:role, tableowner, 'MEMBER')) FROM pg_tables "
            "WHERE schemaname = current_schema() AND tablename = 'audit_records'"
        ),
        {"role": role},
    ).scalar_one():
        raise UnusableInput(
            f"the application role {role!r} is a member of the role that owns audit_records, "
            "so it could disable the audit's triggers: use a role outside it"
        )
    schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    present = set(
        conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = :schema"), {"schema": schema}
        ).scalars()
    )
    who, where = quote(role), quote(schema)
    conn.execute(text(f"GRANT USAGE ON SCHEMA {where} TO {who}"))
    for table in sorted(present & {*Base.metadata.tables, *READ_ONLY}):
        name = f"{where}.{quote(table)}"
        conn.execute(text(f"REVOKE ALL ON {name} FROM {who}"))
        if table in APPEND_ONLY:
            privileges = "SELECT, INSERT"
        elif table in READ_ONLY:
            privileges = "SELECT"
        else:
            privileges = "SELECT, INSERT, UPDATE, DELETE"
        conn.execute(text(f"GRANT {privileges} ON {name} TO {who}"))
    # Serial columns: inserts draw from their sequences; the book also moves orders' with setval.
    conn.execute(text(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {where} TO {who}"))
