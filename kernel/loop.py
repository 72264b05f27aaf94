"""The strategy loop: feed -> Glass -> signal -> audit -> Guard -> PaperExchange -> audit.

One write transaction per tick, so stopping between ticks (Ctrl-C sets `stop`) leaves every
finished tick committed and nothing half-done. Simulated time by default: ticks carry their own
timestamps and the loop runs as fast as the database allows; `realtime` paces ticks on the wall
clock instead.

A new ledger starts its simulated day at midnight UTC today; a ledger with prices continues one
bar after its last price, so re-running adds the next day rather than rewriting this one.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from itertools import islice
from pathlib import Path

from sqlalchemy import Integer, bindparam, update
from sqlalchemy.orm import Session

from kernel import audit, killswitch, prices
from kernel.alerts import OutboxWorker
from kernel.book import Book
from kernel.db import Database
from kernel.desk import Desk, utc_midnight, utcnow
from kernel.errors import UnusableInput
from kernel.exchange import OrderRequest
from kernel.models import AuditAction, Side, Strategy
from kernel.money import STEP, ZERO, plain
from kernel.prices import FeedError, Quote, SyntheticFeed, Tick
from kernel.settings import KernelSettings
from kernel.strategy import KIND, MovingAverageCrossover, Signal

DURATION = re.compile(r"(\d+)([smhd])")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
DEFAULT_DURATION = timedelta(hours=24)
MAX_DURATION = timedelta(days=100 * 365)  # far past any run, and no date arithmetic overflows


def parse_duration(text: str) -> timedelta:
    """`24h`, `90m`, `1d12h`, `3600s` as a timedelta; anything else is unusable input."""
    compact = text.strip().lower().replace(" ", "")
    parts = DURATION.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise UnusableInput(f"--duration: expected something like 24h, 90m or 1d12h, got {text!r}")
    seconds = sum(int(n) * UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise UnusableInput("--duration must be longer than zero")
    if seconds > MAX_DURATION.total_seconds():
        raise UnusableInput(f"--duration {text!r} is longer than {MAX_DURATION.days // 365} years")
    return timedelta(seconds=seconds)


# --- what to feed -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedPlan:
    symbols: tuple[str, ...]
    ticks: Iterable[Tick]
    total: int
    source: str  # "replay" | "synthetic", stored with each price
    description: str


def continuation(session: Session, bar: timedelta, *, realtime: bool) -> datetime:
    """Where simulated time starts: a bar after the ledger's last price, else today 00:00 UTC."""
    last = prices.last_timestamp(session)
    now = utcnow()
    if last is not None:
        start = last + bar
        return max(start, now) if realtime else start
    return now if realtime else utc_midnight(now)


def choose_symbols(requested: Sequence[str] | None, settings: KernelSettings) -> tuple[str, ...]:
    symbols = tuple(requested) if requested else settings.symbols
    unknown = [s for s in symbols if s not in settings.symbols]
    if unknown:
        known = ", ".join(settings.symbols)
        raise UnusableInput(f"unknown symbol {unknown[0]!r} (known: {known})")
    return symbols


def plan_synthetic(
    db: Database,
    settings: KernelSettings,
    *,
    seed: int,
    symbols: Sequence[str] | None,
    ticks: int | None,
    duration: timedelta | None,
    realtime: bool,
) -> FeedPlan:
    chosen = choose_symbols(symbols, settings)
    bar = timedelta(seconds=settings.bar_seconds)
    total = ticks if ticks is not None else int((duration or DEFAULT_DURATION) / bar)
    if total < 1:
        raise UnusableInput("--duration is shorter than one bar")
    with db.read() as session:
        start = continuation(session, bar, realtime=realtime)
        last = {s: q.last for s, q in prices.latest(session, chosen).items()}
    if total > (prices.LATEST - start) // bar:
        raise UnusableInput(
            f"{total} ticks of {settings.bar_seconds:g} s from {start:%Y-%m-%d} run past "
            f"{prices.LATEST:%Y-%m-%d}: ask for fewer (--ticks, --duration)"
        )
    feed = SyntheticFeed(seed, chosen, start, settings.bar_seconds, start_prices=last)
    return FeedPlan(
        chosen,
        islice(feed, total),
        total,
        "synthetic",
        f"synthetic feed, seed {seed}, from {start:%Y-%m-%d %H:%M} UTC",
    )


def plan_replay(
    db: Database,
    settings: KernelSettings,
    *,
    path: Path,
    symbols: Sequence[str] | None,
    ticks: int | None,
    duration: timedelta | None,
) -> FeedPlan:
    """Read and check the whole file before anything is written."""
    bar = timedelta(seconds=settings.bar_seconds)
    with db.read() as session:
        start = continuation(session, bar, realtime=False)
        ledger_last = prices.last_timestamp(session)
    all_ticks = prices.read_replay(path, start=start, bar_seconds=settings.bar_seconds)
    in_feed = {q.symbol for t in all_ticks for q in t.quotes}
    if symbols:
        chosen = choose_symbols(symbols, settings)
        missing = [s for s in chosen if s not in in_feed]
        if missing:
            raise FeedError(f"{path}: the feed has no prices for {missing[0]!r}")
    else:
        chosen = tuple(s for s in settings.symbols if s in in_feed)
        if not chosen:
            known = ", ".join(settings.symbols)
            raise FeedError(f"{path}: the feed has none of the configured symbols ({known})")
    wanted = [
        Tick(t.ts, tuple(q for q in t.quotes if q.symbol in chosen))
        for t in all_ticks
        if any(q.symbol in chosen for q in t.quotes)
    ]
    if duration is not None:
        wanted = [t for t in wanted if t.ts < wanted[0].ts + duration]
    if ticks is not None:
        wanted = wanted[:ticks]
    if ledger_last is not None and wanted[0].ts <= ledger_last:
        raise FeedError(
            f"{path}: the feed starts at {wanted[0].ts.isoformat()}, not after the ledger's last "
            f"price ({ledger_last.isoformat()}): replay it into a fresh --db"
        )
    return FeedPlan(chosen, wanted, len(wanted), "replay", f"replay of {path.name}")


# --- running ----------------------------------------------------------------------------------


@dataclass
class RunStats:
    ticks: int = 0
    signals: int = 0
    orders: int = 0  # accepted by the exchange
    fills: int = 0
    denied: Counter[str] = field(default_factory=Counter)  # by the Guard, per reason code
    rejected: Counter[str] = field(default_factory=Counter)  # by the exchange, per reason code
    trips: int = 0
    mode_changes: int = 0
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    state: str = ""
    mode: str = ""
    interrupted: bool = False


_COUNT_TICKS = (
    update(Strategy)
    .where(Strategy.id == bindparam("strategy"))
    .values(
        ticks=Strategy.ticks + bindparam("n", type_=Integer), last_tick_at=bindparam("last_tick")
    )
)


class PaperLoop:
    """The MA-crossover strategy trading the PaperExchange through the Guard, tick by tick."""

    batch_seconds = 0.1  # longest a group of ticks holds the write lock before committing

    def __init__(
        self,
        db: Database,
        settings: KernelSettings,
        symbols: Sequence[str],
        *,
        source: str,
        alerts: OutboxWorker | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.symbols = tuple(symbols)
        self.source = source
        self.alerts = alerts
        self.desk = Desk(db, settings)
        self.strategy = MovingAverageCrossover(
            self.symbols,
            fast=settings.strategy.fast_window,
            slow=settings.strategy.slow_window,
        )

    def prepare(self) -> None:
        """Fund a new account, register the strategy, warm it up from the Glass ledger."""
        with self.db.write() as session:
            self.desk.exchange.ensure_funded(session, self.settings.initial_cash)
            row = session.get(Strategy, self.strategy.id)
            params = json.dumps(
                {
                    **self.strategy.params,
                    "order_notional": plain(self.settings.strategy.order_notional),
                },
                sort_keys=True,
            )
            if row is None:
                row = Strategy(id=self.strategy.id, kind=KIND, ticks=0, started_at=utcnow())
                session.add(row)
            row.symbols, row.params = ",".join(self.symbols), params
            for symbol in self.symbols:
                history = prices.recent(session, symbol, self.strategy.slow_window)
                self.strategy.warm_up(symbol, [q.last for q in history])
            self.desk.warm_up(session, self.symbols)

    def run(
        self,
        ticks: Iterable[Tick],
        *,
        stop: threading.Event | None = None,
        realtime: bool = False,
        on_tick: Callable[[RunStats, Tick], None] | None = None,
    ) -> RunStats:
        """Process `ticks` until they end or `stop` is set; every processed tick is committed."""
        stop = stop or threading.Event()
        stats = RunStats()
        # Ticks are committed in groups of at most `batch_seconds` of work (group commit: one
        # fsync for many ticks); with `realtime`, each tick alone, so no lock is held while
        # waiting for the next one. A trip commits at once, so its alert can go out.
        budget = 0.0 if realtime else self.batch_seconds
        upcoming = iter(self._paced(ticks, stop) if realtime else ticks)
        pending = next(upcoming, None)
        while pending is not None and not stop.is_set():
            batch: list[Tick] = []
            tripped = False
            with self.db.write() as session:
                deadline = time.monotonic() + budget
                while pending is not None:
                    tripped = self._tick(session, pending, stats) or tripped
                    batch.append(pending)
                    if tripped or stop.is_set() or time.monotonic() >= deadline:
                        break
                    pending = next(upcoming, None)
                session.execute(
                    _COUNT_TICKS,
                    {"strategy": self.strategy.id, "n": len(batch), "last_tick": batch[-1].ts},
                )
            # Committed: only now may anyone be told (trip first, alert after).
            if tripped and self.alerts is not None:
                self.alerts.poke()
            for tick in batch:
                stats.ticks += 1
                stats.first_ts = stats.first_ts or tick.ts
                stats.last_ts = tick.ts
                if on_tick is not None:
                    on_tick(stats, tick)
            if pending is batch[-1] and not stop.is_set():
                pending = next(upcoming, None)
        stats.interrupted = stop.is_set()
        return stats

    def _paced(self, ticks: Iterable[Tick], stop: threading.Event) -> Iterator[Tick]:
        """Ticks released on the wall clock, as far apart as their timestamps."""
        origin: tuple[float, datetime] | None = None
        for tick in ticks:
            if origin is None:
                origin = (time.monotonic(), tick.ts)
            due = origin[0] + (tick.ts - origin[1]).total_seconds()
            if stop.wait(max(0.0, due - time.monotonic())):
                return
            yield tick

    def _tick(self, session: Session, tick: Tick, stats: RunStats) -> bool:
        report = self.desk.on_tick_in(session, tick, self.source)
        quotes = {q.symbol: q for q in tick.quotes}
        stats.fills += len(report.filled)
        stats.mode_changes += bool(report.mode_change and report.mode_change.changed)
        tripped = report.tripped
        for quote in tick.quotes:
            signal = self.strategy.on_price(quote.symbol, quote.last)
            if signal is not None:
                stats.signals += 1
                tripped |= self._act(session, signal, quotes, tick.ts, stats)
        stats.trips += tripped
        row = killswitch.state_row(session)
        stats.state, stats.mode = row.state, row.market_mode
        return tripped

    def _act(
        self,
        session: Session,
        signal: Signal,
        quotes: Mapping[str, Quote],
        now: datetime,
        stats: RunStats,
    ) -> bool:
        request, plan = self._order_for(session, signal, quotes[signal.symbol])
        audit.append(
            session,
            audit.Entry(
                actor=self.strategy.id,
                action=AuditAction.ALGORITHM_SIGNAL,
                symbol=signal.symbol,
                decision=str(signal.side),
                reason=(
                    f"fast MA crossed {'above' if signal.side == Side.BUY else 'below'} slow MA"
                ),
                outcome=plan,
                inputs={
                    "price": plain(signal.price),
                    "fast_ma": plain(signal.fast.quantize(STEP)),
                    "slow_ma": plain(signal.slow.quantize(STEP)),
                    **self.strategy.params,
                },
            ),
            clock=now,
        )
        if request is None:
            return False
        outcome = self.desk.submit_in(session, request, now, quotes)
        if outcome.result is None:
            stats.denied[outcome.decision.reason or "denied"] += 1
        elif outcome.result.accepted:
            stats.orders += 1
            stats.fills += len(outcome.fills)
        else:
            stats.rejected[outcome.result.reason or "rejected"] += 1
        return outcome.tripped

    def _order_for(
        self, session: Session, signal: Signal, quote: Quote
    ) -> tuple[OrderRequest | None, str]:
        position = Book.of(session).positions.get(signal.symbol)
        free = position.quantity - position.reserved if position is not None else ZERO
        if signal.side == Side.BUY:
            open_buys = [
                o
                for o in self.desk.exchange.open_orders(session, signal.symbol)
                if o.side == Side.BUY
            ]
            if free > 0 or open_buys:
                return None, "already long: no order"
            quantity = (self.settings.strategy.order_notional / quote.ask).quantize(
                STEP, rounding=ROUND_DOWN
            )
            if quantity <= 0:
                return None, "order notional buys less than one lot: no order"
            return (
                OrderRequest(signal.symbol, Side.BUY, quantity, actor=self.strategy.id),
                f"market buy {plain(quantity)}",
            )
        if free <= 0:
            return None, "nothing to sell: no order"
        return (
            OrderRequest(signal.symbol, Side.SELL, free, actor=self.strategy.id),
            f"market sell {plain(free)}",
        )


def account_equity(db: Database, settings: KernelSettings) -> Decimal:
    desk = Desk(db, settings)
    with db.read() as session:
        quotes = prices.latest(session, settings.symbols)
        return desk.exchange.account(session).equity({s: q.last for s, q in quotes.items()})
