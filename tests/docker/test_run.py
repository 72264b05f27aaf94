"""`omc-dev run`, `up`, `down` and `db reset` against the real reference stack (compose.yaml).

One stack for the whole module (a unique track, so its own compose project), brought up with
`omc-dev up` and always removed with `down --volumes`. Tests that change the stack's state
(recreate, stop, reset) come last, in file order.
"""

from __future__ import annotations

import hashlib
import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures import users
from tests.fixtures.cli import REPO_ROOT, cli_env, omc, omc_argv
from tests.fixtures.docker import ComposeStack, stack_name

PRINT_ARGV = "import sys, json; print(json.dumps(sys.argv[1:]))"


@dataclass
class Stack:
    project: str
    env: dict[str, str]
    scratch: Path  # a host folder mounted at /scratch in backend (mode 0777)
    compose: ComposeStack

    def run(self, *args: str, cwd: Path = REPO_ROOT, **kwargs) -> subprocess.CompletedProcess[str]:
        env = {**self.env, **kwargs.pop("env", {})}
        return omc("run", *args, cwd=cwd, env=env, **kwargs)

    def container_id(self, service: str = "backend") -> str:
        return self.compose.compose("ps", "--quiet", service).stdout.strip()


def shared_dir(prefix: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o777)
    return folder


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    track = f"t{uuid.uuid4().hex[:8]}"
    scratch, home = shared_dir("omc-run-scratch-"), shared_dir("omc-run-home-")
    override = home / "scratch.yaml"
    override.write_text(f"services:\n  backend:\n    volumes:\n      - {scratch}:/scratch\n")
    env = {
        "OMC_TRACK": track,
        "COMPOSE_FILE": f"compose.yaml:{override}",
        "OMC_IN_CONTAINER": "0",  # this is the host, whatever /.dockerenv says
        "XDG_CACHE_HOME": str(home / "cache"),
    }
    compose = ComposeStack(REPO_ROOT, stack_name(track), ("compose.yaml", str(override)))
    try:
        up = omc("up", env=env, timeout=900)
        assert up.returncode == 0, up.stderr[-3000:]
        yield Stack(compose.project, env, scratch, compose)
    finally:
        omc("down", "--volumes", "--yes", env=env, timeout=300)
        compose.down()  # a safety net: nothing of ours may outlive the module
        omc("ports", "release", track, "--yes", env=env)  # and its port override file
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


# -- the command's own result ---------------------------------------------------------------


def test_exit_codes_pass_through(stack: Stack) -> None:
    assert stack.run("--", "true").returncode == 0
    assert stack.run("--", "false").returncode == 1
    proc = stack.run("--", "sh", "-c", "echo out; echo err >&2; exit 7")
    assert (proc.returncode, proc.stdout, proc.stderr) == (7, "out\n", "err\n")


def test_argv_passes_through_exactly(stack: Stack) -> None:
    args = ["a b", "it's", '"quoted"', "$HOME", "*", "--cov=devtools", "-k", "x and not y", "é"]
    proc = stack.run("--", "python3", "-c", PRINT_ARGV, *args)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == args
    proc = stack.run(
        "-e", "GREETING=a b $c", "-e", "HOME", "--", "sh", "-c", 'echo "$GREETING|$HOME"'
    )
    assert proc.stdout == f"a b $c|{os.environ['HOME']}\n", proc.stderr


def test_stdin_is_piped(stack: Stack) -> None:
    data = "".join(f"line {i} {'x' * 60}\n" for i in range(40_000))  # ~2.7 MB
    proc = stack.run("--", "sha256sum", input=data)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split()[0] == hashlib.sha256(data.encode()).hexdigest()


def test_a_command_that_does_not_exist(stack: Stack) -> None:
    proc = stack.run("--", "no-such-command", "x")
    assert proc.returncode == 127
    assert proc.stderr.count("\n") == 1 and "cannot run no-such-command in backend" in proc.stderr


# -- where it runs --------------------------------------------------------------------------


def test_cwd_and_paths_are_translated_from_a_subfolder(stack: Stack) -> None:
    unit = REPO_ROOT / "tests" / "unit"
    assert stack.run("--", "pwd", cwd=unit).stdout == "/app/tests/unit\n"
    assert stack.run("--", "pwd").stdout == "/app\n"  # the root is not mounted: the service's own
    args = [
        str(REPO_ROOT / "kernel" / "__init__.py"),
        "../conftest.py",
        "compose/test_compose_paths.py",
    ]
    proc = stack.run("--", "python3", "-c", PRINT_ARGV, *args, cwd=unit)
    assert json.loads(proc.stdout) == ["/app/kernel/__init__.py", *args[1:]], proc.stderr
    every_file_there = 'for f; do test -f "$f" || exit 9; done'
    assert stack.run("--", "sh", "-c", every_file_there, "sh", *args, cwd=unit).returncode == 0
    proc = stack.run("-w", str(REPO_ROOT / "kernel"), "--", "pwd")
    assert proc.stdout == "/app/kernel\n"
    # A real test run inside the container, named relative to a host subfolder.
    proc = stack.run(
        "--",
        "python3",
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "compose/test_compose_paths.py",
        cwd=unit,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout


def test_user_host_leaves_files_owned_by_the_developer(
    stack: Stack, test_user: users.TestUser
) -> None:
    # omc-dev itself runs as the non-root developer (in the docker group), from the scratch
    # folder (mounted at /scratch), for the project at REPO_ROOT.
    as_dev = {"OMC_PROJECT_DIR": str(REPO_ROOT)}
    proc = stack.run(
        "--user", "host", "--", "touch", "mine", cwd=stack.scratch, user=test_user, env=as_dev
    )
    assert proc.returncode == 0, proc.stderr
    assert (stack.scratch / "mine").stat().st_uid == test_user.uid
    assert (stack.scratch / "mine").stat().st_gid == test_user.gid
    # Without it the container's default user (root) owns what it writes.
    proc = stack.run("--", "touch", "roots", cwd=stack.scratch, user=test_user, env=as_dev)
    assert proc.returncode == 0, proc.stderr
    assert (stack.scratch / "roots").stat().st_uid == 0


def test_inside_the_container_it_runs_directly(stack: Stack) -> None:
    script = 'test -S /var/run/docker.sock && echo engine; echo "id=$OMC_RUN_ID"; echo "$1"; exit 7'
    proc = stack.compose.compose(
        "exec",
        "-T",
        "backend",
        "omc-dev",
        "run",
        "--",
        "sh",
        "-c",
        script,
        "sh",
        "a  b",
        check=False,
    )
    assert proc.returncode == 7, proc.stderr
    lines = proc.stdout.splitlines()
    # No engine in there: the command can only have run in place, with its argv intact.
    assert lines[0].startswith("id=") and len(lines[0]) > 3 and lines[1:] == ["a  b"]


def test_tty_only_when_stdin_and_stdout_are_terminals(stack: Stack) -> None:
    probe = "test -t 0 && echo in-tty; test -t 1 && echo out-tty"
    assert stack.run("--", "sh", "-c", f"{probe}; exit 0").stdout == ""
    with Pty(stack, "sh", "-c", f"{probe}; echo READY; sleep 300") as term:
        output = term.read_until(b"READY")
        assert b"in-tty" in output and b"out-tty" in output
        term.write(b"\x03")  # Ctrl-C, as typed: travels through the container's terminal
        # Generous: under a loaded CI machine the signal's trip through the engine takes seconds.
        assert term.wait(timeout=120) == 130


def test_ctrl_c_stops_the_command_inside_the_container(stack: Stack) -> None:
    marker = f"sleeper-{uuid.uuid4().hex[:8]}"
    code = f"import sys, time; print('ready', flush=True); time.sleep(120)  # {marker}"
    proc = subprocess.Popen(
        omc_argv("run", "--", "python3", "-c", code),
        cwd=REPO_ROOT,
        env=cli_env(stack.env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"ready\n"
        proc.send_signal(signal.SIGINT)  # what the terminal sends on Ctrl-C
        assert proc.wait(timeout=20) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # The marker is passed in two pieces, so that the search does not find itself.
    find = (
        "import os, sys; marker = (sys.argv[1] + sys.argv[2]).encode()\n"
        "for pid in filter(str.isdigit, os.listdir('/proc')):\n"
        "    try:\n"
        "        if marker in open(f'/proc/{pid}/cmdline', 'rb').read(): print(pid)\n"
        "    except OSError: pass\n"
    )
    left = stack.compose.compose("exec", "-T", "backend", "python3", "-c", find, *marker.split("-"))
    assert left.stdout.strip() == "", f"still running in the container: {left.stdout}"


def test_a_closed_stdout_ends_the_command_as_in_a_pipeline(stack: Stack) -> None:
    # `omc-dev run -- yes | head -1`: the reader goes away, `yes` gets SIGPIPE in the container.
    proc = subprocess.Popen(
        omc_argv("run", "--", "yes", "pipe-test"),
        cwd=REPO_ROOT,
        env=cli_env(stack.env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"pipe-test\n"
        proc.stdout.close()
        assert proc.wait(timeout=30) == 128 + signal.SIGPIPE
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_scripts_relaunch_themselves_in_the_container(stack: Stack) -> None:
    venv_bin = str(Path(sys.executable).parent)
    env = cli_env({**stack.env, "PATH": f"{venv_bin}:{os.environ['PATH']}"})
    # The shell form: started on the host, it migrates the stack's PostgreSQL, not a local file.
    proc = subprocess.run(
        [str(REPO_ROOT / "scripts" / "migrate")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "postgresql+psycopg://omc:***@db:5432/omc is at revision" in proc.stdout
    # The Python form (reexec_if_host), from a subfolder, by a relative path.
    proc = subprocess.run(
        [sys.executable, "../scripts/stack-health"],
        cwd=REPO_ROOT / "tests",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"status": "ok", "database": "ok"}


# -- the environment is missing -------------------------------------------------------------


def test_service_not_running_is_125_with_the_fix(stack: Stack) -> None:
    proc = stack.run("--", "true", env={"OMC_TRACK": f"idle{uuid.uuid4().hex[:6]}"})
    assert proc.returncode == 125
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "service backend is not running" in proc.stderr
    assert "omc-dev up" in proc.stderr and "--start" in proc.stderr


def test_no_engine_is_125(stack: Stack) -> None:
    proc = stack.run("--", "true", env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert proc.returncode == 125
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "cannot reach the Docker engine at unix:///nonexistent/docker.sock" in proc.stderr


def test_no_compose_file_is_125(tmp_path: Path) -> None:
    proc = omc("run", "--", "true", cwd=tmp_path, env={"OMC_IN_CONTAINER": "0"})
    assert proc.returncode == 125
    assert proc.stderr.count("\n") == 1 and "no compose file" in proc.stderr


# -- the fast path and its cache ------------------------------------------------------------


def test_the_fast_path_needs_no_compose(stack: Stack) -> None:
    assert stack.run("--", "true").returncode == 0  # resolves and records
    no_docker_cli = {"PATH": str(Path(sys.executable).parent)}
    fast = stack.run("--", "sh", "-c", "exit 3", env=no_docker_cli)
    assert fast.returncode == 3, fast.stderr
    full = stack.run("--", "true", env={**no_docker_cli, "OMC_RUN_CACHE": "0"})
    assert full.returncode == 125 and "docker CLI is not on PATH" in full.stderr


def test_a_recreated_container_is_found_again(stack: Stack) -> None:
    assert stack.run("--", "true").returncode == 0
    before = stack.container_id()
    stack.compose.compose("up", "--detach", "--wait", "--no-deps", "--force-recreate", "backend")
    assert stack.container_id() != before
    proc = stack.run("--", "sh", "-c", "exit 5")
    assert proc.returncode == 5, proc.stderr
    cache = json.loads(
        (Path(stack.env["XDG_CACHE_HOME"]) / "omc-dev" / "run-cache.json").read_text()
    )
    recorded = [e["services"]["backend"]["container"] for e in cache["entries"].values()]
    assert stack.container_id() in recorded


def test_a_stopped_service_is_125_then_start_brings_it_back(stack: Stack) -> None:
    stack.compose.compose("stop", "--timeout", "2", "backend")
    proc = stack.run("--", "true")
    assert proc.returncode == 125 and "not running" in proc.stderr
    proc = stack.run("--start", "--", "sh", "-c", "exit 4")
    assert proc.returncode == 4, proc.stderr
    assert stack.run("--", "true").returncode == 0


# -- the stack ------------------------------------------------------------------------------


SQL = (
    "import os, sys, psycopg\n"
    "conn = psycopg.connect(host='db', port=5432, user='omc', password='omc', dbname='omc', autocommit=True)\n"
    "for statement in sys.argv[1:]:\n"
    "    rows = conn.execute(statement).fetchall() if statement.startswith('select') else conn.execute(statement)\n"
    "    if statement.startswith('select'): print(rows[0][0])\n"
)


def test_db_reset_needs_confirmation_then_gives_a_clean_migrated_database(stack: Stack) -> None:
    assert stack.run("--", "python3", "-c", SQL, "create table leftover (x int)").returncode == 0
    refused = omc("db", "reset", env=stack.env)
    assert refused.returncode == 2, refused.stderr
    assert "pass --yes" in refused.stderr and f"{stack.project}_dbdata" in refused.stdout
    exists = "select to_regclass('leftover') is not null"
    assert stack.run("--", "python3", "-c", SQL, exists).stdout == "True\n"

    reset = omc("db", "reset", "--yes", env=stack.env, timeout=600)
    assert reset.returncode == 0, reset.stderr[-3000:]
    assert stack.run("--", "python3", "-c", SQL, exists).stdout == "False\n"
    migrated = "select count(*) from alembic_version"
    assert stack.run("--", "python3", "-c", SQL, migrated).stdout == "1\n"
    # The backend, untouched by the reset, is healthy again on the fresh database.
    health = stack.run("--", "python3", str(REPO_ROOT / "scripts" / "stack-health"))
    assert health.returncode == 0, health.stdout + health.stderr


def test_down_volumes_needs_confirmation(stack: Stack) -> None:
    refused = omc("down", "--volumes", env=stack.env)
    assert refused.returncode == 2 and "pass --yes" in refused.stderr
    assert stack.run("--", "true").returncode == 0  # still up


class Pty:
    """`omc-dev run ARGS` with a pseudo-terminal as stdin, stdout and stderr."""

    def __init__(self, stack: Stack, *cmd: str) -> None:
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(
            omc_argv("run", "--", *cmd),
            cwd=REPO_ROOT,
            env=cli_env(stack.env),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
        os.close(slave)

    def __enter__(self) -> Pty:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)

    def read_until(self, token: bytes, timeout: float = 30) -> bytes:
        out, deadline = b"", time.monotonic() + timeout
        while token not in out and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.5)
            if ready:
                try:
                    out += os.read(self.master, 4096)
                except OSError:  # EIO: every process holding the terminal has closed it
                    break
        assert token in out, (out, self.proc.poll())
        return out

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def wait(self, timeout: float = 30) -> int:
        """The exit code, reading the terminal meanwhile (as a terminal emulator does)."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.1)
            if ready:
                try:
                    os.read(self.master, 4096)
                except OSError:
                    break  # every writer has closed the terminal
        return self.proc.wait(timeout=max(deadline - time.monotonic(), 1))
