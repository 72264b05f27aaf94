"""Doctor's environment checks and `omc-dev env template`, against the real compose CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.cli import REPO_ROOT, omc

COMPOSE = """\
services:
  db:
    image: debian:bookworm-slim
    environment:
      POSTGRES_USER: app
      POSTGRES_PASSWORD: app
    ports:
      - "${DB_HOST_PORT:-5433}:5432"
  redis:
    image: debian:bookworm-slim
    expose: ["6379"]
  backend:
    image: debian:bookworm-slim
    env_file: [backend.env]
    environment:
      SMTP_HOST: mail.example.com
      OMC_IN_CONTAINER: "1"
"""
CLEAN_BACKEND = "POSTGRES_SERVER=db\nPOSTGRES_PORT=5432\nREDIS_URL=redis://redis:6379/0\n"


def stack(folder: Path, backend_env: str = CLEAN_BACKEND, **files: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "compose.yaml").write_text(files.pop("compose", COMPOSE))
    (folder / "backend.env").write_text(backend_env)
    for name, text in files.items():
        (folder / name.replace("_", ".")).write_text(text)
    return folder


def doctor(folder: Path) -> tuple[int, list[dict[str, Any]], dict[str, str]]:
    proc = omc("doctor", "--format", "json", "--track", "t", cwd=folder)
    doc = json.loads(proc.stdout)
    status = {c["id"]: c["status"] for c in doc["checks"]}
    return proc.returncode, doc["findings"], status


def only(findings: list[dict[str, Any]], check: str) -> list[dict[str, Any]]:
    return [f for f in findings if f["id"] == check]


def test_clean_files_pass(tmp_path: Path, state_dir: Path) -> None:
    code, findings, status = doctor(stack(tmp_path / "s", _env="DB_HOST_PORT=5433\n"))
    assert status["environment"] == "pass", findings
    assert [f for f in findings if f["id"].startswith("env-")] == [] and code == 0


def test_hostname_that_is_no_service(tmp_path: Path, state_dir: Path) -> None:
    backend = "# db settings\nPOSTGRES_SERVER=postgresserver\nPOSTGRES_PORT=5432\n"
    code, findings, status = doctor(stack(tmp_path / "s", backend))
    (finding,) = only(findings, "env-host-not-a-service")
    assert (finding["path"], finding["line"], finding["severity"]) == ("backend.env", 2, "error")
    assert "'postgresserver'" in finding["message"] and "backend, db, redis" in finding["message"]
    assert finding["fix"] == "POSTGRES_SERVER=db"
    assert (code, status["environment"]) == (1, "fail")


def test_localhost_inside_a_container(tmp_path: Path, state_dir: Path) -> None:
    backend = "REDIS_URL=redis://localhost:6379/0\n"
    _, findings, _ = doctor(stack(tmp_path / "s", backend))
    (finding,) = only(findings, "env-host-loopback")
    assert finding["line"] == 1 and "container itself" in finding["message"]
    assert finding["fix"] == "REDIS_URL=redis://redis:6379/0"


def test_host_published_port_in_dotenv_example(tmp_path: Path, state_dir: Path) -> None:
    example = "POSTGRES_SERVER=db\nPOSTGRES_PORT=5433\n"
    _, findings, _ = doctor(stack(tmp_path / "s", _env_example=example))
    (finding,) = only(findings, "env-port-is-host-port")
    assert (finding["path"], finding["line"]) == (".env.example", 2)
    assert "host port compose.yaml publishes for db:5432" in finding["message"]
    assert finding["fix"] == "POSTGRES_PORT=5432"


def test_port_a_track_holds_is_a_host_port_too(tmp_path: Path, state_dir: Path) -> None:
    folder = stack(tmp_path / "s")
    allocated = json.loads(omc("ports", "--format", "json", "mine", cwd=folder).stdout)
    host_port = allocated["ports"][0]["published"]
    (folder / "backend.env").write_text(f"POSTGRES_SERVER=db\nPOSTGRES_PORT={host_port}\n")
    _, findings, _ = doctor(folder)
    (finding,) = only(findings, "env-port-is-host-port")
    assert "host port track mine publishes for db:5432" in finding["message"]
    assert finding["fix"] == "POSTGRES_PORT=5432"


def test_url_is_parsed_and_checked_the_same_way(tmp_path: Path, state_dir: Path) -> None:
    backend = "DATABASE_URL=postgresql+psycopg://app:s3cret@postgresserver:5433/app\n"
    _, findings, _ = doctor(stack(tmp_path / "s", backend))
    host, port = only(findings, "env-host-not-a-service"), only(findings, "env-port-is-host-port")
    assert len(host) == len(port) == 1
    fixed = "DATABASE_URL=postgresql+psycopg://app:***@db:5432/app"
    assert host[0]["fix"] == port[0]["fix"] == fixed  # one fix for both mistakes
    assert all("s3cret" not in json.dumps(f) for f in findings)  # passwords stay out of reports


def test_undeclared_container_port_is_a_warning(tmp_path: Path, state_dir: Path) -> None:
    backend = "REDIS_HOST=redis\nREDIS_PORT=6380\n"
    code, findings, _ = doctor(stack(tmp_path / "s", backend))
    (finding,) = only(findings, "env-port-not-container-port")
    assert finding["severity"] == "warning" and finding["fix"] == "REDIS_PORT=6379"
    assert code == 0


def test_host_variables_passed_into_a_service(tmp_path: Path, state_dir: Path) -> None:
    compose = COMPOSE.replace("    env_file: [backend.env]\n", "    env_file: [.env]\n").replace(
        "      SMTP_HOST: mail.example.com\n", "      COMPOSE_PROFILES: dev\n"
    )
    dotenv = "POSTGRES_SERVER=db\nDB_HOST_PORT=5433\n"
    _, findings, _ = doctor(stack(tmp_path / "s", compose=compose, _env=dotenv))
    leaks = only(findings, "env-host-variable-in-service")
    where = {(f["path"], f["line"]): f for f in leaks}
    assert set(where) == {(".env", 2), ("compose.yaml", 16)}
    assert "compose.yaml:8 uses it for a published port" in where[(".env", 2)]["message"]
    assert "stop passing .env as env_file" in where[(".env", 2)]["fix"]
    assert "Compose itself reads it" in where[("compose.yaml", 16)]["message"]


def test_malformed_env_file_names_file_and_line(tmp_path: Path, state_dir: Path) -> None:
    # Compose itself refuses this one: the compose-file check names our exact line.
    code, findings, status = doctor(stack(tmp_path / "s", "OK=1\nBAD KEY=1\n"))
    (finding,) = only(findings, "compose-file-invalid")
    assert "backend.env:2: variable name 'BAD KEY' contains a space" in finding["message"]
    assert (code, status["environment"]) == (1, "skip")
    # Compose reads this one as a variable with an empty name; the environment check says no.
    code, findings, status = doctor(stack(tmp_path / "t", "OK=1\n=oops\n"))
    (finding,) = only(findings, "env-file-malformed")
    assert (finding["path"], finding["line"]) == ("backend.env", 2)
    assert code == 1 and status["engine"] == "pass"  # the other checks still ran


def test_the_reference_stacks_own_files_pass(state_dir: Path) -> None:
    _, findings, status = doctor(REPO_ROOT)
    assert status["environment"] == "pass", findings
    assert not [f for f in findings if f["id"].startswith("env-")]


def test_template_uses_service_names_and_container_ports(tmp_path: Path, state_dir: Path) -> None:
    backend = (
        "POSTGRES_SERVER=localhost\nPOSTGRES_PORT=5433\nPOSTGRES_PASSWORD=hunter2\n"
        "DATABASE_URL=postgresql://app:hunter2@localhost:5433/app\nDB_HOST_PORT=5433\n"
    )
    folder = stack(tmp_path / "s", backend)
    proc = omc("env", "template", cwd=folder)
    assert proc.returncode == 0, proc.stderr
    text = (folder / ".env.example").read_text()
    values = dict(
        line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#")
    )
    assert values["POSTGRES_SERVER"] == "db"
    assert values["POSTGRES_PORT"] == "5432"
    assert values["DATABASE_URL"] == "postgresql://app:change-me@db:5432/app"
    assert values["POSTGRES_PASSWORD"] == "app"  # written in compose.yaml: already shared
    assert "hunter2" not in text
    assert values["SMTP_HOST"] == "mail.example.com"  # a connection setting, outside the stack
    assert "OMC_IN_CONTAINER" not in values  # a constant compose sets: no example needed
    # DB_HOST_PORT is compose's own (a published port): listed for compose, not for containers.
    containers, _, compose_part = text.partition("# Read by compose itself")
    assert "DB_HOST_PORT" not in containers and "DB_HOST_PORT=5433" in compose_part
    # What it writes passes the checks it is built from.
    _, findings, _ = doctor(folder)
    assert [f for f in findings if f["path"] == ".env.example"] == []
    again = omc("env", "template", cwd=folder)
    assert "up to date" in again.stdout


def test_template_will_not_overwrite_without_yes(tmp_path: Path, state_dir: Path) -> None:
    folder = stack(tmp_path / "s", _env_example="MINE=1\n")
    proc = omc("env", "template", cwd=folder)
    assert proc.returncode == 2 and "--yes" in proc.stderr
    assert "+POSTGRES_SERVER=db" in proc.stdout  # the diff is the plan
    assert (folder / ".env.example").read_text() == "MINE=1\n"
    assert omc("env", "template", "--yes", cwd=folder).returncode == 0
    assert "MINE=1" in (folder / ".env.example").read_text()  # its own names are kept


@pytest.mark.parametrize("name", [".env", "backend.env"])
def test_template_refuses_malformed_env_files(tmp_path: Path, state_dir: Path, name: str) -> None:
    folder = stack(tmp_path / "s")
    (folder / name).write_text('A=1\nB="open\n')
    proc = omc("env", "template", "--output", "-", cwd=folder)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert f"{folder / name}:2: unterminated quoted value" in proc.stderr


def test_template_declined_at_a_terminal_exits_like_refused(
    tmp_path: Path, state_dir: Path
) -> None:
    """A "no" typed at the terminal and no terminal without --yes are one outcome: exit 2."""
    import os
    import pty
    import select
    import subprocess
    import time

    from tests.fixtures.cli import cli_env, omc_argv

    folder = stack(tmp_path / "s", _env_example="MINE=1\n")
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        omc_argv("env", "template"),
        cwd=folder,
        env=cli_env(None),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    out, answered, deadline = b"", False, time.monotonic() + 60
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if select.select([master], [], [], 0.2)[0]:
                try:
                    out += os.read(master, 4096)
                except OSError:  # EIO: the process closed the terminal
                    break
                if b"[y/N]" in out and not answered:
                    os.write(master, b"n\n")
                    answered = True
        code = proc.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert b"[y/N]" in out, out
    assert code == 2, out
    assert b"not written" in out and b"Traceback" not in out
    assert (folder / ".env.example").read_text() == "MINE=1\n"
