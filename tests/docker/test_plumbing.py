"""End-to-end proof that the Docker tier's plumbing works: build, up, exec, down."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from tests.fixtures.docker import ComposeStack

COMPOSE = """\
services:
  probe:
    build:
      context: .
      network: host
    command: ["sleep", "infinity"]
    init: true
"""
DOCKERFILE = "FROM debian:bookworm-slim\nRUN echo built-from-bookworm > /etc/omc-probe\n"


def test_compose_up_exec_down(tmp_path: Path, compose_stack: Callable[..., ComposeStack]) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    stack = compose_stack(tmp_path)
    stack.compose("up", "--detach", "--build", "--wait")

    ok = stack.compose("exec", "-T", "probe", "cat", "/etc/omc-probe")
    assert ok.stdout.strip() == "built-from-bookworm"
    failing = stack.compose("exec", "-T", "probe", "sh", "-c", "echo out; exit 7", check=False)
    assert (failing.returncode, failing.stdout.strip()) == (7, "out")

    stack.down()
    left = subprocess.run(
        [
            "docker",
            "ps",
            "--all",
            "--quiet",
            "--filter",
            f"label=com.docker.compose.project={stack.project}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert left.stdout.strip() == ""
