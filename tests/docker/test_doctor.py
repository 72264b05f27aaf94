from __future__ import annotations

import json
from pathlib import Path

from tests.fixtures.cli import omc

COMPOSE = "services:\n  app:\n    image: debian:bookworm-slim\n"


def test_doctor_passes_engine_and_compose_checks(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    proc = omc("doctor", "--format", "json", "--track", "t", cwd=tmp_path)
    doc = json.loads(proc.stdout)
    status = {c["id"]: c["status"] for c in doc["checks"]}
    assert status["engine"] == status["compose"] == status["compose-file"] == "pass", doc
    assert proc.returncode == 0, doc


def test_doctor_reports_unreachable_engine(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    proc = omc(
        "doctor",
        "--format",
        "json",
        cwd=tmp_path,
        env={"DOCKER_HOST": f"unix://{tmp_path}/no.sock"},
    )
    doc = json.loads(proc.stdout)
    assert proc.returncode == 1
    assert [f["id"] for f in doc["findings"]] == ["engine-unreachable"]
    # The hint is in the user's terms: no file that exists only in omc-dev's own repository.
    message = doc["findings"][0]["message"]
    assert "start Docker" in message and "scripts/" not in message


def test_doctor_reports_a_compose_file_that_does_not_resolve(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n  app:\n    image: x\n    volumes: [nosuch:/data]\n"
    )
    proc = omc("doctor", "--format", "github", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout.startswith("::error ")
    assert "title=compose-file-invalid" in proc.stdout and "nosuch" in proc.stdout
    # The annotation points at the compose file, relative to the repository (here: the folder).
    assert proc.stdout.startswith("::error file=compose.yaml,title=compose-file-invalid::")


def test_doctor_without_compose_file_says_how_to_fix(tmp_path: Path) -> None:
    proc = omc("doctor", cwd=tmp_path)
    assert proc.returncode == 1
    assert "no compose file" in proc.stdout


def test_doctor_json_is_the_documented_report_with_a_real_engine(tmp_path: Path) -> None:
    import jsonschema

    from tests.unit.report.test_report_schema import schema

    (tmp_path / "compose.yaml").write_text(COMPOSE)
    proc = omc("doctor", "--format", "json", "--track", "t", cwd=tmp_path)
    doc = json.loads(proc.stdout)
    jsonschema.Draft202012Validator(schema()).validate(doc)
    assert doc["command"] == "doctor" and doc["ok"] is (proc.returncode == 0)
    assert {c["id"]: c["status"] for c in doc["checks"]}["engine"] == "pass"


def test_doctor_concise_is_one_line_per_finding(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    proc = omc(
        "doctor",
        "--format",
        "concise",
        cwd=tmp_path,
        env={"DOCKER_HOST": f"unix://{tmp_path}/no.sock"},
    )
    assert proc.returncode == 1
    (line,) = proc.stdout.splitlines()
    assert line.startswith("engine-unreachable ") and "start Docker" in line
