"""`db clone`, `db snapshot`, `db restore` against the reference stack: two tracks of a scratch copy
of this repository (its own git history, so the snapshots in its git dir and the commits moved
between are the test's own). One pair of stacks serves the whole module.

Track a is brought up whole and trades a paper day in its backend; track b is never started by
the test: `db clone` starts its db. The kernel is then read through b's published db port as the
application role omc_app, whose password and grants came with the copy.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.fixtures.cli import REPO_ROOT, cli_env, omc, omc_argv
from tests.fixtures.docker import ComposeStack, stack_name

COPIED = ("compose.yaml", "pyproject.toml", "docker", "devtools", "kernel", "scripts", "hooks")
MOUNTED_EMPTY = ("tests", "benchmarks")  # bind-mounted by compose.yaml; not needed inside
NEWER_REVISION = '''"""A table a newer branch adds.

Revision ID: 0003_desk_notes
Revises: 0002_audit_keys
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_desk_notes"
down_revision = "0002_audit_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("desk_notes", sa.Column("id", sa.Integer, primary_key=True))


def downgrade() -> None:
    op.drop_table("desk_notes")
'''


@dataclass
class Scratch:
    root: Path
    a: str
    b: str
    base_env: dict[str, str] = field(default_factory=dict)

    def env(self, track: str) -> dict[str, str]:
        return {**self.base_env, "OMC_TRACK": track}

    def omc(self, track: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return omc(*args, cwd=self.root, env=self.env(track), timeout=timeout)

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=self.root, check=True, capture_output=True, text=True
        ).stdout.strip()

    def db_port(self, track: str) -> int:
        doc = json.loads(self.omc(track, "ports", "--format", "json").stdout)
        return int(next(p["published"] for p in doc["ports"] if p["service"] == "db"))

    def conninfo(self, track: str, role: str = "omc_app") -> str:
        return f"host=127.0.0.1 port={self.db_port(track)} user={role} password={role} dbname=omc"

    def kernel(self, track: str, *args: str) -> subprocess.CompletedProcess[str]:
        url = f"postgresql+psycopg://omc_app:omc_app@127.0.0.1:{self.db_port(track)}/omc"
        return self.omc(track, "kernel", *args, "--db", url)

    def audit(self, track: str) -> list[dict[str, Any]]:
        shown = self.kernel(track, "audit", "show", "--format", "json", "--limit", "1000000")
        assert shown.returncode == 0, shown.stderr
        doc = json.loads(shown.stdout)
        return list(doc["records"] if isinstance(doc, dict) else doc)


def _copy_checkout(root: Path) -> None:
    root.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".omc")
    for name in COPIED:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=ignore)
        else:
            shutil.copy2(source, root / name)
    for name in MOUNTED_EMPTY:
        (root / name).mkdir()
    for args in (
        ["init", "-q", "-b", "main"],
        ["config", "user.email", "t@example.com"],
        ["config", "user.name", "t"],
        ["add", "-A"],
        ["commit", "-q", "-m", "the reference stack"],
    ):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scratch]:
    base = tmp_path_factory.mktemp("dbclone")
    root = base / "shop"
    _copy_checkout(root)
    tag = uuid.uuid4().hex[:8]
    scratch = Scratch(
        root,
        f"c{tag}a",
        f"c{tag}b",
        {
            "OMC_STATE_DIR": str(base / "state"),
            "OMC_IN_CONTAINER": "0",  # this is the host, whatever /.dockerenv says
            "XDG_CACHE_HOME": str(base / "cache"),
        },
    )
    try:
        up = scratch.omc(scratch.a, "up", timeout=900)
        assert up.returncode == 0, up.stderr[-3000:]
        day = scratch.omc(
            scratch.a, "run", "--", "omc-dev", "kernel", "run", "--seed", "7", "--duration", "24h"
        )
        assert day.returncode == 0, day.stderr[-3000:]
        yield scratch
    finally:
        for track in (scratch.a, scratch.b):
            scratch.omc(track, "down", "--volumes", "--yes", timeout=300)
            # A safety net: nothing of ours may outlive the module.
            ComposeStack(root, stack_name(track, root), ("compose.yaml",)).down()


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.stderr.count("\n") == 1, proc.stderr
    return proc.stderr.strip()


def without_address(status: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in status.items() if k != "database"}


def test_a_clone_brings_the_audit_and_the_app_role_to_a_track_never_started(
    stacks: Scratch,
) -> None:
    a, b = stacks.a, stacks.b
    declined = stacks.omc(b, "db", "clone", "--from", a)  # no --yes, no terminal to ask
    assert declined.returncode == 2 and "nothing was changed" in declined.stderr
    assert f"start db of track {b}" in declined.stdout  # b has no container yet

    done = stacks.omc(b, "db", "clone", "--from", a, "--yes")
    assert done.returncode == 0, done.stderr
    assert f"into track {b}" in done.stdout and "migrated" in done.stdout

    records = stacks.audit(a)
    assert len(records) > 10
    assert stacks.audit(b) == records
    status = [stacks.kernel(t, "status", "--format", "json") for t in (a, b)]
    assert all(s.returncode == 0 for s in status), [s.stderr for s in status]
    assert without_address(json.loads(status[1].stdout)) == without_address(
        json.loads(status[0].stdout)
    )
    verify = stacks.kernel(b, "audit", "verify", "--format", "json")
    assert verify.returncode == 0 and json.loads(verify.stdout)["verified"], verify.stdout

    # omc_app logs in with the password it had, appends (sequences carried on), and still
    # cannot rewrite the audit.
    more = stacks.kernel(b, "run", "--ticks", "20", "--seed", "8")
    assert more.returncode == 0, more.stderr
    assert len(stacks.audit(b)) > len(records)
    with (
        psycopg.connect(stacks.conninfo(b)) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("UPDATE audit_records SET actor = 'mallory' WHERE sequence = 1")
    assert stacks.kernel(b, "audit", "verify").returncode == 0


def test_a_snapshot_restores_the_track_as_it_was(stacks: Scratch) -> None:
    a = stacks.a
    before = stacks.audit(a)
    taken = stacks.omc(a, "db", "snapshot", "before-more")
    assert taken.returncode == 0, taken.stderr
    listed = json.loads(stacks.omc(a, "db", "snapshots", "--format", "json").stdout)
    [snap] = [s for s in listed["snapshots"] if s["name"] == "before-more"]
    assert snap["track"] == a and snap["commit"] == stacks.git("rev-parse", "HEAD")
    assert snap["heads"] == ["0002_audit_keys"] and snap["size"] > 0
    assert Path(listed["folder"]).is_relative_to(stacks.root / ".git")

    changed = stacks.kernel(a, "run", "--ticks", "20", "--seed", "9")
    assert changed.returncode == 0, changed.stderr
    assert len(stacks.audit(a)) > len(before)
    restored = stacks.omc(a, "db", "restore", "before-more", "--yes")
    assert restored.returncode == 0, restored.stderr
    assert stacks.audit(a) == before
    assert stacks.kernel(a, "audit", "verify").returncode == 0

    # Every worktree of the repository sees the same snapshots.
    other = stacks.root.parent / "other-worktree"
    stacks.git("worktree", "add", "-q", "--detach", str(other))
    seen = omc("db", "snapshots", "--format", "json", cwd=other, env=stacks.env(a))
    assert "before-more" in [s["name"] for s in json.loads(seen.stdout)["snapshots"]]

    # Damaged, and from a newer PostgreSQL: refused before anything changes.
    folder = Path(listed["folder"])
    meta = json.loads((folder / "before-more.json").read_text())
    (folder / "broken.json").write_text(json.dumps({**meta, "name": "broken"}))
    (folder / "broken.dump").write_bytes((folder / "before-more.dump").read_bytes()[:-100])
    broken = stacks.omc(a, "db", "restore", "broken", "--yes")
    assert broken.returncode == 2 and "is damaged" in one_line(broken)
    (folder / "future.json").write_text(json.dumps({**meta, "name": "future", "server_major": 99}))
    shutil.copy(folder / "before-more.dump", folder / "future.dump")
    future = stacks.omc(a, "db", "restore", "future", "--yes")
    assert future.returncode == 2 and "PostgreSQL 99" in one_line(future)
    assert stacks.audit(a) == before


def test_a_snapshot_from_a_newer_alembic_head_is_refused_on_an_older_checkout(
    stacks: Scratch,
) -> None:
    b = stacks.b
    stacks.git("checkout", "-q", "-b", "newer")
    try:
        (stacks.root / "kernel/migrations/versions/0003_desk_notes.py").write_text(NEWER_REVISION)
        stacks.git("add", "-A")
        stacks.git("commit", "-q", "-m", "a newer revision")
        reset = stacks.omc(b, "db", "reset", "--yes")
        assert reset.returncode == 0, reset.stderr[-3000:]
        taken = stacks.omc(b, "db", "snapshot", "on-newer")
        assert taken.returncode == 0 and "0003_desk_notes" in taken.stdout, taken.stderr

        stacks.git("checkout", "-q", "main")  # the older checkout: no 0003 here
        refused = stacks.omc(b, "db", "restore", "on-newer", "--yes")
        assert refused.returncode == 2
        line = one_line(refused)
        assert "0003_desk_notes" in line and "--force" in line and "check out" in line
    finally:
        stacks.git("checkout", "-q", "-f", "main")
        assert stacks.omc(b, "db", "reset", "--yes").returncode == 0


def _fingerprint(stacks: Scratch, track: str) -> tuple[Any, ...]:
    with psycopg.connect(stacks.conninfo(track, "omc")) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
            )
        ]
        counts = [conn.execute(f'SELECT count(*) FROM "{t}"').fetchone() for t in tables]
        databases = conn.execute("SELECT datname FROM pg_database ORDER BY 1").fetchall()
    return tables, counts, databases


def test_an_interrupted_clone_leaves_the_target_as_it_was(stacks: Scratch) -> None:
    a, b = stacks.a, stacks.b
    if stacks.omc(b, "up", "db").returncode != 0:
        pytest.fail("track b's db did not start")
    before = _fingerprint(stacks, b)
    source = psycopg.connect(stacks.conninfo(a, "omc"), autocommit=True)
    source.execute(
        "CREATE TABLE bulk AS SELECT g, repeat(md5(g::text), 8) AS pad "
        "FROM generate_series(1, 400000) AS g"
    )
    dumping = (
        "FROM pg_stat_activity WHERE application_name LIKE 'omc-dev-clone-%' "
        "AND query LIKE 'COPY public.bulk%'"
    )
    clones: list[subprocess.Popen[str]] = []

    def start_clone() -> subprocess.Popen[str]:
        clones.append(
            subprocess.Popen(
                omc_argv("db", "clone", "--from", a, "--yes"),
                cwd=stacks.root,
                env=cli_env(stacks.env(b)),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
        return clones[-1]

    def when_streaming(clone: subprocess.Popen[str], sql: str) -> bool:
        deadline = time.monotonic() + 120
        while clone.poll() is None and time.monotonic() < deadline:
            row = source.execute(sql).fetchone()
            if row is not None and row[0]:
                return True
        return False

    try:
        # The dump of the big table is under way: end it from the server's side.
        clone = start_clone()
        killed = when_streaming(clone, f"SELECT pg_terminate_backend(pid) {dumping}")
        _, err = clone.communicate(timeout=300)
        assert killed, f"the dump was never seen streaming: {err}"
        assert clone.returncode == 1, err
        assert err.count("\n") == 1 and "was interrupted" in err and "as it was" in err, err
        assert _fingerprint(stacks, b) == before

        # omc-dev itself is told to stop mid-stream: one line, exit 130, nothing left running.
        clone = start_clone()
        assert when_streaming(clone, f"SELECT count(*) > 0 {dumping}")
        clone.send_signal(signal.SIGTERM)
        _, err = clone.communicate(timeout=300)
        assert clone.returncode == 130, err
        assert err.count("\n") == 1 and "interrupted (SIGTERM)" in err and "as it was" in err
        assert _fingerprint(stacks, b) == before
        # Its pg_dump was ended too (the server lets a terminated backend go within moments).
        gone = time.monotonic() + 30
        while source.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'omc-dev-clone-%'"
        ).fetchone() != (0,):
            assert time.monotonic() < gone, "the clone's pg_dump outlived it"
    finally:
        for clone in clones:
            if clone.poll() is None:
                clone.kill()
        source.execute("DROP TABLE IF EXISTS bulk")
        source.close()


def test_a_source_that_is_not_running_is_one_line(stacks: Scratch) -> None:
    ghost = f"{stacks.a}-ghost"
    proc = stacks.omc(stacks.b, "db", "clone", "--from", ghost, "--yes")
    assert proc.returncode == 125
    line = one_line(proc)
    assert "is not running" in line and f"omc-dev up --track {ghost}" in line and "--start" in line
    assert os.path.isdir(stacks.root)
