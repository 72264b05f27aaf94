from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from devtools import config
from devtools.errors import EnvironmentMissing, UnusableInput
from devtools.tracks import registry
from devtools.tracks.allocate import PortRange, port_range, preferred_port, requests_for
from devtools.tracks.identity import Track
from devtools.tracks.override import render_override
from devtools.tracks.ports import ensure_ports, track_ref
from tests.fixtures.cli import REPO_ROOT
from tests.fixtures.tracks import free_span, listen_in_other_process, project_dir, published, stop

STACK = published(("db", [5432]), ("backend", [8000, 9000]))


@pytest.fixture(autouse=True)
def no_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The unit tier has no engine: point the SDK at a socket that is not there.
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    from devtools.docker.sdk import client

    client.cache_clear()


def ports_of(result: object) -> dict[str, int]:
    entry = result.allocation.entry  # type: ignore[attr-defined]
    return {p.key: p.published for p in entry.ports}


def test_every_published_port_gets_a_host_port_in_range(state_dir: Path, tmp_path: Path) -> None:
    cfg = config.load(project_dir(tmp_path))
    result = ensure_ports(cfg, Track("main", "--track"), STACK)
    got = ports_of(result)
    assert set(got) == {"backend:8000/tcp", "backend:9000/tcp", "db:5432/tcp"}
    assert all(20000 <= p <= 29999 for p in got.values())
    assert len(set(got.values())) == 3
    assert not result.allocation.engine_checked  # said so, not silently skipped


def test_stable_across_calls_and_deterministic_after_release(
    state_dir: Path, tmp_path: Path
) -> None:
    cfg = config.load(project_dir(tmp_path))
    track = Track("feature-x", "--track")
    first = ports_of(ensure_ports(cfg, track, STACK))
    assert ports_of(ensure_ports(cfg, track, STACK)) == first
    # Other tracks come and go; this one keeps its ports.
    ensure_ports(cfg, Track("other", "--track"), STACK)
    assert ports_of(ensure_ports(cfg, track, STACK)) == first
    # Released and asked again: the hash puts it on the same free ports.
    with registry.locked() as reg:
        reg.remove(track_ref(cfg, track).repo, "feature-x")
    assert ports_of(ensure_ports(cfg, track, STACK)) == first


def test_never_collides_with_another_tracks_ports(state_dir: Path, tmp_path: Path) -> None:
    low, high = free_span(12)
    os.environ["OMC_PORT_RANGE"] = f"{low}-{high}"
    try:
        cfg = config.load(project_dir(tmp_path))
        seen: set[int] = set()
        for name in ("a", "b", "c", "d"):
            got = ports_of(ensure_ports(cfg, Track(name, "--track"), STACK)).values()
            assert not seen & set(got)
            seen |= set(got)
        assert len(seen) == 12
        with pytest.raises(EnvironmentMissing, match=f"no free host port left in {low}-{high}"):
            ensure_ports(cfg, Track("e", "--track"), STACK)
    finally:
        del os.environ["OMC_PORT_RANGE"]


def test_a_port_bound_by_a_foreign_process_is_skipped(state_dir: Path, tmp_path: Path) -> None:
    cfg = config.load(project_dir(tmp_path))
    track = Track("busy", "--track")
    db_only = published(("db", [5432]))
    wanted = preferred_port(track_ref(cfg, track), requests_for(db_only)[0], port_range(cfg))
    holder = listen_in_other_process(wanted)
    try:
        result = ensure_ports(cfg, track, db_only)
    finally:
        stop(holder)
    got = ports_of(result)["db:5432/tcp"]
    assert got != wanted
    assert (wanted, "bound by a process on the host") in [
        (s.port, s.reason) for s in result.allocation.skipped
    ]


def test_a_held_port_taken_by_a_foreign_process_moves(state_dir: Path, tmp_path: Path) -> None:
    cfg = config.load(project_dir(tmp_path))
    track = Track("moving", "--track")
    db_only = published(("db", [5432]))
    before = ports_of(ensure_ports(cfg, track, db_only))["db:5432/tcp"]
    holder = listen_in_other_process(before)
    try:
        result = ensure_ports(cfg, track, db_only)
    finally:
        stop(holder)
    (move,) = result.allocation.moved
    assert (move.old.published, move.reason) == (before, "bound by a process on the host")
    assert ports_of(result)["db:5432/tcp"] == move.new.published != before


def test_a_removed_service_gives_its_port_back(state_dir: Path, tmp_path: Path) -> None:
    cfg = config.load(project_dir(tmp_path))
    track = Track("shrink", "--track")
    ensure_ports(cfg, track, STACK)
    result = ensure_ports(cfg, track, published(("db", [5432])))
    assert set(ports_of(result)) == {"db:5432/tcp"}
    assert result.override is not None
    assert "backend" not in result.override.read_text()


def test_override_changes_host_ports_only(tmp_path: Path, state_dir: Path) -> None:
    doc = {
        "name": "x",
        "services": {
            "db": {
                "image": "x",
                "environment": {"POSTGRES_PORT": "5432"},
                "ports": [
                    {"target": 5432, "published": "5433", "protocol": "tcp"},
                    {"target": 53, "protocol": "udp", "host_ip": "127.0.0.1"},
                ],
            },
            "worker": {"image": "x"},
        },
    }
    from devtools.compose.model import parse_config

    project = parse_config(doc)
    cfg = config.load(project_dir(tmp_path))
    result = ensure_ports(cfg, Track("t", "--track"), project)
    assert result.override is not None
    text = result.override.read_text()
    assert "ports: !override" in text  # replaces the list instead of merging with 5433
    assert text == render_override(project, result.allocation.entry)
    loaded = yaml.safe_load(text.replace("!override", ""))
    assert set(loaded["services"]) == {"db"}  # no environment, no other service
    assert set(loaded["services"]["db"]) == {"ports"}
    got = ports_of(result)
    assert loaded["services"]["db"]["ports"] == [
        {"target": 5432, "published": str(got["db:5432/tcp"]), "protocol": "tcp"},
        {
            "target": 53,
            "published": str(got["db:53/udp@127.0.0.1"]),
            "protocol": "udp",
            "host_ip": "127.0.0.1",
        },
    ]


@pytest.mark.parametrize("bad", ["80-90", "3000", "x-y", "30000-20000", "1024-70000"])
def test_bad_port_range_is_one_line(
    bad: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMC_PORT_RANGE", bad)
    with pytest.raises(UnusableInput, match="OMC_PORT_RANGE: port range"):
        port_range(config.load(project_dir(tmp_path)))


def test_port_range_from_pyproject(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMC_PORT_RANGE", raising=False)
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "pyproject.toml").write_text('[tool.omc-dev.ports]\nrange = "41000-41999"\n')
    assert port_range(config.load(folder)) == PortRange(41000, 41999)


ALLOCATE = """
import json, sys, time
from pathlib import Path
from devtools import config
from devtools.tracks.identity import Track
from devtools.tracks.ports import ensure_ports
from tests.fixtures.tracks import published

folder, track, go = sys.argv[1], sys.argv[2], Path(sys.argv[3])
cfg = config.load(Path(folder))
stack = published(("db", [5432]), ("backend", [8000]))
while not go.exists():  # start together, so the allocations really race
    time.sleep(0.005)
result = ensure_ports(cfg, Track(track, "--track"), stack)
print(json.dumps({p.key: p.published for p in result.allocation.entry.ports}))
"""


def test_fifty_concurrent_allocations_never_share_a_port(state_dir: Path, tmp_path: Path) -> None:
    """50 processes, 2 ports each, in a range of 130: probing collides all the time, the lock
    must keep every port unique and every entry in the registry."""
    low, high = free_span(130)
    folder = project_dir(tmp_path)
    go = tmp_path / "go"
    env = {**os.environ, "OMC_PORT_RANGE": f"{low}-{high}", "PYTHONPATH": str(REPO_ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", ALLOCATE, str(folder), f"t{i:02d}", str(go)],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(50)
    ]
    time.sleep(1.0)
    go.touch()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    handed_out = [port for result in results for port in result.values()]
    assert len(handed_out) == 100
    assert len(set(handed_out)) == 100, "a port was handed out twice"
    assert all(low <= p <= high for p in handed_out)
    with registry.locked() as reg:
        stored = {e.track: {p.key: p.published for p in e.ports} for e in reg.entries.values()}
    assert stored == {f"t{i:02d}": results[i] for i in range(50)}
