"""`omc-dev run` in a full-stack project where several services build each folder.

No stack is started: the command stops at "not running" (125) naming the service it chose, or
asks which service (2). The engine is asked only to list containers; nothing is created.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

from tests.fixtures.cli import omc

COMPOSE = """\
services:
  db:
    image: debian:bookworm-slim
  prestart:
    build: {context: ., dockerfile: backend/Dockerfile}
  backend:
    build: {context: ., dockerfile: backend/Dockerfile}
    volumes: [./backend/app:/srv/app]
  frontend:
    build: ./frontend
  e2e:
    build: ./frontend
"""


def _project(tmp_path: Path) -> Path:
    root = tmp_path / f"shop{uuid.uuid4().hex[:6]}"
    for folder in ("backend/app/api", "frontend/src"):
        (root / folder).mkdir(parents=True)
    (root / "compose.yml").write_text(COMPOSE)
    (root / "backend" / "pyproject.toml").write_text('[project]\nname = "api"\n')
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def _run(cwd: Path) -> subprocess.CompletedProcess[str]:
    return omc("run", "--", "true", cwd=cwd, env={"OMC_IN_CONTAINER": "0"})


def test_from_the_backend_folder_the_backend_service_is_chosen(tmp_path: Path) -> None:
    root = _project(tmp_path)
    for cwd in (root / "backend", root / "backend" / "app" / "api"):
        proc = _run(cwd)
        assert proc.returncode == 125, proc.stderr
        assert proc.stderr.count("\n") == 1, proc.stderr
        assert "service backend is not running" in proc.stderr
    proc = _run(root / "frontend" / "src")
    assert proc.returncode == 125 and "service frontend is not running" in proc.stderr


def test_from_the_root_it_asks_offering_the_services_built_from_there(tmp_path: Path) -> None:
    proc = _run(_project(tmp_path))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    # frontend and e2e build ./frontend: the root is not their code
    assert "which service should run the command (backend, prestart)?" in proc.stderr


def test_a_stack_of_only_images_says_the_code_runs_on_the_host(tmp_path: Path) -> None:
    # The app runs on the host; compose only brings its database.
    root = tmp_path / "api"
    (root / "src" / "monitoring").mkdir(parents=True)
    (root / "docker-compose.yml").write_text(
        "services:\n  app_db:\n    image: debian:bookworm-slim\n    ports: ['5432']\n"
        "    volumes: [dbdata:/var/lib/postgresql/data]\n"
        # a config folder mounted into a third-party image is not the project's code
        "  metrics:\n    image: debian:bookworm-slim\n    volumes: [./src/monitoring:/etc/m:ro]\n"
        "volumes:\n  dbdata: {}\n"
    )
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    # omc-dev's own ports override (written by `ports`) is not named as the user's compose file
    assert omc("ports", cwd=root, env={"OMC_IN_CONTAINER": "0"}).returncode == 0
    proc = _run(root / "src")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert (
        "no service in docker-compose.yml builds this project's code or mounts this folder"
        in proc.stderr
    )
    assert "(services: app_db, metrics)" in proc.stderr and "-s SERVICE" in proc.stderr


def _run_place(cwd: Path) -> str:
    proc = omc("doctor", "--format", "json", cwd=cwd, env={"OMC_IN_CONTAINER": "0"})
    (check,) = [c for c in json.loads(proc.stdout)["checks"] if c["id"] == "run-place"]
    return str(check["detail"])


def test_doctor_says_which_container_run_would_use_from_here(tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert (
        _run_place(root / "backend" / "app") == "on the host: commands run in backend's container"
    )
    assert _run_place(root) == (
        "on the host: from here commands need -s SERVICE (one of backend, prestart)"
    )
