"""The full-stack fixture project (shaped like the FastAPI template), untouched, through the CLI:
every file Compose reads, every folder a developer works in, one stack per checkout."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devtools import config
from devtools.tracks.identity import legacy_project_name, project_name, resolve_track
from tests.fixtures.cli import omc
from tests.fixtures.docker import ComposeStack
from tests.fixtures.fullstack import PROFILE_ONLY, PUBLISHED, make_fullstack
from tests.fixtures.git import GitRepo, clone

FILES = ("compose.yml", "compose.override.yml")


@pytest.fixture
def host_env(tmp_path: Path, state_dir: Path) -> dict[str, str]:
    """The host (whatever /.dockerenv says), with this test's own run cache and port registry."""
    return {
        "OMC_IN_CONTAINER": "0",
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "OMC_STATE_DIR": str(state_dir),
    }


@pytest.fixture
def stacks() -> Iterator[Callable[[GitRepo], ComposeStack]]:
    """The stack omc-dev will give each checkout (on main), always taken down, even on failure."""
    made: list[ComposeStack] = []

    def make(repo: GitRepo) -> ComposeStack:
        cfg = config.load(repo.path)
        stack = ComposeStack(repo.path, project_name(cfg, resolve_track(cfg)), FILES)
        made.append(stack)
        return stack

    try:
        yield make
    finally:
        for stack in made:
            omc("down", "--volumes", "--yes", cwd=stack.directory, timeout=300)
            stack.down()  # a safety net: nothing of ours may outlive the test


def inspect(container: str) -> dict[str, object]:
    out = subprocess.run(
        ["docker", "inspect", container], capture_output=True, text=True, check=True
    ).stdout
    doc = json.loads(out)[0]
    assert isinstance(doc, dict)
    return doc


def containers(project: str, service: str) -> list[str]:
    out = subprocess.run(
        [
            "docker",
            "ps",
            "--all",
            "--quiet",
            "--no-trunc",
            "--filter",
            f"label=com.docker.compose.project={project}",
            "--filter",
            f"label=com.docker.compose.service={service}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.split()


def test_ports_sees_every_published_port_from_any_folder(
    fullstack: GitRepo, host_env: dict[str, str]
) -> None:
    expected = {(s, t) for s, targets in PUBLISHED.items() for t in targets}
    for cwd in (fullstack.path, fullstack.path / "backend", fullstack.path / "frontend" / "src"):
        proc = omc("ports", "--format", "json", cwd=cwd, env=host_env)
        assert proc.returncode == 0, proc.stderr
        doc = json.loads(proc.stdout)
        # Published only in compose.override.yml; the profile-only service's too.
        assert {(p["service"], p["target"]) for p in doc["ports"]} == expected, cwd
        assert any(p["service"] == PROFILE_ONLY for p in doc["ports"])
        assert len({p["published"] for p in doc["ports"]}) == len(expected)
    # The override omc-dev wrote lives in .omc/, which is never "uncommitted work".
    assert (fullstack.path / ".omc" / ".gitignore").is_file()
    assert fullstack.git("status", "--porcelain", "--untracked-files=all") == ""


def test_doctor_reads_the_override_like_compose(
    fullstack: GitRepo, host_env: dict[str, str]
) -> None:
    proc = omc("doctor", "--format", "json", cwd=fullstack.path / "backend", env=host_env)
    checks = {c["id"]: c for c in json.loads(proc.stdout)["checks"]}
    detail = checks["compose-file"]["detail"]
    # Every service Compose starts by default: the override's mailcatcher too, not the
    # profile-only one (Compose applies COMPOSE_PROFILES itself).
    assert detail.startswith("compose.yml, compose.override.yml: project full-stack-project-main-")
    assert detail.endswith(", 6 services"), detail
    # COMPOSE_PROFILES as Compose applies it (here from the environment; .env works alike).
    env = {**host_env, "COMPOSE_PROFILES": "test"}
    proc = omc("doctor", "--format", "json", cwd=fullstack.path, env=env)
    checks = {c["id"]: c for c in json.loads(proc.stdout)["checks"]}
    assert checks["compose-file"]["detail"].endswith(", 7 services")


def test_run_works_from_the_backend_folder(
    fullstack: GitRepo,
    host_env: dict[str, str],
    stacks: Callable[[GitRepo], ComposeStack],
) -> None:
    stacks(fullstack)
    up = omc("up", "backend", cwd=fullstack.path / "backend", env=host_env, timeout=900)
    assert up.returncode == 0, up.stderr[-3000:]
    backend = fullstack.path / "backend"
    pwd = omc("run", "-s", "backend", "--", "pwd", cwd=backend, env=host_env)
    assert (pwd.returncode, pwd.stdout.strip()) == (0, "/app/backend"), pwd.stderr
    # A pytest node id is translated like a path; one that already means the same file stays.
    node = f"{backend}/tests/test_smoke.py::test_word[a]"
    echo = omc("run", "-s", "backend", "--", "echo", node, "tests/test_smoke.py::x", cwd=backend, env=host_env)  # fmt: skip
    assert echo.returncode == 0, echo.stderr
    assert echo.stdout.split() == ["/app/backend/tests/test_smoke.py::test_word[a]", "tests/test_smoke.py::x"]  # fmt: skip


def test_two_clones_on_one_branch_never_share_a_stack(
    fullstack: GitRepo,
    tmp_path: Path,
    host_env: dict[str, str],
    stacks: Callable[[GitRepo], ComposeStack],
) -> None:
    (tmp_path / "second").mkdir()
    other = clone(fullstack.origin, tmp_path / "second" / fullstack.path.name)
    first_stack, second_stack = stacks(fullstack), stacks(other)
    assert first_stack.project != second_stack.project

    up = omc("up", "adminer", cwd=fullstack.path, env=host_env, timeout=600)
    assert up.returncode == 0, up.stderr[-3000:]
    [first] = containers(first_stack.project, "adminer")
    before = inspect(first)

    up = omc("up", "adminer", cwd=other.path / "backend", env=host_env, timeout=600)
    assert up.returncode == 0, up.stderr[-3000:]
    [second] = containers(second_stack.project, "adminer")
    assert second != first
    after = inspect(first)  # the first clone's container: not recreated, not restarted
    assert after["State"] == before["State"] and after["State"]["Running"]  # type: ignore[index]
    assert containers(first_stack.project, "adminer") == [first]
    # `run` in each clone reaches its own container.
    for repo, expected in ((fullstack, first), (other, second)):
        proc = omc("run", "-s", "adminer", "--", "cat", "/etc/hostname", cwd=repo.path, env=host_env)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert expected.startswith(proc.stdout.strip())


def test_a_stack_started_under_the_old_name_keeps_it(
    fullstack: GitRepo, host_env: dict[str, str], stacks: Callable[[GitRepo], ComposeStack]
) -> None:
    cfg = config.load(fullstack.path)
    old = legacy_project_name(cfg, resolve_track(cfg))
    assert old == "full-stack-project-main"
    # As an earlier omc-dev left it: this checkout's stack under `<repo>-<track>` (no ports
    # here, so nothing on the machine's fixed host ports).
    local_network = fullstack.path.parent / "local-network.yml"
    local_network.write_text("networks:\n  traefik-public:\n    external: false\n")
    legacy = ComposeStack(fullstack.path, old, ("compose.yml", str(local_network)))
    try:
        legacy.compose("up", "--detach", "--wait", "adminer")
        assert len(containers(old, "adminer")) == 1
        up = omc("up", "adminer", cwd=fullstack.path, env=host_env, timeout=600)
        assert up.returncode == 0, up.stderr[-3000:]
        assert f"compose project {old}" in up.stdout
        assert len(containers(old, "adminer")) == 1
        down = omc("down", cwd=fullstack.path, env=host_env, timeout=300)
        assert down.returncode == 0, down.stderr
        assert containers(old, "adminer") == []
        # Pinned: after `down` the old name (and its volumes, the data) stays this checkout's.
        again = omc("ports", "--format", "json", cwd=fullstack.path, env=host_env)
        assert json.loads(again.stdout)["project"] == old
        # `down --volumes` leaves nothing to keep: the checkout moves to the new name.
        gone = omc("down", "--volumes", "--yes", cwd=fullstack.path, env=host_env, timeout=300)
        assert gone.returncode == 0, gone.stderr
        moved = omc("ports", "--format", "json", cwd=fullstack.path, env=host_env)
        assert json.loads(moved.stdout)["project"].startswith(f"{old}-")
    finally:
        omc("down", "--volumes", "--yes", cwd=fullstack.path, env=host_env, timeout=300)
        legacy.down()


def test_up_without_an_engine_is_environment_missing(
    tmp_path: Path, host_env: dict[str, str]
) -> None:
    repo = make_fullstack(tmp_path / "p")
    env = {**host_env, "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"}
    proc = omc("up", "adminer", cwd=repo.path, env=env, timeout=300)
    assert proc.returncode == 125, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("omc-dev: cannot reach the Docker engine"), proc.stderr
    assert "start Docker" in last and "scripts/" not in proc.stderr
