"""Hostile or broken input ends as one line and the documented exit code, never "internal error".

Each case here ended in "internal error", exit 70 (or fell back silently) before: deeply nested
TOML and JSON, feed values outside what the ledger keeps, counts no database takes, a migration
with a 600-term `sa.text()`, a database path in a folder that is not there, an empty `--track`,
a port registry made read-only or in a folder the user cannot write.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.tracks import registry
from tests.fixtures import users
from tests.fixtures.cli import omc
from tests.fixtures.migrations import revision_file, write_versions

BIG = str(10**23)


def assert_one_line(proc: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    for word in words:
        assert word in proc.stderr, proc.stderr


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# --- configuration and registry files -----------------------------------------------------------


def test_deeply_nested_pyproject_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.omc-dev]\nx = {nested(2000)}\n")
    for args in (["kernel", "status"], ["migrations", "heads"]):
        proc = omc(*args, cwd=tmp_path)
        assert_one_line(proc, 2, "pyproject.toml", "nested too deeply")


def test_deeply_nested_port_registry_line_is_named(state_dir: Path, tmp_path: Path) -> None:
    state_dir.mkdir(parents=True)
    header = json.dumps(registry.HEADER)
    (state_dir / registry.REGISTRY_FILE).write_text(f"{header}\n{nested(100_000)}\n")
    proc = omc("ports", "list", cwd=tmp_path)
    assert_one_line(proc, 2, "ports.jsonl:2", "nested too deeply")


def write_registry(state_dir: Path, project: Path, track: str = "t1") -> Path:
    """A registry holding one track of the (git-less) project folder `project`."""
    state_dir.mkdir(parents=True, exist_ok=True)
    line = {
        "repo": str(project.resolve()),
        "repo_name": project.name,
        "track": track,
        "project": f"{project.name}-{track}",
        "worktrees": [str(project.resolve())],
        "ports": [
            {
                "service": "db",
                "target": 5432,
                "protocol": "tcp",
                "host_ip": None,
                "published": 23456,
            }
        ],
        "updated": 1.0,
    }
    path = state_dir / registry.REGISTRY_FILE
    path.write_text(json.dumps(registry.HEADER) + "\n" + json.dumps(line) + "\n")
    return path


def test_a_read_only_port_registry_is_not_replaced(state_dir: Path, tmp_path: Path) -> None:
    project = tmp_path / "shop"
    project.mkdir()
    path = write_registry(state_dir, project)
    before = path.read_bytes()
    path.chmod(0o444)
    proc = omc("ports", "release", "t1", "--yes", cwd=project)
    assert_one_line(proc, 125, str(path), "read-only")
    assert path.read_bytes() == before
    assert oct(path.stat().st_mode & 0o777) == "0o444"


@pytest.fixture
def non_root() -> users.TestUser:
    """Ourselves, or (as root, who may write anywhere) the non-root test user."""
    return users.ensure_test_user()


@pytest.fixture
def shared_tmp(non_root: users.TestUser) -> Iterator[Path]:
    """A folder the non-root user owns (pytest's tmp_path is private to root)."""
    path = Path(tempfile.mkdtemp(prefix="omc-ro-"))
    try:
        os.chown(path, non_root.uid, non_root.gid)
        yield path
    finally:
        for folder, _dirs, _files in os.walk(path):
            Path(folder).chmod(0o755)
        shutil.rmtree(path, ignore_errors=True)


def test_a_state_folder_the_user_cannot_write_is_exit_125(
    non_root: users.TestUser, shared_tmp: Path
) -> None:
    project = shared_tmp / "shop"
    project.mkdir()
    state = shared_tmp / "state"
    write_registry(state, project)
    (state / registry.LOCK_FILE).touch()
    for path in (project, state, *state.iterdir()):
        os.chown(path, non_root.uid, non_root.gid)
    state.chmod(0o555)  # the lock file can still be opened; no new file can be made
    proc = omc(
        "ports",
        "release",
        "t1",
        "--yes",
        cwd=project,
        env={"OMC_STATE_DIR": str(state)},
        user=non_root,
    )
    assert_one_line(proc, 125, "cannot write the port registry", "OMC_STATE_DIR")


def test_temp_files_of_a_killed_writer_are_removed_under_the_lock(state_dir: Path) -> None:
    state_dir.mkdir(parents=True)
    # What `kill -9` in the middle of a write leaves: write_atomic's temp file, never renamed.
    stale = state_dir / f".{registry.REGISTRY_FILE}.k9x2_a1.tmp"
    stale.write_text('{"omc-dev": "port-registry", "format": 1}\n')
    other = state_dir / "notes.tmp"  # not ours: left alone
    other.write_text("x")
    with registry.locked():
        pass
    assert not stale.exists()
    assert other.exists()


def test_stale_override_temp_files_are_removed_and_young_ones_kept(tmp_path: Path) -> None:
    from devtools.compose.model import parse_config
    from devtools.config import ProjectConfig
    from devtools.tracks.override import override_path, write_override
    from devtools.tracks.registry import PortAssignment, TrackEntry

    path = override_path(tmp_path, "t1")
    path.parent.mkdir(parents=True)
    old = path.parent / f".{path.name}.abc123.tmp"
    young = path.parent / f".{path.name}.def456.tmp"
    for leftover in (old, young):
        leftover.write_text("services: {}\n")
    os.utime(old, (1_000_000_000, 1_000_000_000))
    project = parse_config(
        {
            "name": "shop-t1",
            "services": {
                "db": {
                    "image": "x",
                    "ports": [{"target": 5432, "published": "5432", "protocol": "tcp"}],
                }
            },
        },
        files=(tmp_path / "compose.yaml",),
    )
    entry = TrackEntry(
        "/r",
        "shop",
        "t1",
        "shop-t1",
        (str(tmp_path),),
        (PortAssignment("db", 5432, "tcp", None, 23456),),
    )
    write_override(ProjectConfig(root=tmp_path), project, entry)
    assert "23456" in path.read_text()
    assert not old.exists()
    assert young.exists()


# --- the kernel: feeds, counts, databases --------------------------------------------------------


@pytest.fixture
def kernel_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    proc = omc("kernel", "migrate", "--db", url, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return url


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("deep.json", nested(100_000), ["nested too deeply"]),
        (
            "huge.csv",
            "timestamp,symbol,bid,ask,last\n2024-01-01T00:00:00Z,btc,1e400,1e400,1e400\n",
            ["line 2", "bid '1e400'"],
        ),
        (
            "tiny.csv",
            "timestamp,symbol,bid,ask,last\n2024-01-01T00:00:00Z,btc,1e-12,1,1\n",
            ["line 2", "bid"],
        ),
        (
            "y9999.csv",
            "timestamp,symbol,bid,ask,last\n9999-12-31T23:59:59Z,btc,1,1,1\n",
            ["line 2", "9999-12-31"],
        ),
        (
            "ms.json",
            '[{"timestamp": 1700000000000, "symbol": "btc", "bid": 1, "ask": 1, "last": 1}]',
            ["item 1", "milliseconds"],
        ),
        (
            "far.csv",
            "timestamp,symbol,bid,ask,last\n1e300,btc,1,1,1\n",
            ["line 2", "1e300"],
        ),
    ],
)
def test_feed_values_the_ledger_cannot_keep_are_one_line(
    kernel_db: str, tmp_path: Path, name: str, content: str, words: list[str]
) -> None:
    feed = tmp_path / name
    feed.write_text(content)
    proc = omc("kernel", "run", "--db", kernel_db, "--feed", str(feed), cwd=tmp_path)
    assert_one_line(proc, 2, name, "malformed feed", *words)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["kernel", "run", "--ticks", BIG], ["ticks", "9000-01-01"]),
        (["kernel", "run", "--duration", "100000000000d"], ["--duration", "years"]),
        (["kernel", "status", "--limit", BIG], ["--limit"]),
        (["kernel", "audit", "show", "--limit", BIG], ["--limit"]),
        (["kernel", "killswitch", "history", "--limit", BIG], ["--limit"]),
    ],
)
def test_counts_no_database_or_calendar_takes_are_one_line(
    kernel_db: str, tmp_path: Path, args: list[str], words: list[str]
) -> None:
    proc = omc(*args, "--db", kernel_db, cwd=tmp_path)
    assert_one_line(proc, 2, *words)


def test_migrate_makes_no_folders_along_a_path_that_is_not_there(tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent"
    proc = omc("kernel", "migrate", "--db", f"sqlite:///{missing}/dir/x.db", cwd=tmp_path)
    assert_one_line(proc, 125, str(missing), "does not exist")
    assert not missing.exists()


# --- migrations, tracks --------------------------------------------------------------------------


@pytest.mark.parametrize("operator", ["||", "+", "*"])
def test_a_600_term_index_expression_is_a_warning_not_a_crash(
    tmp_path: Path, operator: str
) -> None:
    expression = f" {operator} ".join(["b"] * 600)
    body = (
        "    op.create_table('t', sa.Column('a', sa.DateTime(timezone=True)), "
        "sa.Column('b', sa.Text()))\n"
        f"    op.create_index('ix', 't', [sa.text({'(' + expression + ')'!r})])\n"
        f"    op.execute('CREATE INDEX ix2 ON t (({expression}))')"
    )
    write_versions(tmp_path / "migrations", {"r1.py": revision_file("r1", upgrade=body)})
    proc = omc("migrations", "lint", "migrations", "--format", "json", cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr


@pytest.mark.parametrize("args", [["ports", "--track", ""], ["up", "--track", " "]])
def test_an_empty_track_name_is_refused_not_the_default(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  a:\n    image: x\n")
    proc = omc(*args, cwd=tmp_path)
    assert_one_line(proc, 2, "track name is empty")
