"""Stack commands on compose files that broke them, through the real CLI and real Compose.

Before: a YAML alias bomb hung every stack command (and `docker compose` kept running after
omc-dev was killed), a non-UTF-8 file was "internal error", and `up`/`down` passed Compose's
own multi-line errors through. Each run here is bounded: a command that hangs is killed with
everything it started, and the test fails.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.cli import cli_env, omc_argv
from tests.fixtures.docker import ComposeStack, stack_name

MARKER = "OMC_TEST_MARKER"  # in the environment of everything a test starts, compose included


def marked(marker: str) -> list[int]:
    needle = f"{MARKER}={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if needle in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
    return found


def gone(marker: str, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while marked(marker):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def kill_marked(marker: str) -> None:
    for pid in marked(marker):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


class Project:
    """A compose project in its own folder, with its own track, registry and marker."""

    def __init__(self, root: Path, state: Path) -> None:
        self.root = root
        self.name = f"omcin{uuid.uuid4().hex[:8]}"
        self.marker = self.name
        (root / "pyproject.toml").write_text(f'[tool.omc-dev]\nproject = "{self.name}"\n')
        self.env = {
            "OMC_TRACK": "t",
            "OMC_STATE_DIR": str(state),
            "OMC_IN_CONTAINER": "0",
            MARKER: self.marker,
        }
        # The name omc-dev gives track "t" of this checkout (it carries the checkout's hash).
        self.stack = ComposeStack(root, stack_name("t", root), ("compose.yaml",))

    def write(self, text: str | bytes) -> None:
        path = self.root / "compose.yaml"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            omc_argv(*args),
            cwd=self.root,
            env=cli_env({**self.env, **(env or {})}),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def omc(
        self, *args: str, timeout: float = 60, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """omc-dev ARGS; killed with all it started (and the test failed) after `timeout`."""
        proc = self.start(*args, env=env)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            kill_marked(self.marker)
            proc.communicate()
            pytest.fail(f"omc-dev {' '.join(args)} did not return within {timeout} s")
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    root = tmp_path / "shop"
    root.mkdir()
    made = Project(root, tmp_path / "state")
    try:
        yield made
    finally:
        kill_marked(made.marker)
        # By project name, without the files: compose would hang on the broken ones too.
        (root / "compose.yaml").unlink(missing_ok=True)
        made.stack.down()


def assert_one_line(proc: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    for word in words:
        assert word in proc.stderr, proc.stderr


SERVICE = "services:\n  web:\n    image: debian:bookworm-slim\n"


def alias_bomb() -> str:
    lines = ["x-a0: &a0 [" + ", ".join(['"lol"'] * 9) + "]"]
    lines += [f"x-a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    return "\n".join(lines) + "\n" + SERVICE + "    x-b: *a8\n"


BROKEN: dict[str, tuple[str | bytes, str]] = {
    "alias-bomb": (alias_bomb(), "alias bomb"),
    "self-alias": (SERVICE + "    x-loop: &loop [1, *loop]\n", "contains an alias of itself"),
    "deep": (SERVICE + "    x-deep: " + "[" * 3000 + "]" * 3000 + "\n", "levels deep"),
    "not-utf8": (SERVICE.encode() + b'    environment:\n      X: "\xff\xfe"\n', "not UTF-8"),
}


@pytest.mark.parametrize("command", [["ports"], ["up"], ["down"]])
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_compose_files_are_one_line_at_once(
    project: Project, case: str, command: list[str]
) -> None:
    text, words = BROKEN[case]
    project.write(text)
    started = time.monotonic()
    proc = project.omc(*command)
    assert_one_line(proc, 2, "compose.yaml", words)
    assert time.monotonic() - started < 30
    assert gone(project.marker), "a compose process outlived omc-dev"


def test_up_names_an_unknown_service_in_one_line(project: Project) -> None:
    project.write(SERVICE + "    command: [sleep, infinity]\n")
    proc = project.omc("up", "nosuch")
    assert_one_line(proc, 2, "no service 'nosuch'", "services: web")


def test_up_starts_a_service_of_an_inactive_profile_by_name(project: Project) -> None:
    project.write(
        SERVICE
        + "    command: [sleep, infinity]\n"
        + "  tools:\n    image: debian:bookworm-slim\n    command: [sleep, infinity]\n"
        + "    profiles: [dev]\n"
        + "    stop_grace_period: 1s\n"
    )
    proc = project.omc("up", "tools", timeout=300)
    assert proc.returncode == 0, proc.stderr
    running = project.stack.compose("ps", "--services", "--status", "running").stdout.split()
    assert running == ["tools"]


def test_down_refuses_a_compose_file_compose_cannot_resolve(project: Project) -> None:
    project.write(SERVICE + "    depends_on: [nowhere]\n")
    proc = project.omc("down")
    assert_one_line(proc, 2, "compose.yaml", "nowhere")


def slow_compose_file(items: int = 30_000) -> str:
    """A plain (alias-free, shallow) file compose takes many seconds to read."""
    return SERVICE + "    x-data:\n" + "      - lol\n" * items


def test_compose_past_its_deadline_is_stopped_with_its_plugin(project: Project) -> None:
    project.write(slow_compose_file())
    proc = project.omc("ports", env={"OMC_COMPOSE_TIMEOUT": "1"})
    assert_one_line(proc, 125, "did not finish within 1 s", "OMC_COMPOSE_TIMEOUT")
    assert gone(project.marker), "the compose plugin outlived its deadline"


def reading_config(marker: str) -> bool:
    """Whether the compose plugin itself (not the docker CLI's brief metadata call) is running."""
    for pid in marked(marker):
        with contextlib.suppress(OSError):
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if argv[0].endswith(b"docker-compose") and b"config" in argv:
                return True
    return False


def test_sigterm_to_omc_dev_ends_the_compose_it_waits_for(project: Project) -> None:
    project.write(slow_compose_file())
    proc = project.start("ports")
    try:
        deadline = time.monotonic() + 60
        # Wait for the compose plugin (omc-dev's grandchild) to be at work on `config`.
        while not reading_config(project.marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert reading_config(project.marker), "compose never started"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        assert err == "omc-dev: interrupted (SIGTERM)\n"
        assert gone(project.marker, seconds=5), "compose kept running after omc-dev ended"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
