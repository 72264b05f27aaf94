"""Where the revision files are, read as Alembic (and the frameworks around it) read alembic.ini.

Shapes from public projects: Flask-Migrate keeps an alembic.ini with no script_location inside
the migrations folder; Advanced Alchemy keeps one there whose script_location the framework
replaces at run time; multi-tenant projects keep script_location only in named sections used
with `alembic -n NAME`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fixtures.cli import omc
from tests.fixtures.migrations import revision_file as rf
from tests.fixtures.migrations import write_versions

LOGGING = "[loggers]\nkeys = root\n\n[handlers]\nkeys = console\n"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"OMC_CACHE_DIR": str(tmp_path / "cache")}


def project(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "app"\n\n[tool.omc-dev]\n')
    return root


def migrations_folder(folder: Path, ini: str, *revisions: tuple[str, str | None]) -> Path:
    """A script folder as `flask db init` / `alembic init` leave it, with the ini inside."""
    write_versions(folder, {f"{rid}.py": rf(rid, down) for rid, down in revisions})
    (folder / "env.py").write_text("from alembic import context\n")
    (folder / "alembic.ini").write_text(ini)
    return folder / "alembic.ini"


def heads(proc: object) -> list[str]:
    stdout: str = proc.stdout  # type: ignore[attr-defined]
    stderr: str = proc.stderr  # type: ignore[attr-defined]
    assert proc.returncode == 0, stdout + stderr  # type: ignore[attr-defined]
    found: list[str] = json.loads(stdout)["heads"]
    return found


def test_a_flask_migrate_ini_without_script_location_is_its_own_folder(
    tmp_path: Path, env: dict[str, str]
) -> None:
    root = project(tmp_path / "app")
    migrations_folder(root / "migrations", "[alembic]\n\n" + LOGGING, ("a1", None), ("b2", "a1"))
    for command in ("heads", "lint"):
        proc = omc("migrations", command, "--format", "json", cwd=root, env=env)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = omc("migrations", "heads", "--format", "json", cwd=root, env=env)
    assert heads(proc) == ["b2"]
    proc = omc(
        "migrations", "heads", "migrations/alembic.ini", "--format", "json", cwd=root, env=env
    )
    assert heads(proc) == ["b2"]


def test_an_ini_without_script_location_and_no_script_folder_is_still_unusable(
    tmp_path: Path, env: dict[str, str]
) -> None:
    root = project(tmp_path / "app")
    (root / "alembic.ini").write_text("[alembic]\n\n" + LOGGING)
    proc = omc("migrations", "heads", cwd=root, env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "has no script_location" in proc.stderr and proc.stderr.count("\n") == 1


def test_a_relative_script_location_is_read_from_where_alembic_runs(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """Alembic opens a relative script_location from the current folder, not the ini's."""
    root = project(tmp_path / "app")
    write_versions(root / "db", {"a1.py": rf("a1", None), "r9.py": rf("r9", "a1")})
    (root / "config").mkdir()
    (root / "config" / "alembic.ini").write_text("[alembic]\nscript_location = db\n\n" + LOGGING)
    proc = omc("migrations", "heads", "config/alembic.ini", "--format", "json", cwd=root, env=env)
    assert heads(proc) == ["r9"]
    assert "note:" not in proc.stderr


def test_a_relative_script_location_that_means_two_folders_says_which_was_read(
    tmp_path: Path, env: dict[str, str]
) -> None:
    root = project(tmp_path / "app")
    write_versions(root / "db", {"a1.py": rf("a1", None)})
    write_versions(root / "config" / "db", {"z1.py": rf("z1", None)})
    (root / "config" / "alembic.ini").write_text("[alembic]\nscript_location = db\n")
    # From the root, Alembic (`alembic -c config/alembic.ini`) reads ./db.
    proc = omc("migrations", "heads", "config/alembic.ini", "--format", "json", cwd=root, env=env)
    assert heads(proc) == ["a1"]
    assert "note:" in proc.stderr and str(root / "db") in proc.stderr
    # From config/, it reads config/db.
    proc = omc(
        "migrations", "heads", "alembic.ini", "--format", "json", cwd=root / "config", env=env
    )
    assert heads(proc) == ["z1"]


def test_a_framework_supplied_script_location_falls_back_to_the_ini_folder(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """Advanced Alchemy (litestar): the ini says `script_location = migrations`, which exists
    nowhere; the framework passes the ini's own folder at run time."""
    root = project(tmp_path / "app")
    folder = root / "src" / "app" / "db" / "migrations"
    migrations_folder(folder, "[alembic]\nscript_location = migrations\n\n" + LOGGING, ("a1", None))
    proc = omc(
        "migrations", "heads", "src/app/db/migrations", "--format", "json", cwd=root, env=env
    )
    assert heads(proc) == ["a1"]
    proc = omc("migrations", "heads", "--format", "json", cwd=folder, env=env)
    assert heads(proc) == ["a1"]


@pytest.mark.parametrize("alembic_section", ["[alembic]\nfile_template = %%(rev)s\n\n", ""])
def test_script_location_only_in_named_sections_names_them_and_the_way_out(
    tmp_path: Path, env: dict[str, str], alembic_section: str
) -> None:
    root = project(tmp_path / "app")
    write_versions(root / "revisions" / "core", {"c1.py": rf("c1", None)})
    (root / "alembic.ini").write_text(
        alembic_section
        + "[core]\nscript_location = %(here)s/revisions/core\n\n"
        + "[tenant]\nscript_location = %(here)s/revisions/tenant\n\n"
        + LOGGING
    )
    proc = omc("migrations", "heads", cwd=root, env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    message = proc.stderr
    assert message.count("\n") == 1 and "Traceback" not in message, message
    assert "[core]" in message and "[tenant]" in message and "-n NAME" in message
    assert "[tool.omc-dev.migrations] path" in message and "PATH" in message
    # The way out the message gives works.
    proc = omc("migrations", "heads", "revisions/core", "--format", "json", cwd=root, env=env)
    assert heads(proc) == ["c1"]
