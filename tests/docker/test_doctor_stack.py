"""Doctor checks that read the reference stack: missing mounts, and where `omc-dev run` runs."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fixtures.cli import REPO_ROOT, omc

SOURCE_FOLDERS = ("devtools", "kernel", "tests", "scripts", "benchmarks", "hooks")


def checks(doc: dict[str, object]) -> dict[str, str]:
    return {c["id"]: c["status"] for c in doc["checks"]}  # type: ignore[attr-defined]


def test_the_reference_stack_mounts_every_source_folder() -> None:
    proc = omc("doctor", "--format", "json", cwd=REPO_ROOT, env={"OMC_IN_CONTAINER": "0"})
    doc = json.loads(proc.stdout)
    assert checks(doc)["mounts"] == "pass", doc
    assert [f for f in doc["findings"] if f["id"] == "mount-missing"] == []


def test_a_compose_file_missing_one_mount_gets_the_line_to_add(tmp_path: Path) -> None:
    text = (REPO_ROOT / "compose.yaml").read_text()
    assert "- ./scripts:/app/scripts\n" in text
    (tmp_path / "compose.yaml").write_text(text.replace("    - ./scripts:/app/scripts\n", ""))
    for folder in (*SOURCE_FOLDERS, "docker", ".git", "build"):
        (tmp_path / folder).mkdir()
    (tmp_path / "pyproject.toml").write_text('[tool.omc-dev.doctor]\nmount-ignore = ["docker"]\n')

    proc = omc("doctor", "--format", "json", cwd=tmp_path, env={"OMC_IN_CONTAINER": "0"})
    assert proc.returncode == 0, proc.stderr  # a warning, not an error
    doc = json.loads(proc.stdout)
    assert checks(doc)["mounts"] == "warn"
    missing = [f for f in doc["findings"] if f["id"] == "mount-missing"]
    # backend has the build context (migrate runs its image); db mounts no folder at all.
    assert [f["message"].split(":")[0] for f in missing] == ["service backend"]
    for finding in missing:
        assert finding["severity"] == "warning"
        assert "scripts/ is not bind-mounted while devtools/, kernel/, tests/" in finding["message"]
        assert finding["fix"].startswith("add `- ./scripts:/app/scripts` to services.")
        # relative to the repository root, as in every format
        assert finding["path"] == "compose.yaml" and finding["line"]

    github = omc("doctor", "--format", "github", cwd=tmp_path, env={"OMC_IN_CONTAINER": "0"})
    assert "::warning file=" in github.stdout and "title=mount-missing" in github.stdout


def test_run_place_warns_when_a_container_signal_lies(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  app:\n    image: debian:bookworm-slim\n")
    host = json.loads(
        omc("doctor", "--format", "json", cwd=tmp_path, env={"OMC_IN_CONTAINER": "0"}).stdout
    )
    assert checks(host)["run-place"] == "pass"
    # `container=` claims a container, but the engine runs none by this machine's hostname.
    proc = omc("doctor", "--format", "json", cwd=tmp_path, env={"container": "podman"})
    doc = json.loads(proc.stdout)
    assert checks(doc)["run-place"] == "warn" and proc.returncode == 0
    (finding,) = [f for f in doc["findings"] if f["id"] == "run-place-suspect"]
    assert "container=podman" in finding["message"] and "OMC_IN_CONTAINER=0" in finding["fix"]
