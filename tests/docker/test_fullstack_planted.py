"""The full-stack fixture (shaped like the FastAPI template) untouched is clean; each bug a team
really plants in such a stack is caught, with the right fix. Real `docker compose config`."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.cli import omc
from tests.fixtures.fullstack import make_fullstack
from tests.fixtures.git import GitRepo

VERSIONS = Path("backend/app/alembic/versions")


@pytest.fixture
def host_env(tmp_path: Path, state_dir: Path) -> dict[str, str]:
    return {"OMC_IN_CONTAINER": "0", "XDG_CACHE_HOME": str(tmp_path / "cache")}


def _id(finding: dict[str, Any]) -> str:
    return str(finding["id"])


def doctor(repo: GitRepo, env: dict[str, str]) -> tuple[int, list[dict[str, Any]]]:
    proc = omc("doctor", "--format", "json", cwd=repo.path / "backend", env=env)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)["findings"]


def lint(repo: GitRepo, env: dict[str, str]) -> tuple[int, list[dict[str, Any]]]:
    proc = omc("migrations", "lint", "--format", "json", cwd=repo.path / "backend", env=env)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)["findings"]


def edit(repo: GitRepo, path: str, old: str, new: str) -> None:
    file = repo.path / path
    text = file.read_text()
    assert old in text, (path, old)
    file.write_text(text.replace(old, new, 1))


def test_untouched_no_error_and_only_the_browser_values_each_track_must_own(
    tmp_path: Path, host_env: dict[str, str]
) -> None:
    """Untouched with one track, the doctor is silent. With a second track, the values a browser
    uses name ports no track owns, the same in both tracks: three warnings. With the templates
    the warnings give, the doctor is silent again; the lint is silent throughout."""
    repo = make_fullstack(tmp_path)
    assert doctor(repo, host_env) == (0, [])
    second = omc("ports", "--track", "other", cwd=repo.path, env=host_env)
    assert second.returncode == 0, second.stderr
    code, findings = doctor(repo, host_env)
    assert code == 0
    assert {(_id(f), f["severity"], f["path"], f["line"]) for f in findings} == {
        ("track-env-foreign-port", "warning", ".env", 3),  # FRONTEND_HOST
        ("track-env-foreign-port", "warning", ".env", 10),  # BACKEND_CORS_ORIGINS
        ("track-env-foreign-port", "warning", "compose.yml", 101),  # the build arg VITE_API_URL
    }, findings
    fixes = sorted(
        f["fix"].split(" in [tool", 1)[0].removeprefix("set ") for f in findings if f["line"] != 101
    )
    (build_arg,) = [f["fix"] for f in findings if f["line"] == 101]
    assert build_arg.startswith("write the build arg as VITE_API_URL=${VITE_API_URL}"), build_arg
    edit(repo, "compose.yml", "VITE_API_URL=http://localhost:8000", "VITE_API_URL=${VITE_API_URL}")
    fixes.append('VITE_API_URL = { value = "http://localhost:{port:backend:8000}", services = [] }')
    (repo.path / "pyproject.toml").write_text(
        "[tool.omc-dev.tracks.env]\n" + "\n".join(fixes) + "\n"
    )
    code, findings = doctor(repo, host_env)
    assert (code, findings) == (0, [])
    code, findings = lint(repo, host_env)
    assert (code, [f for f in findings if f["severity"] != "info"]) == (0, [])


def test_a_host_that_is_no_service_is_caught_at_its_line_with_the_fix(
    tmp_path: Path, host_env: dict[str, str]
) -> None:
    repo = make_fullstack(tmp_path)
    edit(
        repo,
        "compose.yml",
        "      - POSTGRES_SERVER=db\n      - POSTGRES_PORT=${POSTGRES_PORT}\n    healthcheck",
        "      - POSTGRES_SERVER=database\n      - POSTGRES_PORT=${POSTGRES_PORT}\n    healthcheck",
    )
    code, findings = doctor(repo, host_env)
    (finding,) = [f for f in findings if _id(f) == "env-host-not-a-service"]
    assert code == 1 and finding["path"] == "compose.yml" and finding["line"]
    assert finding["fix"] == "POSTGRES_SERVER=db"


def test_a_host_port_reaching_the_containers_is_caught_with_the_container_port(
    tmp_path: Path, host_env: dict[str, str]
) -> None:
    repo = make_fullstack(tmp_path)
    # The developer moved the database's host port and wrote it where containers read it too.
    edit(repo, "compose.override.yml", '"5432:5432"', '"5433:5432"')
    edit(repo, ".env", "POSTGRES_PORT=5432", "POSTGRES_PORT=5433")
    code, findings = doctor(repo, host_env)
    ports = [
        f for f in findings if _id(f) in ("env-port-is-host-port", "env-port-not-container-port")
    ]
    assert code == 1 and ports, findings
    assert {f["fix"] for f in ports} == {"POSTGRES_PORT=5432"}
    assert {f["path"] for f in ports} == {".env"}


def test_a_source_folder_left_unmounted_is_caught_with_the_volume_line(
    tmp_path: Path, host_env: dict[str, str]
) -> None:
    repo = make_fullstack(tmp_path)
    edit(
        repo, "compose.override.yml", "- ./backend:/app/backend", "- ./backend/app:/app/backend/app"
    )
    _, findings = doctor(repo, host_env)
    (finding,) = [f for f in findings if _id(f) == "mount-missing"]
    assert finding["severity"] == "warning" and "backend/tests" in finding["message"]
    assert "./backend/tests:/app/backend/tests" in (finding["fix"] or "")


def test_an_index_postgresql_rejects_is_caught(tmp_path: Path, host_env: dict[str, str]):
    repo = make_fullstack(tmp_path)
    head = _head(repo)
    (repo.path / VERSIONS / "c0ffee000001_recent_items.py").write_text(
        textwrap.dedent(
            f'''\
            """recent items"""
            import sqlalchemy as sa
            from alembic import op

            revision = "c0ffee000001"
            down_revision = "{head}"


            def upgrade():
                op.add_column("item", sa.Column("created_at", sa.DateTime(timezone=True)))
                # By day: date_trunc on timestamptz depends on the session's TimeZone.
                op.create_index(
                    "ix_item_day", "item", [sa.text("date_trunc('day', created_at)")]
                )


            def downgrade():
                op.drop_index("ix_item_day", table_name="item")
                op.drop_column("item", "created_at")
            '''
        )
    )
    code, findings = lint(repo, host_env)
    (finding,) = [f for f in findings if _id(f) == "non-immutable-index"]
    assert code == 1 and "date_trunc" in finding["message"]
    assert finding["path"] == f"{VERSIONS}/c0ffee000001_recent_items.py"


def test_two_heads_after_tracks_merge_are_caught_with_the_merge_command(
    tmp_path: Path, host_env: dict[str, str]
) -> None:
    repo = make_fullstack(tmp_path)
    head = _head(repo)
    for rev in ("aaaa00000001", "bbbb00000002"):  # two tracks, each adding a revision on head
        (repo.path / VERSIONS / f"{rev}_track.py").write_text(
            f'revision = "{rev}"\ndown_revision = "{head}"\n\n\n'
            "def upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n"
        )
    code, findings = lint(repo, host_env)
    (finding,) = [f for f in findings if _id(f) == "multiple-heads"]
    assert code == 1
    assert "alembic merge" in (finding["fix"] or "")
    assert "aaaa00000001" in finding["fix"] and "bbbb00000002" in finding["fix"]


def _head(repo: GitRepo) -> str:
    proc = omc("migrations", "heads", "--format", "json", cwd=repo.path / "backend")
    assert proc.returncode == 0, proc.stderr
    (head,) = json.loads(proc.stdout)["heads"]
    return str(head)
