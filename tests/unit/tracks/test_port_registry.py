from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from devtools.tracks import registry
from devtools.tracks.registry import PortAssignment, RegistryDamaged, TrackEntry
from tests.fixtures.cli import REPO_ROOT, omc


def entry(track: str, port: int, worktree: Path, repo: str = "/repo/.git") -> TrackEntry:
    return TrackEntry(
        repo=repo,
        repo_name="shop",
        track=track,
        project=f"shop-{track}",
        worktrees=(str(worktree),),
        ports=(PortAssignment("db", 5432, "tcp", None, port),),
    )


def test_state_dir_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OMC_STATE_DIR", str(tmp_path / "explicit"))
    assert registry.state_dir() == tmp_path / "explicit"
    monkeypatch.delenv("OMC_STATE_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert registry.state_dir() == tmp_path / "xdg" / "omc-dev"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert registry.state_dir() == tmp_path / "home" / ".local" / "state" / "omc-dev"


def test_round_trip_one_line_per_track(state_dir: Path, tmp_path: Path) -> None:
    with registry.locked() as reg:
        reg.put(entry("main", 21000, tmp_path))
        reg.put(entry("feature", 21001, tmp_path))
    lines = (state_dir / registry.REGISTRY_FILE).read_text().splitlines()
    assert json.loads(lines[0]) == registry.HEADER
    assert [json.loads(line)["track"] for line in lines[1:]] == ["feature", "main"]
    with registry.locked() as reg:
        assert reg.get("/repo/.git", "main") is not None
        assert reg.holders()[21001].track == "feature"
    assert oct((state_dir / registry.REGISTRY_FILE).stat().st_mode & 0o777) == "0o600"


def test_a_snapshot_reads_the_last_version_and_creates_nothing(
    state_dir: Path, tmp_path: Path
) -> None:
    assert registry.snapshot().entries == {}
    assert not state_dir.exists()  # looking never creates the state dir
    with registry.locked() as reg:
        reg.put(entry("main", 21000, tmp_path))
    assert registry.snapshot().holders()[21000].track == "main"
    assert {p.name for p in state_dir.iterdir()} == {registry.LOCK_FILE, registry.REGISTRY_FILE}


def test_an_unchanged_entry_does_not_rewrite_the_file(state_dir: Path, tmp_path: Path) -> None:
    with registry.locked() as reg:
        reg.put(entry("main", 21000, tmp_path))
    path = state_dir / registry.REGISTRY_FILE
    before = path.stat().st_mtime_ns, path.read_text()
    time.sleep(0.01)
    with registry.locked() as reg:
        reg.put(entry("main", 21000, tmp_path))
    assert (path.stat().st_mtime_ns, path.read_text()) == before


DAMAGE = [
    ("not json", 3, "not JSON"),
    ('{"omc-dev": "something-else"}', 1, "header"),
    ('{"repo": "/r", "repo_name": "r", "track": "t", "project": "p", "worktrees": [], '
     '"ports": [{"service": "db", "target": 5432, "protocol": "tcp", "published": 70000}]}',
     3, "'published' must be a port number"),
    ('{"repo": "/repo/.git", "repo_name": "shop", "track": "main", "project": "p", '
     '"worktrees": [], "ports": []}', 3, "listed twice"),
]  # fmt: skip


@pytest.mark.parametrize(("bad_line", "line_no", "what"), DAMAGE)
def test_damaged_registry_names_file_and_line_and_is_left_alone(
    state_dir: Path, tmp_path: Path, bad_line: str, line_no: int, what: str
) -> None:
    with registry.locked() as reg:
        reg.put(entry("main", 21000, tmp_path))
    path = state_dir / registry.REGISTRY_FILE
    lines = path.read_text().splitlines()
    if line_no == 1:
        lines[0] = bad_line
    else:
        lines.append(bad_line)
    damaged = "\n".join(lines) + "\n"
    path.write_text(damaged)

    with pytest.raises(RegistryDamaged) as caught, registry.locked() as reg:
        reg.put(entry("other", 21005, tmp_path))
    assert f"{path}:{line_no}:" in str(caught.value)
    assert what in str(caught.value)
    assert path.read_text() == damaged  # never "repaired" behind the user's back

    proc = omc("ports", "list", env={"OMC_STATE_DIR": str(state_dir)})
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and f"{path}:{line_no}:" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_port_held_twice_is_damage(state_dir: Path, tmp_path: Path) -> None:
    state_dir.mkdir()
    lines = [json.dumps(registry.HEADER)]
    lines += [json.dumps(entry(t, 21000, tmp_path).to_dict()) for t in ("a", "b")]
    (state_dir / registry.REGISTRY_FILE).write_text("\n".join(lines) + "\n")
    with pytest.raises(RegistryDamaged, match=r":3: .*host port 21000 also held on line 2"):
        registry.read(state_dir / registry.REGISTRY_FILE)


def test_entries_whose_worktree_is_gone_are_reclaimed(state_dir: Path, tmp_path: Path) -> None:
    kept, gone = tmp_path / "kept", tmp_path / "gone"
    kept.mkdir()
    gone.mkdir()
    with registry.locked() as reg:
        reg.put(entry("kept", 21000, kept))
        reg.put(entry("gone", 21001, gone))
    gone.rmdir()
    proc = omc("ports", "list", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [t["track"] for t in doc["tracks"]] == ["kept"]
    assert [t["track"] for t in doc["reclaimed"]] == ["gone"]
    with registry.locked() as reg:
        assert 21001 not in reg.holders()


WRITER = """
import sys, time
from dataclasses import replace
from pathlib import Path
from devtools.tracks import registry
from devtools.tracks.registry import PortAssignment, TrackEntry
deadline = time.monotonic() + float(sys.argv[1])
n = 0
while time.monotonic() < deadline:
    n += 1
    with registry.locked() as reg:
        reg.entries.clear()
        for i in range(200 + n % 50):
            reg.put(TrackEntry("/r/.git", "r", f"t{i}", f"r-t{i}", ("/",),
                               (PortAssignment("db", 5432, "tcp", None, 20000 + i),)))
print(n)
"""


def test_readers_never_see_a_half_written_registry(state_dir: Path) -> None:
    """Writes land by rename: a reader that does not even take the lock parses every version."""
    with registry.locked() as reg:
        reg.put(TrackEntry("/r/.git", "r", "seed", "r-seed", ("/",), ()))
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, "2.0"], cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True
    )
    reads = 0
    path = state_dir / registry.REGISTRY_FILE
    while writer.poll() is None:
        registry.parse(path, path.read_text())  # raises on a torn file
        reads += 1
    assert writer.returncode == 0
    assert writer.stdout is not None and int(writer.stdout.read()) > 5
    assert reads > 20
    assert not list(state_dir.glob(".ports.jsonl.*"))  # no temp files left behind


def test_tracks_that_normalise_alike_have_their_own_registry_keys(
    state_dir: Path, tmp_path: Path
) -> None:
    from devtools import config
    from devtools.tracks.identity import resolve_track
    from devtools.tracks.ports import _adopt_older_entry, track_ref

    root = tmp_path / "shop"
    root.mkdir()
    (root / "pyproject.toml").write_text('[tool.omc-dev]\nproject = "shop"\n')
    cfg = config.load(root)
    plain, fancy = resolve_track(cfg, "feature-orders-x"), resolve_track(cfg, "Feature/Orders.X")
    assert plain.key == "feature-orders-x"
    assert fancy.key.startswith("feature-orders-x-") and fancy.key != plain.key
    assert track_ref(cfg, plain).track != track_ref(cfg, fancy).track

    # An entry an earlier version wrote under the sanitized name (old project name) becomes the
    # track's, with its ports; the entry of the track that is really named so never does.
    ref = track_ref(cfg, fancy)
    old = replace(
        entry("feature-orders-x", 21005, root, repo=ref.repo), project="shop-feature-orders-x"
    )
    with registry.locked() as reg:
        reg.put(old)
        _adopt_older_entry(cfg, reg, ref, fancy)
        adopted = reg.get(ref.repo, fancy.key)
        assert reg.get(ref.repo, "feature-orders-x") is None
    assert adopted is not None and adopted.ports == old.ports and adopted.project == ref.project
    with registry.locked() as reg:
        reg.remove(ref.repo, fancy.key)
        reg.put(replace(old, project=track_ref(cfg, plain).project))
        _adopt_older_entry(cfg, reg, ref, fancy)
        assert reg.get(ref.repo, fancy.key) is None
