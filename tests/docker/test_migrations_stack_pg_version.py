"""`migrations lint` judges indexes for the PostgreSQL the stack runs: real `docker compose config`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.fixtures.cli import omc
from tests.fixtures.migrations import revision_file as rf
from tests.fixtures.migrations import write_versions

# A stack shaped like the FastAPI full-stack template's: the database image's tag comes from
# interpolation with a default, the backend keeps its migrations under backend/app/alembic.
COMPOSE = """\
services:
  db:
    image: postgres:${POSTGRES_MAJOR:-17}
    environment:
      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD?Variable not set}
  adminer:
    image: adminer
  backend:
    image: "backend:${TAG-latest}"
    depends_on: [db]
"""
# date_trunc(text, timestamptz, text) is IMMUTABLE from PostgreSQL 16 on; 15 rejects the index.
UPGRADE = (
    '    op.create_table("t", sa.Column("id", sa.Integer, primary_key=True), '
    'sa.Column("at", sa.DateTime(timezone=True)))\n'
    '    op.create_index("ix", "t", [sa.text("date_trunc(\'day\', at, \'UTC\')")])\n'
)


def stack(root: Path, env_file: str) -> Path:
    (root / "compose.yml").write_text(COMPOSE)
    (root / ".env").write_text(env_file)
    return write_versions(
        root / "backend" / "app" / "alembic", {"a1.py": rf("a1", upgrade=UPGRADE)}
    )


def lint(root: Path, folder: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    proc = omc(
        "migrations",
        "lint",
        str(folder.relative_to(root)),
        *args,
        cwd=root,
        env={"OMC_NO_CACHE": "1"},
    )
    report = json.loads(proc.stdout) if "json" in args else {}
    return proc.returncode, report, " ".join((proc.stdout + proc.stderr).split())


def test_the_database_image_tag_sets_the_postgresql_version(tmp_path: Path) -> None:
    folder = stack(tmp_path, "POSTGRES_PASSWORD=changethis\n")
    code, report, _ = lint(tmp_path, folder, "--format", "json")
    assert (code, report["findings"]) == (0, [])
    code, _, out = lint(tmp_path, folder, "--format", "text")  # text says what it judged by
    assert code == 0 and "judged for PostgreSQL 17 (service db's image postgres:17)" in out


def test_compose_resolves_the_tag_and_an_explicit_version_wins(tmp_path: Path) -> None:
    folder = stack(tmp_path, "POSTGRES_PASSWORD=changethis\nPOSTGRES_MAJOR=15\n")
    code, report, _ = lint(tmp_path, folder, "--format", "json")
    assert code == 1
    ((finding),) = report["findings"]
    assert "PostgreSQL 15 rejects" in finding["message"]
    code, _, out = lint(tmp_path, folder, "--pg-version", "18", "--format", "text")
    assert code == 0 and "judged for PostgreSQL" not in out and "migrations lint" in out
