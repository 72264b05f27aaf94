"""The kernel's schema version: upgrade to head, and refuse to run on a database that is behind."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError

from kernel.db import Database, database_error
from kernel.errors import EnvironmentMissing, UnusableInput

if TYPE_CHECKING:
    from alembic.config import Config

ALEMBIC_INI = Path(__file__).with_name("alembic.ini")


def alembic_config(url: str | None = None) -> Config:
    from alembic.config import Config

    cfg = Config(str(ALEMBIC_INI))
    if url is not None:
        cfg.attributes["url"] = url
    return cfg


@cache
def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "kernel/migrations has no revisions"
    return head


def current_revision(db: Database) -> str | None:
    """The revision the database is at (None: never migrated); unreachable -> one line."""
    from alembic.runtime.migration import MigrationContext

    try:
        with db.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except DBAPIError as exc:
        raise database_error(db.url, exc) from None


def upgrade(db: Database, app_role: str | None = None, app_password: str | None = None) -> str:
    """`alembic upgrade head` on `db`, programmatically; returns the revision now current.

    On PostgreSQL with `app_role`, that role then gets the kernel's privileges and no more
    (kernel/roles.py): the kernel connects as it, the migrations as the tables' owner.
    """
    from alembic import command

    if app_role is not None and db.dialect != "postgresql":
        raise UnusableInput(
            f"--app-role is for PostgreSQL: {db.display_url} has no roles "
            "(protect the SQLite file with the key and anchor instead)"
        )
    db.ping()
    try:
        command.upgrade(alembic_config(db.url), "head")
        if app_role is not None:
            from kernel.roles import grant_app_role

            with db.engine.begin() as conn:
                grant_app_role(conn, app_role, app_password)
    except DBAPIError as exc:
        raise database_error(db.url, exc) from None
    return head_revision()


def schema_problem(db: Database) -> str | None:
    """Why the kernel cannot use `db` yet (None when it is migrated to head)."""
    current = current_revision(db)
    if current == head_revision():
        return None
    if current is None:
        return "not migrated"
    return f"at revision {current}, not {head_revision()}"


def require_current(db: Database) -> None:
    problem = schema_problem(db)
    if problem is not None:
        raise EnvironmentMissing(
            f"the kernel database {db.display_url} is {problem}: "
            "run `omc-dev kernel migrate` (with the same --db) first"
        )
