"""Per-track values end to end: two tracks up side by side, each backend naming its own frontend.

One small stack (debian:bookworm-slim services that sleep), shaped like the FastAPI full-stack
template: the backend reads `.env` by `env_file` and by interpolation (`${STACK_NAME}` in a
label), the frontend publishes 5173:80. Both tracks are started once for the module and taken
down (with their volumes) even when a test fails.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest

from tests.fixtures.cli import omc
from tests.fixtures.docker import ComposeStack
from tests.fixtures.git import make_repo
from tests.fixtures.stacks import SHAPES, Shape
from tests.unit.report.test_report_schema import schema

COMPOSE = """\
services:
  backend:
    image: debian:bookworm-slim
    command: ["sleep", "infinity"]
    init: true
    env_file: [.env]
    environment:
      STACK_NAME: ${STACK_NAME?Variable not set}
    labels:
      - traefik.http.routers.${STACK_NAME}-backend.rule=Host(`api.localhost`)
    ports: ["8000:8000"]
  frontend:
    image: debian:bookworm-slim
    command: ["sleep", "infinity"]
    init: true
    ports: ["5173:80"]
  db:
    image: debian:bookworm-slim
    command: ["sleep", "infinity"]
    init: true
    ports: ["5432:5432"]
"""
DOTENV = """\
FRONTEND_HOST=http://localhost:5173
BACKEND_CORS_ORIGINS="http://localhost,http://localhost:5173"
STACK_NAME=default-stack
"""
PYPROJECT = """\
[tool.omc-dev]
project = "trackenv"

[tool.omc-dev.tracks.env]
FRONTEND_HOST = "http://localhost:{port:frontend:80}"
STACK_NAME = "{project}"
"""
TRACKS = ("alpha", "beta")


@dataclass
class Setup:
    repo: Path
    env: dict[str, str]
    values: dict[str, dict[str, str]]  # track -> `ports --format env` as a dict


def env_of(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line)


@pytest.fixture(scope="module")
def setup() -> Iterator[Setup]:
    base = Path(tempfile.mkdtemp(prefix="omc-track-env-"))
    repo = make_repo(
        base,
        {
            "compose.yaml": COMPOSE,
            ".env": DOTENV,
            "pyproject.toml": PYPROJECT,
            ".gitignore": ".omc/\n",
        },
        name="trackenv",
    ).path
    env = {"OMC_STATE_DIR": str(base / "state"), "OMC_IN_CONTAINER": "0"}
    stacks: list[ComposeStack] = []
    values: dict[str, dict[str, str]] = {}
    try:
        for track in TRACKS:
            proc = omc("ports", "--track", track, "--format", "env", cwd=repo, env=env)
            assert proc.returncode == 0, proc.stderr
            values[track] = env_of(proc.stdout)
            stacks.append(ComposeStack(repo, project=values[track]["COMPOSE_PROJECT_NAME"]))
        for track in TRACKS:
            proc = omc("up", "--track", track, cwd=repo, env=env)
            assert proc.returncode == 0, proc.stdout + proc.stderr
        yield Setup(repo, env, values)
    finally:
        for stack in stacks:
            stack.down()
        shutil.rmtree(base, ignore_errors=True)


def container_env(project: str, service: str) -> dict[str, str]:
    proc = subprocess.run(
        ["docker", "compose", "--project-name", project, "exec", "-T", service, "env"],
        capture_output=True, text=True, timeout=60, check=True, cwd="/",
    )  # fmt: skip
    return env_of(proc.stdout)


def labels(project: str, service: str) -> dict[str, str]:
    ids = subprocess.run(
        ["docker", "ps", "--quiet", "--filter", f"label=com.docker.compose.project={project}",
         "--filter", f"label=com.docker.compose.service={service}"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout.split()  # fmt: skip
    assert len(ids) == 1
    out = subprocess.run(
        ["docker", "inspect", "--format", "{{json .Config.Labels}}", ids[0]],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    found: dict[str, str] = json.loads(out)
    return found


def test_ports_env_gives_each_track_its_own_values(setup: Setup) -> None:
    alpha, beta = setup.values["alpha"], setup.values["beta"]
    for values in (alpha, beta):
        assert values["FRONTEND_HOST"] == f"http://localhost:{values['OMC_PORT_FRONTEND']}"
        assert values["STACK_NAME"] == values["COMPOSE_PROJECT_NAME"]
    assert alpha["FRONTEND_HOST"] != beta["FRONTEND_HOST"]


def test_each_backend_names_its_own_frontend_port(setup: Setup) -> None:
    for track in TRACKS:
        values = setup.values[track]
        project = values["COMPOSE_PROJECT_NAME"]
        got = container_env(project, "backend")
        # FRONTEND_HOST came from `.env` by env_file: the override's value wins.
        assert got["FRONTEND_HOST"] == f"http://localhost:{values['OMC_PORT_FRONTEND']}"
        # STACK_NAME came by interpolation: compose's environment holds the track's value.
        assert got["STACK_NAME"] == project
        assert f"traefik.http.routers.{project}-backend.rule" in labels(project, "backend")
        # Not templated: still the `.env` value (omc-dev never writes the user's .env).
        assert got["BACKEND_CORS_ORIGINS"] == "http://localhost,http://localhost:5173"
    assert (setup.repo / ".env").read_text() == DOTENV


def test_urls_lists_the_web_ports_of_the_track_and_not_postgres(setup: Setup) -> None:
    proc = omc("urls", "--track", "alpha", "--format", "json", cwd=setup.repo, env=setup.env)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    jsonschema.Draft202012Validator(schema()).validate(doc)
    assert doc["command"] == "urls" and doc["schema_version"] == 1
    values = setup.values["alpha"]
    assert {u["service"]: u["url"] for u in doc["urls"]} == {
        "backend": f"http://localhost:{values['OMC_PORT_BACKEND']}",
        "frontend": f"http://localhost:{values['OMC_PORT_FRONTEND']}",
    }
    assert [p["service"] for p in doc["other_ports"]] == ["db"]
    text = omc("urls", "--track", "alpha", cwd=setup.repo, env=setup.env).stdout
    assert f"frontend  http://localhost:{values['OMC_PORT_FRONTEND']}\n" in text


def test_doctor_warns_only_for_the_value_still_naming_the_default_frontend(setup: Setup) -> None:
    proc = omc("doctor", "--track", "beta", "--format", "json", cwd=setup.repo, env=setup.env)
    doc = json.loads(proc.stdout)
    status = {c["id"]: c["status"] for c in doc["checks"]}
    assert status["track-env"] == "warn", doc
    found = [f for f in doc["findings"] if f["id"] == "track-env-foreign-port"]
    assert [f["message"].partition("=")[0] for f in found] == ["BACKEND_CORS_ORIGINS"]
    assert found[0]["path"] == ".env" and found[0]["line"] == 2
    assert '"http://localhost,http://localhost:{port:frontend:80}"' in found[0]["fix"]


@pytest.mark.parametrize(
    ("template", "said"),
    [
        ('X = "http://localhost:{port:frontend:3000}"', "frontend does not publish container"),
        ('X = "{port:web:80}"', "service 'web' publishes no port"),
        ('X = "{stack}"', "unknown placeholder {stack}"),
    ],
)
def test_a_bad_template_is_one_line_and_exit_2(tmp_path: Path, template: str, said: str) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    (tmp_path / ".env").write_text(DOTENV)
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.omc-dev]\nproject = "bad"\n\n[tool.omc-dev.tracks.env]\n{template}\n'
    )
    env = {"OMC_STATE_DIR": str(tmp_path / "state")}
    proc = omc("ports", "--track", "x", "--format", "env", cwd=tmp_path, env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert said in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


FIXED = {
    # The frontend is a service: its URL goes wherever `.env` hands FRONTEND_HOST today.
    "older": """\
[tool.omc-dev]

[tool.omc-dev.tracks.env]
FRONTEND_HOST = "http://localhost:{port:frontend:80}"
BACKEND_CORS_ORIGINS = "http://localhost,http://localhost:{port:frontend:80},https://localhost"
STACK_NAME = "{project}"
TAG = { value = "{project}", services = [] }
VITE_API_URL = { value = "http://localhost:{port:backend:8000}", services = [] }
""",
    # The backend serves the pages and reads FRONTEND_HOST from no file: named for it.
    "newer": """\
[tool.omc-dev]

[tool.omc-dev.tracks.env]
FRONTEND_HOST = { value = "http://localhost:{port:backend:8000}", services = ["backend"] }
STACK_NAME = "{project}"
""",
}


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_with_templates_the_template_stacks_name_only_their_own_ports(
    tmp_path: Path, shape: Shape
) -> None:
    """Real compose resolves the stack with the track's values: no warning is left, in either
    shape (the older one reads `.env` by env_file and interpolation, the newer by interpolation)."""
    env = {"COMPOSE_FILE": ":".join(shape.compose_files), "OMC_STATE_DIR": str(tmp_path / "s")}
    if shape.name == "older":
        # Untouched, its `.env` URLs and the frontend's build arg name the default ports.
        folder = shape.write(tmp_path / "untouched", **{"pyproject.toml": "[tool.omc-dev]\n"})
        assert omc("ports", "--track", "t", cwd=folder, env=env).returncode == 0
        assert track_env_findings(folder, env) == []  # one track: nothing to reach by mistake
        assert omc("ports", "--track", "u", cwd=folder, env=env).returncode == 0
        assert sorted(track_env_findings(folder, env)) == [
            "BACKEND_CORS_ORIGINS",
            "FRONTEND_HOST",
            "build arg VITE_API_URL",
        ]
    changes = {"pyproject.toml": FIXED[shape.name]}
    for name, text in shape.files.items():
        # The fix the doctor gives for the build arg: the track's value by interpolation.
        fixed = text.replace("VITE_API_URL=http://localhost:8000", "VITE_API_URL=${VITE_API_URL}")
        if fixed != text:
            changes[name] = fixed
    folder = shape.write(tmp_path / shape.name, **changes)
    assert omc("ports", "--track", "u", cwd=folder, env=env).returncode == 0  # a second track
    assert omc("ports", "--track", "t", cwd=folder, env=env).returncode == 0
    assert track_env_findings(folder, env) == []


def track_env_findings(folder: Path, env: dict[str, str]) -> list[str]:
    proc = omc("doctor", "--format", "json", "--track", "t", cwd=folder, env=env)
    doc = json.loads(proc.stdout)
    status = {c["id"]: c["status"] for c in doc["checks"]}
    found = [f for f in doc["findings"] if f["id"].startswith("track-env")]
    assert status["track-env"] == ("warn" if found else "pass"), doc
    return [f["message"].partition("=")[0] for f in found]
