"""The tamper suite: someone with database access (and, unless said, without the audit key)
rewrites the audit every way they can; `verify`, holding the key and the anchors, names the first
record that differs. Runs on SQLite (unit) and PostgreSQL (postgres tier)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kernel import audit
from kernel.anchor import Anchor, append_anchor, make_anchor, read_anchors
from kernel.audit import GENESIS, Verification, verify
from kernel.auditkey import Keyring, parse_keyring
from kernel.db import Database
from kernel.models import AuditHead, AuditRecord
from tests.fixtures.kernel import fill_chain, tamper, tamper_all

OURS = parse_keyring(f"k1:{'1' * 40} k2:{'2' * 40}", "the operator's keyring")
THEIRS = parse_keyring(f"k2:{'x' * 40}", "the attacker's guess")  # same id, wrong secret
COLUMNS = (
    "sequence",
    "created_at",
    "actor",
    "action",
    "symbol",
    "decision",
    "reason",
    "outcome",
    "inputs",
    "prev_hash",
    "hash",
    "key_id",
    "mac",
)
N = 7


@pytest.fixture
def keyed(db: Database) -> Iterator[Database]:
    db.audit_keys = OURS
    fill_chain(db, N)
    yield db


def rows(db: Database) -> list[dict[str, Any]]:
    with db.read() as s:
        records = s.scalars(select(AuditRecord).order_by(AuditRecord.sequence)).all()
        return [{c: getattr(r, c) for c in COLUMNS} for r in records]


def take_anchor(db: Database, path: Path) -> Anchor:
    with db.read() as s:
        result = verify(s, db.audit_keys, read_anchors(path))
    assert result.ok, result.first_break
    anchor = make_anchor(result.records, result.last_hash, db.audit_keys)
    append_anchor(path, anchor)
    return anchor


def checked(db: Database, anchors: Path | None = None, keys: Keyring | None = OURS) -> Verification:
    with db.read() as s:
        return verify(s, keys, read_anchors(anchors) if anchors else [])


def located(result: Verification) -> tuple[int, str]:
    assert result.first_break is not None, "the tampering went unseen"
    return result.first_break.sequence, result.first_break.problem


def rewrite(
    db: Database,
    new_rows: list[dict[str, Any]],
    *,
    sign: Keyring | None = None,
    strip: bool = False,
    start: int = 1,
    head: tuple[int, str] | None = None,
) -> None:
    """Replace the whole table by `new_rows`, rechained: every hash and prev_hash recomputed,
    as someone who read kernel/audit.py would. MACs are copied (they cannot be made without the
    key); from record `start` on they are re-signed with `sign` (a key the attacker holds or
    guessed) or removed (`strip`). The head follows the new chain unless `head` is given."""
    prev = GENESIS
    chained = []
    for original in new_rows:
        row = {**original, "prev_hash": prev}
        fields = {c: row[c] for c in COLUMNS if c not in ("hash", "key_id", "mac")}
        row["hash"] = audit.record_hash(**fields)
        if sign is not None and row["sequence"] >= start:
            row["key_id"], row["mac"] = sign.sign_record(row["hash"])
        if strip and row["sequence"] >= start:
            row["key_id"] = row["mac"] = None
        chained.append(row)
        prev = row["hash"]
    sequence, head_hash = head if head is not None else (len(chained), prev)
    insert = (
        f"INSERT INTO audit_records ({', '.join(COLUMNS)}) "
        f"VALUES ({', '.join(':' + c for c in COLUMNS)})"
    )
    tamper_all(
        db,
        [
            ("DELETE FROM audit_records", {}),
            *((insert, row) for row in chained),
            ("UPDATE audit_head SET sequence = :s, hash = :h", {"s": sequence, "h": head_hash}),
        ],
    )


def edited(records: list[dict[str, Any]], sequence: int, **changes: Any) -> list[dict[str, Any]]:
    return [{**r, **changes} if r["sequence"] == sequence else r for r in records]


# --- with the key and no anchor: every change to a record is named at that record ---------------


def test_an_intact_signed_chain_verifies_with_the_keys_it_was_signed_with(keyed: Database) -> None:
    result = checked(keyed)
    assert result.ok and result.authenticated
    assert (result.records, result.key_ids, result.unsigned) == (N, ("k2",), 0)


def test_an_edited_field_is_named_at_its_record(keyed: Database) -> None:
    tamper(keyed, "UPDATE audit_records SET reason = 'edited' WHERE sequence = 3")
    assert located(checked(keyed)) == (3, "hash_mismatch")


def test_an_edit_with_its_own_hash_recomputed_is_named_at_the_edited_record(
    keyed: Database,
) -> None:
    records = rows(keyed)
    forged = edited(records, 3, actor="mallory")[2]
    forged_hash = audit.record_hash(
        **{c: forged[c] for c in COLUMNS if c not in ("hash", "key_id", "mac")}
    )
    tamper(
        keyed,
        "UPDATE audit_records SET actor = 'mallory', hash = :h WHERE sequence = 3",
        {"h": forged_hash},
    )
    assert located(checked(keyed)) == (3, "mac_mismatch")


def test_an_edit_with_the_whole_chain_and_head_rehashed_is_named_at_the_edit(
    keyed: Database,
) -> None:
    rewrite(keyed, edited(rows(keyed), 3, decision="allow"))
    assert located(checked(keyed)) == (3, "mac_mismatch")


def test_a_rehash_with_the_macs_stripped_is_named_at_the_first_unsigned_record(
    keyed: Database,
) -> None:
    rewrite(keyed, edited(rows(keyed), 5, outcome="nothing"), strip=True, start=5)
    assert located(checked(keyed)) == (5, "unauthenticated")


def test_a_rehash_signed_with_a_guessed_key_is_named_at_the_edit(keyed: Database) -> None:
    rewrite(keyed, edited(rows(keyed), 2, symbol="eth"), sign=THEIRS, start=2)
    assert located(checked(keyed)) == (2, "mac_mismatch")


def test_a_mac_naming_an_unknown_key_is_named(keyed: Database) -> None:
    tamper(keyed, "UPDATE audit_records SET key_id = 'k9' WHERE sequence = 6")
    assert located(checked(keyed)) == (6, "unknown_key")


def test_a_removed_mac_is_named(keyed: Database) -> None:
    tamper(keyed, "UPDATE audit_records SET mac = NULL WHERE sequence = 4")
    assert located(checked(keyed)) == (4, "mac_mismatch")


def test_a_deleted_record_is_named_whether_or_not_the_rest_is_renumbered(
    keyed: Database,
) -> None:
    tamper(keyed, "DELETE FROM audit_records WHERE sequence = 4")
    assert located(checked(keyed)) == (4, "sequence_gap")
    records = rows(keyed)
    renumbered = [{**r, "sequence": i} for i, r in enumerate(records, 1)]
    rewrite(keyed, renumbered)
    assert located(checked(keyed)) == (4, "mac_mismatch")


def test_reordered_records_are_named_at_the_first_moved_one(keyed: Database) -> None:
    records = rows(keyed)
    swapped = [*records[:2], {**records[3], "sequence": 3}, {**records[2], "sequence": 4}]
    swapped += records[4:]
    tamper_all(
        keyed,
        [("DELETE FROM audit_records WHERE sequence IN (3, 4)", {})]
        + [
            (
                f"INSERT INTO audit_records ({', '.join(COLUMNS)}) "
                f"VALUES ({', '.join(':' + c for c in COLUMNS)})",
                row,
            )
            for row in swapped[2:4]
        ],
    )
    assert located(checked(keyed)) == (3, "hash_mismatch")
    rewrite(keyed, swapped)  # rechained: every hash fits again
    assert located(checked(keyed)) == (3, "mac_mismatch")


def test_a_forged_record_appended_with_the_head_moved_is_named(keyed: Database) -> None:
    records = rows(keyed)
    forged = {**records[-1], "sequence": N + 1, "actor": "mallory"}
    rewrite(keyed, [*records, forged])  # it carries a MAC copied from record N
    assert located(checked(keyed)) == (N + 1, "mac_mismatch")
    rewrite(keyed, [*records, forged], strip=True, start=N + 1)
    assert located(checked(keyed)) == (N + 1, "unauthenticated")
    rewrite(keyed, [*records, forged], sign=THEIRS, start=N + 1)
    assert located(checked(keyed)) == (N + 1, "mac_mismatch")


@pytest.mark.parametrize("keys", [OURS, None], ids=["with-key", "without-key"])
def test_a_forged_record_with_the_head_untouched_is_named_at_the_forged_record(
    keyed: Database, keys: Keyring | None
) -> None:
    records = rows(keyed)
    forged = {**records[-1], "sequence": N + 1, "actor": "mallory"}
    rewrite(keyed, [*records, forged], head=(N, records[-1]["hash"]))
    sequence, _problem = located(checked(keyed, keys=keys))
    assert sequence == N + 1


def test_a_head_moved_back_is_named_at_the_first_record_past_it(keyed: Database) -> None:
    records = rows(keyed)
    tamper(
        keyed,
        "UPDATE audit_head SET sequence = 5, hash = :h",
        {"h": records[4]["hash"]},
    )
    assert located(checked(keyed)) == (6, "head_mismatch")
    tamper(keyed, "UPDATE audit_head SET sequence = :n, hash = :h", {"n": N, "h": "f" * 64})
    assert located(checked(keyed)) == (N, "head_mismatch")


# --- the anchor: what the key alone cannot see ----------------------------------------------------


def test_a_tail_cut_below_the_anchor_with_the_head_moved_is_named(
    keyed: Database, tmp_path: Path
) -> None:
    anchors = tmp_path / "anchors.jsonl"
    take_anchor(keyed, anchors)
    records = rows(keyed)
    rewrite(keyed, records[:4])  # the head follows: the chain alone looks whole
    assert checked(keyed).ok  # why the anchor exists
    assert located(checked(keyed, anchors)) == (5, "truncated")


def test_everything_deleted_and_the_head_reset_is_named_at_record_1(
    keyed: Database, tmp_path: Path
) -> None:
    anchors = tmp_path / "anchors.jsonl"
    take_anchor(keyed, anchors)
    tamper_all(
        keyed,
        [
            ("DELETE FROM audit_records", {}),
            ("UPDATE audit_head SET sequence = 0, hash = :g", {"g": GENESIS}),
        ],
    )
    assert checked(keyed).ok
    assert located(checked(keyed, anchors)) == (1, "truncated")


def test_a_rehash_with_the_key_under_an_anchor_is_found_between_two_anchors(
    db: Database, tmp_path: Path
) -> None:
    db.audit_keys = OURS
    anchors = tmp_path / "anchors.jsonl"
    fill_chain(db, 2)
    take_anchor(db, anchors)
    fill_chain(db, N - 2)
    take_anchor(db, anchors)
    # Someone holding the signing key rewrites record 4 and re-signs from there on.
    rewrite(db, edited(rows(db), 4, reason="rewritten"), sign=OURS, start=4)
    assert checked(db).ok  # the key alone cannot tell
    broken = checked(db, anchors).first_break
    assert broken is not None and broken.problem == "anchor_mismatch"
    assert broken.sequence == N and "after record 2" in broken.detail


def test_a_forged_anchor_line_is_named(keyed: Database, tmp_path: Path) -> None:
    anchors = tmp_path / "anchors.jsonl"
    anchor = take_anchor(keyed, anchors)
    records = rows(keyed)
    rewrite(keyed, records[:5])
    # They also rewrite the witness, but cannot sign it.
    forged = replace(anchor, sequence=5, head=records[4]["hash"])
    anchors.write_text(forged.as_json() + "\n")
    assert located(checked(keyed, anchors)) == (5, "anchor_forged")


# --- keys: rotation, and records from before the key ---------------------------------------------


def test_rotation_keeps_old_records_verifying_with_the_old_key(db: Database) -> None:
    db.audit_keys = parse_keyring(f"k1:{'1' * 40}", "old")
    fill_chain(db, 3)
    db.audit_keys = OURS  # k2 appended: it signs from now on
    fill_chain(db, 2)
    result = checked(db)
    assert result.ok and result.key_ids == ("k1", "k2")
    assert [r["key_id"] for r in rows(db)] == ["k1", "k1", "k1", "k2", "k2"]
    # Dropping the retired key from the keyring leaves its records unverifiable: named.
    broken = checked(db, keys=parse_keyring(f"k2:{'2' * 40}", "k2 only")).first_break
    assert broken is not None and (broken.sequence, broken.problem) == (1, "unknown_key")
    assert "keep retired keys" in broken.detail


def test_records_from_before_the_key_pass_once_an_anchor_witnesses_them(
    db: Database, tmp_path: Path
) -> None:
    fill_chain(db, 3)  # no key yet
    db.audit_keys = OURS
    fill_chain(db, 2)
    assert located(checked(db)) == (1, "unauthenticated")
    anchors = tmp_path / "anchors.jsonl"
    with db.read() as s:
        result = verify(s, OURS, [], accept_unauthenticated=True)
    assert result.ok
    append_anchor(anchors, make_anchor(result.records, result.last_hash, OURS))
    fill_chain(db, 2)
    result = checked(db, anchors)
    assert result.ok and result.unsigned == 3
    # An unsigned record after signed ones is not excused by an anchor.
    records = rows(db)
    rewrite(db, [*records, {**records[-1], "sequence": 8, "key_id": None, "mac": None}])
    assert located(checked(db, anchors)) == (8, "unauthenticated")


def test_without_a_key_the_chain_verifies_as_before_and_says_it_is_unauthenticated(
    db: Database,
) -> None:
    fill_chain(db, 3)
    result = checked(db, keys=None)
    assert result.ok and not result.authenticated and result.unsigned == 3


def test_verify_sees_one_snapshot_while_the_kernel_appends(keyed: Database) -> None:
    # On PostgreSQL's default isolation the records would be read after the head, newer than it:
    # a false "inserted behind the kernel's back".
    with keyed.snapshot() as s:
        head = s.get(AuditHead, 1)
        assert head is not None and head.sequence == N
        fill_chain(keyed, 2)  # committed by another connection meanwhile
        result = verify(s, OURS)
    assert result.ok and result.records == N, result.first_break
    assert checked(keyed).records == N + 2


def test_an_anchor_appended_for_a_rewritten_history_does_not_outvote_the_first(
    keyed: Database, tmp_path: Path
) -> None:
    anchors = tmp_path / "anchors.jsonl"
    take_anchor(keyed, anchors)
    # With the key and append access to the witness (it only grows), they rewrite and re-anchor.
    rewrite(keyed, edited(rows(keyed), N, outcome="never happened"), sign=OURS, start=N)
    with keyed.read() as s:
        result = verify(s, OURS)
    append_anchor(anchors, make_anchor(result.records, result.last_hash, OURS))
    broken = checked(keyed, anchors).first_break
    assert broken is not None and (broken.sequence, broken.problem) == (N, "anchor_mismatch")
    assert "line 1" in broken.detail
