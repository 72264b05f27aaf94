"""What `omc-dev status --format json` prints and `GET /status` serves: one snapshot, one shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kernel.db import Database
from kernel.models import (
    AlertOutbox,
    AuditHead,
    AuditRecord,
    Balance,
    Order,
    Position,
    Strategy,
    TradingStateRow,
)
from kernel.money import plain
from kernel.schema import head_revision, require_current


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def snapshot(db: Database, *, audit_limit: int = 10) -> dict[str, Any]:
    """The kernel's state as plain JSON-ready data (amounts as exact decimal strings)."""
    require_current(db)
    with db.read() as session:
        return {
            "database": db.display_url,
            "schema": {"revision": head_revision()},
            **_trading(session),
            "strategies": _strategies(session),
            "balances": _balances(session),
            "positions": _positions(session),
            "orders": _orders(session),
            "audit": _audit(session, audit_limit),
            "alerts": _alerts(session),
        }


def _trading(session: Session) -> dict[str, Any]:
    row = session.get(TradingStateRow, 1)
    assert row is not None, "trading_state singleton missing (the migration seeds it)"
    return {
        "trading": {
            "state": row.state,
            "kill_switch": {
                "tripped": row.state == "HALTED",
                "tripped_at": iso(row.tripped_at),
                "tripped_by": row.tripped_by,
                "trip_reason": row.trip_reason,
                "reset_at": iso(row.reset_at),
                "reset_by": row.reset_by,
                "reset_reason": row.reset_reason,
            },
        },
        "market": {"mode": row.market_mode, "changed_at": iso(row.mode_changed_at)},
    }


def _strategies(session: Session) -> list[dict[str, Any]]:
    import json

    return [
        {
            "id": s.id,
            "kind": s.kind,
            "symbols": s.symbols.split(",") if s.symbols else [],
            "params": json.loads(s.params),
            "started_at": iso(s.started_at),
            "last_tick_at": iso(s.last_tick_at),
            "ticks": s.ticks,
        }
        for s in session.scalars(select(Strategy).order_by(Strategy.id))
    ]


def _balances(session: Session) -> list[dict[str, Any]]:
    return [
        {
            "asset": b.asset,
            "free": plain(b.free),
            "reserved": plain(b.reserved),
            "deposited": plain(b.deposited),
            "fees_paid": plain(b.fees_paid),
        }
        for b in session.scalars(select(Balance).order_by(Balance.asset))
    ]


def _positions(session: Session) -> list[dict[str, Any]]:
    return [
        {
            "symbol": p.symbol,
            "quantity": plain(p.quantity),
            "reserved": plain(p.reserved),
            "cost": plain(p.cost),
            "realized_pnl": plain(p.realized_pnl),
        }
        for p in session.scalars(select(Position).order_by(Position.symbol))
    ]


def _orders(session: Session) -> dict[str, int]:
    counts = {"open": 0, "filled": 0, "cancelled": 0}
    for status, n in session.execute(select(Order.status, func.count()).group_by(Order.status)):
        counts[status] = n
    return counts


def audit_record_dict(r: AuditRecord) -> dict[str, Any]:
    import json

    return {
        "sequence": r.sequence,
        "created_at": iso(r.created_at),
        "actor": r.actor,
        "action": r.action,
        "symbol": r.symbol,
        "decision": r.decision,
        "reason": r.reason,
        "outcome": r.outcome,
        "inputs": json.loads(r.inputs),
        "prev_hash": r.prev_hash,
        "hash": r.hash,
    }


def _audit(session: Session, limit: int) -> dict[str, Any]:
    head = session.get(AuditHead, 1)
    last = session.scalars(
        select(AuditRecord).order_by(AuditRecord.sequence.desc()).limit(limit)
    ).all()
    return {
        "records": head.sequence if head else 0,
        "last": [audit_record_dict(r) for r in reversed(last)],
    }


def _alerts(session: Session) -> dict[str, int]:
    counts = {"pending": 0, "delivered": 0, "failed": 0}
    rows = session.execute(select(AlertOutbox.status, func.count()).group_by(AlertOutbox.status))
    for status, n in rows:
        counts[status] = n
    return counts
