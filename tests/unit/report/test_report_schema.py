"""Every check command's `--format json` is one documented, versioned shape (report/schema.json).

The commands run as a user runs them, on the full-stack fixture project: a real git checkout with
a bare origin, its compose files and its Alembic history. Doctor runs against an engine that is
not there (its docker-tier twin runs it against the real one)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.fixtures.cli import omc
from tests.fixtures.fullstack import make_fullstack
from tests.fixtures.git import GitRepo
from tests.fixtures.verify import STUB_COMPONENT, verify_env


def schema() -> dict[str, Any]:
    text = resources.files("devtools.report").joinpath("schema.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def validate(stdout: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(stdout)
    jsonschema.Draft202012Validator(schema()).validate(doc)
    return doc


def test_the_schema_is_a_valid_json_schema_and_carries_the_code_s_version() -> None:
    from devtools.report.report import SCHEMA_VERSION

    jsonschema.Draft202012Validator.check_schema(schema())
    assert schema()["properties"]["schema_version"] == {"const": SCHEMA_VERSION}


def test_the_schema_rejects_the_old_id_keys() -> None:
    # Guards the tests below against a schema that accepts anything.
    old = {
        "schema_version": 1,
        "command": "verify",
        "ok": True,
        "summary": {"errors": 0, "warnings": 1, "infos": 0},
        "findings": [
            {"check": "stub", "severity": "warning", "path": None, "line": None, "message": "m"}
        ],
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema()).validate(old)


@pytest.fixture
def project(tmp_path: Path) -> GitRepo:
    """The full-stack project with a second migration head and a stub on a pushed branch."""
    repo = make_fullstack(tmp_path)
    versions = repo.path / "backend" / "app" / "alembic" / "versions"
    (versions / "bbbbbbbbbbbb_other.py").write_text(
        'revision = "bbbbbbbbbbbb"\ndown_revision = "e2412789c190"\n\n\n'
        "def upgrade() -> None:\n    pass\n\n\ndef downgrade() -> None:\n    pass\n"
    )
    repo.git("add", "-A")
    repo.git("commit", "--quiet", "-m", "a second head")
    repo.push()
    repo.branch("feature")
    repo.commit({"frontend/src/routes/orders.tsx": STUB_COMPONENT}, "orders page")
    repo.git("push", "--quiet", "--set-upstream", "origin", "feature")
    return repo


def run_json(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    proc = omc(*args, "--format", "json", cwd=cwd, env=env, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, validate(proc.stdout)


def test_migrations_lint_and_heads(project: GitRepo) -> None:
    code, doc = run_json(project.path, "migrations", "lint")
    assert (code, doc["command"], doc["ok"]) == (1, "migrations lint", False)
    assert "multiple-heads" in {f["id"] for f in doc["findings"]}
    assert len(doc["heads"]) == 2 and doc["summary"]["errors"] >= 1
    code, doc = run_json(project.path / "backend", "migrations", "heads")
    assert (code, doc["command"], doc["findings"]) == (0, "migrations heads", [])
    assert len(doc["heads"]) == 2


def test_verify(project: GitRepo) -> None:
    code, doc = run_json(project.path, "verify", env=verify_env())
    assert doc["command"] == "verify" and doc["branch"] == "feature"
    stubs = [f for f in doc["findings"] if f["id"] == "stub"]
    assert stubs and stubs[0]["path"] == "frontend/src/routes/orders.tsx", doc
    assert code == (0 if doc["ok"] else 1)
    # The same findings, one line each, for logs and hooks: no header, table or counts.
    concise = omc("verify", "--format", "concise", cwd=project.path, env=verify_env())
    lines = concise.stdout.splitlines()
    assert len(lines) == len(doc["findings"]) and concise.returncode == code
    assert any(
        line.startswith("frontend/src/routes/orders.tsx:") and " stub " in line for line in lines
    )


def test_doctor_without_an_engine(project: GitRepo, tmp_path: Path) -> None:
    env = {"DOCKER_HOST": f"unix://{tmp_path}/no.sock", "OMC_IN_CONTAINER": "0"}
    code, doc = run_json(project.path, "doctor", "--track", "t", env=env)
    assert (code, doc["command"]) == (1, "doctor")
    assert "engine-unreachable" in {f["id"] for f in doc["findings"]}
    assert {c["id"] for c in doc["checks"]} >= {"engine", "compose-file"}
