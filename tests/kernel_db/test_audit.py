"""TradeAudit: the hash chain, tamper detection located to the record, append-only everywhere."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, text

from kernel import audit
from kernel.audit import GENESIS, AppendOnly, canonical
from kernel.db import Database
from kernel.models import AuditRecord
from tests.fixtures.cli import omc
from tests.fixtures.kernel import AUDIT_NOW as NOW
from tests.fixtures.kernel import fill_chain, tamper, verified


def test_records_chain_from_genesis_by_sha256_over_canonical_json(db: Database) -> None:
    fill_chain(db, 3)
    with db.read() as s:
        first, second, third = s.scalars(select(AuditRecord).order_by(AuditRecord.sequence))
    assert [first.sequence, second.sequence, third.sequence] == [1, 2, 3]
    assert first.prev_hash == GENESIS and second.prev_hash == first.hash
    body = {
        "sequence": 1,
        "created_at": first.created_at.isoformat(timespec="microseconds"),
        "actor": "actor-0",
        "action": "ALGORITHM_SIGNAL",
        "symbol": "btc",
        "decision": "buy",
        "reason": "reason 0",
        "outcome": "outcome 0",
        "inputs": first.inputs,
        "prev_hash": GENESIS,
    }
    raw = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert first.hash == hashlib.sha256(raw.encode()).hexdigest()
    assert json.loads(first.inputs) == {"clock": NOW.isoformat(), "n": 0, "price": {"last": "100"}}
    assert first.inputs == canonical(json.loads(first.inputs))
    assert first.created_at <= second.created_at <= third.created_at
    result = verified(db)
    assert (result.ok, result.records, result.head_sequence) == (True, 3, 3)


def test_an_empty_chain_verifies(db: Database) -> None:
    result = verified(db)
    assert (result.ok, result.records, result.head_sequence) == (True, 0, 0)


FIELDS: list[tuple[str, Any]] = [
    ("created_at", "2030-01-01 00:00:00"),
    ("actor", "mallory"),
    ("action", "ORDER_FILLED"),
    ("symbol", "eth"),
    ("decision", "allow"),
    ("reason", "nothing to see"),
    ("outcome", "filled"),
    ("inputs", '{"n":99}'),
    ("prev_hash", "f" * 64),
    ("hash", "e" * 64),
]


@pytest.mark.parametrize(("field", "value"), FIELDS, ids=[f for f, _ in FIELDS])
@pytest.mark.parametrize("target", [1, 3, 5])
def test_changing_any_field_of_any_record_is_detected_and_located(
    db: Database, field: str, value: Any, target: int
) -> None:
    fill_chain(db, 5)
    if field == "created_at" and db.dialect == "postgresql":
        value = datetime(2030, 1, 1, tzinfo=UTC)
    tamper(
        db, f"UPDATE audit_records SET {field} = :v WHERE sequence = :s", {"v": value, "s": target}
    )
    result = verified(db)
    assert result.first_break is not None
    assert result.first_break.sequence == target, result.first_break


def test_a_changed_sequence_number_is_located(db: Database) -> None:
    fill_chain(db, 5)
    tamper(db, "UPDATE audit_records SET sequence = 99 WHERE sequence = 3")
    broken = verified(db).first_break
    assert broken is not None and (broken.sequence, broken.problem) == (3, "sequence_gap")


def test_a_rewritten_record_with_a_fresh_hash_breaks_the_next_link(db: Database) -> None:
    fill_chain(db, 5)
    with db.read() as s:
        record = s.get(AuditRecord, 2)
        assert record is not None
        forged = audit.record_hash(
            sequence=2,
            created_at=record.created_at,
            actor="mallory",
            action=record.action,
            symbol=record.symbol,
            decision=record.decision,
            reason=record.reason,
            outcome=record.outcome,
            inputs=record.inputs,
            prev_hash=record.prev_hash,
        )
    tamper(
        db,
        "UPDATE audit_records SET actor = 'mallory', hash = :h WHERE sequence = 2",
        {"h": forged},
    )
    broken = verified(db).first_break
    assert broken is not None and (broken.sequence, broken.problem) == (3, "prev_hash_mismatch")


def test_a_deleted_record_and_a_cut_tail_are_located(db: Database) -> None:
    fill_chain(db, 5)
    tamper(db, "DELETE FROM audit_records WHERE sequence = 5")
    broken = verified(db).first_break
    assert broken is not None and (broken.sequence, broken.problem) == (5, "head_mismatch")
    assert "removed from the end" in broken.detail
    tamper(db, "DELETE FROM audit_records WHERE sequence = 2")
    broken = verified(db).first_break
    assert broken is not None and (broken.sequence, broken.problem) == (2, "sequence_gap")


def test_a_moved_head_is_reported(db: Database) -> None:
    fill_chain(db, 2)
    with db.write() as s:
        s.execute(text("UPDATE audit_head SET sequence = 1"))
    broken = verified(db).first_break
    assert broken is not None and broken.problem == "head_mismatch"
    assert "the head was changed" in broken.detail


def test_the_orm_refuses_to_change_or_delete_a_record(db: Database) -> None:
    fill_chain(db, 2)
    with pytest.raises(AppendOnly, match="cannot be changed"), db.write() as s:
        record = s.get(AuditRecord, 1)
        assert record is not None
        record.actor = "mallory"
    with pytest.raises(AppendOnly, match="cannot be deleted"), db.write() as s:
        s.delete(s.get(AuditRecord, 2))
    assert verified(db).ok


def test_the_cli_lists_filters_and_verifies(db: Database) -> None:
    fill_chain(db, 6)
    proc = omc("kernel", "audit", "show", "--db", db.url, "--format", "json", "--limit", "2")
    assert proc.returncode == 0, proc.stderr
    assert [r["sequence"] for r in json.loads(proc.stdout)["records"]] == [5, 6]
    proc = omc(
        "kernel",
        "audit",
        "show",
        "--db",
        db.url,
        "--format",
        "json",
        "--actor",
        "actor-1",
        "--action",
        "order_denied",
    )
    assert [r["sequence"] for r in json.loads(proc.stdout)["records"]] == [2, 4, 6]
    table = omc("kernel", "audit", "show", "--db", db.url)
    assert table.returncode == 0 and "ORDER_DENIED" in table.stdout
    ok = omc("kernel", "audit", "verify", "--db", db.url)
    assert ok.returncode == 0 and "audit chain intact: 6 records" in ok.stdout

    tamper(db, "UPDATE audit_records SET reason = 'edited' WHERE sequence = 4")
    broken = omc("kernel", "audit", "verify", "--db", db.url)
    assert broken.returncode == 1
    assert "broken at record 4" in broken.stdout
    as_json = json.loads(
        omc("kernel", "audit", "verify", "--db", db.url, "--format", "json").stdout
    )
    assert as_json["verified"] is False and as_json["first_broken"]["sequence"] == 4
    misuse = omc("kernel", "audit", "verify", "--db", db.url, "--actor", "x")
    assert misuse.returncode == 2 and misuse.stderr.count("\n") == 1


def test_a_record_inserted_past_the_head_is_named_at_that_record(db: Database) -> None:
    # Written behind the kernel's back with a correct hash and link; the head left alone.
    fill_chain(db, 3)
    with db.read() as s:
        last = s.get(AuditRecord, 3)
        assert last is not None
        fields: dict[str, Any] = {
            "sequence": 4,
            "created_at": last.created_at,
            "actor": "mallory",
            "action": last.action,
            "symbol": last.symbol,
            "decision": last.decision,
            "reason": last.reason,
            "outcome": last.outcome,
            "inputs": last.inputs,
            "prev_hash": last.hash,
        }
    columns = [*fields, "hash"]
    tamper(
        db,
        f"INSERT INTO audit_records ({', '.join(columns)}) "
        f"VALUES ({', '.join(':' + c for c in columns)})",
        {**fields, "hash": audit.record_hash(**fields)},
    )
    broken = verified(db).first_break
    assert broken is not None and (broken.sequence, broken.problem) == (4, "head_mismatch")
    assert "record 4 was inserted behind the kernel's back" in broken.detail
