"""SQLite: INSERT OR REPLACE deletes the row it replaces without firing the DELETE trigger, so
revision 0002 refuses any insert over an existing record's sequence or hash."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from kernel.db import Database
from kernel.models import AuditRecord
from tests.fixtures.kernel import fill_chain, verified

COLUMNS = "sequence, created_at, actor, action, inputs, prev_hash, hash"


def snapshot(db: Database) -> list[tuple[Any, ...]]:
    with db.read() as s:
        return [
            (r.sequence, r.actor, r.reason, r.hash)
            for r in s.scalars(select(AuditRecord).order_by(AuditRecord.sequence))
        ]


@pytest.mark.parametrize(
    ("statement", "params"),
    [
        (  # same sequence: REPLACE would delete record 2 and put the forgery in its place
            f"INSERT OR REPLACE INTO audit_records ({COLUMNS}) "
            "SELECT sequence, created_at, 'mallory', action, inputs, prev_hash, :h "
            "FROM audit_records WHERE sequence = 2",
            {"h": "f" * 64},
        ),
        (  # the same spelled REPLACE INTO
            f"REPLACE INTO audit_records ({COLUMNS}) "
            "SELECT sequence, created_at, 'mallory', action, inputs, prev_hash, :h "
            "FROM audit_records WHERE sequence = 2",
            {"h": "f" * 64},
        ),
        (  # a new sequence but record 1's hash: REPLACE would delete record 1 (UNIQUE hash)
            f"INSERT OR REPLACE INTO audit_records ({COLUMNS}) "
            "SELECT 99, created_at, actor, action, inputs, prev_hash, hash "
            "FROM audit_records WHERE sequence = 1",
            {},
        ),
    ],
    ids=["insert-or-replace", "replace-into", "replace-by-hash"],
)
def test_replacing_a_record_is_refused(
    db: Database, statement: str, params: dict[str, Any]
) -> None:
    fill_chain(db, 3)
    before = snapshot(db)
    with pytest.raises(IntegrityError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text(statement), params)
    assert snapshot(db) == before
    assert verified(db).ok
