"""The kill switch: latched in the database, survives restarts, reset only by a named operator.

Tripping (by an operator, or by the Guard on a daily-loss breach) sets trading to HALTED, records
KILL_SWITCH_TRIPPED in the audit and queues the alerts, all in the caller's one transaction: the
halt is committed before any alert is attempted. A reset needs a name and a reason, and is audited
and alerted the same way. The history is read from the audit chain, so it is tamper-evident too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from kernel import alerts, audit
from kernel.book import Book, StateRow
from kernel.errors import KernelError, UnusableInput
from kernel.models import AuditAction, AuditRecord, TradingState

GUARD = "guard"  # the actor name of automatic trips
MAX_NAME = 64


@dataclass(frozen=True)
class SwitchChange:
    changed: bool  # False: it was already in that position
    state: TradingState
    alert_id: str | None
    record: audit.Record | None


def state_row(session: Session) -> StateRow:
    """The transaction's trading-state row (its book's): change it here, it is written back."""
    return Book.of(session).state


def _words(value: str, what: str) -> str:
    text = " ".join(value.split())
    if not text:
        raise UnusableInput(f"the kill switch needs a non-empty {what}")
    return text


def operator_name(value: str) -> str:
    name = _words(value, "operator name (--by)")
    if len(name) > MAX_NAME:
        raise UnusableInput(f"the operator name is longer than {MAX_NAME} characters")
    return name


def trip(
    session: Session, *, by: str, reason: str, now: datetime, channels: tuple[str, ...] = ()
) -> SwitchChange:
    """Latch the switch (HALTED). Tripping a tripped switch changes nothing and says so."""
    by, reason = operator_name(by), _words(reason, "reason (--reason)")
    row = state_row(session)
    if row.state == TradingState.HALTED:
        return SwitchChange(False, TradingState.HALTED, None, None)
    previous = row.state
    row.state = TradingState.HALTED
    row.tripped_at, row.tripped_by, row.trip_reason = now, by, reason
    row.updated_at = now
    record = audit.append(
        session,
        audit.Entry(
            actor=by,
            action=AuditAction.KILL_SWITCH_TRIPPED,
            decision="trip",
            reason=reason,
            outcome=f"trading {previous} -> HALTED",
            inputs={"previous_state": previous, "market_mode": row.market_mode},
        ),
        clock=now,
    )
    alert_id = alerts.enqueue(
        session,
        event=AuditAction.KILL_SWITCH_TRIPPED,
        title="Kill switch TRIPPED",
        by=by,
        reason=reason,
        state=TradingState.HALTED,
        now=now,
        channels=channels,
    )
    return SwitchChange(True, TradingState.HALTED, alert_id, record)


def reset(
    session: Session, *, by: str, reason: str, now: datetime, channels: tuple[str, ...] = ()
) -> SwitchChange:
    """Unlatch: trading becomes ACTIVE (the Guard may make it REDUCING on its next look)."""
    by, reason = operator_name(by), _words(reason, "reason (--reason)")
    if by == GUARD:
        raise UnusableInput(f"{GUARD!r} trips automatically but cannot reset: name the operator")
    row = state_row(session)
    if row.state != TradingState.HALTED:
        raise KernelError(
            f"the kill switch is not tripped (trading is {row.state}): nothing to reset"
        )
    row.state = TradingState.ACTIVE
    row.reset_at, row.reset_by, row.reset_reason = now, by, reason
    row.updated_at = now
    record = audit.append(
        session,
        audit.Entry(
            actor=by,
            action=AuditAction.KILL_SWITCH_RESET,
            decision="reset",
            reason=reason,
            outcome="trading HALTED -> ACTIVE",
            inputs={
                "tripped_at": row.tripped_at,
                "tripped_by": row.tripped_by,
                "trip_reason": row.trip_reason,
            },
        ),
        clock=now,
    )
    alert_id = alerts.enqueue(
        session,
        event=AuditAction.KILL_SWITCH_RESET,
        title="Kill switch RESET",
        by=by,
        reason=reason,
        state=TradingState.ACTIVE,
        now=now,
        channels=channels,
    )
    return SwitchChange(True, TradingState.ACTIVE, alert_id, record)


def loss_acknowledged(row: StateRow, now: datetime) -> bool:
    """An operator reset the switch during the current UTC day: a daily-loss breach that is
    still there means REDUCING for the rest of the day, not another trip."""
    return row.reset_at is not None and row.reset_at.date() == now.date()


def history(session: Session, limit: int | None = None) -> list[AuditRecord]:
    return audit.query(
        session,
        limit=limit,
        actions=(AuditAction.KILL_SWITCH_TRIPPED, AuditAction.KILL_SWITCH_RESET),
    )
