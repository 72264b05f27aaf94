"""Where the kernel's database is, and how a bad one is reported (SQLite only, no server)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from kernel.db import database_url, open_database, redact
from kernel.errors import EnvironmentMissing, UnusableInput
from tests.fixtures.cli import omc


def test_explicit_url_wins_over_everything() -> None:
    env = {"OMC_DATABASE_URL": "sqlite:///env.db", "POSTGRES_SERVER": "db"}
    assert database_url("sqlite:///flag.db", environ=env) == "sqlite:///flag.db"


def test_omc_database_url_wins_over_postgres_variables() -> None:
    env = {"OMC_DATABASE_URL": "sqlite:///env.db", "POSTGRES_SERVER": "db"}
    assert database_url(environ=env) == "sqlite:///env.db"


def test_compose_style_postgres_variables() -> None:
    env = {
        "POSTGRES_SERVER": "db",
        "POSTGRES_USER": "omc",
        "POSTGRES_PASSWORD": "p@ss:w/rd",
        "POSTGRES_DB": "trading",
    }
    url = database_url(environ=env)
    # The password is escaped, so the URL parses back to the same parts.
    assert url == "postgresql+psycopg://omc:p%40ss%3Aw%2Frd@db:5432/trading"
    assert redact(url) == "postgresql+psycopg://omc:***@db:5432/trading"


def test_postgres_variables_default_like_the_postgres_image() -> None:
    url = database_url(environ={"POSTGRES_SERVER": "db", "POSTGRES_PORT": "6543"})
    assert url == "postgresql+psycopg://postgres@db:6543/postgres"


def test_bad_postgres_port_is_unusable_input() -> None:
    with pytest.raises(UnusableInput, match="POSTGRES_PORT"):
        database_url(environ={"POSTGRES_SERVER": "db", "POSTGRES_PORT": "five"})


def test_default_is_the_embedded_sqlite_file_under_the_project_root(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    url = database_url(environ={"OMC_PROJECT_DIR": str(sub)})
    assert url == f"sqlite:///{tmp_path.resolve() / '.omc' / 'kernel.db'}"


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'sub' / 'k.db'}")
    try:
        with db.read() as session:
            pragmas = {
                name: session.execute(text(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
            }
    finally:
        db.dispose()
    # synchronous 2 = FULL: every commit is durable.
    assert pragmas == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": 30000,
        "synchronous": 2,
    }


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "not a database URL"),
        ("mysql://u@h/d", "unsupported database 'mysql'"),
    ],
)
def test_unusable_urls(url: str, message: str) -> None:
    with pytest.raises(UnusableInput, match=message):
        open_database(url)


def test_looking_at_a_missing_sqlite_file_does_not_create_it(tmp_path: Path) -> None:
    path = tmp_path / "missing.db"
    with pytest.raises(EnvironmentMissing, match="no kernel database"):
        open_database(f"sqlite:///{path}", create=False)
    assert not path.exists()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["kernel", "migrate", "--db", "postgresql://omc:secret@127.0.0.1:1/omc"],
            125,
            "cannot reach the database postgresql://omc:***@127.0.0.1:1/omc",
        ),
        (
            ["kernel", "status", "--db", "postgresql://omc:secret@127.0.0.1:1/omc"],
            125,
            "cannot reach the database",
        ),
        (["kernel", "migrate", "--db", "mysql://u@h/d"], 2, "unsupported database"),
        (["kernel", "status", "--db", "sqlite:////nonexistent/k.db"], 125, "no kernel database"),
    ],
)
def test_bad_databases_are_one_line_and_a_non_zero_exit(
    args: list[str], code: int, message: str
) -> None:
    proc = omc(*args)
    assert proc.returncode == code
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert message in proc.stderr
    assert "secret" not in proc.stderr and "Traceback" not in proc.stderr


def test_a_file_that_is_not_a_database_is_refused_not_unreachable(tmp_path: Path) -> None:
    garbage = tmp_path / "k.db"
    garbage.write_text("not a database\n" * 100)
    for args in (["kernel", "migrate"], ["kernel", "status"]):
        proc = omc(*args, "--db", f"sqlite:///{garbage}")
        assert proc.returncode == 1, proc.stderr
        assert proc.stderr.count("\n") == 1, proc.stderr
        assert "refused: file is not a database" in proc.stderr


def test_postgres_variables_reach_the_cli() -> None:
    proc = omc(
        "kernel",
        "migrate",
        env={"POSTGRES_SERVER": "127.0.0.1", "POSTGRES_PORT": "1", "POSTGRES_PASSWORD": "pw"},
    )
    assert proc.returncode == 125
    assert "postgresql+psycopg://postgres:***@127.0.0.1:1/postgres" in proc.stderr


def test_a_database_that_refuses_a_statement_says_so(tmp_path: Path) -> None:
    from sqlalchemy.exc import DBAPIError

    from kernel.db import database_error
    from kernel.errors import Refused

    db = open_database(f"sqlite:///{tmp_path / 'k.db'}")
    try:
        with pytest.raises(DBAPIError) as info, db.read() as session:
            session.execute(text("SELECT * FROM no_such_table"))
    finally:
        db.dispose()
    error = database_error(db.url, info.value)
    assert type(error) is Refused
    assert "refused: no such table: no_such_table" in str(error)
