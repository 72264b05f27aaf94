"""The pure parts of db clone/snapshot/restore: snapshot descriptions, pruning, the Alembic-head
rule, the roles replayed on a target, what a failed copy means, and the byte pump."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from devtools.dbcopy import roles
from devtools.dbcopy.faults import explain
from devtools.dbcopy.restore import STAGING, beside
from devtools.dbcopy.snapshots import (
    Retention,
    Snapshot,
    Store,
    check_name,
    retention,
    to_prune,
    unknown_heads,
)
from devtools.dbcopy.stream import Outcome, transfer
from devtools.errors import UnusableInput
from devtools.report.exitcodes import EXIT_ENVIRONMENT, EXIT_FINDINGS, EXIT_USAGE
from tests.fixtures.cli import omc
from tests.fixtures.git import GitRepo

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def snap(name: str, age_days: float = 0, **changes: object) -> Snapshot:
    fields: dict[str, object] = {
        "name": name,
        "created": (NOW - timedelta(days=age_days)).isoformat(timespec="seconds"),
        "track": "main",
        "project": "omc-main-1234abcd",
        "commit": "a" * 40,
        "heads": ("0002_audit_keys",),
        "database": "omc",
        "owner": "omc",
        "server_major": 15,
        "size": 1234,
        "sha256": "0" * 64,
        "roles_sql": "CREATE ROLE omc_app;\n",
    }
    fields.update(changes)
    return Snapshot(**fields)  # type: ignore[arg-type]


def write(store: Store, s: Snapshot, dump: bytes = b"PGDMP") -> None:
    store.meta(s.name).write_text(json.dumps(s.to_json()))
    store.dump(s.name).write_bytes(dump)


# --- descriptions and the store --------------------------------------------------------------


def test_a_description_reads_back_as_written(tmp_path: Path) -> None:
    store = Store(tmp_path)
    original = snap("before-upgrade", heads=("a1", "b2"), commit=None)
    write(store, original)
    assert store.read("before-upgrade") == original
    assert "roles_sql" not in original.summary()


@pytest.mark.parametrize(
    "text",
    ["", "{", "[]", '{"format": 1}', '{"format": 99, "name": "x"}', "null"],
)
def test_a_damaged_description_is_one_line_naming_the_fix(tmp_path: Path, text: str) -> None:
    store = Store(tmp_path)
    store.meta("s1").write_text(text)
    store.dump("s1").write_bytes(b"PGDMP")
    with pytest.raises(UnusableInput, match=r"snapshot 's1' is damaged .* delete it"):
        store.read("s1")
    assert store.all() == ([], ["s1"])


def test_a_missing_snapshot_points_at_the_list(tmp_path: Path) -> None:
    with pytest.raises(UnusableInput, match=r"no snapshot 'nope'.*omc-dev db snapshots"):
        Store(tmp_path).read("nope")


def test_listing_is_oldest_first_and_a_dump_without_its_description_is_not_a_snapshot(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path)
    write(store, snap("new", 1))
    write(store, snap("old", 3))
    store.dump("half").write_bytes(b"PGDMP")  # a dump whose description never got written
    write(store, snap("lost", 2))
    store.dump("lost").unlink()
    found, damaged = store.all()
    assert [s.name for s in found] == ["old", "new"]
    assert damaged == ["lost"]
    store.delete("old")
    assert not store.meta("old").exists() and not store.dump("old").exists()


@pytest.mark.parametrize("name", ["", ".hidden", "a/b", "../up", "x" * 65, "sp ace", "-x"])
def test_unusable_names_are_refused(name: str) -> None:
    with pytest.raises(UnusableInput, match="not usable"):
        check_name(name)


def test_usable_names_pass() -> None:
    assert check_name("main-20261204-120000") == "main-20261204-120000"
    assert check_name("v1.2_before") == "v1.2_before"


# --- pruning ---------------------------------------------------------------------------------


def test_pruning_by_count_keeps_the_newest() -> None:
    snaps = [snap(f"s{n}", age_days=n) for n in range(5)]  # s0 newest
    doomed = to_prune(snaps, Retention(keep=2, max_age_days=None), NOW)
    assert sorted(s.name for s in doomed) == ["s2", "s3", "s4"]


def test_pruning_by_age_and_never_the_one_just_taken() -> None:
    snaps = [snap("fresh", 1), snap("stale", 40), snap("taken", 50)]
    doomed = to_prune(snaps, Retention(keep=None, max_age_days=30), NOW, protect="taken")
    assert [s.name for s in doomed] == ["stale"]


def test_the_protected_one_counts_toward_the_limit() -> None:
    snaps = [snap("a", 1), snap("b", 2), snap("taken", 3)]
    doomed = to_prune(snaps, Retention(keep=2, max_age_days=None), NOW, protect="taken")
    assert [s.name for s in doomed] == ["b"]


def test_retention_settings() -> None:
    assert retention({}) == Retention(10, None)
    assert retention({"snapshot-keep": 0}) == Retention(None, None)
    assert retention({"snapshot-keep": 3, "snapshot-max-age-days": 7}) == Retention(3, 7.0)
    for bad in ({"snapshot-keep": -1}, {"snapshot-keep": "5"}, {"snapshot-keep": True}):
        with pytest.raises(UnusableInput, match="snapshot-keep must be a whole number"):
            retention(bad)
    with pytest.raises(UnusableInput, match="snapshot-max-age-days must be a number"):
        retention({"snapshot-max-age-days": 0})


# --- the Alembic-head rule -------------------------------------------------------------------


def test_only_revisions_outside_the_history_are_refused() -> None:
    known = {"0001_kernel_schema", "0002_audit_keys"}
    assert unknown_heads(("0002_audit_keys",), known) == []
    assert unknown_heads(("0003_future", "0002_audit_keys"), known) == ["0003_future"]
    assert unknown_heads((), known) == []


# --- roles -----------------------------------------------------------------------------------

DUMPALL = '''\
SET default_transaction_read_only = off;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;

CREATE ROLE omc;
ALTER ROLE omc WITH SUPERUSER INHERIT CREATEROLE CREATEDB LOGIN REPLICATION BYPASSRLS PASSWORD 'SCRAM-SHA-256$4096:x';
CREATE ROLE omc_app;
ALTER ROLE omc_app WITH NOSUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS PASSWORD 'SCRAM-SHA-256$4096:y';
CREATE ROLE "Report ""Reader""";
ALTER ROLE "Report ""Reader""" WITH NOLOGIN;
GRANT omc_app TO "Report ""Reader""" GRANTED BY omc;
'''


def test_roles_replay_creates_what_is_missing_and_leaves_the_connected_role_alone() -> None:
    script = roles.replayable(DUMPALL, existing={"omc", 'Report "Reader"'}, connected_as="omc")
    lines = script.splitlines()
    assert "CREATE ROLE omc;" not in lines
    assert not any(line.startswith("ALTER ROLE omc WITH") for line in lines)
    assert "CREATE ROLE omc_app;" in lines
    assert any(line.startswith("ALTER ROLE omc_app WITH") for line in lines)  # its password
    assert 'CREATE ROLE "Report ""Reader""";' not in lines  # exists already
    assert 'ALTER ROLE "Report ""Reader""" WITH NOLOGIN;' in lines
    assert lines[-1].startswith("GRANT omc_app")
    assert roles.created_roles(DUMPALL) == ["omc", "omc_app", 'Report "Reader"']


def test_a_target_connected_as_another_role_gets_the_sources_owner_created() -> None:
    script = roles.replayable(DUMPALL, existing={"postgres"}, connected_as="postgres")
    assert "CREATE ROLE omc;" in script.splitlines()


# --- faults ----------------------------------------------------------------------------------


def outcome(**changes: object) -> Outcome:
    fields: dict[str, object] = {
        "streamed": 10,
        "producer_rc": 0,
        "producer_err": "",
        "consumer_rc": 0,
        "consumer_err": "",
    }
    fields.update(changes)
    return Outcome(**fields)  # type: ignore[arg-type]


KEPT = "database omc of track b is as it was"


def test_an_interrupted_dump_is_named_as_such_and_says_the_target_is_kept() -> None:
    fault = explain(
        outcome(
            producer_rc=1,
            producer_err="pg_dump: error: Dumping the contents of table \"big\" failed: "
            "PQgetResult() failed.\npg_dump: detail: Error message from server: FATAL:  "
            "terminating connection due to administrator command\n",
            consumer_rc=1,
            consumer_err="pg_restore: error: could not read input file: end of file\n",
        ),
        source="track a", target="track b", kept=KEPT, from_file=False,
    )  # fmt: skip
    assert fault.exit_code == EXIT_FINDINGS
    assert fault.message.startswith("the dump of track a was interrupted")
    assert KEPT in fault.message and "\n" not in fault.message


def test_a_producer_we_stopped_is_not_blamed() -> None:
    fault = explain(
        outcome(
            producer_rc=-15,
            producer_stopped=True,
            consumer_rc=1,
            consumer_err='pg_restore: error: could not execute query: ERROR:  type "x" does not exist\n',
        ),
        source="track a", target="track b", kept=KEPT, from_file=False,
    )  # fmt: skip
    assert fault.message.startswith("the restore into track b failed")


def test_a_damaged_or_foreign_snapshot_is_unusable_input() -> None:
    damaged = explain(
        outcome(consumer_rc=1, consumer_err="pg_restore: error: did not find magic string in file header\n"),
        source="snapshot s1", target="track b", kept=KEPT, from_file=True,
    )  # fmt: skip
    assert damaged.exit_code == EXIT_USAGE
    assert damaged.message.startswith("snapshot s1 is damaged or incomplete")
    newer = explain(
        outcome(consumer_rc=1, consumer_err="pg_restore: error: unsupported version (1.16) in file header\n"),
        source="snapshot s1", target="track b", kept=KEPT, from_file=True,
    )  # fmt: skip
    assert newer.exit_code == EXIT_USAGE and "newer pg_dump" in newer.message


def test_a_full_disk_is_the_environment() -> None:
    fault = explain(
        outcome(
            consumer_rc=1,
            consumer_err='pg_restore: error: could not extend file "base/16384/2619": No space left on device\n',
        ),
        source="track a", target="track b", kept=KEPT, from_file=False,
    )  # fmt: skip
    assert fault.exit_code == EXIT_ENVIRONMENT and "disk space" in fault.message


def test_staging_names_fit_postgres_identifiers() -> None:
    assert beside("omc", STAGING) == "omc__omc_restore"
    assert len(beside("x" * 63, STAGING)) == 63


# --- the pump, with real processes -----------------------------------------------------------

PRODUCE = "import sys; sys.stdout.buffer.write(b'x' * 3_000_000)"
CONSUME_COUNT = "import sys; n = len(sys.stdin.buffer.read()); sys.stderr.write(str(n))"


def test_bytes_flow_from_one_process_to_another() -> None:
    done = transfer([sys.executable, "-c", PRODUCE], [sys.executable, "-c", CONSUME_COUNT])
    assert done.ok and done.streamed == 3_000_000 and done.consumer_err == "3000000"


def test_a_file_is_written_and_hashed(tmp_path: Path) -> None:
    import hashlib

    out = tmp_path / "dump"
    with out.open("wb") as fh:
        done = transfer([sys.executable, "-c", PRODUCE], fh)
    assert done.ok and out.read_bytes() == b"x" * 3_000_000
    assert done.sha256 == hashlib.sha256(b"x" * 3_000_000).hexdigest()
    back = transfer(out, [sys.executable, "-c", CONSUME_COUNT])
    assert back.ok and back.consumer_err == "3000000"


def test_a_consumer_that_gives_up_stops_the_producer() -> None:
    endless = "import sys\nwhile True: sys.stdout.buffer.write(b'x' * 65536)"
    quits = "import sys; sys.stdin.buffer.read(1000); sys.exit(3)"
    done = transfer([sys.executable, "-c", endless], [sys.executable, "-c", quits])
    assert done.consumer_rc == 3 and done.producer_stopped and not done.ok


def test_a_producer_that_fails_half_way_is_reported() -> None:
    half = "import sys; sys.stdout.buffer.write(b'x' * 100000); sys.stdout.flush(); sys.exit(1)"
    done = transfer([sys.executable, "-c", half], [sys.executable, "-c", CONSUME_COUNT])
    assert done.producer_rc == 1 and not done.producer_stopped and done.streamed == 100000


def test_a_full_disk_raises_after_ending_the_producer() -> None:
    import errno

    endless = "import sys\nwhile True: sys.stdout.buffer.write(b'x' * 65536)"
    with Path("/dev/full").open("wb") as full, pytest.raises(OSError) as raised:
        transfer([sys.executable, "-c", endless], full)
    assert raised.value.errno == errno.ENOSPC


def test_an_interrupt_says_what_is_left_and_exits_130() -> None:
    from devtools.dbcopy.restore import interrupted
    from devtools.errors import Stopped, UserError

    stopped = interrupted(Stopped("SIGTERM"), KEPT)
    assert isinstance(stopped, UserError) and stopped.exit_code == 130
    assert str(stopped) == f"interrupted (SIGTERM); {KEPT}"
    assert interrupted(KeyboardInterrupt(), KEPT).exit_code == 130  # type: ignore[attr-defined]
    other = ValueError("x")
    assert interrupted(other, KEPT) is other


# --- the commands, before any engine is needed ---------------------------------------------


def test_listing_no_snapshots_writes_nothing_and_restoring_a_missing_one_is_one_line(
    git_repo: GitRepo,
) -> None:
    listed = omc("db", "snapshots", "--format", "json", cwd=git_repo.path)
    assert listed.returncode == 0, listed.stderr
    doc = json.loads(listed.stdout)
    assert doc["snapshots"] == [] and doc["damaged"] == []
    assert not Path(doc["folder"]).exists()
    assert Path(doc["folder"]).is_relative_to(git_repo.path / ".git")
    missing = omc("db", "restore", "nope", "--yes", cwd=git_repo.path)
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1, missing.stderr
    assert "no snapshot 'nope'" in missing.stderr
