"""PostgreSQL 17 and 18 catalogs, and the version read from the stack's database image."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devtools.compose.model import parse_config
from devtools.migrations.catalog import available_versions, load_catalog
from devtools.migrations.pgversion import image_major, may_run_postgres, stack_postgres
from tests.fixtures.cli import omc
from tests.fixtures.migrations import revision_file as rf
from tests.fixtures.migrations import write_versions

DATA = Path(__file__).resolve().parents[2] / "fixtures" / "data"
# Immutable from PostgreSQL 16 on (date_trunc's time zone argument), rejected by 15.
TRUNC = (
    '    op.create_table("t", sa.Column("id", sa.Integer, primary_key=True), '
    'sa.Column("at", sa.DateTime(timezone=True)))\n'
    '    op.create_index("ix", "t", [sa.text("date_trunc(\'day\', at, \'UTC\')")])\n'
)


def test_seventeen_and_eighteen_are_shipped_each_with_its_server_corpus() -> None:
    assert {17, 18} <= set(available_versions())
    for major in available_versions():
        catalog = load_catalog(major)
        assert catalog.major == major
        assert catalog.server_version.startswith(f"{major}.")
        corpus = json.loads((DATA / f"index_verdicts_pg{major}.json").read_text())
        assert corpus["major"] == major and len(corpus["cases"]) >= 400


@pytest.mark.parametrize(("major", "code"), [(15, 1), (16, 0), (17, 0), (18, 0)])
def test_pg_version_flag_judges_with_that_catalog(tmp_path: Path, major: int, code: int) -> None:
    folder = write_versions(tmp_path / "m", {"a1.py": rf("a1", upgrade=TRUNC)})
    proc = omc(
        "migrations",
        "lint",
        str(folder),
        "--pg-version",
        str(major),
        "--format",
        "json",
        cwd=tmp_path,
        env={"OMC_NO_CACHE": "1"},
    )
    assert proc.returncode == code, proc.stdout + proc.stderr
    messages = [f["message"] for f in json.loads(proc.stdout)["findings"]]
    assert all(f"PostgreSQL {major} rejects" in m for m in messages)


@pytest.mark.parametrize(
    ("image", "major"),
    [
        ("postgres:17", 17),
        ("postgres:18-alpine", 18),
        ("postgres:16.4-bookworm@sha256:0123", 16),
        ("docker.io/library/postgres:15", 15),
        ("postgis/postgis:16-3.4", 16),
        ("bitnami/postgresql:16.3.0", 16),
        ("supabase/postgres:15.1.0.147", 15),
        ("pgvector/pgvector:pg17", 17),
        ("pgvector/pgvector:0.8.0-pg18", 18),
        ("timescale/timescaledb:2.17.2-pg16", 16),
        ("timescale/timescaledb-ha:pg17-ts2.17", 17),
        ("postgres", None),
        ("postgres:latest", None),
        ("registry.local:5000/postgres", None),
        ("mysql:8", None),
        ("redis:7-alpine", None),
        ("citusdata/citus:12.1", None),  # Citus's version, not PostgreSQL's
        ("myorg-db:15", None),
    ],
)
def test_the_major_version_an_image_tag_names(image: str, major: int | None) -> None:
    assert image_major(image) == major


def test_the_database_service_of_a_stack() -> None:
    found = stack_postgres(
        parse_config(
            {
                "services": {
                    "backend": {"image": "backend:latest"},
                    "db": {"image": "postgres:17"},
                    "adminer": {"image": "adminer"},
                    "cache": {"image": "redis:7"},
                }
            }
        )
    )
    assert found is not None and (found.service, found.major) == ("db", 17)
    # Two PostgreSQL services that disagree: the one named like a database, else no guess.
    two = {"db": {"image": "postgres:16"}, "analytics": {"image": "postgres:18"}}
    named = stack_postgres(parse_config({"services": two}))
    assert named is not None and named.major == 16
    renamed = {"main": {"image": "postgres:16"}, "analytics": {"image": "postgres:18"}}
    assert stack_postgres(parse_config({"services": renamed})) is None
    built = {"db": {"build": {"context": "."}, "image": "myapp-db:15"}}
    assert stack_postgres(parse_config({"services": built})) is None


def test_compose_is_asked_only_when_a_file_names_a_postgresql_image(tmp_path: Path) -> None:
    plain = tmp_path / "compose.yaml"
    plain.write_text("services:\n  web:\n    image: nginx:1\n")
    override = tmp_path / "compose.override.yaml"
    override.write_text("services:\n  db:\n    image: 'postgis/postgis:${PG:-17}-3.5'\n")
    assert not may_run_postgres([plain])
    assert may_run_postgres([plain, override])


def test_heads_treats_an_empty_down_revision_as_a_base_with_a_note(tmp_path: Path) -> None:
    folder = write_versions(tmp_path / "m", {"a1.py": rf("a1", ""), "b2.py": rf("b2", "a1")})
    proc = omc("migrations", "heads", str(folder), cwd=tmp_path, env={"OMC_NO_CACHE": "1"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.split()[0] == "b2"
    assert proc.stderr.startswith("note: m/versions/a1.py:")
    assert "broken" not in proc.stderr
