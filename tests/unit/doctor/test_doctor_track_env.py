"""The doctor's `track-env` check: a browser-facing value that names another stack's host port.

Over a stack shaped like the FastAPI full-stack template (compose.yml + compose.override.yml,
`.env` read by `env_file` and by interpolation). A false alarm is as bad as a miss: values
without a port, the track's own ports and container addresses never warn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devtools import config
from devtools.compose.model import parse_config
from devtools.doctor.model import DoctorContext
from devtools.doctor.track_env import check_track_env
from devtools.findings import Finding
from devtools.tracks import registry
from devtools.tracks.identity import Track
from devtools.tracks.ports import ensure_ports
from devtools.tracks.registry import PortAssignment, TrackEntry
from tests.fixtures.stacks import NEWER, OLDER, Shape

COMPOSE = """\
services:
  backend:
    image: backend
    env_file: [.env]
    environment:
      - FRONTEND_HOST=${FRONTEND_HOST}
      - POSTGRES_SERVER=db
  frontend:
    image: frontend
  playwright:
    image: playwright
    environment:
      - PLAYWRIGHT_BASE_URL=http://localhost:9323
      - VITE_API_URL=http://backend:8000
  db:
    image: postgres:15
"""
OVERRIDE = """\
services:
  backend:
    ports: ["8000:8000"]
  frontend:
    ports: ["5173:80"]
  playwright:
    ports: ["9323:9323"]
  db:
    ports: ["5432:5432"]
"""
DOTENV = """\
DOMAIN=localhost
FRONTEND_HOST=http://localhost:5173
BACKEND_CORS_ORIGINS="http://localhost,http://localhost:5173,https://localhost"
SERVER_HOST=http://localhost:8000
"""


def ports(*pairs: tuple[int, str]) -> list[dict[str, Any]]:
    return [{"target": t, "published": p, "protocol": "tcp"} for t, p in pairs]


def resolved(backend_env: dict[str, str]) -> dict[str, Any]:
    """What `docker compose config` gives for the files above (with `backend_env` added)."""
    backend = {
        "DOMAIN": "localhost",
        "FRONTEND_HOST": "http://localhost:5173",
        "BACKEND_CORS_ORIGINS": "http://localhost,http://localhost:5173,https://localhost",
        "SERVER_HOST": "http://localhost:8000",
        "POSTGRES_SERVER": "db",
        **backend_env,
    }
    return {
        "name": "x",
        "services": {
            "backend": {"image": "backend", "environment": backend, "ports": ports((8000, "8000"))},
            "frontend": {"image": "frontend", "ports": ports((80, "5173"))},
            "playwright": {
                "image": "playwright",
                "environment": {
                    "PLAYWRIGHT_BASE_URL": "http://localhost:9323",
                    "VITE_API_URL": "http://backend:8000",
                },
                "ports": ports((9323, "9323")),
            },
            "db": {"image": "postgres:15", "ports": ports((5432, "5432"))},
        },
    }


@pytest.fixture(autouse=True)
def no_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    from devtools.docker.sdk import client

    client.cache_clear()


def stack(tmp_path: Path, pyproject_extra: str = "") -> Path:
    folder = tmp_path / "full-stack"
    folder.mkdir()
    (folder / "compose.yml").write_text(COMPOSE)
    (folder / "compose.override.yml").write_text(OVERRIDE)
    (folder / ".env").write_text(DOTENV)
    (folder / "pyproject.toml").write_text(f"[tool.omc-dev]\n{pyproject_extra}\n")
    return folder


def check(folder: Path, backend_env: dict[str, str] | None = None) -> list[Finding]:
    cfg = config.load(folder)
    track = Track("main", "--track")
    project = parse_config(resolved(backend_env or {}), files=(folder / "compose.yml",))
    ensure_ports(cfg, Track("second", "--track"), project)  # a second track of the repo
    ensure_ports(cfg, track, project)  # the track holds its own ports, as after `omc-dev up`
    ctx = DoctorContext(cfg, track)
    ctx.__dict__["project"] = project  # as compose resolved it (no compose CLI in this tier)
    return list(check_track_env(ctx).findings)


def own_port(folder: Path, service: str) -> int:
    entries = registry.snapshot().entries.values()
    return next(
        p.published for e in entries if e.track == "main" for p in e.ports if p.service == service
    )


def by_variable(findings: list[Finding]) -> dict[str, Finding]:
    return {f.message.partition("=")[0]: f for f in findings}


def test_values_naming_the_default_frontend_port_warn_with_the_template_that_fixes_them(
    tmp_path: Path, state_dir: Path
) -> None:
    folder = stack(tmp_path)
    found = by_variable(check(folder))
    assert set(found) == {"FRONTEND_HOST", "BACKEND_CORS_ORIGINS"}
    front = found["FRONTEND_HOST"]
    assert front.id == "track-env-foreign-port" and front.severity == "warning"
    assert (
        "host port 5173 (the default stack's frontend:80), not a port of track main"
        in front.message
    )
    assert (front.path, front.line) == (str(folder / ".env"), 2)  # where the value is written
    assert front.fix is not None
    assert 'set FRONTEND_HOST = "http://localhost:{port:frontend:80}"' in front.fix
    cors = found["BACKEND_CORS_ORIGINS"].fix or ""
    assert '"http://localhost,http://localhost:{port:frontend:80},https://localhost"' in cors


def test_no_port_own_ports_and_container_addresses_never_warn(
    tmp_path: Path, state_dir: Path
) -> None:
    folder = stack(tmp_path)
    check(folder)  # allocate the track's ports
    own = own_port(folder, "frontend")
    quiet = {
        "FRONTEND_HOST": f"http://localhost:{own}",  # the track's own frontend
        "BACKEND_CORS_ORIGINS": f"http://localhost,https://localhost,http://127.0.0.1:{own}",
        "REDIRECT_URL": "http://localhost:24999/callback",  # nobody publishes it
        "PUBLIC_URL": "http://frontend:80",  # a container address
    }
    # Still in the stack: SERVER_HOST=http://localhost:8000 (a connection, not a browser URL:
    # the env rules judge it), PLAYWRIGHT_BASE_URL=http://localhost:9323 in playwright itself.
    assert check(folder, quiet) == []


def test_a_port_another_track_holds_warns_naming_that_track(
    tmp_path: Path, state_dir: Path
) -> None:
    folder = stack(tmp_path)
    check(folder)
    with registry.locked() as reg:
        reg.put(
            TrackEntry(
                "other-repo", "shop", "feature-y", "shop-feature-y-0000", (str(tmp_path),),
                (PortAssignment("web", 3000, "tcp", None, 26001),),
            )
        )  # fmt: skip
    found = by_variable(check(folder, {"FRONTEND_HOST": "http://host.docker.internal:26001/"}))
    front = found["FRONTEND_HOST"]
    assert "host port 26001 (track feature-y of shop's web:3000)" in front.message
    # The other repo's service is not this stack's: no template to offer, but what to do.
    assert front.fix == (
        "name one of this track's own host ports (omc-dev ports), or a service address"
    )


def test_a_variable_can_be_silenced(tmp_path: Path, state_dir: Path) -> None:
    folder = stack(
        tmp_path, '[tool.omc-dev.doctor]\nignore = ["track-env-foreign-port:FRONTEND_HOST"]'
    )
    assert set(by_variable(check(folder))) == {"BACKEND_CORS_ORIGINS"}


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        # env_file .env and `${FRONTEND_HOST}`: the backend and prestart get the default URLs.
        (OLDER, {"FRONTEND_HOST", "BACKEND_CORS_ORIGINS"}),
        # `.env` read by interpolation only, FRONTEND_HOST passed to no container: nothing.
        (NEWER, set()),
    ],
    ids=lambda v: getattr(v, "name", ""),
)
def test_the_fastapi_template_shapes(
    tmp_path: Path, state_dir: Path, shape: Shape, expected: set[str]
) -> None:
    folder = shape.write(tmp_path / shape.name)
    (folder / "pyproject.toml").write_text("[tool.omc-dev]\n")
    cfg = config.load(folder)
    track = Track("t", "--track")
    project = parse_config(shape.config(folder), files=tuple(shape.paths(folder)))
    ensure_ports(cfg, track, project)
    ctx = DoctorContext(cfg, track)
    ctx.__dict__["project"] = project
    # One track: the untouched project is silent (no second stack to reach by mistake).
    assert list(check_track_env(ctx).findings) == []
    ensure_ports(cfg, Track("u", "--track"), project)  # a second track of the repository
    found = by_variable(list(check_track_env(ctx).findings))
    assert set(found) == expected
    for finding in found.values():
        assert finding.path == str(folder / ".env")
        assert "(the default stack's frontend:80)" in finding.message


def test_a_build_arg_baking_in_the_default_backend_warns_at_its_line(
    tmp_path: Path, state_dir: Path
) -> None:
    """The older template's frontend is built with `VITE_API_URL=http://localhost:8000`
    (docker-compose.override.yml): every track's frontend would call the default backend."""
    folder = OLDER.write(tmp_path / "older")
    (folder / "pyproject.toml").write_text(
        "[tool.omc-dev]\n\n[tool.omc-dev.doctor]\n"
        'ignore = ["track-env-foreign-port:FRONTEND_HOST", '
        '"track-env-foreign-port:BACKEND_CORS_ORIGINS"]\n'
    )
    cfg = config.load(folder)
    track = Track("t", "--track")
    doc = OLDER.config(folder)
    args = {"VITE_API_URL": "http://localhost:8000", "NODE_ENV": "development"}
    doc["services"]["frontend"]["build"]["args"] = args
    # The playwright image is built for the network: `http://backend:8000` is no host port.
    doc["services"]["playwright"]["build"]["args"] = {"VITE_API_URL": "http://backend:8000"}
    project = parse_config(doc, files=tuple(OLDER.paths(folder)))
    ensure_ports(cfg, Track("u", "--track"), project)  # a second track of the repository
    ensure_ports(cfg, track, project)
    ctx = DoctorContext(cfg, track)
    ctx.__dict__["project"] = project
    (found,) = check_track_env(ctx).findings
    assert found.message.startswith("build arg VITE_API_URL=http://localhost:8000 (frontend)")
    assert "host port 8000 (the default stack's backend:8000)" in found.message
    override = folder / "docker-compose.override.yml"
    assert found.path == str(override) and found.line is not None
    assert "VITE_API_URL=http://localhost:8000" in override.read_text().splitlines()[found.line - 1]
    assert found.fix == (
        "write the build arg as VITE_API_URL=${VITE_API_URL}, and set VITE_API_URL = "
        '{ value = "http://localhost:{port:backend:8000}", services = [] } in '
        "[tool.omc-dev.tracks.env]: each track then gets its own port "
        "(omc-dev ports --format env shows it)"
    )
