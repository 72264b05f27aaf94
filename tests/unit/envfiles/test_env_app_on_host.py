"""Minimal templates run the app on the host and compose only the database, which gets the
whole `.env` through `env_file`. `localhost` there is right (it is the host's app config), and
the host port compose interpolates from `.env` must stay in `.env`."""

from __future__ import annotations

from pathlib import Path

from devtools.compose.model import parse_config
from devtools.compose.source import read_source
from devtools.envfiles.model import StackView, collect
from devtools.envfiles.rules import check

COMPOSE = """\
services:
  pg:
    image: postgres:17
    env_file:
      - .env
    environment:
      - POSTGRES_PASSWORD=${APP_DB_PASSWORD}
    ports:
      - "${APP_DB_PORT}:5432"
"""
DOTENV = "APP_DB_HOSTNAME=localhost\nAPP_DB_PORT=5499\nAPP_DB_PASSWORD=secret\n"


def _view(tmp_path: Path, compose: str = COMPOSE, api: bool = False) -> StackView:
    (tmp_path / "docker-compose.yml").write_text(compose)
    (tmp_path / ".env").write_text(DOTENV)
    env = {"APP_DB_HOSTNAME": "localhost", "APP_DB_PORT": "5499", "POSTGRES_PASSWORD": "secret"}
    env["APP_DB_PASSWORD"] = "secret"
    services = {
        "pg": {
            "image": "postgres:17",
            "environment": env,
            "ports": [{"target": 5432, "published": "5499"}],
        }
    }
    if api:
        services["api"] = {"build": {"context": str(tmp_path)}, "environment": env}
    files = (tmp_path / "docker-compose.yml",)
    return collect(parse_config({"services": services}, files=files), read_source(list(files)))


def test_localhost_for_the_hosts_app_is_no_error_when_only_the_database_runs(
    tmp_path: Path,
) -> None:
    assert [f.id for f in check(_view(tmp_path)) if f.id == "env-host-loopback"] == []


def test_with_another_service_in_the_stack_localhost_is_still_judged(tmp_path: Path) -> None:
    compose = COMPOSE + "  api:\n    build: .\n    env_file: [.env]\n"
    loopback = [f for f in check(_view(tmp_path, compose, api=True)) if f.id == "env-host-loopback"]
    assert [(f.path, f.line) for f in loopback] == [(".env", 1)]


def test_a_host_port_compose_reads_from_dotenv_is_not_to_be_removed_from_it(
    tmp_path: Path,
) -> None:
    (leak,) = [f for f in check(_view(tmp_path)) if f.id == "env-host-variable-in-service"]
    assert (leak.path, leak.line, leak.severity) == (".env", 2, "warning")
    assert leak.fix is not None
    assert "remove APP_DB_PORT" not in leak.fix
    assert "stop passing .env as env_file" in leak.fix
