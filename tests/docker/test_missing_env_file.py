"""A fresh clone whose compose file reads `.env` (only `.env.example` is committed).

`docker compose config` only (no image, no container): every command says the one thing to do.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.fixtures.cli import omc

COMPOSE = """\
services:
  postgres_db:
    image: debian:bookworm-slim
    env_file: [.env]
    ports: ["${DB_PORT:-5432}:5432"]
"""


def _clone(tmp_path: Path) -> Path:
    root = tmp_path / "api"
    (root / "app").mkdir(parents=True)
    (root / "docker-compose.yml").write_text(COMPOSE)
    (root / ".env.example").write_text("DB_PORT=5432\nDB_PASSWORD=change-me\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def test_commands_name_the_missing_env_file_and_the_copy_that_creates_it(tmp_path: Path) -> None:
    root = _clone(tmp_path)
    env = {"OMC_IN_CONTAINER": "0", "OMC_STATE_DIR": str(tmp_path / "state")}
    proc = omc("ports", cwd=root / "app", env=env)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "env file ../.env does not exist" in proc.stderr
    assert "cp ../.env.example ../.env" in proc.stderr
    doctor = omc("doctor", "--format", "json", cwd=root, env=env)
    assert doctor.returncode == 1, doctor.stderr
    assert "cp .env.example .env" in doctor.stdout
    # after the copy the project resolves and its port is seen
    (root / ".env").write_text((root / ".env.example").read_text())
    proc = omc("ports", cwd=root / "app", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "5432" in proc.stdout
