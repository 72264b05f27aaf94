"""A one-service stack (an app that can use SQLite or an outside PostgreSQL) whose settings name a
database host the stack does not run: said as a warning, never "use the app itself" as the host,
and the template keeps the value."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from devtools.compose.model import parse_config
from devtools.compose.source import read_source
from devtools.envfiles.model import StackView, collect
from devtools.envfiles.rules import check
from devtools.envfiles.template import render

COMPOSE = """\
services:
  recipes:
    build: ..
    env_file: [.env]
    ports:
      - 9091:9000
"""


def _view(folder: Path, services: dict[str, Any]) -> StackView:
    (folder / "compose.yaml").write_text(COMPOSE)
    (folder / ".env").write_text("DB_ENGINE=sqlite\nPOSTGRES_SERVER=pg\nPOSTGRES_PORT=5432\n")
    (folder / ".env.example").write_text((folder / ".env").read_text())
    files = (folder / "compose.yaml",)
    return collect(parse_config({"services": services}, files=files), read_source(list(files)))


ENV = {"DB_ENGINE": "sqlite", "POSTGRES_SERVER": "pg", "POSTGRES_PORT": "5432"}


def test_a_host_outside_a_one_service_stack_is_a_warning_without_a_wrong_fix(
    tmp_path: Path,
) -> None:
    app = {"build": {"context": str(tmp_path)}, "environment": ENV}
    findings = [f for f in check(_view(tmp_path, {"recipes": app})) if f.id.startswith("env-")]
    assert {(f.id, f.severity, f.path) for f in findings} == {
        ("env-host-not-a-service", "warning", ".env"),
        ("env-host-not-a-service", "warning", ".env.example"),
    }
    for finding in findings:
        assert "recipes" not in (finding.fix or "")
        assert "runs no other service" in finding.message


def test_the_template_keeps_that_value(tmp_path: Path) -> None:
    app = {"build": {"context": str(tmp_path)}, "environment": ENV}
    assert "POSTGRES_SERVER=pg\n" in render(_view(tmp_path, {"recipes": app}))


def test_with_a_second_service_the_unknown_name_is_still_an_error(tmp_path: Path) -> None:
    app = {"build": {"context": str(tmp_path)}, "environment": ENV}
    db = {"image": "postgres:17", "expose": ["5432"]}
    findings = check(_view(tmp_path, {"recipes": app, "db": db}))
    errors = [f for f in findings if f.id == "env-host-not-a-service" and f.severity == "error"]
    assert errors and all(f.fix == "POSTGRES_SERVER=db" for f in errors)


def test_localhost_for_a_server_no_service_runs_does_not_offer_the_others_as_it(
    tmp_path: Path,
) -> None:
    # An app's default mail relay, with no mail service in the stack.
    (tmp_path / "compose.yaml").write_text("services:\n  app:\n    image: app\n")
    files = (tmp_path / "compose.yaml",)
    doc = {
        "services": {
            "app": {"image": "app", "environment": {"EMAIL_SERVER": "localhost"}},
            "cache": {"image": "redis:7", "expose": ["6379"]},
        }
    }
    view = collect(parse_config(doc, files=files), read_source(list(files)))
    (finding,) = [f for f in check(view) if f.id == "env-host-loopback"]
    # Nothing in the stack answers there, and no service is the one meant: a warning that says
    # so, with no fix naming unrelated services.
    assert finding.severity == "warning"
    assert "nothing answers there" in finding.message and "no service" in finding.message
    assert finding.fix is not None and "cache" not in finding.fix and "app," not in finding.fix
    assert "host.docker.internal" in finding.fix and "ignore[env-host-loopback]" in finding.fix


def test_localhost_for_a_service_the_stack_runs_stays_an_error(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  app:\n    image: app\n")
    files = (tmp_path / "compose.yaml",)
    doc = {
        "services": {
            "app": {"image": "app", "environment": {"POSTGRES_SERVER": "localhost"}},
            "db": {"image": "postgres:17", "expose": ["5432"]},
            "cache": {"image": "redis:7", "expose": ["6379"]},
        }
    }
    view = collect(parse_config(doc, files=files), read_source(list(files)))
    (finding,) = [f for f in check(view) if f.id == "env-host-loopback"]
    assert (finding.severity, finding.fix) == ("error", "POSTGRES_SERVER=db")
