"""Projects that keep their compose file in a subfolder (docker/, server/, tools/deploy/docker/):
from the root, the one line says where it is and the two ways to use it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from devtools.config import ProjectConfig
from devtools.docker.compose import compose_files
from devtools.errors import EnvironmentMissing


def _checkout(tmp_path: Path, *files: str) -> Path:
    root = tmp_path / "repo"
    for rel in files:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("services: {}\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    return root


def _message(root: Path) -> str:
    with pytest.raises(EnvironmentMissing) as caught:
        compose_files(ProjectConfig(root=root, data={}))
    return str(caught.value)


def test_a_compose_file_in_a_subfolder_is_named_with_both_fixes(tmp_path: Path) -> None:
    root = _checkout(
        tmp_path, ".devcontainer/docker-compose.yml", "docker/docker-compose.yml", "README.md"
    )
    message = _message(root)
    assert message.startswith(f"no compose file in {root} (looked for compose.yaml")
    assert (
        "this checkout has docker/docker-compose.yml (also .devcontainer/docker-compose.yml)"
        in message
    )
    assert message.endswith(
        'run omc-dev from docker/, or set compose-files = ["docker/docker-compose.yml"] '
        "in [tool.omc-dev]"
    )


def test_other_names_and_untracked_files_are_not_offered(tmp_path: Path) -> None:
    root = _checkout(tmp_path, "dev/docker-compose.dev.yml")
    (root / "scratch").mkdir()
    (root / "scratch" / "compose.yaml").write_text("services: {}\n")  # not tracked
    assert _message(root).endswith(": add one, or set compose-files in [tool.omc-dev]")
