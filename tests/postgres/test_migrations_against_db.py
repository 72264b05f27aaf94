"""Ground truth: the migrations run on a real PostgreSQL, and the static verdicts agree."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg

from tests.fixtures.cli import REPO_ROOT, omc
from tests.fixtures.migrations import revision_file as rf
from tests.fixtures.migrations import write_versions
from tests.fixtures.postgres import PgCluster, free_port

TABLE = '    op.create_table("orders", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("created_at", sa.DateTime(timezone=True)), sa.Column("email", sa.Text()))\n'
BAD = '    op.create_index("uq_day", "orders", [sa.text("(created_at::date)")], unique=True)\n'
GOOD = '    op.create_index("uq_day_utc", "orders", [sa.text("((created_at AT TIME ZONE \'UTC\')::date)")], unique=True)\n'
PREDICATE = '    op.create_index("ix_recent", "orders", ["email"], postgresql_where=sa.text("created_at > now()"))\n'
SQL = "    op.execute(\"CREATE INDEX ix_trunc ON orders (date_trunc('day', created_at))\")\n"


def databases(cluster: PgCluster) -> set[str]:
    with psycopg.connect(cluster.conninfo(), autocommit=True) as conn:
        return {row[0] for row in conn.execute("SELECT datname FROM pg_database")}


def lint(folder: Path, *args: str) -> tuple[int, dict[str, Any]]:
    proc = omc(
        "migrations",
        "lint",
        str(folder),
        "--format",
        "json",
        *args,
        cwd=folder.parent,
        env={"OMC_NO_CACHE": "1"},
    )
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_postgres_rejects_what_the_static_lint_reports(
    tmp_path: Path, pg_url: str, pg_cluster: PgCluster
) -> None:
    folder = write_versions(
        tmp_path / "m",
        {
            "a1.py": rf("a1", None, upgrade=TABLE + GOOD),
            "b2.py": rf("b2", "a1", upgrade=BAD),
            "c3.py": rf("c3", "a1", upgrade=PREDICATE),
            "d4.py": rf("d4", "a1", upgrade=SQL),
            "e5.py": rf("e5", ("b2", "c3", "d4"), upgrade="    pass"),
        },
    )
    before = databases(pg_cluster)
    code, live = lint(folder, "--against-db", pg_url)
    assert databases(pg_cluster) == before  # the scratch database is gone
    code_static, static = lint(folder)
    assert code == code_static == 1

    def keyed(report: dict[str, Any]) -> set[tuple[str, str, int]]:
        return {(f["id"], f["path"], f["line"]) for f in report["findings"]}

    expected = {
        ("non-immutable-index", "m/versions/b2.py", 19),
        ("non-immutable-index", "m/versions/c3.py", 19),
        ("non-immutable-index", "m/versions/d4.py", 19),
    }
    assert keyed(live) == keyed(static) == expected
    messages = [f["message"] for f in live["findings"]]
    assert any("functions in index expression must be marked IMMUTABLE" in m for m in messages)
    assert any("functions in index predicate must be marked IMMUTABLE" in m for m in messages)


def test_other_failures_and_what_depends_on_them(tmp_path: Path, pg_url: str) -> None:
    folder = write_versions(
        tmp_path / "m",
        {
            "a1.py": rf(
                "a1",
                None,
                upgrade=TABLE
                + '    op.create_index("ix", "orders", [sa.text("(created_at AT TIME ZONE \'UTC\')::date")])\n',
            ),
            "b2.py": rf("b2", "a1", upgrade=BAD),
            "c3.py": rf("c3", None, upgrade="    import nonexistent_app_models\n"),
        },
    )
    _, live = lint(folder, "--against-db", pg_url, "--select", "index")
    found = {(f["id"], f["path"], f["line"]) for f in live["findings"]}
    # a1 is a syntax error for PostgreSQL (the static lint says why); b2 never runs; c3 fails.
    assert found == {
        ("migration-failed", "m/versions/a1.py", 20),
        ("migration-failed", "m/versions/c3.py", 19),
    }
    _, static = lint(folder, "--select", "index")
    assert ("invalid-index-expression", "m/versions/a1.py", 20) in {
        (f["id"], f["path"], f["line"]) for f in static["findings"]
    }


def test_the_kernel_migrations_run_clean_on_postgres(pg_url: str) -> None:
    proc = omc(
        "migrations",
        "lint",
        "kernel/migrations",
        "--against-db",
        pg_url,
        cwd=REPO_ROOT,
        env={"OMC_NO_CACHE": "1"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_an_unreachable_server_is_environment_missing(tmp_path: Path) -> None:
    folder = write_versions(tmp_path / "m", {"a1.py": rf("a1", None)})
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    proc = omc("migrations", "lint", str(folder), "--against-db", url, cwd=tmp_path)
    assert proc.returncode == 125
    assert proc.stderr.count("\n") == 1 and "cannot connect" in proc.stderr


def test_the_verdict_corpus_still_matches_a_live_server(pg_url: str) -> None:
    """Re-ask PostgreSQL every case of the stored corpus with the script that recorded it."""
    script = REPO_ROOT / "scripts" / "index-verdict-corpus"
    proc = subprocess.run(
        [sys.executable, str(script), pg_url, "--check"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " 0 differ" in proc.stdout


def test_a_revision_needing_the_apps_own_package_says_so_in_one_line(
    tmp_path: Path, pg_url: str, pg_cluster: PgCluster
) -> None:
    # Shaped like the FastAPI template: backend/app is the app, its revisions import from it.
    (tmp_path / "backend" / "app").mkdir(parents=True)
    (tmp_path / "backend" / "app" / "__init__.py").write_text("")
    (tmp_path / "backend" / "app" / "models.py").write_text("import sqlmodel_not_here\n")
    versions = {
        "a1.py": rf("a1", None, upgrade=TABLE),
        "b2.py": rf("b2", "a1").replace(
            "import sqlalchemy as sa", "import sqlalchemy as sa\nimport app.models"
        ),
    }
    write_versions(tmp_path / "backend" / "app" / "alembic", versions)
    before = databases(pg_cluster)
    proc = omc(
        "migrations",
        "lint",
        "backend/app/alembic",
        "--against-db",
        pg_url,
        cwd=tmp_path,
        env={"OMC_NO_CACHE": "1"},
    )
    assert proc.returncode == 125, proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert (
        "backend/app/alembic/versions/b2.py needs the application's own package app" in proc.stderr
    )
    assert (
        f"omc-dev run -- omc-dev migrations lint backend/app/alembic --against-db {pg_url}"
        in proc.stderr
    )
    assert databases(pg_cluster) == before  # the scratch database is dropped all the same
