"""`--against-db URL`: PostgreSQL's own answer, by running the upgrades for real.

Unlike the static lint this imports the revision modules (not env.py, not the application's
models): each `upgrade()` runs under Alembic's `op` on a scratch database created on the given
server and dropped afterwards, one transaction per revision. A revision PostgreSQL rejects is
rolled back and reported in the same finding format (`non-immutable-index` for "functions in
index ... must be marked IMMUTABLE", `migration-failed` for anything else); the revisions built
on it are not run.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from devtools.errors import EnvironmentMissing, UnusableInput
from devtools.findings import Finding, Severity
from devtools.migrations.graph.model import RevisionFile, RevisionGraph

IMMUTABLE_SQLSTATE = "42P17"  # invalid_object_definition: "... must be marked IMMUTABLE"


def _engine_url(url: str) -> Any:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url))
    except ArgumentError:
        raise UnusableInput(
            f"--against-db: {url!r} is not a database URL (postgresql://user@host:port/db)"
        ) from None
    if parsed.get_backend_name() != "postgresql":
        raise UnusableInput(f"--against-db needs a PostgreSQL URL, not {parsed.get_backend_name()}")
    return parsed


@contextmanager
def scratch_database(url: str) -> Iterator[Any]:
    """A new empty database on the server of `url` (an SQLAlchemy engine), dropped afterwards."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise EnvironmentMissing(
            "--against-db needs psycopg: pip install 'omc-dev[postgres]'"
        ) from None
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    server_url = _engine_url(url)
    admin = sa.create_engine(server_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    name = f"omc_migrations_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        raise EnvironmentMissing(
            f"--against-db: cannot connect to {server_url.render_as_string()}: {_first_line(exc)}"
        ) from None
    except sa.exc.DBAPIError as exc:
        raise EnvironmentMissing(
            f"--against-db: cannot create a scratch database ({_first_line(exc)}); use a role with CREATEDB"
        ) from None
    engine = sa.create_engine(server_url.set(database=name), poolclass=NullPool)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def run_against_db(graph: RevisionGraph, url: str, rerun: str = "") -> list[Finding]:
    """`rerun`: the command to offer when a revision needs modules only the app's environment
    has (`omc-dev run -- omc-dev migrations lint ... --against-db URL`)."""
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    findings: list[Finding] = []
    failed: set[str] = set()
    with scratch_database(url) as engine, engine.connect() as conn:
        for rev in graph.topological():
            assert rev.revision is not None
            blocked = [p.revision for p in graph.parents(rev) if p.revision in failed]
            if blocked:
                failed.add(rev.revision)
                continue
            module, problem = _load(rev, rerun)
            if module is None:
                failed.add(rev.revision)
                findings.append(
                    Finding("migration-failed", Severity.ERROR, problem, rev.display, 1)
                )
                continue
            transaction = conn.begin()
            try:
                context = MigrationContext.configure(connection=conn)
                with Operations.context(context):
                    module.upgrade()
                transaction.commit()
            except Exception as exc:
                transaction.rollback()
                failed.add(rev.revision)
                findings.append(_finding(rev, exc))
    return findings


def _load(rev: RevisionFile, rerun: str = "") -> tuple[ModuleType | None, str]:
    name = f"omc_migration_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, os.path.realpath(rev.path))
    if spec is None or spec.loader is None:
        return None, f"{rev.display} cannot be loaded as a module"
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except ModuleNotFoundError as exc:
        raise EnvironmentMissing(_not_installed(rev, exc, rerun)) from None
    except Exception as exc:
        return None, f"importing {rev.display} failed: {type(exc).__name__}: {_first_line(exc)}"
    finally:
        sys.modules.pop(name, None)
    if not callable(getattr(module, "upgrade", None)):
        return None, f"{rev.display} has no upgrade() function"
    return module, ""


def _not_installed(rev: RevisionFile, exc: ModuleNotFoundError, rerun: str) -> str:
    """One line: which module is missing, whose it is, and where the run would work."""
    missing = exc.name or str(exc)
    top = missing.split(".")[0]
    own = _own_package(rev, top)
    whose = (
        f"the application's own package {top} ({own}), which this Python cannot import"
        if own
        else f"{top}, which is not installed in this Python ({sys.executable})"
    )
    where = f": {rerun}" if rerun else " (e.g. with omc-dev run)"
    return (
        f"--against-db imports each revision, and {rev.display} needs {whose}; "
        f"run the lint where the app is installed{where}"
    )


def _own_package(rev: RevisionFile, top: str) -> str | None:
    """The package `top` beside the migrations or in a folder above them (up to the current
    folder when they are under it), as a path to show."""
    here = Path.cwd()
    folder = Path(rev.path).absolute().parent
    inside = folder.is_relative_to(here)
    for _ in range(8):
        for candidate in (folder / top, folder / f"{top}.py"):
            if candidate.exists():
                return str(candidate.relative_to(here) if inside else candidate)
        if folder.parent == folder or (inside and folder == here):
            break
        folder = folder.parent
    return None


def _finding(rev: RevisionFile, exc: BaseException) -> Finding:
    original = getattr(exc, "orig", None)
    sqlstate = getattr(original, "sqlstate", None)
    message = _first_line(original or exc)
    line = _line_in(rev, exc)
    if sqlstate == IMMUTABLE_SQLSTATE and "IMMUTABLE" in message:
        return Finding(
            "non-immutable-index",
            Severity.ERROR,
            f"PostgreSQL rejected revision {rev.revision}: {message}",
            rev.display,
            line,
            fix="make the index expression immutable (see `omc-dev migrations lint` without --against-db for why)",
        )
    kind = f"{type(original).__name__}: " if original is not None else f"{type(exc).__name__}: "
    return Finding(
        "migration-failed",
        Severity.ERROR,
        f"revision {rev.revision} failed on PostgreSQL: {kind}{message}",
        rev.display,
        line,
    )


def _line_in(rev: RevisionFile, exc: BaseException) -> int | None:
    """The innermost line of the revision file in the traceback: the operation that failed."""
    line = None
    target = os.path.realpath(rev.path)
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.realpath(frame.filename) == target:
            line = frame.lineno
    return line


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
