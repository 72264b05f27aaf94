"""What `omc-dev kernel status --format json` prints and `GET /status` serves: one snapshot, one shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kernel import prices
from kernel.db import Database
from kernel.exchange import PaperExchange
from kernel.models import (
    AlertOutbox,
    AuditHead,
    AuditRecord,
    Balance,
    DayOpen,
    Order,
    Position,
    Strategy,
    TradingStateRow,
)
from kernel.money import ZERO, plain, q8
from kernel.prices import Quote
from kernel.schema_version import head_revision, require_current
from kernel.settings import KernelSettings, Limits, load_settings


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def snapshot(
    db: Database, settings: KernelSettings | None = None, *, audit_limit: int = 10
) -> dict[str, Any]:
    """The kernel's state as plain JSON-ready data (amounts as exact decimal strings)."""
    settings = settings or load_settings()
    require_current(db)
    with db.read() as session:
        trading = _trading(session)
        quotes = prices.latest(session, _priced_symbols(session, settings))
        return {
            "database": db.display_url,
            "schema": {"revision": head_revision()},
            **trading,
            "limits": _limits(settings, trading["market"]["mode"]),
            "strategies": _strategies(session),
            "balances": _balances(session),
            "positions": _positions(session, quotes),
            "pnl": _pnl(session, settings, quotes),
            "orders": _orders(session),
            "audit": _audit(session, audit_limit),
            "alerts": _alerts(session),
        }


def _priced_symbols(session: Session, settings: KernelSettings) -> set[str]:
    return {*settings.symbols, *session.scalars(select(Position.symbol))}


def _limits(settings: KernelSettings, mode: str) -> dict[str, Any]:
    configured = settings.limits
    in_force = (
        configured.tightened(settings.volatility.factor) if mode == "VOLATILE" else configured
    )

    def notional(limits: Limits) -> dict[str, str]:
        return {
            "max_order_notional": plain(limits.max_order_notional),
            "max_position_notional": plain(limits.max_position_notional),
            "max_gross_exposure": plain(limits.max_gross_exposure),
            "max_net_exposure": plain(limits.max_net_exposure),
        }

    return {
        "in_force": notional(in_force),
        "configured": notional(configured),
        "volatile_factor": plain(settings.volatility.factor),
        "daily_loss_limit": plain(configured.daily_loss_limit),
        "reduce_only_at": plain(configured.reduce_only_at),
        "order_rate": f"{configured.order_rate_limit} per {configured.order_rate_window:g}s",
        "max_price_age_seconds": configured.max_price_age,
    }


def _pnl(session: Session, settings: KernelSettings, quotes: dict[str, Quote]) -> dict[str, Any]:
    account = PaperExchange(
        settings.symbols, quote=settings.quote, fee_rate=settings.fee_rate
    ).account(session)
    marks = {s: q.last for s, q in quotes.items()}
    equity = q8(account.equity(marks))
    unrealized = sum(
        (h.quantity * marks[s] - h.cost for s, h in account.holdings.items() if s in marks), ZERO
    )
    day_open = session.scalars(select(DayOpen).order_by(DayOpen.created_at.desc()).limit(1)).first()
    return {
        "currency": settings.quote,
        "equity": plain(equity),
        "deposited": plain(account.deposited),
        "total": plain(equity - account.deposited),
        "realized": plain(account.realized_pnl),
        "unrealized": plain(q8(unrealized)),
        "fees": plain(account.fees_paid),
        "day": None
        if day_open is None
        else {
            "since": iso(day_open.created_at),
            "open_equity": plain(day_open.equity),
            "pnl": plain(equity - day_open.equity),
        },
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


def _positions(session: Session, quotes: dict[str, Quote]) -> list[dict[str, Any]]:
    rows = []
    for p in session.scalars(select(Position).order_by(Position.symbol)):
        quote = quotes.get(p.symbol)
        value = q8(p.quantity * quote.last) if quote is not None else None
        rows.append(
            {
                "symbol": p.symbol,
                "quantity": plain(p.quantity),
                "reserved": plain(p.reserved),
                "cost": plain(p.cost),
                "mark": plain(quote.last) if quote is not None else None,
                "marked_at": iso(quote.ts) if quote is not None else None,
                "value": plain(value) if value is not None else None,
                "unrealized_pnl": plain(value - p.cost) if value is not None else None,
                "realized_pnl": plain(p.realized_pnl),
            }
        )
    return rows


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
