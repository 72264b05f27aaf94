"""The Guard: an ordered pipeline of pre-trade checks, each allowing or denying with a reason code.

Pure: it decides from a `GuardContext` (a snapshot of state taken under the write lock), so a
decision costs microseconds and every check is testable alone. The first denial wins, in this
order (nautilus_trader's RiskEngine does the same):

    trading_state     HALTED denies every new order (cancels never come here)
    order_sanity      unknown symbol, side, kind; non-positive or non-finite quantity or price
    price_freshness   fail closed: missing, non-finite or stale prices deny
    daily_loss        loss since start-of-UTC-day equity at the limit: deny and trip the switch
    reduce_only       REDUCING lets only risk-reducing orders (sells) through
    order_rate        at most N accepted orders per window
    order_notional    one order's notional
    position          one symbol's projected position notional        (risk-increasing only)
    gross_exposure    sum of |projected position notional|           (risk-increasing only)
    net_exposure      |sum of signed projected position notional|    (risk-increasing only)

Projected positions count resting buy orders as if filled, so accepted-but-unfilled orders can
never add up past a limit. In volatile-market mode every notional limit is tightened.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from kernel.models import MarketMode, OrderKind, Side, TradingState
from kernel.money import ZERO, is_positive_finite, plain, q8
from kernel.prices import Quote
from kernel.settings import Limits

# Reason codes: stable, recorded in the audit, documented in the README.
HALTED = "halted"
UNKNOWN_SYMBOL = "unknown_symbol"
INVALID_SIDE = "invalid_side"
INVALID_KIND = "invalid_kind"
INVALID_QUANTITY = "invalid_quantity"
INVALID_PRICE = "invalid_price"
PRICE_MISSING = "price_missing"
PRICE_NOT_FINITE = "price_not_finite"
PRICE_STALE = "price_stale"
DAILY_LOSS_LIMIT = "daily_loss_limit"
REDUCE_ONLY = "reduce_only"
ORDER_RATE_LIMIT = "order_rate_limit"
MAX_ORDER_NOTIONAL = "max_order_notional"
MAX_POSITION = "max_position"
GROSS_EXPOSURE = "gross_exposure"
NET_EXPOSURE = "net_exposure"


@dataclass(frozen=True)
class OrderIntent:
    symbol: str
    side: str
    quantity: Decimal
    kind: str = OrderKind.MARKET
    limit_price: Decimal | None = None

    @property
    def increases_risk(self) -> bool:
        # The book is long-only (the exchange refuses to sell what is not held): buys add risk.
        return self.side == Side.BUY


@dataclass(frozen=True)
class GuardContext:
    """Everything a decision depends on, read under the write lock."""

    now: datetime
    state: TradingState  # as persisted: HALTED is the latched kill switch
    mode: MarketMode
    limits: Limits  # as configured; `effective_limits` applies the market mode
    volatile_factor: Decimal
    symbols: frozenset[str]
    quotes: Mapping[str, Quote]
    positions: Mapping[str, Decimal]  # quantity held per symbol
    open_buys: Mapping[str, Decimal]  # quantity on resting buy orders per symbol
    equity: Decimal
    day_open_equity: Decimal
    loss_acknowledged: bool = False  # an operator reset the switch today: breach -> REDUCING
    recent_orders: int = 0  # orders accepted within the rate window
    # Derived once per snapshot (plain attributes: cached_property takes a lock on 3.11).
    effective_limits: Limits = field(init=False)  # the limits in force in this market mode
    committed: dict[str, Decimal] = field(init=False)  # holdings plus resting buys, per symbol
    assessment: Assessment = field(init=False)  # the trading state these numbers imply
    # One decision's intermediate results (price problems, exposure), shared by its checks.
    memo: dict[Any, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        volatile = self.mode == MarketMode.VOLATILE
        limits = self.limits.tightened(self.volatile_factor) if volatile else self.limits
        committed = {s: q + self.open_buys.get(s, ZERO) for s, q in self.positions.items()}
        for s, q in self.open_buys.items():
            committed.setdefault(s, q)
        object.__setattr__(self, "effective_limits", limits)
        object.__setattr__(self, "committed", {s: q for s, q in committed.items() if q})
        object.__setattr__(self, "assessment", assess(self))
        object.__setattr__(self, "memo", {})

    @property
    def day_loss(self) -> Decimal:
        return self.day_open_equity - self.equity

    def exposure(self, order: OrderIntent | None = None) -> Exposure:
        """Projected notionals with `order`, computed once per order: the position, gross and
        net checks all need them."""
        last = self.memo.get("exposure")
        if last is not None and last[0] is order:
            found: Exposure = last[1]
            return found
        found = Exposure.of(self, order)
        self.memo["exposure"] = (order, found)
        return found


class Exposure(NamedTuple):
    """Signed projected position notional per symbol at the mark, and its gross and net."""

    notionals: dict[str, Decimal]
    gross: Decimal
    net: Decimal

    @staticmethod
    def of(ctx: GuardContext, order: OrderIntent | None) -> Exposure:
        """`committed` plus `order` when it is a buy, at the mark, in one pass (no copy of the
        committed quantities)."""
        quotes = ctx.quotes
        adding = order.symbol if order is not None and order.side == Side.BUY else None
        notionals: dict[str, Decimal] = {}
        gross = net = ZERO
        for symbol, held in ctx.committed.items():
            quantity = held
            if symbol == adding:
                assert order is not None
                quantity += order.quantity
                adding = None
            notional = notionals[symbol] = quantity * quotes[symbol].last
            gross += abs(notional)
            net += notional
        if adding is not None:
            assert order is not None
            notional = notionals[adding] = order.quantity * quotes[adding].last
            gross += abs(notional)
            net += notional
        return Exposure(notionals, gross, abs(net))


@dataclass(frozen=True)
class Assessment:
    """The trading state the context implies, and whether the kill switch must trip now."""

    state: TradingState
    trip: bool
    detail: str


def assess(ctx: GuardContext) -> Assessment:
    """HALTED if latched; a fresh daily-loss breach trips; REDUCING near (or past, after a reset)
    the daily loss limit; otherwise ACTIVE."""
    limits = ctx.limits
    loss = ctx.day_loss
    if ctx.state == TradingState.HALTED:
        return Assessment(TradingState.HALTED, False, "kill switch latched")
    if loss >= limits.daily_loss_limit and not ctx.loss_acknowledged:
        return Assessment(
            TradingState.HALTED,
            True,
            f"daily loss {plain(q8(loss))} reached the limit {plain(limits.daily_loss_limit)}",
        )
    if loss >= limits.daily_loss_limit * limits.reduce_only_at:
        return Assessment(
            TradingState.REDUCING,
            False,
            f"daily loss {plain(q8(loss))} is past {plain(limits.reduce_only_at * 100)}% "
            f"of the limit {plain(limits.daily_loss_limit)}",
        )
    return Assessment(TradingState.ACTIVE, False, "within limits")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    check: str | None = None  # the check that denied
    reason: str | None = None  # its reason code
    detail: str = ""
    trip: bool = False  # deny *and* trip the kill switch


ALLOW = Decision(True, detail="all checks passed")


class Denial(NamedTuple):
    """What a check says when it denies; the pipeline adds the check's name. (A named tuple:
    made on every denial, it must be cheap.)"""

    reason: str
    detail: str
    trip: bool = False


Check = Callable[[OrderIntent, GuardContext], Denial | None]


def check_trading_state(order: OrderIntent, ctx: GuardContext) -> Denial | None:
    if ctx.state == TradingState.HALTED:
        return Denial(HALTED, "kill switch is tripped: new orders are denied")
    return None


def check_order_sanity(order: OrderIntent, ctx: GuardContext) -> Denial | None:
    if order.symbol not in ctx.symbols:
        return Denial(UNKNOWN_SYMBOL, f"unknown symbol {order.symbol!r}")
    if order.side not in _SIDES:
        return Denial(INVALID_SIDE, f"side must be buy or sell, got {order.side!r}")
    if order.kind not in _KINDS:
        return Denial(INVALID_KIND, f"kind must be market or limit, got {order.kind!r}")
    if not is_positive_finite(order.quantity):
        return Denial(INVALID_QUANTITY, f"quantity must be positive and finite: {order.quantity}")
    if order.kind == OrderKind.LIMIT and not is_positive_finite(order.limit_price):
        return Denial(
            INVALID_PRICE, f"limit price must be positive and finite: {order.limit_price}"
        )
    return None


_SIDES = frozenset({Side.BUY, Side.SELL})
_KINDS = frozenset({OrderKind.MARKET, OrderKind.LIMIT})


def _price_problem(symbol: str, ctx: GuardContext) -> Denial | None:
    quote = ctx.quotes.get(symbol)
    if quote is None:
        return Denial(PRICE_MISSING, f"no price for {symbol}")
    if not quote.usable:
        shown = ", ".join(plain(v) for v in (quote.bid, quote.ask, quote.last))
        return Denial(PRICE_NOT_FINITE, f"{symbol} price is not usable (bid, ask, last: {shown})")
    max_age = ctx.limits.max_price_age
    # Comparing times, not ages: one subtraction per decision instead of one per symbol.
    oldest = ctx.memo.get("oldest")
    if oldest is None:
        oldest = ctx.memo["oldest"] = ctx.now - timedelta(seconds=max_age)
    if quote.ts < oldest:
        age = (ctx.now - quote.ts).total_seconds()
        return Denial(PRICE_STALE, f"{symbol} price is {age:.0f}s old (limit {max_age:.0f}s)")
    return None


def check_price_freshness(order: OrderIntent, ctx: GuardContext) -> Denial | None:
    denied = _price_problem(order.symbol, ctx)
    if denied is not None or not order.increases_risk:
        return denied
    # Exposure is measured at every held symbol's mark: those must be fresh too.
    problems = [s for s in ctx.committed if s != order.symbol and _price_problem(s, ctx)]
    return _price_problem(min(problems), ctx) if problems else None  # the first by name


def check_daily_loss(order: OrderIntent, ctx: GuardContext) -> Denial | None:
    assessment = ctx.assessment
    if assessment.trip:
        return Denial(DAILY_LOSS_LIMIT, assessment.detail, trip=True)
    return None


def check_reduce_only(order: OrderIntent, ctx: GuardContext) -> Denial | None:
    assessment = ctx.assessment
    if assessment.state == TradingState.REDUCING and order.increases_risk:
        return Denial(REDUCE_ONLY, f"REDUCING: {assessment.detail}")
    return None


def check_order_rate(order: OrderIntent, ctx: GuardContext) -> Denial | None:
    limits = ctx.limits
    if ctx.recent_orders >= limits.order_rate_limit:
        return Denial(
            ORDER_RATE_LIMIT,
            f"{ctx.recent_orders} orders in the last {limits.order_rate_window:.0f}s "
            f"(limit {limits.order_rate_limit})",
        )
    return None


def order_price(order: OrderIntent, quote: Quote) -> Decimal:
    """What one unit costs or fetches: the limit, else the touch (ask to buy, bid to sell)."""
    if order.kind == OrderKind.LIMIT and order.limit_price is not None:
        return order.limit_price
    return quote.ask if order.side == Side.BUY else quote.bid


def check_order_notional(order: OrderIntent, ctx: GuardContext) -> Denial | None:
    notional = order.quantity * order_price(order, ctx.quotes[order.symbol])
    limit = ctx.effective_limits.max_order_notional
    if notional > limit:
        return Denial(
            MAX_ORDER_NOTIONAL,
            f"order notional {plain(q8(notional))} exceeds {plain(limit)}{_mode_note(ctx)}",
        )
    return None


def check_position(order: OrderIntent, ctx: GuardContext) -> Denial | None:
    if not order.increases_risk:
        return None
    notional = abs(ctx.exposure(order).notionals[order.symbol])
    limit = ctx.effective_limits.max_position_notional
    if notional > limit:
        return Denial(
            MAX_POSITION,
            f"{order.symbol} position would be {plain(q8(notional))}, above {plain(limit)}"
            f"{_mode_note(ctx)}",
        )
    return None


def gross_exposure(ctx: GuardContext, order: OrderIntent | None = None) -> Decimal:
    return ctx.exposure(order).gross


def net_exposure(ctx: GuardContext, order: OrderIntent | None = None) -> Decimal:
    return ctx.exposure(order).net


def check_gross_exposure(order: OrderIntent, ctx: GuardContext) -> Denial | None:
    if not order.increases_risk:
        return None
    gross = gross_exposure(ctx, order)
    limit = ctx.effective_limits.max_gross_exposure
    if gross > limit:
        return Denial(
            GROSS_EXPOSURE,
            f"gross exposure would be {plain(q8(gross))}, above {plain(limit)}{_mode_note(ctx)}",
        )
    return None


def check_net_exposure(order: OrderIntent, ctx: GuardContext) -> Denial | None:
    if not order.increases_risk:
        return None
    net = net_exposure(ctx, order)
    limit = ctx.effective_limits.max_net_exposure
    if net > limit:
        return Denial(
            NET_EXPOSURE,
            f"net exposure would be {plain(q8(net))}, above {plain(limit)}{_mode_note(ctx)}",
        )
    return None


def _mode_note(ctx: GuardContext) -> str:
    return " (tightened: volatile market)" if ctx.mode == MarketMode.VOLATILE else ""


PIPELINE: tuple[tuple[str, Check], ...] = (
    ("trading_state", check_trading_state),
    ("order_sanity", check_order_sanity),
    ("price_freshness", check_price_freshness),
    ("daily_loss", check_daily_loss),
    ("reduce_only", check_reduce_only),
    ("order_rate", check_order_rate),
    ("order_notional", check_order_notional),
    ("position", check_position),
    ("gross_exposure", check_gross_exposure),
    ("net_exposure", check_net_exposure),
)


@dataclass(frozen=True)
class Guard:
    checks: tuple[tuple[str, Check], ...] = field(default=PIPELINE)

    def check(self, order: OrderIntent, ctx: GuardContext) -> Decision:
        """The first denial in pipeline order, or ALLOW."""
        for name, check in self.checks:
            denial = check(order, ctx)
            if denial is not None:
                return Decision(False, name, denial.reason, denial.detail, denial.trip)
        return ALLOW


@lru_cache(maxsize=16)
def _limits_snapshot(limits: Limits) -> dict[str, Any]:
    """The limits as the audit shows them: the same few `Limits` every decision, so built once
    each and shared (never changed: the audit only serialises it)."""
    return {
        "max_order_notional": plain(limits.max_order_notional),
        "max_position_notional": plain(limits.max_position_notional),
        "max_gross_exposure": plain(limits.max_gross_exposure),
        "max_net_exposure": plain(limits.max_net_exposure),
        "daily_loss_limit": plain(limits.daily_loss_limit),
        "order_rate_limit": limits.order_rate_limit,
        "max_price_age": limits.max_price_age,
    }


def snapshot_inputs(order: OrderIntent, ctx: GuardContext) -> dict[str, Any]:
    """What the decision saw, for the audit: the price, the limits in force, mode and state."""
    quote = ctx.quotes.get(order.symbol)
    limits = ctx.effective_limits
    inputs: dict[str, Any] = {
        "order": {
            "symbol": order.symbol,
            "side": order.side,
            "kind": order.kind,
            "quantity": plain(order.quantity),
            "limit_price": plain(order.limit_price) if order.limit_price is not None else None,
        },
        "price": None
        if quote is None
        else {
            "bid": plain(quote.bid),
            "ask": plain(quote.ask),
            "last": plain(quote.last),
            "ts": quote.ts.isoformat(),
        },
        "limits": _limits_snapshot(limits),
        "mode": str(ctx.mode),
        "state": str(ctx.state),
        "equity": plain(q8(ctx.equity)),
        "day_open_equity": plain(ctx.day_open_equity),
        "recent_orders": ctx.recent_orders,
    }
    return inputs
