"""TradeAudit: an append-only, tamper-evident record of every decision the kernel makes.

Each record's `hash` is SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8) of all its
other fields, `prev_hash` included, so the records form a chain from a genesis hash of zeros.
`verify` replays the chain and names the first broken record. This module has no update or
delete path, and the ORM refuses to flush a changed or deleted record; in the database, triggers
refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL; INSERT OR REPLACE on SQLite), and on
PostgreSQL the application's role may only INSERT and SELECT (kernel/roles.py).

Someone with database access can still rewrite the chain and its head consistently; two things
outside the database catch that. With a keyring configured (kernel/auditkey.py) each record also
carries an HMAC of its hash under a key the database never sees, so a record written or rewritten
without the key is named. An anchor file (kernel/anchor.py) witnesses heads over time, so a tail
cut below an anchor, or a history rewritten under one (even with the key), is found.

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
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from kernel.anchor import Anchor
from kernel.auditkey import Keyring, macs_equal
from kernel.book import Book
from kernel.db import AUDIT_KEYS
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
    key_id: str | None
    mac: str | None


def append(session: Session, entry: Entry, clock: datetime | None = None) -> Record:
    """Add `entry` as the chain's next record. The caller's write transaction serialises this.

    `created_at` is the wall clock when the record is written, so the audit's times always run
    with its sequence; `clock` is the kernel's own time for the decision (the tick's time in a
    simulated run), kept in the inputs. The transaction's book keeps the head and inserts the
    records (one executemany) before it commits. With a keyring in the session (the
    `Database`'s), the record is also signed with the keyring's current key.
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
    keys: Keyring | None = session.info.get(AUDIT_KEYS)
    fields["key_id"], fields["mac"] = (
        keys.sign_record(fields["hash"]) if keys is not None else (None, None)
    )
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
    # sequence_gap | prev_hash_mismatch | hash_mismatch | head_mismatch | mac_mismatch |
    # unknown_key | unauthenticated | anchor_mismatch | anchor_forged | truncated
    problem: str
    detail: str


@dataclass(frozen=True)
class Verification:
    records: int
    head_sequence: int
    first_break: Break | None
    authenticated: bool = False  # a keyring was given: every MAC was checked
    key_ids: tuple[str, ...] = ()  # the keys the records are signed with
    unsigned: int = 0  # records without a MAC
    anchors: int = 0  # anchor lines checked
    last_anchor: Anchor | None = None
    last_hash: str = GENESIS  # the hash of the last record read (what an anchor witnesses)

    @property
    def ok(self) -> bool:
        return self.first_break is None

    def to_json(self, anchor_file: Path | None) -> dict[str, Any]:
        """The verdict as `kernel audit verify --format json` and the dashboard give it."""
        broken, anchor = self.first_break, self.last_anchor
        return {
            "verified": broken is None,
            "records": self.records,
            "head": self.head_sequence,
            "first_broken": None
            if broken is None
            else {"sequence": broken.sequence, "problem": broken.problem, "detail": broken.detail},
            "authenticated": self.authenticated,
            "key_ids": list(self.key_ids),
            "unsigned_records": self.unsigned,
            "anchor_file": None if anchor_file is None else str(anchor_file),
            "anchors": self.anchors,
            "last_anchor": None
            if anchor is None
            else {"sequence": anchor.sequence, "time": anchor.time, "key_id": anchor.key_id},
        }


def _stream(session: Session, after: int = 0) -> Iterator[AuditRecord]:
    stmt = select(AuditRecord).order_by(AuditRecord.sequence)
    if after:
        stmt = stmt.where(AuditRecord.sequence > after)
    yield from session.scalars(stmt.execution_options(yield_per=1000))


def _anchor_problem(anchor: Anchor, keys: Keyring | None) -> Break | None:
    """Whether an anchor line itself is forged (only checkable with its key)."""
    if keys is None or anchor.key_id is None:
        return None
    expected = keys.anchor_mac(anchor.key_id, anchor.time, anchor.sequence, anchor.head)
    if expected is None:
        return Break(
            anchor.sequence,
            "unknown_key",
            f"anchor line {anchor.line} is signed with key {anchor.key_id!r}, which is not in "
            f"the keyring ({keys.origin}): keep retired keys in the keyring",
        )
    if not macs_equal(expected, anchor.mac):
        return Break(
            anchor.sequence,
            "anchor_forged",
            f"anchor line {anchor.line}: its MAC does not match (the anchor file was altered)",
        )
    return None


class _Replay:
    """Replays the chain record by record; `check` returns the first problem with one."""

    def __init__(
        self, keys: Keyring | None, anchors: list[Anchor], accept_unauthenticated: bool
    ) -> None:
        self.keys = keys
        self.accept_unauthenticated = accept_unauthenticated
        self.witnessed: dict[int, list[Anchor]] = {}
        for anchor in anchors:
            self.witnessed.setdefault(anchor.sequence, []).append(anchor)
        # Records up to here are covered by an anchor: a missing MAC there is not a finding.
        self.covered = max((a.sequence for a in anchors), default=0)
        self.expected, self.prev_hash, self.count = 1, GENESIS, 0
        self.last_matching_anchor = 0
        self.key_ids: set[str] = set()
        self.unsigned = 0

    def check(self, record: AuditRecord) -> Break | None:
        self.count += 1
        sequence = record.sequence
        if sequence != self.expected:
            return Break(
                self.expected,
                "sequence_gap",
                f"record {self.expected} is missing (the next record is {sequence})",
            )
        if hash_of(record) != record.hash:
            return Break(
                sequence,
                "hash_mismatch",
                f"record {sequence}: its contents do not match its hash "
                "(changed after it was written)",
            )
        problem = self._authenticity(record)
        if problem is not None:
            return problem
        if record.prev_hash != self.prev_hash:
            culprit = (
                f"record {sequence} was rewritten"
                if self.keys is not None
                else f"record {sequence - 1} or {sequence} was rewritten"
            )
            return Break(
                sequence,
                "prev_hash_mismatch",
                f"record {sequence}: prev_hash does not match the hash of record "
                f"{sequence - 1} ({culprit})",
            )
        for anchor in self.witnessed.get(sequence, ()):
            if record.hash != anchor.head:
                return Break(
                    sequence,
                    "anchor_mismatch",
                    f"record {sequence} differs from what the anchor of {anchor.time} (line "
                    f"{anchor.line}) witnessed: the history after record "
                    f"{self.last_matching_anchor} was rewritten",
                )
        if sequence in self.witnessed:
            self.last_matching_anchor = sequence
        self.prev_hash = record.hash
        self.expected += 1
        return None

    def _authenticity(self, record: AuditRecord) -> Break | None:
        sequence = record.sequence
        if record.mac is None or record.key_id is None:
            self.unsigned += 1
            if self.keys is None or self.accept_unauthenticated:
                return None
            if record.mac is not None or record.key_id is not None:
                return Break(sequence, "mac_mismatch", f"record {sequence}: its MAC was removed")
            # Records from before the key was configured, witnessed by an anchor since.
            if not self.key_ids and sequence <= self.covered:
                return None
            remedy = (
                "witness it with `omc-dev kernel audit anchor --accept-unauthenticated`"
                if not self.key_ids
                else "--accept-unauthenticated skips the MAC check"
            )
            return Break(
                sequence,
                "unauthenticated",
                f"record {sequence} carries no MAC: it was written without the audit key, or "
                f"behind the kernel's back (if it was written without the key, check it, then "
                f"{remedy})",
            )
        self.key_ids.add(record.key_id)
        if self.keys is None:
            return None
        expected = self.keys.record_mac(record.key_id, record.hash)
        if expected is None:
            return Break(
                sequence,
                "unknown_key",
                f"record {sequence} is signed with key {record.key_id!r}, which is not in the "
                f"keyring ({self.keys.origin}): keep retired keys in the keyring",
            )
        if not macs_equal(expected, record.mac):
            return Break(
                sequence,
                "mac_mismatch",
                f"record {sequence}: its MAC does not match (written or rewritten without the key)",
            )
        return None


def verify(
    session: Session,
    keys: Keyring | None = None,
    anchors: list[Anchor] | None = None,
    *,
    accept_unauthenticated: bool = False,
) -> Verification:
    """Replay the chain from genesis; the first record that does not fit is named.

    With `keys`, every record must carry a valid MAC (records at or below an anchor may carry
    none: the anchor witnesses them); with `anchors`, every witnessed record must still have the
    witnessed hash, and none may be missing.
    """
    return Verifier(keys, anchors, accept_unauthenticated=accept_unauthenticated).run(session)


class Verifier:
    """`verify`, resumable: each `run` replays only the records added since the last one.

    It remembers the last verified record's sequence and hash. A later run first checks that
    record is still there with that hash (one row): if not, the history under it was rewritten
    or cut, and the run replays from genesis, so the verdict is always `verify`'s own. A break
    stays: the audit is append-only, so a broken chain cannot mend itself.
    """

    def __init__(
        self,
        keys: Keyring | None = None,
        anchors: list[Anchor] | None = None,
        *,
        accept_unauthenticated: bool = False,
    ) -> None:
        self.keys = keys
        self.anchors = list(anchors or [])
        self.accept_unauthenticated = accept_unauthenticated
        self.full_replays = 0  # how often a run started from genesis (tests and benchmarks)
        self._start()

    def _start(self) -> None:
        self.replay = _Replay(self.keys, self.anchors, self.accept_unauthenticated)
        self.broken: Break | None = None
        self.full_replays += 1
        for anchor in self.anchors:
            self.broken = self.broken or _anchor_problem(anchor, self.keys)

    @property
    def verified_upto(self) -> int:
        """The last record known good (0: none yet)."""
        return self.replay.expected - 1

    def _still_there(self, session: Session) -> bool:
        last = self.verified_upto
        if last == 0:
            return True
        stored = session.scalar(select(AuditRecord.hash).where(AuditRecord.sequence == last))
        return stored == self.replay.prev_hash

    def run(self, session: Session) -> Verification:
        """The verdict as of `session`'s snapshot (give it one: `Database.snapshot()`)."""
        head = session.get(AuditHead, 1)
        head_sequence, head_hash = (head.sequence, head.hash) if head else (0, GENESIS)
        if self.broken is None and not self._still_there(session):
            self._start()
        if self.broken is None:
            for record in _stream(session, after=self.verified_upto):
                self.broken = self.replay.check(record)
                if self.broken is not None:
                    break
        problem = self.broken or self._tail_problem(head_sequence, head_hash)
        return self._result(problem, head_sequence)

    def _tail_problem(self, head_sequence: int, head_hash: str) -> Break | None:
        replay = self.replay
        last = replay.expected - 1
        witnessed = max(replay.witnessed, default=0)
        if witnessed > last:
            anchor = replay.witnessed[witnessed][-1]
            return Break(
                last + 1,
                "truncated",
                f"the chain ends at record {last} but the anchor of {anchor.time} (line "
                f"{anchor.line}) witnessed record {witnessed}: records were removed from the end",
            )
        if last < head_sequence:
            return Break(
                last + 1,
                "head_mismatch",
                f"the chain ends at record {last} but the head says record {head_sequence} "
                "(records were removed from the end)",
            )
        if last > head_sequence:
            return Break(
                head_sequence + 1,
                "head_mismatch",
                f"the chain goes on past the head (record {head_sequence}) to record {last}: "
                f"record {head_sequence + 1} was inserted behind the kernel's back, "
                "or the head was changed",
            )
        if replay.prev_hash != head_hash:
            return Break(
                last,
                "head_mismatch",
                f"record {last}'s hash differs from the head's: record {last} was replaced, "
                "or the head was changed",
            )
        return None

    def _result(self, problem: Break | None, head_sequence: int) -> Verification:
        replay = self.replay
        return Verification(
            replay.count,
            head_sequence,
            problem,
            authenticated=self.keys is not None,
            key_ids=tuple(sorted(replay.key_ids)),
            unsigned=replay.unsigned,
            anchors=len(self.anchors),
            last_anchor=self.anchors[-1] if self.anchors else None,
            last_hash=replay.prev_hash,
        )
