"""Fill a track's database from a dump without ever leaving it half-restored.

The dump goes into a new database next to the target's (`<db>__omc_restore`) in one transaction
(`pg_restore --single-transaction --exit-on-error`). Only when all of it arrived is the target's
database replaced: connections to it are ended and both renames are one transaction. A dump that
fails or is interrupted half-way leaves the target's database exactly as it was (the partial
copy is dropped; one left by a killed omc-dev is dropped by the next run).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from devtools.dbcopy import roles
from devtools.dbcopy.container import DbContainer
from devtools.dbcopy.faults import explain
from devtools.dbcopy.stream import Outcome, Progress, transfer
from devtools.errors import EXIT_INTERRUPTED, Stopped, UserError

STAGING = "__omc_restore"
REPLACED = "__omc_replaced"
MAX_IDENTIFIER = 63


def beside(database: str, suffix: str) -> str:
    return database[: MAX_IDENTIFIER - len(suffix)] + suffix


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def drop_database(target: DbContainer, name: str) -> None:
    """Drop `name` (if it exists) after ending its connections."""
    target.sql(
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = {literal(name)}",
        database=target.maintenance_db,
    )
    # FORCE (PostgreSQL 13+) also waits for backends still on their way out.
    force = " WITH (FORCE)" if target.major >= 13 else ""
    target.sql(f"DROP DATABASE IF EXISTS {ident(name)}{force}", database=target.maintenance_db)


def create_roles(target: DbContainer, dumped_roles: str) -> list[str]:
    """Create (and set as in the source) the roles the dump names; the ones created."""
    missing = [r for r in roles.created_roles(dumped_roles) if r not in target.role_names()]
    script = roles.replayable(dumped_roles, target.role_names(), target.user)
    target.sql(script, database=target.maintenance_db)
    return [r for r in missing if r != target.user]


def restore_into(
    target: DbContainer,
    feed: Sequence[str] | Path,
    *,
    feed_env: Mapping[str, str] | None,
    dumped_roles: str,
    owner: str,
    source: str,
    target_label: str,
) -> Outcome:
    """Restore the custom-format dump `feed` gives (a `pg_dump` argv, or a file) into the
    target's database, replacing it whole. One-line UserError when it did not arrive whole."""
    staging = beside(target.database, STAGING)
    kept = f"database {target.database} of {target_label} is as it was"
    drop_database(target, staging)  # a partial copy a killed run left behind
    create_roles(target, dumped_roles)
    if owner not in target.role_names():
        owner = target.user
    target.sql(
        f"CREATE DATABASE {ident(staging)} OWNER {ident(owner)} TEMPLATE template0",
        database=target.maintenance_db,
    )
    consumer = target.exec_argv(
        "pg_restore", "--format=custom", "--single-transaction", "--exit-on-error",
        "--no-password", "--username", target.user, "--dbname", staging,
        stdin=True,
    )  # fmt: skip
    try:
        outcome = transfer(
            feed,
            consumer,
            producer_env=feed_env,
            consumer_env=target.exec_env(),
            progress=Progress(f"{source} -> {target_label}"),
        )
    except BaseException as exc:
        with contextlib.suppress(Exception):
            drop_database(target, staging)
        raise interrupted(exc, kept) from None
    if not outcome.ok:
        with contextlib.suppress(Exception):
            drop_database(target, staging)
        fault = explain(
            outcome,
            source=source,
            target=target_label,
            kept=kept,
            from_file=isinstance(feed, Path),
        )
        raise UserError(fault.message, exit_code=fault.exit_code)
    replace_database(target, staging)
    return outcome


def interrupted(exc: BaseException, kept: str) -> BaseException:
    """Ctrl-C or SIGTERM: one line saying what is left (exit 130); anything else as it was."""
    if isinstance(exc, KeyboardInterrupt):
        return UserError(f"interrupted; {kept}", exit_code=EXIT_INTERRUPTED)
    if isinstance(exc, Stopped):
        return UserError(f"interrupted ({exc.signal_name}); {kept}", exit_code=EXIT_INTERRUPTED)
    return exc


def replace_database(target: DbContainer, staging: str) -> None:
    """Put `staging` in the place of the target's database; the old one is dropped."""
    db, old = target.database, beside(target.database, REPLACED)
    maint = target.maintenance_db
    drop_database(target, old)
    exists = target.sql(f"SELECT 1 FROM pg_database WHERE datname = {literal(db)}", database=maint)
    if not exists:
        target.sql(f"ALTER DATABASE {ident(staging)} RENAME TO {ident(db)}", database=maint)
        return
    # No new connections, then end the open ones (the backend reconnects to the new one).
    target.sql(f"ALTER DATABASE {ident(db)} WITH ALLOW_CONNECTIONS false", database=maint)
    try:
        _swap(target, staging, old)
    except BaseException:
        with contextlib.suppress(Exception):  # the old database stays, open again
            target.sql(f"ALTER DATABASE {ident(db)} WITH ALLOW_CONNECTIONS true", database=maint)
            drop_database(target, staging)
        raise
    drop_database(target, old)


def _swap(target: DbContainer, staging: str, old: str) -> None:
    db = target.database
    target.sql(
        f"""
        SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = {literal(db)} AND pid <> pg_backend_pid();
        DO $$ BEGIN
          FOR i IN 1..300 LOOP
            PERFORM pg_stat_clear_snapshot();
            EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = {literal(db)});
            PERFORM pg_sleep(0.05);
          END LOOP;
        END $$;
        BEGIN;
        ALTER DATABASE {ident(db)} RENAME TO {ident(old)};
        ALTER DATABASE {ident(staging)} RENAME TO {ident(db)};
        COMMIT;
        """,
        database=target.maintenance_db,
    )


def end_dumps(source: DbContainer, app: str) -> None:
    """End a `pg_dump` (by its application name) whose reader is gone."""
    with contextlib.suppress(UserError):
        source.sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE application_name = {literal(app)}",
            database=source.maintenance_db,
        )
