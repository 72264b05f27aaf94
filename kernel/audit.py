"""TradeAudit: an append-only, tamper-evident record of every decision the kernel makes.

Each record's `hash` is SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8) of all its
other fields, `prev_hash` included, so the records form a chain from a genesis hash of zeros.
`verify` replays the chain and names the first broken record. This module has no update or
delete path, and the ORM refuses to flush a changed or deleted record; in the database, triggers
refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL).

Appends happen inside a write transaction (`Database.write()`), whose lock serialises them: the
head (last sequence, last hash) lives in the `audit_head` singleton, and in the transaction's book
until it commits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from kernel.book import Book
from kernel.models import AuditAction, AuditHead, AuditRecord
from kernel.money import plain

GENESIS = "0" * 64


class AppendOnly(Exception):
    """Something tried to change or delete an audit record through the ORM."""


@event.listens_for(AuditRecord, "before_update")
def _refuse_update(_mapper: Any, _connection: Any, target: AuditRecord) -> None:
    raise AppendOnly(f"audit record {target.sequence} is append-only: it cannot be changed")


@event.listens_for(AuditRecord, "before_delete")
def _refuse_delete(_mapper: Any, _connection: Any, target: AuditRecord) -> None:
    raise AppendOnly(f"audit record {target.sequence} is append-only: it cannot be deleted")


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    raise TypeError(f"not JSON-serialisable for the audit: {type(value).__name__}")


def canonical(value: Any) -> str:
    """The one JSON text of `value`: what gets hashed and stored, byte for byte."""
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_default,
    )


def _time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


# The string escaper json.dumps(ensure_ascii=False) itself uses (the C one when available).
_quote: Callable[[str], str] = json.encoder.encode_basestring


def _text(value: str | None) -> str:
    return "null" if value is None else _quote(value)


def record_hash(
    *,
    sequence: int,
    created_at: datetime,
    actor: str,
    action: str,
    symbol: str | None,
    decision: str | None,
    reason: str | None,
    outcome: str | None,
    inputs: str,
    prev_hash: str,
) -> str:
    """SHA-256 over `canonical()` of the record's fields (prev_hash included), without building
    the dict: the body's keys are fixed, so it is spelled out in sorted-key order. A test holds
    this equal to `canonical(body)` for arbitrary text."""
    body = (
        f'{{"action":{_quote(action)},"actor":{_quote(actor)},'
        f'"created_at":{_quote(_time(created_at))},"decision":{_text(decision)},'
        f'"inputs":{_quote(inputs)},"outcome":{_text(outcome)},'
        f'"prev_hash":{_quote(prev_hash)},"reason":{_text(reason)},'
        f'"sequence":{int(sequence)},"symbol":{_text(symbol)}}}'
    )
    return hashlib.sha256(body.encode()).hexdigest()


def hash_of(record: AuditRecord) -> str:
    """The hash `record` should carry, recomputed from its stored fields."""
    return record_hash(
        sequence=record.sequence,
        created_at=record.created_at,
        actor=record.actor,
        action=record.action,
        symbol=record.symbol,
        decision=record.decision,
        reason=record.reason,
        outcome=record.outcome,
        inputs=record.inputs,
        prev_hash=record.prev_hash,
    )


@dataclass(frozen=True)
class Entry:
    """A decision to record."""

    actor: str  # a strategy id, "guard", or an operator's name
    action: AuditAction
    symbol: str | None = None
    decision: str | None = None  # allow | deny | buy | sell | trip | reset | ...
    reason: str | None = None  # the reason code or the operator's words
    outcome: str | None = None
    inputs: Mapping[str, Any] = field(default_factory=dict)  # price, limits in force, mode, ...


@dataclass(frozen=True, slots=True)
class Record:
    """A record as `append` wrote it (the row `audit_records` gets at commit)."""

    sequence: int
    created_at: datetime
    actor: str
    action: str
    symbol: str | None
    decision: str | None
    reason: str | None
    outcome: str | None
    inputs: str
    prev_hash: str
    hash: str


def append(session: Session, entry: Entry, clock: datetime | None = None) -> Record:
    """Add `entry` as the chain's next record. The caller's write transaction serialises this.

    `created_at` is the wall clock when the record is written, so the audit's times always run
    with its sequence; `clock` is the kernel's own time for the decision (the tick's time in a
    simulated run), kept in the inputs. The transaction's book keeps the head and inserts the
    records (one executemany) before it commits.
    """
    book = Book.of(session)
    head_sequence, prev_hash = book.audit_head
    created_at = datetime.now(UTC)
    snapshot = dict(entry.inputs)
    if clock is not None:
        snapshot["clock"] = clock
    fields: dict[str, Any] = {
        "sequence": head_sequence + 1,
        "created_at": created_at,
        "actor": entry.actor,
        "action": str(entry.action),
        "symbol": entry.symbol,
        "decision": entry.decision,
        "reason": entry.reason,
        "outcome": entry.outcome,
        "inputs": canonical(snapshot),
        "prev_hash": prev_hash,
    }
    fields["hash"] = record_hash(**fields)
    book.add_audit(fields)
    return Record(**fields)


# --- reading and verifying --------------------------------------------------------------------


def query(
    session: Session,
    *,
    limit: int | None = None,
    actor: str | None = None,
    action: str | None = None,
    actions: tuple[str, ...] = (),
) -> list[AuditRecord]:
    """The last `limit` matching records, oldest first."""
    stmt = select(AuditRecord).order_by(AuditRecord.sequence.desc())
    if actor is not None:
        stmt = stmt.where(AuditRecord.actor == actor)
    if action is not None:
        stmt = stmt.where(AuditRecord.action == action)
    if actions:
        stmt = stmt.where(AuditRecord.action.in_(actions))
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(reversed(session.scalars(stmt).all()))


@dataclass(frozen=True)
class Break:
    sequence: int  # the first broken record
    problem: str  # sequence_gap | prev_hash_mismatch | hash_mismatch | head_mismatch
    detail: str


@dataclass(frozen=True)
class Verification:
    records: int
    head_sequence: int
    first_break: Break | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


def _stream(session: Session) -> Iterator[AuditRecord]:
    yield from session.scalars(
        select(AuditRecord).order_by(AuditRecord.sequence).execution_options(yield_per=1000)
    )


def verify(session: Session) -> Verification:
    """Replay the chain from genesis; the first record that does not fit is named."""
    head = session.get(AuditHead, 1)
    head_sequence, head_hash = (head.sequence, head.hash) if head else (0, GENESIS)
    expected, prev_hash, count = 1, GENESIS, 0
    for record in _stream(session):
        count += 1
        if record.sequence != expected:
            return Verification(
                count,
                head_sequence,
                Break(
                    expected,
                    "sequence_gap",
                    f"record {expected} is missing (the next record is {record.sequence})",
                ),
            )
        if record.prev_hash != prev_hash:
            return Verification(
                count,
                head_sequence,
                Break(
                    record.sequence,
                    "prev_hash_mismatch",
                    f"record {record.sequence}: prev_hash does not match the hash of record "
                    f"{record.sequence - 1}",
                ),
            )
        if hash_of(record) != record.hash:
            return Verification(
                count,
                head_sequence,
                Break(
                    record.sequence,
                    "hash_mismatch",
                    f"record {record.sequence}: its contents do not match its hash "
                    "(changed after it was written)",
                ),
            )
        prev_hash = record.hash
        expected += 1
    last = expected - 1
    if last != head_sequence or prev_hash != head_hash:
        return Verification(
            count,
            head_sequence,
            Break(
                last + 1,
                "head_mismatch",
                f"the chain ends at record {last} but the head says record {head_sequence} "
                f"({'records were removed from the end' if head_sequence > last else 'the head was changed'})",
            ),
        )
    return Verification(count, head_sequence, None)
