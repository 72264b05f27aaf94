"""The doctor's environment checks on stacks shaped like the FastAPI full-stack template,
resolved by the real compose CLI (`docker compose config`: no images, no containers)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.cli import omc
from tests.fixtures.stacks import OLDER, SHAPES, Shape, dotenv_line


def doctor(shape: Shape, folder: Path) -> tuple[int, list[dict[str, Any]], dict[str, str]]:
    env = {"COMPOSE_FILE": ":".join(shape.compose_files)}
    proc = omc("doctor", "--format", "json", "--track", "t", cwd=folder, env=env)
    assert proc.stdout, proc.stderr
    doc = json.loads(proc.stdout)
    status = {c["id"]: c["status"] for c in doc["checks"]}
    return proc.returncode, doc["findings"], status


def env_findings(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in findings if f["id"].startswith("env-")]


def without_backend_override(shape: Shape) -> str:
    compose = shape.files["docker-compose.yml"]
    block = compose.index("  backend:")
    return compose[:block] + compose[block:].replace("      - POSTGRES_SERVER=db\n", "", 1)


def assert_resolves_like_the_unit_fixture(shape: Shape, folder: Path) -> None:
    """The unit tier judges `Shape.resolved`: it must be what compose itself gives."""
    argv = ["docker", "compose", "--project-name", f"omc-shape-{shape.name}"]
    for path in shape.paths(folder):
        argv += ["--file", str(path)]
    proc = subprocess.run(
        [*argv, "config", "--format", "json"], capture_output=True, text=True, check=True
    )
    real = json.loads(proc.stdout)["services"]
    expected = shape.config(folder)["services"]
    assert sorted(real) == sorted(expected)
    for name, service in real.items():
        want = {k: v for k, v in expected[name]["environment"].items() if k != "CI"}
        got = {k: v for k, v in (service.get("environment") or {}).items() if k != "CI"}
        assert got == want, name


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_untouched_template_stack_passes(tmp_path: Path, state_dir: Path, shape: Shape) -> None:
    folder = shape.write(tmp_path / shape.name)
    assert_resolves_like_the_unit_fixture(shape, folder)
    code, findings, status = doctor(shape, folder)
    assert env_findings(findings) == [] and status["environment"] == "pass", findings
    assert status["compose-file"] == "pass"
    assert code == 0 or all(f["severity"] != "error" for f in findings), findings


def test_localhost_db_host_not_overridden_fails_with_the_fix(
    tmp_path: Path, state_dir: Path
) -> None:
    folder = OLDER.write(tmp_path / "s", **{"docker-compose.yml": without_backend_override(OLDER)})
    code, findings, status = doctor(OLDER, folder)
    (finding,) = env_findings(findings)
    assert finding["id"] == "env-host-loopback" and finding["fix"] == "POSTGRES_SERVER=db"
    assert (finding["path"], finding["line"]) == (".env", dotenv_line(folder, "POSTGRES_SERVER"))
    assert "(received by backend)" in finding["message"]
    assert (code, status["environment"]) == (1, "fail")


def test_silenced_by_a_comment_on_the_line(tmp_path: Path, state_dir: Path) -> None:
    dotenv = OLDER.files[".env"].replace(
        "POSTGRES_SERVER=localhost\n",
        "POSTGRES_SERVER=localhost # omc-dev: ignore[env-host-loopback]\n",
    )
    files = {"docker-compose.yml": without_backend_override(OLDER), ".env": dotenv}
    folder = OLDER.write(tmp_path / "s", **files)
    _, findings, status = doctor(OLDER, folder)
    assert env_findings(findings) == [] and status["environment"] == "pass", findings


def test_silenced_by_config_per_rule_and_variable(tmp_path: Path, state_dir: Path) -> None:
    folder = OLDER.write(tmp_path / "s", **{"docker-compose.yml": without_backend_override(OLDER)})
    pyproject = folder / "pyproject.toml"
    pyproject.write_text('[tool.omc-dev.doctor]\nignore = ["env-host-loopback:SMTP_HOST"]\n')
    _, findings, _ = doctor(OLDER, folder)
    assert [f["id"] for f in env_findings(findings)] == ["env-host-loopback"]  # not this one
    pyproject.write_text('[tool.omc-dev.doctor]\nignore = ["env-host-loopback:POSTGRES_SERVER"]\n')
    _, findings, status = doctor(OLDER, folder)
    assert env_findings(findings) == [] and status["environment"] == "pass", findings
    pyproject.write_text('[tool.omc-dev.doctor]\nignore = "env-host-loopback"\n')
    proc = omc("doctor", cwd=folder, env={"COMPOSE_FILE": ":".join(OLDER.compose_files)})
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "[tool.omc-dev.doctor] ignore must be a list" in proc.stderr


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_env_template_writes_only_what_the_doctor_accepts(
    tmp_path: Path, state_dir: Path, shape: Shape
) -> None:
    folder = shape.write(tmp_path / shape.name)
    env = {"COMPOSE_FILE": ":".join(shape.compose_files)}
    proc = omc("env", "template", cwd=folder, env=env)
    assert proc.returncode == 0, proc.stderr
    text = (folder / ".env.example").read_text()
    if shape is OLDER:
        assert "\nFRONTEND_HOST=http://localhost:5173\n" in text
        assert "BACKEND_CORS_ORIGINS=http://localhost,http://localhost:5173," in text
        assert "backend//" not in text and "http://frontend:80" not in text
    else:
        assert "\nSMTP_HOST=localhost\n" in text
    _, findings, status = doctor(shape, folder)
    assert env_findings(findings) == [] and status["environment"] == "pass", findings
