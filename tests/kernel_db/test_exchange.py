"""PaperExchange: fills, fees, reservations, cancels, rejections, restarts, and its accounting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from kernel import exchange as ex
from kernel.db import Database, open_database
from kernel.exchange import OrderRequest, PaperExchange
from kernel.models import Balance, Order, Position
from kernel.money import ZERO
from kernel.prices import Quote
from tests.fixtures.kernel import put_prices

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
FEE = D("0.001")


def exchange(fee: D = FEE) -> PaperExchange:
    return PaperExchange(["btc", "eth"], fee_rate=fee)


def q(symbol: str, bid: str, ask: str, last: str | None = None) -> Quote:
    return Quote(symbol, NOW, D(bid), D(ask), D(last or bid))


def funded(db: Database, amount: str = "10000") -> None:
    with db.write() as s:
        exchange().deposit(s, D(amount))


def cash(s: Session) -> Balance:
    balance = s.get(Balance, "AUD")
    assert balance is not None
    return balance


def buy(qty: str, **kw: Any) -> OrderRequest:
    return OrderRequest("btc", "buy", D(qty), **kw)


def sell(qty: str, **kw: Any) -> OrderRequest:
    return OrderRequest("btc", "sell", D(qty), **kw)


BTC = q("btc", "99", "101", "100")


def test_market_orders_fill_at_the_touch_with_the_fee(db: Database) -> None:
    funded(db)
    with db.write() as s:
        x = exchange()
        bought = x.submit(s, buy("10"), NOW, BTC)
        assert bought.accepted and bought.status == "filled"
        (fill,) = bought.fills
        assert (fill.price, fill.notional, fill.fee) == (D(101), D(1010), D("1.01"))
        assert cash(s).free == D("8988.99")
        sold = x.submit(s, sell("4"), NOW, q("btc", "110", "112"))
        (fill,) = sold.fills
        assert (fill.price, fill.notional, fill.fee) == (D(110), D(440), D("0.44"))
        position = s.get(Position, "btc")
        assert position is not None
        assert position.quantity == D(6)
        assert position.cost == D(606)  # average cost 101 released for 4
        assert position.realized_pnl == D(440 - 404)
        assert cash(s).free == D("8988.99") + D("439.56")
        assert cash(s).fees_paid == D("1.45")


def test_market_orders_read_the_glass_when_not_given_a_quote(db: Database) -> None:
    funded(db)
    put_prices(db, NOW, btc=("99", "101", "100"))
    with db.write() as s:
        assert exchange().submit(s, buy("1"), NOW).fills[0].price == D(101)
        result = exchange().submit(s, OrderRequest("eth", "buy", D(1)), NOW)
        assert (result.accepted, result.reason) == (False, ex.NO_PRICE)


def test_limit_buy_rests_reserving_cash_and_fills_when_the_ask_crosses(db: Database) -> None:
    funded(db)
    x = exchange()
    with db.write() as s:
        result = x.submit(s, buy("10", kind="limit", limit_price=D(95)), NOW, BTC)
        assert (result.accepted, result.status, result.fills) == (True, "open", ())
        assert (cash(s).free, cash(s).reserved) == (D("9049.05"), D("950.95"))
        assert x.match(s, {"btc": q("btc", "95", "96")}, NOW) == []  # ask above the limit
    with db.write() as s:
        ((order, fill),) = x.match(s, {"btc": q("btc", "93", "94.5")}, NOW + timedelta(minutes=1))
        assert order.status == "filled" and fill.price == D(95)  # at its limit
        assert (cash(s).free, cash(s).reserved) == (D("9049.05"), ZERO)
        assert s.get(Position, "btc").cost == D(950)  # type: ignore[union-attr]


def test_a_marketable_limit_buy_fills_at_once_at_the_better_ask(db: Database) -> None:
    funded(db)
    with db.write() as s:
        result = exchange().submit(s, buy("1", kind="limit", limit_price=D(150)), NOW, BTC)
        assert result.status == "filled" and result.fills[0].price == D(101)


def test_limit_sell_rests_reserving_holdings_then_fills_when_the_bid_crosses(db: Database) -> None:
    funded(db)
    x = exchange()
    with db.write() as s:
        x.submit(s, buy("5"), NOW, BTC)
        rest = x.submit(s, sell("3", kind="limit", limit_price=D(120)), NOW, BTC)
        assert rest.status == "open"
        assert s.get(Position, "btc").reserved == D(3)  # type: ignore[union-attr]
        # Only 2 are free to sell now.
        more = x.submit(s, sell("3"), NOW, BTC)
        assert (more.accepted, more.reason) == (False, ex.INSUFFICIENT_HOLDINGS)
        ((order, fill),) = x.match(s, {"btc": q("btc", "121", "122")}, NOW)
        assert fill.price == D(120) and order.id == rest.order_id
        position = s.get(Position, "btc")
        assert position is not None and (position.quantity, position.reserved) == (D(2), ZERO)
        sell_limit_marketable = x.submit(s, sell("1", kind="limit", limit_price=D(50)), NOW, BTC)
        assert sell_limit_marketable.fills[0].price == D(99)


def test_cancel_releases_what_the_order_held(db: Database) -> None:
    funded(db)
    x = exchange()
    with db.write() as s:
        x.submit(s, buy("2"), NOW, BTC)
        b = x.submit(s, buy("10", kind="limit", limit_price=D(90)), NOW, BTC)
        a = x.submit(s, sell("2", kind="limit", limit_price=D(200)), NOW, BTC)
        assert b.order_id is not None and a.order_id is not None
        before = cash(s).free
        assert x.cancel(s, b.order_id, NOW).status == "cancelled"
        assert x.cancel(s, a.order_id, NOW).status == "cancelled"
        assert cash(s).free == before + D("900.9") and cash(s).reserved == ZERO
        assert s.get(Position, "btc").reserved == ZERO  # type: ignore[union-attr]
        again = x.cancel(s, b.order_id, NOW)
        assert (again.accepted, again.reason, again.detail) == (
            False,
            ex.NOT_OPEN,
            f"order {b.order_id} is cancelled",
        )
        assert x.cancel(s, 999, NOW).detail == "order 999 does not exist"


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (OrderRequest("doge", "buy", D(1)), ex.UNKNOWN_SYMBOL),
        (OrderRequest("btc", "hold", D(1)), ex.INVALID_SIDE),
        (OrderRequest("btc", "buy", D(1), kind="stop"), ex.INVALID_KIND),
        (buy("0"), ex.INVALID_QUANTITY),
        (buy("-2"), ex.INVALID_QUANTITY),
        (buy("NaN"), ex.INVALID_QUANTITY),
        (buy("-Infinity"), ex.INVALID_QUANTITY),
        (buy("0.000000001"), ex.INVALID_QUANTITY),  # finer than the 1e-8 lot
        (buy("1", kind="limit"), ex.INVALID_PRICE),
        (buy("1", kind="limit", limit_price=D("NaN")), ex.INVALID_PRICE),
        (buy("1", kind="limit", limit_price=D("-1")), ex.INVALID_PRICE),
        (buy("1", kind="limit", limit_price=D("1.000000001")), ex.INVALID_PRICE),
        (buy("1", limit_price=D(100)), ex.INVALID_PRICE),
        (buy("99"), ex.INSUFFICIENT_FUNDS),  # 99 * 101 = 9999 + fee 9.999 > 10000
        (sell("1"), ex.INSUFFICIENT_HOLDINGS),
    ],
)
def test_rejections_carry_a_reason_and_change_nothing(
    db: Database, request_: OrderRequest, reason: str
) -> None:
    funded(db)
    with db.write() as s:
        result = exchange().submit(s, request_, NOW, BTC)
        assert (result.accepted, result.reason) == (False, reason)
        assert result.detail
        assert s.scalars(select(Order)).all() == []
        assert (cash(s).free, cash(s).reserved) == (D(10000), ZERO)


def test_the_fee_rate_is_configurable(db: Database) -> None:
    funded(db)
    with db.write() as s:
        fill = exchange(D(0)).submit(s, buy("1"), NOW, BTC).fills[0]
        assert fill.fee == ZERO
        fill = exchange(D("0.0025")).submit(s, buy("1"), NOW, BTC).fills[0]
        assert fill.fee == D("0.2525")


def test_funding_happens_once(db: Database) -> None:
    with db.write() as s:
        assert exchange().ensure_funded(s, D(500))
        assert not exchange().ensure_funded(s, D(500))
        assert cash(s).deposited == D(500)
        with pytest.raises(ValueError, match="positive"):
            exchange().deposit(s, D("-1"))


def test_a_restart_resumes_the_same_orders_balances_and_positions(db: Database) -> None:
    funded(db)
    with db.write() as s:
        x = exchange()
        x.submit(s, buy("3"), NOW, BTC)
        resting = x.submit(s, buy("1", kind="limit", limit_price=D(90)), NOW, BTC)
    db.dispose()
    reopened = open_database(db.url)
    try:
        with reopened.write() as s:
            x = exchange()
            account = x.account(s)
            assert account.holdings["btc"].quantity == D(3)
            assert account.open_buys == {"btc": D(1)}
            assert account.cash_reserved == D("90.09")
            assert [o.id for o in x.open_orders(s)] == [resting.order_id]
            ((order, _fill),) = x.match(s, {"btc": q("btc", "88", "89")}, NOW)
            assert order.id == resting.order_id
    finally:
        reopened.dispose()


# --- properties: the accounting identity and no negative balances -----------------------------

lots = st.decimals(min_value="0.0001", max_value="5", places=4)
# Limit prices and price moves relative to the current mark, so resting orders rest *and* cross.
moves = st.decimals(min_value="-0.08", max_value="0.08", places=3)
symbols = st.sampled_from(["btc", "eth"])
sides = st.sampled_from(["buy", "sell"])
operation = st.one_of(
    st.tuples(st.just("market"), sides, symbols, lots),
    st.tuples(st.just("limit"), sides, symbols, lots, moves),
    st.tuples(st.just("cancel"), st.integers(0, 5)),
    st.tuples(st.just("tick"), symbols, moves),
)


class RollBack(Exception):
    pass


def check_books(s: Session, x: PaperExchange) -> None:
    """cash + positions at cost + fees - realized PnL == deposits; nothing negative; holds add up."""
    account = x.account(s)
    identity = account.cash_free + account.cash_reserved + account.cost + account.fees_paid
    assert identity - account.realized_pnl == account.deposited
    assert account.cash_free >= 0 and account.cash_reserved >= 0 and account.fees_paid >= 0
    open_orders = x.open_orders(s)
    assert account.cash_reserved == sum((o.reserved for o in open_orders if o.side == "buy"), ZERO)
    for h in account.holdings.values():
        assert h.quantity >= 0 and h.cost >= 0 and 0 <= h.reserved <= h.quantity
        held_back = sum(
            (o.quantity for o in open_orders if o.side == "sell" and o.symbol == h.symbol), ZERO
        )
        assert h.reserved == held_back
        if h.quantity == 0:
            assert h.cost == 0


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ops=st.lists(operation, min_size=5, max_size=40), fee=st.sampled_from([D(0), FEE, D("0.0075")])
)
def test_accounting_is_conserved_and_nothing_goes_negative(
    db: Database, ops: list[tuple[Any, ...]], fee: D
) -> None:
    x = PaperExchange(["btc", "eth"], fee_rate=fee)
    marks = {"btc": q("btc", "99", "101"), "eth": q("eth", "49", "50")}
    with pytest.raises(RollBack), db.write() as s:
        x.deposit(s, D(2000))
        for op in ops:
            if op[0] == "market":
                _, side, symbol, quantity = op
                x.submit(s, OrderRequest(symbol, side, quantity), NOW, marks[symbol])
            elif op[0] == "limit":
                _, side, symbol, quantity, move = op
                limit = (marks[symbol].last * (1 + move)).quantize(D("0.01"))
                request = OrderRequest(symbol, side, quantity, "limit", limit)
                x.submit(s, request, NOW, marks[symbol])
            elif op[0] == "cancel":
                open_orders = x.open_orders(s)
                if open_orders:
                    x.cancel(s, open_orders[op[1] % len(open_orders)].id, NOW)
            else:
                _, symbol, move = op
                last = (marks[symbol].last * (1 + move)).quantize(D("0.01"))
                marks[symbol] = Quote(symbol, NOW, last - D("0.5"), last + D("0.5"), last)
                x.match(s, {symbol: marks[symbol]}, NOW)
            check_books(s, x)
        raise RollBack  # every example starts from an empty book
