"""16 threads submitting at once: no limit is ever breached, on SQLite and on PostgreSQL.

Each tier sets `orders_per_thread`: the issue's 1,000 on both SQLite and PostgreSQL (same code,
same checks).

Each thread has its own engine, as separate processes would: what keeps them apart is the
database's own lock (SQLite's BEGIN IMMEDIATE, PostgreSQL's row lock), not a mutex in Python.
The proof is a replay of the audit, which the write lock puts in commit order: after every
record, positions plus resting buys (what the Guard counts) are within every limit. The test also
checks that the limits were really reached, so it would notice a lock that lets orders race.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal as D

from sqlalchemy import select

from kernel import audit
from kernel.db import Database, open_database
from kernel.desk import Desk, Outcome
from kernel.exchange import OrderRequest
from kernel.models import Order
from kernel.money import q8
from tests.fixtures.kernel import kernel_settings, put_prices

THREADS = 16
NOW = datetime.now(UTC)
PRICES = {"btc": D(100), "eth": D(10), "sol": D(1)}
LIMITS = {
    "max_order_notional": 3000,
    "max_position_notional": 20000,
    "max_gross_exposure": 45000,
    "max_net_exposure": 40000,
}


def trader(
    desk: Desk, seed: int, orders: int, outcomes: list[Outcome], errors: list[BaseException]
) -> None:
    rng = random.Random(seed)
    resting: list[int] = []
    try:
        for _ in range(orders):
            symbol = rng.choice(list(PRICES))
            price = PRICES[symbol]
            roll = rng.random()
            if roll < 0.08 and resting:
                desk.cancel(resting.pop(rng.randrange(len(resting))), actor=f"t{seed}", now=NOW)
                continue
            if roll < 0.6:  # market buy of 500-3500 AUD: some over the order limit
                request = OrderRequest(symbol, "buy", q8(D(rng.randint(500, 3500)) / price))
            elif roll < 0.7:  # a resting buy below the market: exposure without a fill
                limit = price * D("0.95")
                request = OrderRequest(
                    symbol, "buy", q8(D(rng.randint(500, 2500)) / limit), "limit", limit
                )
            else:  # market sell, sometimes of more than is held
                request = OrderRequest(symbol, "sell", q8(D(rng.randint(500, 6000)) / price))
            outcome = desk.submit(OrderRequest(**{**request.__dict__, "actor": f"t{seed}"}), NOW)
            outcomes.append(outcome)
            if outcome.result is not None and outcome.result.status == "open":
                assert outcome.result.order_id is not None
                resting.append(outcome.result.order_id)
    except BaseException as exc:
        errors.append(exc)


def test_concurrent_orders_never_breach_a_limit(db: Database, orders_per_thread: int) -> None:
    settings = kernel_settings(
        order_rate_limit=10**9,
        max_price_age=10**9,
        daily_loss_limit=10**9,
        initial_cash=10**7,
        **LIMITS,
    )
    engines = [open_database(db.url, sqlite_synchronous="NORMAL") for _ in range(THREADS)]
    desks = [Desk(engine, settings) for engine in engines]
    with db.write() as s:
        desks[0].exchange.ensure_funded(s, settings.initial_cash)
    put_prices(
        db, NOW, **{s: (str(p - p / 1000), str(p + p / 1000), str(p)) for s, p in PRICES.items()}
    )

    outcomes: list[Outcome] = []
    errors: list[BaseException] = []
    threads = [
        threading.Thread(target=trader, args=(desks[i], i, orders_per_thread, outcomes, errors))
        for i in range(THREADS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for engine in engines:
        engine.dispose()
    assert errors == [], [repr(e) for e in errors[:3]]

    # Replay the audit in commit order.
    with db.read() as s:
        records = audit.query(s)
        orders = {o.id: o for o in s.scalars(select(Order))}
        chain = audit.verify(s)
    assert chain.ok, chain.first_break  # concurrent appends never forked the chain
    held = dict.fromkeys(PRICES, D(0))
    resting = dict.fromkeys(PRICES, D(0))
    peak: dict[str, D] = dict.fromkeys([*PRICES, "gross", "net"], D(0))
    decisions = 0
    for r in records:
        inputs = json.loads(r.inputs)
        if r.action in ("ORDER_SUBMITTED", "ORDER_DENIED"):
            decisions += 1
        if r.action == "ORDER_SUBMITTED" and r.reason is None:
            order = orders[inputs["order_id"]]
            assert (
                order.quantity * PRICES[order.symbol] <= LIMITS["max_order_notional"]
                or order.side == "sell"
            )
            if order.kind == "limit":
                resting[order.symbol] += order.quantity
        elif r.action == "ORDER_FILLED":
            sign = 1 if r.decision == "buy" else -1
            held[r.symbol or ""] += sign * D(inputs["quantity"])
        elif r.action == "ORDER_CANCELLED" and r.reason is None:
            order = orders[inputs["order_id"]]
            resting[order.symbol] -= order.quantity
        exposure = {s: (held[s] + resting[s]) * PRICES[s] for s in PRICES}
        assert all(q >= 0 for q in held.values())
        for symbol, notional in exposure.items():
            assert notional <= LIMITS["max_position_notional"], (r.sequence, symbol, notional)
            peak[symbol] = max(peak[symbol], notional)
        gross = sum((abs(n) for n in exposure.values()), D(0))
        net = abs(sum(exposure.values(), D(0)))
        assert gross <= LIMITS["max_gross_exposure"], (r.sequence, gross)
        assert net <= LIMITS["max_net_exposure"], (r.sequence, net)
        peak["gross"], peak["net"] = max(peak["gross"], gross), max(peak["net"], net)

    assert decisions == len(outcomes)
    assert (
        len(outcomes) + sum(1 for r in records if r.action == "ORDER_CANCELLED")
        == THREADS * orders_per_thread
    )
    # The limits were reached over and over, not merely approached.
    denied = Counter(o.decision.reason for o in outcomes if not o.decision.allowed)
    total = THREADS * orders_per_thread
    assert denied["max_order_notional"] > total // 100
    assert denied["net_exposure"] + denied["gross_exposure"] + denied["max_position"] > total // 100
    assert peak["net"] > LIMITS["max_net_exposure"] * 0.95
    # And the books balance at the end.
    with db.read() as s:
        account = desks[0].exchange.account(s)
    assert account.cash_free >= 0
    assert (
        account.cash_free
        + account.cash_reserved
        + account.cost
        + account.fees_paid
        - account.realized_pnl
        == account.deposited
    )
