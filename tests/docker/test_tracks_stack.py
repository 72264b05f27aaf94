"""Two tracks of the reference stack at once, each on its own host ports."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from devtools import config
from devtools.compose.cli import run_compose
from devtools.errors import UnusableInput
from devtools.tracks import ports as track_ports
from devtools.tracks import registry
from devtools.tracks.identity import Track
from tests.fixtures.cli import REPO_ROOT


@pytest.fixture
def two_tracks(state_dir: object) -> Iterator[list[Track]]:
    tag = uuid.uuid4().hex[:8]
    tracks = [Track(f"t5-{tag}-{n}", "--track") for n in ("a", "b")]
    cfg = config.load(REPO_ROOT)
    try:
        yield tracks
    finally:
        for track in tracks:
            run_compose(
                track_ports.current_target(cfg, track),
                "down", "--volumes", "--remove-orphans", "--timeout", "2",
                check=False,
            )  # fmt: skip
            with contextlib.suppress(UnusableInput):  # never allocated: nothing to release
                track_ports.release(track_ports.registered(cfg, track.name))


def test_two_tracks_of_the_reference_stack_run_at_once(two_tracks: list[Track]) -> None:
    cfg = config.load(REPO_ROOT)
    ports = {}
    for track in two_tracks:
        target, allocated = track_ports.up_target(cfg, track)
        assert target.files[-1] == allocated.override
        run_compose(target, "up", "--detach", "--wait", "db", timeout=300)
        (db,) = [p for p in allocated.allocation.entry.ports if p.service == "db"]
        ports[track.name] = db.published
        # compose agrees: the container publishes the track's port
        shown = run_compose(target, "port", "db", "5432").stdout.strip()
        assert shown.rpartition(":")[2] == str(db.published)
    assert len(set(ports.values())) == 2
    # A registry that lost the track (deleted by hand): its running stack's ports are adopted.
    first = two_tracks[0]
    with registry.locked() as reg:
        reg.remove(track_ports.track_ref(cfg, first).repo, first.name)
    again = track_ports.ensure_ports(cfg, first).allocation.entry
    assert [p.published for p in again.ports if p.service == "db"] == [ports[first.name]]
    for track in two_tracks:  # both answer, each on its own port, each its own database
        with psycopg.connect(
            host="127.0.0.1",
            port=ports[track.name],
            user="omc",
            password="omc",
            dbname="omc",
            connect_timeout=10,
        ) as conn:
            conn.execute("CREATE TABLE mark (track text)")
            conn.execute("INSERT INTO mark VALUES (%s)", (track.name,))
    for track in two_tracks:
        with psycopg.connect(
            host="127.0.0.1", port=ports[track.name], user="omc", password="omc", dbname="omc"
        ) as conn:
            rows = conn.execute("SELECT track FROM mark").fetchall()
        assert rows == [(track.name,)]
