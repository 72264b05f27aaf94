"""The desk: everything that must happen atomically for one order, or for one tick.

An order: take a `GuardContext` from the transaction's book (read under the write lock), ask the
Guard, audit the decision, send allowed orders to the PaperExchange, audit what it did (and each
fill), trip the kill switch if the Guard says so. A tick: store the prices in the Glass ledger,
match resting orders, re-measure volatility (market mode), re-assess the trading state. Each runs
inside one write transaction, so concurrent submitters see each other's effects in full or not at
all.

Durability: no order's outcome is returned before the commit that contains it has returned, so
every acknowledged order is durable (SQLite: WAL with synchronous=FULL). Commits are grouped:
`submit` lets orders from concurrent threads share one transaction and one commit
(`kernel.group_commit`); `submit_many` puts a caller's batch (say, one tick's orders for several
symbols) in one. Inside a transaction the orders are judged one after the other, each seeing the
effects of those before it, so no limit can be breached inside a group either.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from kernel import audit, killswitch, prices
from kernel.book import Book, OrderRow
from kernel.db import Database
from kernel.errors import UnusableInput
from kernel.exchange import (
    ExchangeResult,
    FillResult,
    OrderRequest,
    PaperExchange,
    holding_value,
)
from kernel.group_commit import GroupCommit
from kernel.guard import (
    Assessment,
    Decision,
    Guard,
    GuardContext,
    assess,
    snapshot_inputs,
)
from kernel.market_mode import ModeChange, VolatilityWindow, next_mode
from kernel.models import AuditAction, DayOpen, MarketMode, TradingState
from kernel.money import ZERO, plain, q8
from kernel.prices import Quote, Tick
from kernel.settings import KernelSettings

MAX_ACTOR = 64
# Built once: constructing a statement costs more than running it on SQLite.
_DAY_OPEN = select(DayOpen.equity).where(
    DayOpen.created_at >= bindparam("start"), DayOpen.created_at < bindparam("end")
)
_INSERT_DAY_OPEN = insert(DayOpen)


def utcnow() -> datetime:
    return datetime.now(UTC)


def utc_midnight(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Outcome:
    decision: Decision
    result: ExchangeResult | None = None  # None: the Guard denied it
    tripped: bool = False  # this decision tripped the kill switch

    @property
    def accepted(self) -> bool:
        return self.result is not None and self.result.accepted

    @property
    def fills(self) -> tuple[FillResult, ...]:
        return self.result.fills if self.result is not None else ()


@dataclass
class TickReport:
    filled: list[tuple[OrderRow, FillResult]] = field(default_factory=list)
    mode_change: ModeChange | None = None
    assessment: Assessment | None = None
    tripped: bool = False


class Desk:
    def __init__(self, db: Database, settings: KernelSettings, *, guard: Guard | None = None):
        self.db = db
        self.settings = settings
        self.guard = guard or Guard()
        self.exchange = PaperExchange(
            settings.symbols, quote=settings.quote, fee_rate=settings.fee_rate
        )
        self.channels = tuple(settings.alerts.channels)
        self.volatility = VolatilityWindow(settings.volatility.window)
        self.symbols = frozenset(settings.symbols)
        self._group = GroupCommit(self._commit_group)
        # Baselines other transactions committed (a day_open row never changes once committed).
        self._day_opens: dict[date, Decimal] = {}

    def warm_up(self, session: Session, symbols: Iterable[str]) -> None:
        """Load the volatility window from the Glass ledger (before the first tick)."""
        for symbol in symbols:
            self.volatility.observe(prices.recent(session, symbol, self.volatility.window + 1))

    # --- the snapshot the Guard decides on --------------------------------------------------

    def context(
        self,
        session: Session,
        now: datetime,
        quotes: Mapping[str, Quote] | None = None,
        *,
        for_order: bool = True,
    ) -> GuardContext:
        """The Guard's snapshot, from the transaction's book; `quotes` are prices already in
        hand (the tick just recorded). `for_order=False` (assessing the trading state only)
        skips the order-rate count."""
        limits = self.settings.limits
        since = now - timedelta(seconds=limits.order_rate_window) if for_order else None
        book = Book.of(session, symbols=self.settings.symbols, orders_since=since)
        row = book.state
        known = {**book.latest_quotes(self.settings.symbols), **(quotes or {})}
        cash = book.balances.get(self.settings.quote)
        equity = cash.free + cash.reserved if cash is not None else ZERO
        positions = {}
        for symbol, p in book.positions.items():
            quote = known.get(symbol)
            equity += holding_value(p.quantity, p.cost, quote.last if quote is not None else None)
            if p.quantity:
                positions[symbol] = p.quantity
        return GuardContext(
            now=now,
            state=TradingState(row.state),
            mode=MarketMode(row.market_mode),
            limits=limits,
            volatile_factor=self.settings.volatility.factor,
            symbols=self.symbols,
            quotes=known,
            positions=positions,
            open_buys=book.open_buys(),
            equity=equity,
            day_open_equity=self._day_open(book, now, equity),
            loss_acknowledged=killswitch.loss_acknowledged(row, now),
            recent_orders=book.orders_since(since) if since is not None else 0,
        )

    def _day_open(self, book: Book, now: datetime, equity: Decimal) -> Decimal:
        """The day's baseline equity, recorded by the first look of each UTC day."""
        midnight = utc_midnight(now)
        day = midnight.date()
        # This transaction's own baseline first: it is not committed yet, so not shared.
        known = book.day_opens.get(day) or self._day_opens.get(day)
        if known is not None:
            return known
        existing = book.conn.execute(
            _DAY_OPEN, {"start": midnight, "end": midnight + timedelta(days=1)}
        ).scalar()
        if existing is not None:
            self._day_opens[day] = existing
            return existing
        baseline = book.day_opens[day] = q8(equity)
        book.conn.execute(_INSERT_DAY_OPEN, {"created_at": now, "equity": baseline})
        return baseline

    # --- orders ---------------------------------------------------------------------------

    def submit(self, request: OrderRequest, now: datetime | None = None) -> Outcome:
        """Guard, exchange and audit for one order; returns once its transaction has committed
        (durably). Orders submitted from other threads at the same moment share that
        transaction and its commit (`kernel.group_commit`), each judged after the effects of
        those before it. Without `now`, the order is decided at that transaction's time."""
        return self._group.submit((request, _actor(request), now))

    def _commit_group(
        self, orders: Sequence[tuple[OrderRequest, str, datetime | None]]
    ) -> list[Outcome]:
        with self.db.write() as session:
            # Orders without a time of their own are decided at the transaction's time, as one
            # tick's are: one order-rate count serves them all.
            clock = utcnow()
            return [self._submit(session, r, actor, when or clock) for r, actor, when in orders]

    def submit_many(
        self, requests: Sequence[OrderRequest], now: datetime | None = None
    ) -> list[Outcome]:
        """Group commit: the orders in one serialised transaction, in order, each judged after
        the effects of those before it; returned only once the one commit made them all durable.
        A malformed actor refuses the whole batch before anything is written."""
        return self._commit_group([(r, _actor(r), now) for r in requests])

    def submit_in(
        self,
        session: Session,
        request: OrderRequest,
        now: datetime,
        quotes: Mapping[str, Quote] | None = None,
    ) -> Outcome:
        """One order inside the caller's write transaction (the strategy loop's tick)."""
        return self._submit(session, request, _actor(request), now, quotes)

    def _submit(
        self,
        session: Session,
        request: OrderRequest,
        actor: str,
        now: datetime,
        quotes: Mapping[str, Quote] | None = None,
    ) -> Outcome:
        ctx = self.context(session, now, quotes)
        decision = self.guard.check(request, ctx)
        inputs = snapshot_inputs(request, ctx)
        symbol = request.symbol if request.symbol in ctx.symbols else None
        if not decision.allowed:
            audit.append(
                session,
                audit.Entry(
                    actor=actor,
                    action=AuditAction.ORDER_DENIED,
                    symbol=symbol,
                    decision="deny",
                    reason=decision.reason,
                    outcome=decision.detail,
                    inputs={**inputs, "check": decision.check},
                ),
                clock=now,
            )
            tripped = decision.trip and self._trip(session, decision.detail, now)
            return Outcome(decision, None, tripped)
        result = self.exchange.submit(session, request, now, quote=ctx.quotes[request.symbol])
        if result.accepted:
            outcome = f"order {result.order_id}: {result.detail}"
        else:
            outcome = f"rejected by the exchange: {result.detail}"
        audit.append(
            session,
            audit.Entry(
                actor=actor,
                action=AuditAction.ORDER_SUBMITTED,
                symbol=symbol,
                decision="allow",
                reason=result.reason,
                outcome=outcome,
                inputs={**inputs, "order_id": result.order_id},
            ),
            clock=now,
        )
        for fill in result.fills:
            self._audit_fill(session, fill, actor, now)
        return Outcome(decision, result)

    def cancel(self, order_id: int, *, actor: str, now: datetime | None = None) -> ExchangeResult:
        """Cancel an open order; allowed in every trading state (HALTED included)."""
        when = now or utcnow()
        with self.db.write() as session:
            result = self.exchange.cancel(session, order_id, when)
            audit.append(
                session,
                audit.Entry(
                    actor=actor,
                    action=AuditAction.ORDER_CANCELLED,
                    decision="cancel",
                    reason=result.reason,
                    outcome=result.detail,
                    inputs={"order_id": order_id},
                ),
                clock=when,
            )
        return result

    def _audit_fill(self, session: Session, fill: FillResult, actor: str, now: datetime) -> None:
        audit.append(
            session,
            audit.Entry(
                actor=actor,
                action=AuditAction.ORDER_FILLED,
                symbol=fill.symbol,
                decision=fill.side,
                outcome=f"order {fill.order_id} filled {plain(fill.quantity)} at {plain(fill.price)}",
                inputs={
                    "order_id": fill.order_id,
                    "quantity": plain(fill.quantity),
                    "price": plain(fill.price),
                    "notional": plain(fill.notional),
                    "fee": plain(fill.fee),
                },
            ),
            clock=now,
        )

    def _trip(self, session: Session, reason: str, now: datetime) -> bool:
        change = killswitch.trip(
            session, by=killswitch.GUARD, reason=reason, now=now, channels=self.channels
        )
        return change.changed

    # --- ticks ----------------------------------------------------------------------------

    def on_tick_in(self, session: Session, tick: Tick, source: str) -> TickReport:
        """Record `tick` and bring orders, market mode and trading state up to date with it."""
        now = tick.ts
        quotes = {q.symbol: q for q in tick.quotes}
        report = TickReport()
        prices.record(session, tick, source)
        self.volatility.observe(tick.quotes)
        report.filled = self.exchange.match(session, quotes, now)
        for order, fill in report.filled:
            self._audit_fill(session, fill, order.actor, now)
        report.mode_change = self._update_mode(session, list(quotes), now)
        ctx = self.context(session, now, quotes, for_order=False)
        report.assessment = assess(ctx)
        row = killswitch.state_row(session)
        if report.assessment.trip:
            report.tripped = self._trip(session, report.assessment.detail, now)
        elif row.state not in (TradingState.HALTED, report.assessment.state):
            previous = row.state
            row.state, row.updated_at = report.assessment.state, now
            # Audited, so the kill-switch timeline can say how long trading was REDUCING.
            audit.append(
                session,
                audit.Entry(
                    actor=killswitch.GUARD,
                    action=AuditAction.TRADING_STATE_CHANGED,
                    decision=str(report.assessment.state),
                    reason=report.assessment.detail,
                    outcome=f"trading {previous} -> {report.assessment.state}",
                    inputs={
                        "previous_state": previous,
                        "equity": plain(q8(ctx.equity)),
                        "day_open_equity": plain(ctx.day_open_equity),
                    },
                ),
                clock=now,
            )
        return report

    def _update_mode(self, session: Session, symbols: list[str], now: datetime) -> ModeChange:
        vol = self.settings.volatility
        readings = self.volatility.readings(symbols)
        row = killswitch.state_row(session)
        change = next_mode(MarketMode(row.market_mode), readings, enter=vol.enter, exit=vol.exit)
        if change.changed:
            row.market_mode, row.mode_changed_at, row.updated_at = change.mode, now, now
            volatile = change.mode == MarketMode.VOLATILE
            limits = (
                self.settings.limits.tightened(vol.factor) if volatile else self.settings.limits
            )
            inputs: dict[str, Any] = {
                "readings": {s: v for s, v in readings.items() if v is not None},
                "enter": vol.enter,
                "exit": vol.exit,
                "factor": plain(vol.factor),
                "window": vol.window,
                "limits_now": {
                    "max_order_notional": plain(limits.max_order_notional),
                    "max_position_notional": plain(limits.max_position_notional),
                    "max_gross_exposure": plain(limits.max_gross_exposure),
                    "max_net_exposure": plain(limits.max_net_exposure),
                },
            }
            audit.append(
                session,
                audit.Entry(
                    actor=killswitch.GUARD,
                    action=AuditAction.MARKET_MODE_CHANGED,
                    decision=str(change.mode),
                    reason=(
                        f"peak realised volatility {change.peak:.2f} "
                        + (f"above {vol.enter}" if volatile else f"below {vol.exit}")
                    ),
                    outcome=(
                        f"notional limits x{plain(vol.factor)}" if volatile else "limits restored"
                    ),
                    inputs=inputs,
                ),
                clock=now,
            )
        return change


def _actor(request: OrderRequest) -> str:
    actor = " ".join(request.actor.split())
    if not actor or len(actor) > MAX_ACTOR:
        raise UnusableInput(f"an order's actor must be 1-{MAX_ACTOR} characters")
    return actor
