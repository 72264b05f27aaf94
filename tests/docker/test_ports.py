"""`omc-dev ports` end to end: real compose config, real engine, real processes on the host."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devtools import config
from devtools.tracks.allocate import port_range, preferred_port, requests_for
from devtools.tracks.identity import Track
from devtools.tracks.ports import track_ref
from tests.fixtures.cli import omc
from tests.fixtures.docker import ComposeStack
from tests.fixtures.git import GitRepo
from tests.fixtures.postgres import free_port
from tests.fixtures.tracks import listen_in_other_process, published, stop

LOGIN_KEY = Track("feature-login", "branch", "feature/Login").key  # the branch's track

COMPOSE = """\
services:
  db:
    image: debian:bookworm-slim
    command: ["sleep", "infinity"]
    init: true
    ports:
      - "5432"
      - "127.0.0.1::6379"
  worker:
    image: debian:bookworm-slim
"""


@pytest.fixture
def repo(git_repo: GitRepo, state_dir: Path) -> GitRepo:
    git_repo.commit({"compose.yaml": COMPOSE, ".gitignore": ".omc/\n"}, "stack")
    git_repo.branch("feature/Login")
    return git_repo


@pytest.fixture
def container() -> Iterator[Callable[[int], str]]:
    """Start a plain container publishing a host port; removed afterwards."""
    names: list[str] = []

    def start(port: int) -> str:
        name = f"omct-{uuid.uuid4().hex[:10]}"
        subprocess.run(
            ["docker", "run", "--detach", "--rm", "--init", "--name", name,
             "--publish", f"{port}:80", "debian:bookworm-slim", "sleep", "infinity"],
            check=True, capture_output=True,
        )  # fmt: skip
        names.append(name)
        return name

    yield start
    for name in names:
        subprocess.run(["docker", "rm", "--force", name], capture_output=True, check=False)


def ports_json(cwd: Path, *args: str) -> dict[str, object]:
    proc = omc("ports", *args, "--format", "json", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    doc: dict[str, object] = json.loads(proc.stdout)
    return doc


def host_ports(doc: dict[str, object]) -> dict[str, int]:
    return {
        f"{p['service']}:{p['target']}": int(p["published"])
        for p in doc["ports"]  # type: ignore[attr-defined]
    }


def test_ports_for_the_branch_track_stable_and_in_every_format(repo: GitRepo) -> None:
    first = ports_json(repo.path)
    assert (first["track"], first["track_source"]) == ("feature-login", "branch")
    # Branch feature/Login: the name sanitized, plus a hash of the name as given (registry key)
    # and of the checkout and track (compose project).
    assert re.fullmatch(r"work-feature-login-[0-9a-f]{8}", str(first["project"]))
    got = host_ports(first)
    assert set(got) == {"db:5432", "db:6379"}  # worker publishes nothing
    assert host_ports(ports_json(repo.path)) == got  # stable

    override = Path(str(first["override"]))
    assert override == repo.path / ".omc" / "tracks" / f"{LOGIN_KEY}.ports.yaml"
    resolved = subprocess.run(
        ["docker", "compose", "-f", "compose.yaml", "-f", str(override), "config", "--format",
         "json"],
        cwd=repo.path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    db = json.loads(resolved.stdout)["services"]["db"]
    assert [(p["target"], p["published"], p.get("host_ip")) for p in db["ports"]] == [
        (5432, str(got["db:5432"]), None),
        (6379, str(got["db:6379"]), "127.0.0.1"),
    ]

    env = omc("ports", "--format", "env", cwd=repo.path)
    assert env.stdout.splitlines() == [
        f"COMPOSE_PROJECT_NAME={first['project']}",
        f"OMC_PORT_DB_5432={got['db:5432']}",
        f"OMC_PORT_DB_6379={got['db:6379']}",
    ]
    table = omc("ports", cwd=repo.path)
    assert table.returncode == 0
    assert "feature-login" in table.stdout and str(got["db:5432"]) in table.stdout


def test_tracks_by_argument_option_and_env_get_their_own_ports(repo: GitRepo) -> None:
    mine = host_ports(ports_json(repo.path))
    other = ports_json(repo.path, "other-track")
    assert other["track_source"] == "--track"
    assert str(other["project"]).startswith("work-other-track-")
    assert not set(host_ports(other).values()) & set(mine.values())
    assert host_ports(ports_json(repo.path, "--track", "other-track")) == host_ports(other)
    # A name that only normalises like another is another track: its own ports and stack.
    via_env = omc("ports", "--format", "json", cwd=repo.path, env={"OMC_TRACK": "Other Track"})
    spaced = json.loads(via_env.stdout)
    assert not set(host_ports(spaced).values()) & set(host_ports(other).values())
    assert spaced["project"] != other["project"]

    listed = json.loads(omc("ports", "list", "--format", "json").stdout)
    spaced_key = Track("other-track", "OMC_TRACK", "Other Track").key
    assert sorted(t["track"] for t in listed["tracks"]) == sorted(
        [LOGIN_KEY, "other-track", spaced_key]
    )


def test_release_needs_yes_and_unknown_track_is_one_line(repo: GitRepo) -> None:
    ports_json(repo.path, "gone-soon")
    override = repo.path / ".omc" / "tracks" / "gone-soon.ports.yaml"
    refused = omc("ports", "release", "gone-soon", cwd=repo.path)
    assert refused.returncode == 2
    assert "release the ports of track gone-soon" in refused.stdout  # the plan comes first
    assert "--yes" in refused.stderr and override.is_file()

    done = omc("ports", "release", "gone-soon", "--yes", cwd=repo.path)
    assert done.returncode == 0, done.stderr
    assert not override.exists()
    listed = json.loads(omc("ports", "list", "--format", "json").stdout)
    assert "gone-soon" not in [t["track"] for t in listed["tracks"]]

    unknown = omc("ports", "release", "nosuch", cwd=repo.path)
    assert unknown.returncode == 2
    assert unknown.stderr.count("\n") == 1
    assert "unknown track 'nosuch'" in unknown.stderr and "Traceback" not in unknown.stderr


def test_a_port_published_by_a_foreign_container_is_skipped(
    repo: GitRepo, container: Callable[[int], str]
) -> None:
    cfg = config.load(repo.path)
    track = Track("contested", "--track")
    wanted = preferred_port(
        track_ref(cfg, track), requests_for(published(("db", [5432])))[0], port_range(cfg)
    )
    name = container(wanted)
    doc = ports_json(repo.path, "contested")
    assert host_ports(doc)["db:5432"] != wanted
    # The engine answered first: the reason names the container, not just a failed bind.
    assert {"port": wanted, "why": f"published by container {name}"} in doc["skipped"]  # type: ignore[operator]


def test_who_names_track_container_and_process_with_their_fix(
    repo: GitRepo, container: Callable[[int], str]
) -> None:
    port = host_ports(ports_json(repo.path))["db:5432"]
    held = json.loads(omc("ports", "who", str(port), "--format", "json").stdout)
    (track,) = held["holders"]
    assert (track["kind"], track["name"]) == ("track", LOGIN_KEY)
    assert re.fullmatch(r"work-feature-login-[0-9a-f]{8}", track["project"])
    assert track["fix"].endswith(f"omc-dev ports release {LOGIN_KEY}")

    proc_port = free_port()
    listener = listen_in_other_process(proc_port)
    try:
        doc = json.loads(omc("ports", "who", str(proc_port), "--format", "json").stdout)
    finally:
        stop(listener)
    (process,) = [h for h in doc["holders"] if h["kind"] == "process"]
    assert process["pid"] == listener.pid and process["fix"] == f"kill {listener.pid}"

    free_doc = json.loads(omc("ports", "who", str(proc_port), "--format", "json").stdout)
    assert free_doc["free"] is True

    name = container(proc_port)
    doc = json.loads(omc("ports", "who", str(proc_port), "--format", "json").stdout)
    kinds = [h["kind"] for h in doc["holders"]]
    assert kinds == ["container"], doc  # its docker-proxy is not listed twice
    assert doc["holders"][0]["name"] == name
    assert doc["holders"][0]["fix"] == f"docker rm --force {name}"


def test_who_spots_a_zombie_compose_container(
    tmp_path: Path, compose_stack: Callable[..., ComposeStack]
) -> None:
    folder = tmp_path / "stack"
    folder.mkdir()
    (folder / "compose.yaml").write_text(COMPOSE)
    stack = compose_stack(folder, "compose.yaml")
    stack.compose("up", "--detach", "db")
    port = int(stack.compose("port", "db", "5432").stdout.strip().rpartition(":")[2])
    moved = tmp_path / "moved-away"
    shutil.move(folder, moved)  # its worktree is gone; the container still holds the port
    try:
        doc = json.loads(omc("ports", "who", str(port), "--format", "json").stdout)
    finally:
        shutil.move(moved, folder)  # so the fixture can take it down
    (holder,) = doc["holders"]
    assert (holder["kind"], holder["project"], holder["service"]) == (
        "container",
        stack.project,
        "db",
    )
    assert holder["zombie"] is True and "is gone" in holder["detail"]
    assert holder["fix"] == f"docker compose --project-name {stack.project} down"


def test_malformed_compose_file_is_one_line_with_its_line(tmp_path: Path, state_dir: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  db:\n    image: x\n   ports: [1]\n")
    proc = omc("ports", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert f"{tmp_path / 'compose.yaml'}:4: invalid YAML" in proc.stderr
