"""Every Guard check, every reason code, every trading-state transition; pure, no database."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kernel import guard as g
from kernel.guard import ALLOW, Denial, Guard, GuardContext, OrderIntent, assess, snapshot_inputs
from kernel.models import MarketMode, TradingState
from kernel.prices import Quote
from kernel.settings import Limits

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LIMITS = Limits(
    max_order_notional=D(1000),
    max_position_notional=D(2000),
    max_gross_exposure=D(3000),
    max_net_exposure=D(2500),
    daily_loss_limit=D(500),
    reduce_only_at=D("0.8"),
    order_rate_limit=5,
    order_rate_window=60,
    max_price_age=120,
)


def quote(
    symbol: str, last: str, *, age: float = 0, bid: str | None = None, ask: str | None = None
) -> Quote:
    mid = D(last)
    return Quote(
        symbol,
        NOW - timedelta(seconds=age),
        D(bid) if bid is not None else mid - 1,
        D(ask) if ask is not None else mid + 1,
        mid,
    )


def ctx(**overrides: Any) -> GuardContext:
    base: dict[str, Any] = {
        "now": NOW,
        "state": TradingState.ACTIVE,
        "mode": MarketMode.NORMAL,
        "limits": LIMITS,
        "volatile_factor": D("0.5"),
        "symbols": frozenset({"btc", "eth"}),
        "quotes": {"btc": quote("btc", "100"), "eth": quote("eth", "10")},
        "positions": {},
        "open_buys": {},
        "equity": D(10000),
        "day_open_equity": D(10000),
        "loss_acknowledged": False,
        "recent_orders": 0,
    }
    base.update(overrides)
    return GuardContext(**base)


def buy(symbol: str = "btc", quantity: str = "1", **kw: Any) -> OrderIntent:
    return OrderIntent(symbol, "buy", D(quantity), **kw)


def sell(symbol: str = "btc", quantity: str = "1", **kw: Any) -> OrderIntent:
    return OrderIntent(symbol, "sell", D(quantity), **kw)


GUARD = Guard()


def decide(order: OrderIntent, context: GuardContext | None = None) -> g.Decision:
    return GUARD.check(order, context or ctx())


def test_a_plain_order_passes_every_check() -> None:
    assert decide(buy()) == ALLOW
    assert decide(sell(), ctx(positions={"btc": D(1)})) == ALLOW


# --- trading state -----------------------------------------------------------------------------


def test_halted_denies_buys_and_sells() -> None:
    halted = ctx(state=TradingState.HALTED)
    for order in (buy(), sell()):
        decision = decide(order, halted)
        assert (decision.allowed, decision.check, decision.reason) == (
            False,
            "trading_state",
            g.HALTED,
        )


# --- order sanity ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order", "reason"),
    [
        (buy("doge"), g.UNKNOWN_SYMBOL),
        (OrderIntent("btc", "short", D(1)), g.INVALID_SIDE),
        (buy(kind="stop"), g.INVALID_KIND),
        (buy(quantity="0"), g.INVALID_QUANTITY),
        (buy(quantity="-1"), g.INVALID_QUANTITY),
        (buy(quantity="NaN"), g.INVALID_QUANTITY),
        (buy(quantity="Infinity"), g.INVALID_QUANTITY),
        (buy(kind="limit"), g.INVALID_PRICE),
        (buy(kind="limit", limit_price=D(0)), g.INVALID_PRICE),
        (buy(kind="limit", limit_price=D("-5")), g.INVALID_PRICE),
        (buy(kind="limit", limit_price=D("NaN")), g.INVALID_PRICE),
    ],
)
def test_order_sanity(order: OrderIntent, reason: str) -> None:
    decision = decide(order)
    assert (decision.check, decision.reason) == ("order_sanity", reason)


# --- prices: fail closed -----------------------------------------------------------------------


def test_missing_price_denies() -> None:
    decision = decide(buy("eth"), ctx(quotes={"btc": quote("btc", "100")}))
    assert (decision.check, decision.reason) == ("price_freshness", g.PRICE_MISSING)


@pytest.mark.parametrize(
    "bad",
    [
        quote("btc", "100", bid="NaN"),
        quote("btc", "100", ask="Infinity"),
        quote("btc", "0", bid="0", ask="1"),
        quote("btc", "-3", bid="-4", ask="-2"),
    ],
)
def test_non_finite_or_non_positive_price_denies(bad: Quote) -> None:
    decision = decide(sell(), ctx(quotes={"btc": bad}, positions={"btc": D(1)}))
    assert decision.reason == g.PRICE_NOT_FINITE


def test_stale_price_denies_and_the_age_limit_itself_is_still_fresh() -> None:
    stale = ctx(quotes={"btc": quote("btc", "100", age=121)})
    assert decide(buy(), stale).reason == g.PRICE_STALE
    just_fresh = ctx(quotes={"btc": quote("btc", "100", age=120)})
    assert decide(buy(), just_fresh).allowed


def test_a_risk_increasing_order_needs_fresh_marks_for_every_held_symbol() -> None:
    context = ctx(
        quotes={"btc": quote("btc", "100"), "eth": quote("eth", "10", age=600)},
        positions={"eth": D(5)},
    )
    decision = decide(buy("btc"), context)
    assert decision.reason == g.PRICE_STALE and "eth" in decision.detail
    # Selling btc does not depend on the eth mark.
    assert decide(sell("btc"), replace(context, positions={"btc": D(1), "eth": D(5)})).allowed


# --- daily loss, REDUCING, the trip -------------------------------------------------------------


def test_daily_loss_at_the_limit_denies_and_trips() -> None:
    decision = decide(buy(), ctx(equity=D(9500)))
    assert (decision.check, decision.reason, decision.trip) == (
        "daily_loss",
        g.DAILY_LOSS_LIMIT,
        True,
    )
    # Sells too: the breach trips whatever the order.
    assert decide(sell(), ctx(equity=D(9400), positions={"btc": D(1)})).trip


def test_after_an_operator_reset_a_standing_breach_means_reduce_only() -> None:
    context = ctx(equity=D(9000), loss_acknowledged=True)
    decision = decide(buy(), context)
    assert (decision.check, decision.reason, decision.trip) == ("reduce_only", g.REDUCE_ONLY, False)
    assert decide(sell(), replace(context, positions={"btc": D(1)})).allowed


def test_reducing_near_the_daily_loss_limit_lets_only_sells_through() -> None:
    context = ctx(equity=D(9600), positions={"btc": D(1)})  # loss 400 = 80% of 500
    assert decide(buy(), context).reason == g.REDUCE_ONLY
    assert decide(sell(), context).allowed
    assert decide(buy(), replace(context, equity=D(9601))).allowed


@pytest.mark.parametrize(
    ("overrides", "state", "trip"),
    [
        ({}, TradingState.ACTIVE, False),
        ({"equity": D(9601)}, TradingState.ACTIVE, False),
        ({"equity": D(9600)}, TradingState.REDUCING, False),
        ({"equity": D(9500)}, TradingState.HALTED, True),
        ({"equity": D(9000), "loss_acknowledged": True}, TradingState.REDUCING, False),
        ({"state": TradingState.HALTED}, TradingState.HALTED, False),
        ({"state": TradingState.HALTED, "equity": D(1)}, TradingState.HALTED, False),
        ({"state": TradingState.REDUCING}, TradingState.ACTIVE, False),  # loss recovered
        ({"equity": D(11000)}, TradingState.ACTIVE, False),  # a gain is no loss
    ],
)
def test_trading_state_transitions(
    overrides: dict[str, Any], state: TradingState, trip: bool
) -> None:
    assessment = assess(ctx(**overrides))
    assert (assessment.state, assessment.trip) == (state, trip)
    assert assessment.detail


# --- order rate ------------------------------------------------------------------------------


def test_order_rate_limit_counts_accepted_orders_in_the_window() -> None:
    assert decide(buy(), ctx(recent_orders=4)).allowed
    decision = decide(sell(), ctx(recent_orders=5, positions={"btc": D(1)}))
    assert (decision.check, decision.reason) == ("order_rate", g.ORDER_RATE_LIMIT)


# --- notional limits ---------------------------------------------------------------------------


def test_order_notional_uses_the_ask_to_buy_the_bid_to_sell_and_a_limit_price() -> None:
    # ask 101: 9 * 101 = 909 passes, 10 * 101 = 1010 does not.
    assert decide(buy(quantity="9")).allowed
    assert decide(buy(quantity="10")).reason == g.MAX_ORDER_NOTIONAL
    # bid 99: selling 10 is 990.
    held = ctx(positions={"btc": D(20)})
    assert decide(sell(quantity="10"), held).allowed
    assert decide(sell(quantity="11"), held).reason == g.MAX_ORDER_NOTIONAL
    # A limit order is valued at its limit: exactly the limit is allowed.
    assert decide(buy(quantity="10", kind="limit", limit_price=D(100))).allowed
    assert decide(buy(quantity="10", kind="limit", limit_price=D("100.01"))).reason == (
        g.MAX_ORDER_NOTIONAL
    )


def test_position_limit_counts_holdings_and_resting_buys() -> None:
    context = ctx(positions={"btc": D(12)}, open_buys={"btc": D(5)})  # 17 * 100 = 1700
    assert decide(buy(quantity="3"), context).allowed  # 2000: at the limit
    decision = decide(buy(quantity="3.01"), context)
    assert (decision.check, decision.reason) == ("position", g.MAX_POSITION)
    # Selling never increases a long-only position.
    assert decide(sell(quantity="1"), replace(context, positions={"btc": D(30)})).allowed


def test_gross_and_net_exposure_are_separate_limits() -> None:
    held = {"btc": D(15), "eth": D(100)}  # 1500 + 1000 = 2500
    # With net <= gross, the net cap bites first...
    decision = decide(buy("eth", "1"), ctx(positions=held))
    assert (decision.check, decision.reason) == ("net_exposure", g.NET_EXPOSURE)
    # ...and with a gross cap below the net cap, the gross one does.
    tighter_gross = replace(LIMITS, max_gross_exposure=D(2400), max_net_exposure=D(5000))
    decision = decide(buy("eth", "1"), ctx(positions=held, limits=tighter_gross))
    assert (decision.check, decision.reason) == ("gross_exposure", g.GROSS_EXPOSURE)
    # Resting buys on a symbol without a position count too.
    with_open = ctx(positions={"btc": D(15)}, open_buys={"eth": D(100)})
    assert decide(buy("eth", "1"), with_open).reason == g.NET_EXPOSURE


def test_exposure_helpers_measure_at_the_last_price() -> None:
    context = ctx(positions={"btc": D(2)}, open_buys={"eth": D(3)})
    assert g.gross_exposure(context) == D(230)
    assert g.net_exposure(context, buy("eth", "7")) == D(300)


def test_volatile_mode_tightens_every_notional_limit() -> None:
    volatile = ctx(mode=MarketMode.VOLATILE)
    assert volatile.effective_limits == LIMITS.tightened(D("0.5"))
    # An order of 606 passes in NORMAL and is denied in VOLATILE (limit 500).
    assert decide(buy(quantity="6")).allowed
    decision = decide(buy(quantity="6"), volatile)
    assert decision.reason == g.MAX_ORDER_NOTIONAL and "volatile" in decision.detail
    # Position: 11 * 100 = 1100, within 2000 but not within 1000.
    held = {"btc": D(9)}
    assert decide(buy(quantity="2"), ctx(positions=held)).allowed
    assert decide(buy(quantity="2"), replace(volatile, positions=held)).reason == g.MAX_POSITION
    # Gross and net: 900 + 300 + 10 = 1210, within 2400 but not within 1200.
    spread = {"btc": D(9), "eth": D(30)}
    roomy = replace(LIMITS, max_position_notional=D(100000))
    gross_cap = replace(roomy, max_gross_exposure=D(2400), max_net_exposure=D(5000))
    net_cap = replace(roomy, max_gross_exposure=D(5000), max_net_exposure=D(2400))
    for limits, reason in ((gross_cap, g.GROSS_EXPOSURE), (net_cap, g.NET_EXPOSURE)):
        assert decide(buy("eth", "1"), ctx(positions=spread, limits=limits)).allowed
        tightened = ctx(positions=spread, limits=limits, mode=MarketMode.VOLATILE)
        assert decide(buy("eth", "1"), tightened).reason == reason


# --- the pipeline ------------------------------------------------------------------------------


def test_the_first_denial_in_pipeline_order_wins() -> None:
    everything_wrong = ctx(state=TradingState.HALTED, quotes={}, recent_orders=99)
    assert decide(buy("doge", "-1"), everything_wrong).reason == g.HALTED
    assert decide(buy("doge", "-1"), ctx(quotes={})).reason == g.UNKNOWN_SYMBOL
    assert decide(buy(quantity="50"), ctx(quotes={}, recent_orders=99)).reason == g.PRICE_MISSING
    assert decide(buy(quantity="50"), ctx(recent_orders=99)).reason == g.ORDER_RATE_LIMIT
    assert [name for name, _ in g.PIPELINE] == [
        "trading_state",
        "order_sanity",
        "price_freshness",
        "daily_loss",
        "reduce_only",
        "order_rate",
        "order_notional",
        "position",
        "gross_exposure",
        "net_exposure",
    ]


def test_a_guard_runs_exactly_the_checks_it_is_given() -> None:
    def no_eth(order: OrderIntent, context: GuardContext) -> Denial | None:
        return Denial("no_eth", "eth is closed") if order.symbol == "eth" else None

    custom = Guard(checks=(("no_eth", no_eth),))
    decision = custom.check(buy("eth"), ctx(state=TradingState.HALTED))
    assert (decision.check, decision.reason) == ("no_eth", "no_eth")
    assert custom.check(buy("doge"), ctx()) == ALLOW


def test_the_audit_snapshot_records_price_limits_in_force_mode_and_state() -> None:
    volatile = ctx(mode=MarketMode.VOLATILE)
    inputs = snapshot_inputs(buy(kind="limit", limit_price=D("99.5")), volatile)
    assert inputs["price"] == {"bid": "99", "ask": "101", "last": "100", "ts": NOW.isoformat()}
    assert inputs["limits"]["max_order_notional"] == "500"
    assert (inputs["mode"], inputs["state"]) == ("VOLATILE", "ACTIVE")
    assert inputs["order"]["limit_price"] == "99.5"
    missing = snapshot_inputs(buy("eth"), ctx(quotes={}))
    assert missing["price"] is None and missing["order"]["limit_price"] is None


# --- a property: whatever the state, an allowed buy leaves every limit respected -----------------

amounts = st.decimals(min_value=0, max_value=50, places=2, allow_nan=False, allow_infinity=False)


@given(
    btc=amounts,
    eth=amounts,
    open_btc=amounts,
    quantity=st.decimals(min_value="0.01", max_value=40, places=2),
    symbol=st.sampled_from(["btc", "eth"]),
    mode=st.sampled_from([MarketMode.NORMAL, MarketMode.VOLATILE]),
    loss=st.decimals(min_value=-100, max_value=600, places=0),
)
def test_an_allowed_buy_never_takes_exposure_past_a_limit(
    *, btc: D, eth: D, open_btc: D, quantity: D, symbol: str, mode: MarketMode, loss: D
) -> None:
    context = ctx(
        positions={"btc": btc, "eth": eth},
        open_buys={"btc": open_btc},
        mode=mode,
        equity=D(10000) - loss,
    )
    order = buy(symbol, str(quantity))
    if not GUARD.check(order, context).allowed:
        return
    limits = context.effective_limits
    # Recomputed here, not with the Guard's own Exposure: holdings plus resting buys plus the order.
    after = {"btc": btc + open_btc, "eth": eth}
    after[symbol] += quantity
    notional = {s: q * context.quotes[s].last for s, q in after.items()}
    assert quantity * context.quotes[symbol].ask <= limits.max_order_notional
    assert notional[symbol] <= limits.max_position_notional
    assert sum((abs(n) for n in notional.values()), D(0)) <= limits.max_gross_exposure
    assert abs(sum(notional.values(), D(0))) <= limits.max_net_exposure
    assert context.day_loss < limits.daily_loss_limit * limits.reduce_only_at
