"""The day's equity curve, rebuilt from what the kernel already keeps: fills and the Glass ledger.

Cash moves only by the one deposit that funds the account and by fills, so at any moment
    equity = deposited - buys (notional + fee) + sells (notional - fee) + holdings at their marks
where a holding's mark is its symbol's latest price at or before that moment (at cost without a
usable one, as the Guard values it). The curve has a point at every moment of the day a price
was recorded or a fill happened (kernel clock: a simulated tick's time), replaying every fill in
order, so the last point is the equity `kernel status` reports and the first is the day's opening
equity the daily loss limit starts from. Long days are thinned to at most `max_points` points for
drawing, keeping each stretch's lowest and highest point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel import prices
from kernel.exchange import holding_value
from kernel.models import Balance, DayOpen, Fill, Price, Side
from kernel.money import ZERO, plain, q8
from kernel.settings import KernelSettings

MAX_POINTS = 600  # what a chart a page wide can show; the JSON says how many there were


@dataclass(frozen=True)
class Point:
    at: datetime
    equity: Decimal


@dataclass(frozen=True)
class EquityCurve:
    day: date
    currency: str
    points: list[Point]  # oldest first, thinned to at most max_points
    total_points: int  # before thinning
    open_equity: Decimal | None  # the day's recorded baseline (DayOpen), if trading looked
    reduce_at: Decimal | None  # equity below which trading turns REDUCING
    trip_at: Decimal | None  # equity at which the daily loss limit trips the kill switch


def default_day(session: Session, today: date) -> date:
    """The day of the ledger's last price (a simulated day may not be today), else `today`."""
    last = prices.last_timestamp(session)
    return last.date() if last is not None else today


@dataclass
class _Holding:
    quantity: Decimal = ZERO
    cost: Decimal = ZERO


def _apply_fill(cash: Decimal, held: _Holding, f: Any) -> Decimal:
    """One fill, as the exchange settles it (kernel/exchange.py `_settle`); the new cash."""
    quantity: Decimal = f.quantity
    notional: Decimal = f.notional
    fee: Decimal = f.fee
    if f.side == Side.BUY:
        held.quantity += quantity
        held.cost += notional
        return cash - notional - fee
    released = held.cost if quantity == held.quantity else q8(held.cost * quantity / held.quantity)
    held.quantity -= quantity
    held.cost -= released
    return cash + notional - fee


def curve(
    session: Session, settings: KernelSettings, day: date, *, max_points: int = MAX_POINTS
) -> EquityCurve:
    start = datetime.combine(day, time(), tzinfo=UTC)
    end = start + timedelta(days=1)
    cash_row = session.get(Balance, settings.quote)
    points: list[Point] = []
    if cash_row is not None:
        points = _replay(session, settings.symbols, cash_row.deposited, start, end)
    baseline = session.scalars(
        select(DayOpen.equity)
        .where(DayOpen.created_at >= start, DayOpen.created_at < end)
        .order_by(DayOpen.created_at)
        .limit(1)
    ).first()
    limits = settings.limits
    return EquityCurve(
        day=day,
        currency=settings.quote,
        points=thin(points, max_points),
        total_points=len(points),
        open_equity=baseline,
        reduce_at=(
            baseline - limits.daily_loss_limit * limits.reduce_only_at
            if baseline is not None
            else None
        ),
        trip_at=baseline - limits.daily_loss_limit if baseline is not None else None,
    )


def _replay(
    session: Session, symbols: Sequence[str], deposited: Decimal, start: datetime, end: datetime
) -> list[Point]:
    fills = session.execute(
        select(Fill.created_at, Fill.symbol, Fill.side, Fill.quantity, Fill.notional, Fill.fee)
        .where(Fill.created_at < end)
        .order_by(Fill.created_at, Fill.id)
    ).all()
    # Each symbol's mark as the day opens, then every price of the day in order: per symbol, so
    # each is a range of the (symbol, ts) index, however long the ledger.
    marks: dict[str, Decimal] = {}
    day_prices: list[Any] = []
    for symbol in sorted({*symbols, *(f.symbol for f in fills)}):
        opening = session.scalars(
            select(Price.last)
            .where(Price.symbol == symbol, Price.ts < start)
            .order_by(Price.ts.desc(), Price.id.desc())
            .limit(1)
        ).first()
        if opening is not None:
            marks[symbol] = opening
        day_prices += session.execute(
            select(Price.ts, Price.id, Price.symbol, Price.last).where(
                Price.symbol == symbol, Price.ts >= start, Price.ts < end
            )
        ).all()
    day_prices.sort(key=lambda row: (row.ts, row.id))  # the ledger's order: by time, then arrival

    cash = deposited
    holdings: dict[str, _Holding] = {}

    def equity() -> Decimal:
        total = cash
        for symbol, h in holdings.items():
            total += holding_value(h.quantity, h.cost, marks.get(symbol))
        return q8(total)

    points: list[Point] = []
    i = j = 0
    # Fills before the day make the opening book; the day's fills and prices merge in time order.
    while i < len(fills) and fills[i].created_at < start:
        f = fills[i]
        cash = _apply_fill(cash, holdings.setdefault(f.symbol, _Holding()), f)
        i += 1
    while i < len(fills) or j < len(day_prices):
        at = min(
            fills[i].created_at if i < len(fills) else end,
            day_prices[j].ts if j < len(day_prices) else end,
        )
        while j < len(day_prices) and day_prices[j].ts == at:
            marks[day_prices[j].symbol] = day_prices[j].last
            j += 1
        while i < len(fills) and fills[i].created_at == at:
            f = fills[i]
            cash = _apply_fill(cash, holdings.setdefault(f.symbol, _Holding()), f)
            i += 1
        points.append(Point(at, equity()))
    return points


def thin(points: list[Point], max_points: int) -> list[Point]:
    """At most `max_points` (at least 4) points: the first, the last, and in between each equal
    stretch of time's lowest and highest, in time order, so no dip or spike disappears."""
    if len(points) <= max_points:
        return points
    inner = points[1:-1]
    buckets = max(1, (max_points - 2) // 2)
    t0, t1 = inner[0].at, inner[-1].at
    span = (t1 - t0).total_seconds() or 1.0
    groups: list[list[Point]] = [[] for _ in range(buckets)]
    for p in inner:
        k = min(buckets - 1, int((p.at - t0).total_seconds() / span * buckets))
        groups[k].append(p)
    kept = [points[0]]
    for group in groups:
        if not group:
            continue
        low = min(group, key=lambda p: p.equity)
        high = max(group, key=lambda p: p.equity)
        kept.extend(sorted({id(low): low, id(high): high}.values(), key=lambda p: p.at))
    kept.append(points[-1])
    return kept


def curve_json(c: EquityCurve) -> dict[str, Any]:
    def amount(value: Decimal | None) -> str | None:
        return plain(value) if value is not None else None

    equities = [p.equity for p in c.points]
    return {
        "day": c.day.isoformat(),
        "currency": c.currency,
        "open_equity": amount(c.open_equity),
        "reduce_only_below": amount(c.reduce_at),
        "trips_at": amount(c.trip_at),
        "low": amount(min(equities)) if equities else None,
        "high": amount(max(equities)) if equities else None,
        "last": amount(equities[-1]) if equities else None,
        "points_total": c.total_points,
        "points": [{"at": p.at.isoformat(), "equity": plain(p.equity)} for p in c.points],
    }
