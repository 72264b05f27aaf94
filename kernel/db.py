"""Where the kernel's database is, and the one way to talk to it.

Resolution order for the URL: an explicit `--db URL`, then `OMC_DATABASE_URL`, then the
compose-style `POSTGRES_*` variables (what the reference stack's containers get), else the
embedded SQLite file `.omc/kernel.db` under the project root.

Writers are serialised, not lucky: on PostgreSQL every write transaction first takes a row lock
on the `trading_state` singleton (`SELECT ... FOR UPDATE`); on SQLite every write transaction
starts with `BEGIN IMMEDIATE` (the database's single write lock). Those serialise processes.
Threads of one process queue on a mutex before they even take a connection, so they neither
spin in SQLite's busy handler nor hold pooled connections while waiting for the row lock.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker

from kernel.errors import EnvironmentMissing, KernelError, Refused, UnusableInput
from kernel.project import ignore_state_folder, project_root

if TYPE_CHECKING:
    from kernel.auditkey import Keyring

DEFAULT_SQLITE = Path(".omc") / "kernel.db"
SQLITE_BUSY_TIMEOUT_MS = 30_000
_WRITE = "omc_write"
APP_ROLE_ENV = "OMC_DATABASE_APP_ROLE"  # kernel/roles.py
APP_PASSWORD_ENV = "OMC_DATABASE_APP_PASSWORD"
AUDIT_KEYS = "kernel.audit_keys"  # session.info: the keyring kernel.audit.append signs with


def database_url(
    explicit: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    root: Path | None = None,
    owner: bool = False,
) -> str:
    """The database to use: `explicit`, `OMC_DATABASE_URL`, `POSTGRES_*`, else `.omc/kernel.db`
    under `root` (default: the project root the kernel finds itself).

    From `POSTGRES_*`, `POSTGRES_USER` is the role that owns the tables (the migrations run as
    it: `owner=True`); with `OMC_DATABASE_APP_ROLE` set, every other command connects as that
    role instead (password `OMC_DATABASE_APP_PASSWORD`), which may not rewrite the audit.
    """
    env = os.environ if environ is None else environ
    if explicit:
        return explicit
    if env.get("OMC_DATABASE_URL"):
        return env["OMC_DATABASE_URL"]
    if env.get("POSTGRES_SERVER"):
        # The same defaults as the postgres image: user "postgres", database named after the user.
        user = env.get("POSTGRES_USER") or "postgres"
        password = env.get("POSTGRES_PASSWORD") or None
        port = env.get("POSTGRES_PORT") or "5432"
        if not port.isdigit():
            raise UnusableInput(f"POSTGRES_PORT must be a port number, got {port!r}")
        database = env.get("POSTGRES_DB") or user
        if not owner and env.get(APP_ROLE_ENV):
            user, password = env[APP_ROLE_ENV], env.get(APP_PASSWORD_ENV) or None
        return URL.create(
            "postgresql+psycopg",
            username=user,
            password=password,
            host=env["POSTGRES_SERVER"],
            port=int(port),
            database=database,
        ).render_as_string(hide_password=False)
    if root is None:
        root = project_root(env)
    return f"sqlite:///{root / DEFAULT_SQLITE}"


def redact(url: str) -> str:
    """The URL with its password hidden, for messages and status output."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _parse(url: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UnusableInput(
            f"not a database URL: {url!r} (expected sqlite:///path or postgresql://user@host/db)"
        ) from None
    # Accept the short spellings people paste; the kernel ships the psycopg 3 driver only.
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise UnusableInput(
            f"unsupported database {parsed.get_backend_name()!r} in {redact(url)}: "
            "use sqlite:///path or postgresql://user@host/db"
        )
    return parsed


def _sqlite_engine(parsed: URL, synchronous: str) -> Engine:
    path = parsed.database
    if path and path != ":memory:" and not path.startswith("file:"):
        folder = Path(path).parent
        if not folder.parent.is_dir():
            # One folder is made (`.omc` for the default); a whole missing path is a typo.
            raise EnvironmentMissing(
                f"cannot create the database {path}: the folder {folder.parent} does not exist "
                "(create it, or pass --db with a path in an existing folder)"
            )
        try:
            folder.mkdir(exist_ok=True)
            if folder.name == DEFAULT_SQLITE.parent.name:
                ignore_state_folder(folder)
        except OSError as exc:
            raise EnvironmentMissing(
                f"cannot create the folder for {path}: {exc.strerror} (pass --db with a writable path)"
            ) from None
    engine = create_engine(
        parsed, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's implicit one is deferred).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode = WAL",
            f"synchronous = {synchronous}",
            "foreign_keys = ON",
            f"busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def make_engine(url: str, *, sqlite_synchronous: str = "FULL") -> Engine:
    """An engine for `url`; SQLite gets WAL, durable commits, foreign keys and a busy timeout."""
    parsed = _parse(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, sqlite_synchronous)
    try:
        return create_engine(parsed, connect_args={"connect_timeout": 5})
    except (NoSuchModuleError, ModuleNotFoundError):
        raise EnvironmentMissing(
            "the PostgreSQL driver psycopg is not installed: pip install 'omc-dev[postgres]'"
        ) from None


def unreachable(url: str, exc: BaseException) -> EnvironmentMissing:
    """One line for a database that does not answer: which one, what it said, what to do."""
    orig = getattr(exc, "orig", None) or exc
    said = " ".join(str(orig).split()) or type(orig).__name__
    return EnvironmentMissing(
        f"cannot reach the database {redact(url)}: {said} "
        "(check --db / OMC_DATABASE_URL, and that the server is running)"
    )


def database_error(url: str, exc: DBAPIError) -> KernelError:
    """One line for a database error: unreachable (exit 125), or what the database refused."""
    if exc.connection_invalidated or _is_connect_error(exc):
        return unreachable(url, exc)
    said = " ".join(str(getattr(exc, "orig", None) or exc).split())
    return Refused(f"the database {redact(url)} refused: {said}")


@dataclass
class Database:
    """An engine plus the kernel's transaction discipline: `read()` and serialised `write()`."""

    url: str
    engine: Engine
    # Signs the audit records this database's write transactions append (None: unsigned).
    audit_keys: Keyring | None = None
    _local_writer: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._reads = sessionmaker(self.engine, expire_on_commit=False)
        self._writes = sessionmaker(
            self.engine.execution_options(**{_WRITE: True}), expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def display_url(self) -> str:
        return redact(self.url)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work (SQLite: a deferred transaction, readers never block)."""
        with self._guard(), self._reads() as session, session.begin():
            session.info[AUDIT_KEYS] = self.audit_keys
            yield session

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A read-only unit of work that sees one snapshot from its first statement to its last,
        whatever commits meanwhile: REPEATABLE READ on PostgreSQL (whose default, READ
        COMMITTED, gives each statement a new one); SQLite's read transactions always do."""
        with self._guard(), self._reads() as session, session.begin():
            session.info[AUDIT_KEYS] = self.audit_keys
            if self.dialect == "postgresql":
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A serialised unit of work: committed on exit, rolled back on error."""
        with self._guard(), self._local_writer, self._writes() as session, session.begin():
            session.info[AUDIT_KEYS] = self.audit_keys
            if self.dialect == "postgresql":
                session.execute(text("SELECT id FROM trading_state WHERE id = 1 FOR UPDATE"))
            yield session

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except DBAPIError as exc:
            if exc.connection_invalidated or _is_connect_error(exc):
                raise unreachable(self.url, exc) from None
            raise

    def ping(self) -> None:
        """Connect once; an unreachable database becomes one `EnvironmentMissing` line, one that
        answers with an error (a file that is not a database) one line saying so."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except DBAPIError as exc:
            raise database_error(self.url, exc) from None

    def dispose(self) -> None:
        self.engine.dispose()


def _is_connect_error(exc: DBAPIError) -> bool:
    from sqlalchemy.exc import OperationalError

    if not isinstance(exc, OperationalError):
        return False
    message = str(exc.orig).lower()
    return any(
        phrase in message
        for phrase in ("connection", "could not connect", "unable to open", "server closed")
    )


def open_database(
    url: str | None = None,
    *,
    create: bool = True,
    sqlite_synchronous: str = "FULL",
    root: Path | None = None,
    owner: bool = False,
) -> Database:
    """The kernel database for `--db URL` (or the resolved default), not yet connected, with
    the audit keyring the environment configures (OMC_AUDIT_KEY / OMC_AUDIT_KEY_FILE).

    `create=False` is for commands that only look: a missing SQLite file is then an error
    instead of a new empty database. `owner=True`: the tables' owner (see `database_url`).
    """
    from kernel.auditkey import load_keyring

    keys = load_keyring()
    resolved = database_url(url, root=root, owner=owner)
    if not create:
        parsed = _parse(resolved)
        path = parsed.database
        if (
            parsed.get_backend_name() == "sqlite"
            and path not in (None, "", ":memory:")
            and not Path(path).exists()
        ):
            raise EnvironmentMissing(
                f"no kernel database at {path}: run `omc-dev kernel migrate` (or pass --db URL)"
            )
    engine = make_engine(resolved, sqlite_synchronous=sqlite_synchronous)
    return Database(resolved, engine, audit_keys=keys)
