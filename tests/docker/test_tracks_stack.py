"""Two tracks of the reference stack up at once, each on its own host ports, through the CLI."""

from __future__ import annotations

import json
import tempfile
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from devtools import config
from devtools.tracks import registry
from devtools.tracks.identity import Track
from devtools.tracks.ports import ensure_ports, track_ref
from tests.fixtures.cli import REPO_ROOT, omc
from tests.fixtures.docker import ComposeStack, stack_name


@dataclass
class RunningTrack:
    name: str
    env: dict[str, str]
    compose: ComposeStack

    def ports(self) -> dict[str, int]:
        doc = json.loads(omc("ports", "--format", "json", env=self.env, cwd=REPO_ROOT).stdout)
        return {f"{p['service']}:{p['target']}": p["published"] for p in doc["ports"]}


@pytest.fixture(scope="module")
def two_tracks() -> Iterator[list[RunningTrack]]:
    """Two tracks of the repository's own stack, brought up with `omc-dev up`, both at once."""
    tag = uuid.uuid4().hex[:8]
    state = tempfile.mkdtemp(prefix="omc-state-tracks-")  # this module's own port registry
    cache = tempfile.mkdtemp(prefix="omc-cache-tracks-")
    tracks = []
    for n in ("a", "b"):
        name = f"t5{tag}{n}"
        env = {
            "OMC_TRACK": name,
            "OMC_STATE_DIR": state,
            "OMC_IN_CONTAINER": "0",  # this is the host, whatever /.dockerenv says
            "XDG_CACHE_HOME": cache,
        }
        tracks.append(
            RunningTrack(name, env, ComposeStack(REPO_ROOT, stack_name(name), ("compose.yaml",)))
        )
    try:
        for track in tracks:
            up = omc("up", env=track.env, cwd=REPO_ROOT, timeout=900)
            assert up.returncode == 0, up.stderr[-3000:]
        yield tracks
    finally:
        for track in tracks:
            omc("down", "--volumes", "--yes", env=track.env, cwd=REPO_ROOT, timeout=300)
            track.compose.down()  # a safety net: nothing of ours may outlive the module
            omc("ports", "release", track.name, "--yes", env=track.env, cwd=REPO_ROOT)


def test_each_track_is_reachable_on_its_own_ports(two_tracks: list[RunningTrack]) -> None:
    ports = [t.ports() for t in two_tracks]
    assert set(ports[0]) == set(ports[1]) == {"db:5432", "backend:8000"}
    assert not set(ports[0].values()) & set(ports[1].values())
    for track, held in zip(two_tracks, ports, strict=True):
        # compose agrees: the track's containers publish the track's ports
        shown = track.compose.compose("port", "db", "5432").stdout.strip()
        assert shown.rpartition(":")[2] == str(held["db:5432"])
        with urllib.request.urlopen(
            f"http://127.0.0.1:{held['backend:8000']}/health", timeout=10
        ) as reply:
            assert reply.status == 200
        with psycopg.connect(
            host="127.0.0.1", port=held["db:5432"], user="omc", password="omc", dbname="omc",
            connect_timeout=10, autocommit=True,
        ) as conn:  # fmt: skip
            conn.execute("CREATE TABLE mark (track text)")
            conn.execute("INSERT INTO mark VALUES (%s)", (track.name,))
    for track, held in zip(two_tracks, ports, strict=True):  # two databases, not one
        with psycopg.connect(
            host="127.0.0.1", port=held["db:5432"], user="omc", password="omc", dbname="omc"
        ) as conn:
            assert conn.execute("SELECT track FROM mark").fetchall() == [(track.name,)]


def test_each_track_serves_its_own_audit_dashboard(two_tracks: list[RunningTrack]) -> None:
    """The dashboard on each track's published backend port, over that track's database: an
    operator's trip in one track shows in that track's audit and header only."""
    first, second = two_tracks
    trip = omc(
        "run", "--", "omc-dev", "kernel", "killswitch", "trip", "--by", "ops-" + first.name,
        "--reason", "dashboard check", env=first.env, cwd=REPO_ROOT,
    )  # fmt: skip
    assert trip.returncode == 0, trip.stderr
    for track in two_tracks:
        base = f"http://127.0.0.1:{track.ports()['backend:8000']}"
        with urllib.request.urlopen(f"{base}/audit", timeout=10) as reply:
            page = reply.read().decode()
            assert reply.status == 200 and "chain verified" in page
        with urllib.request.urlopen(f"{base}/api/audit?actor=ops-{first.name}", timeout=10) as r:
            records = json.loads(r.read())["records"]
        if track is first:
            assert [r["action"] for r in records] == ["KILL_SWITCH_TRIPPED"]
            assert "trading HALTED" in page
        else:
            assert records == [] and "trading ACTIVE" in page
    assert second.name != first.name


def test_the_override_changes_host_ports_only(two_tracks: list[RunningTrack]) -> None:
    track = two_tracks[0]
    override = REPO_ROOT / ".omc" / "tracks" / f"{track.name}.ports.yaml"
    base = track.compose.compose("config", "--format", "json").stdout
    with_ports = ComposeStack(REPO_ROOT, track.compose.project, ("compose.yaml", str(override)))
    merged = with_ports.compose("config", "--format", "json").stdout
    before, after = json.loads(base)["services"], json.loads(merged)["services"]
    held = track.ports()
    for name, service in before.items():
        published = [p.pop("published", None) for p in after[name].get("ports", [])]
        for p in service.get("ports", []):
            p.pop("published", None)
        assert after[name] == service  # everything but the host ports is the base file's
        assert published == [
            str(held[f"{name}:{p['target']}"]) for p in after[name].get("ports", [])
        ]


def test_run_targets_the_current_tracks_containers(two_tracks: list[RunningTrack]) -> None:
    for track in two_tracks:
        proc = omc("run", "--", "cat", "/etc/hostname", env=track.env, cwd=REPO_ROOT)
        assert proc.returncode == 0, proc.stderr
        container = track.compose.compose("ps", "--quiet", "backend").stdout.strip()
        assert container.startswith(proc.stdout.strip())


def test_a_registry_that_lost_a_track_adopts_its_running_ports(
    two_tracks: list[RunningTrack], monkeypatch: pytest.MonkeyPatch
) -> None:
    track = two_tracks[1]
    before = track.ports()
    monkeypatch.setenv("OMC_STATE_DIR", track.env["OMC_STATE_DIR"])
    cfg = config.load(REPO_ROOT)
    chosen = Track(track.name, "OMC_TRACK")
    with registry.locked() as reg:  # as if someone deleted its line by hand
        reg.remove(track_ref(cfg, chosen).repo, track.name)
    again = ensure_ports(cfg, chosen).allocation.entry
    assert {f"{p.service}:{p.target}": p.published for p in again.ports} == before


def test_down_keeps_the_tracks_ports_for_next_time(two_tracks: list[RunningTrack]) -> None:
    # Last in the module: it stops track b. Its ports stay held; up gets the same ones back.
    track = two_tracks[1]
    before = track.ports()
    assert omc("down", env=track.env, cwd=REPO_ROOT).returncode == 0
    assert track.ports() == before
    up = omc("up", "db", env=track.env, cwd=REPO_ROOT, timeout=600)
    assert up.returncode == 0, up.stderr[-3000:]
    shown = track.compose.compose("port", "db", "5432").stdout.strip()
    assert shown.rpartition(":")[2] == str(before["db:5432"])
    assert Path(REPO_ROOT / ".omc" / "tracks" / f"{track.name}.ports.yaml").is_file()
