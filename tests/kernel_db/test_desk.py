"""The desk on a real database: Guard decisions audited, trips persisted, ticks, mode, baselines."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import event, func, select

from kernel import audit
from kernel.db import Database
from kernel.desk import Desk
from kernel.errors import UnusableInput
from kernel.exchange import OrderRequest
from kernel.models import AlertOutbox, AuditRecord, DayOpen, Order, TradingStateRow
from kernel.prices import Quote, Tick
from tests.fixtures.kernel import kernel_settings, put_prices

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)


def desk(db: Database, **overrides: Any) -> Desk:
    d = Desk(db, kernel_settings(symbols=["btc", "eth"], **overrides))
    with db.write() as s:
        d.exchange.ensure_funded(s, D(100000))
    return d


def records(db: Database) -> list[AuditRecord]:
    with db.read() as s:
        return audit.query(s)


def state(db: Database) -> TradingStateRow:
    with db.read() as s:
        row = s.get(TradingStateRow, 1)
        assert row is not None
        return row


def tick(at: datetime, **quotes: tuple[str, str, str]) -> Tick:
    return Tick(at, tuple(Quote(s, at, D(b), D(a), D(x)) for s, (b, a, x) in quotes.items()))


def test_an_allowed_order_is_audited_with_its_inputs_then_its_fill(db: Database) -> None:
    d = desk(db)
    put_prices(db, NOW, btc=("99", "101", "100"))
    outcome = d.submit(OrderRequest("btc", "buy", D(2), actor="alice"), NOW)
    assert outcome.accepted and outcome.fills[0].price == D(101)
    submitted, filled = records(db)
    assert (submitted.actor, submitted.action, submitted.decision) == (
        "alice",
        "ORDER_SUBMITTED",
        "allow",
    )
    inputs = json.loads(submitted.inputs)
    assert inputs["price"]["ask"] == "101" and inputs["mode"] == "NORMAL"
    assert inputs["limits"]["max_order_notional"] == "5000"
    assert inputs["order_id"] == outcome.result.order_id  # type: ignore[union-attr]
    assert inputs["clock"] == NOW.isoformat()
    assert (filled.action, filled.symbol, filled.decision) == ("ORDER_FILLED", "btc", "buy")


def test_a_denial_is_audited_with_its_reason_code_and_nothing_reaches_the_exchange(
    db: Database,
) -> None:
    d = desk(db)
    put_prices(db, NOW, btc=("99", "101", "100"))
    outcome = d.submit(OrderRequest("btc", "buy", D(100)), NOW)  # 10100 > 5000
    assert (outcome.accepted, outcome.decision.reason) == (False, "max_order_notional")
    (record,) = records(db)
    assert (record.action, record.decision, record.reason) == (
        "ORDER_DENIED",
        "deny",
        "max_order_notional",
    )
    assert json.loads(record.inputs)["check"] == "order_notional"
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Order)) == 0


@pytest.mark.parametrize(
    ("request_", "reason", "symbol"),
    [
        (OrderRequest("doge", "buy", D(1)), "unknown_symbol", None),
        (OrderRequest("btc", "buy", D("NaN")), "invalid_quantity", "btc"),
        (OrderRequest("btc", "sell", D(-1)), "invalid_quantity", "btc"),
        (OrderRequest("eth", "buy", D(1)), "price_missing", "eth"),
    ],
)
def test_bad_orders_are_denied_one_reason_each(
    db: Database, request_: OrderRequest, reason: str, symbol: str | None
) -> None:
    d = desk(db)
    put_prices(db, NOW, btc=("99", "101", "100"))
    outcome = d.submit(request_, NOW)
    assert outcome.decision.reason == reason
    (record,) = records(db)
    assert (record.reason, record.symbol) == (reason, symbol)
    assert json.loads(record.inputs)["order"]["symbol"] == request_.symbol


def test_an_exchange_rejection_is_audited_as_submitted_and_rejected(db: Database) -> None:
    d = desk(db)
    put_prices(db, NOW, btc=("99", "101", "100"))
    outcome = d.submit(OrderRequest("btc", "sell", D(1)), NOW)  # nothing held
    assert outcome.decision.allowed
    assert outcome.result is not None and outcome.result.reason == "insufficient_holdings"
    (record,) = records(db)
    assert (record.action, record.decision, record.reason) == (
        "ORDER_SUBMITTED",
        "allow",
        "insufficient_holdings",
    )
    assert record.outcome is not None and record.outcome.startswith("rejected by the exchange")


def test_a_stale_ledger_price_denies(db: Database) -> None:
    d = desk(db)
    put_prices(db, NOW - timedelta(minutes=10), btc=("99", "101", "100"))
    assert d.submit(OrderRequest("btc", "buy", D(1)), NOW).decision.reason == "price_stale"


def test_the_order_rate_limit_counts_accepted_orders_in_the_database(db: Database) -> None:
    d = desk(db, order_rate_limit=3, order_rate_window=60)
    put_prices(db, NOW, btc=("99", "101", "100"))
    reasons = [
        d.submit(OrderRequest("btc", "buy", D("0.1")), NOW + timedelta(seconds=i)).decision.reason
        for i in range(4)
    ]
    assert reasons == [None, None, None, "order_rate_limit"]
    later = NOW + timedelta(seconds=61)
    put_prices(db, later, btc=("99", "101", "100"))
    assert d.submit(OrderRequest("btc", "buy", D("0.1")), later).accepted


def test_a_daily_loss_breach_trips_the_kill_switch_in_the_same_transaction(db: Database) -> None:
    d = desk(db, daily_loss_limit=100, alerts__slack_webhook="http://127.0.0.1:9/hook")
    put_prices(db, NOW, btc=("999", "1001", "1000"))
    assert d.submit(OrderRequest("btc", "buy", D(4)), NOW).accepted  # baseline recorded first
    crash = NOW + timedelta(minutes=1)
    put_prices(db, crash, btc=("969", "971", "970"))  # 4 * -30 = -120
    outcome = d.submit(OrderRequest("btc", "sell", D(1)), crash)
    assert (outcome.decision.reason, outcome.tripped) == ("daily_loss_limit", True)
    row = state(db)
    assert (row.state, row.tripped_by) == ("HALTED", "guard")
    assert row.trip_reason is not None and "daily loss" in row.trip_reason
    actions = [r.action for r in records(db)]
    assert actions[-2:] == ["ORDER_DENIED", "KILL_SWITCH_TRIPPED"]
    with db.read() as s:
        (alert,) = s.scalars(select(AlertOutbox)).all()
        assert (alert.event, alert.channel, alert.status) == (
            "KILL_SWITCH_TRIPPED",
            "slack",
            "pending",
        )
    # Latched: everything new is denied; a cancel still goes through.
    assert d.submit(OrderRequest("btc", "sell", D(1)), crash).decision.reason == "halted"


def test_halted_denies_new_orders_but_allows_cancels(db: Database) -> None:
    from kernel import killswitch

    d = desk(db)
    put_prices(db, NOW, btc=("99", "101", "100"))
    resting = d.submit(OrderRequest("btc", "buy", D(1), "limit", D(90)), NOW)
    with db.write() as s:
        killswitch.trip(s, by="alice", reason="drill", now=NOW)
    assert d.submit(OrderRequest("btc", "buy", D(1)), NOW).decision.reason == "halted"
    assert resting.result is not None and resting.result.order_id is not None
    cancelled = d.cancel(resting.result.order_id, actor="alice", now=NOW)
    assert cancelled.status == "cancelled"
    last = records(db)[-1]
    assert (last.action, last.actor, last.decision) == ("ORDER_CANCELLED", "alice", "cancel")
    assert d.cancel(resting.result.order_id, actor="alice", now=NOW).reason == "not_open"


def test_ticks_match_resting_orders_and_audit_the_fill(db: Database) -> None:
    d = desk(db)
    put_prices(db, NOW, btc=("99", "101", "100"))
    d.submit(OrderRequest("btc", "buy", D(1), "limit", D(95), actor="alice"), NOW)
    with db.write() as s:
        report = d.on_tick_in(s, tick(NOW + timedelta(minutes=1), btc=("93", "94", "93.5")), "test")
    ((_order, fill),) = report.filled
    assert fill.price == D(95)
    last = records(db)[-1]
    assert (last.action, last.actor) == ("ORDER_FILLED", "alice")


def test_ticks_move_trading_to_reducing_and_back(db: Database) -> None:
    d = desk(db, daily_loss_limit=100, reduce_only_at=0.5)
    put_prices(db, NOW, btc=("999", "1001", "1000"))
    d.submit(OrderRequest("btc", "buy", D(4)), NOW)  # baseline, then 4 btc
    for minutes, price, expected in ((1, "985", "REDUCING"), (2, "1000", "ACTIVE")):
        with db.write() as s:
            at = NOW + timedelta(minutes=minutes)
            d.on_tick_in(s, tick(at, btc=(price, price, price)), "test")
        assert state(db).state == expected


def test_a_tick_can_trip_without_any_order(db: Database) -> None:
    d = desk(db, daily_loss_limit=100)
    put_prices(db, NOW, btc=("999", "1001", "1000"))
    d.submit(OrderRequest("btc", "buy", D(4)), NOW)
    with db.write() as s:
        report = d.on_tick_in(s, tick(NOW + timedelta(minutes=1), btc=("960", "962", "961")), "t")
    assert report.tripped and state(db).state == "HALTED"
    assert records(db)[-1].action == "KILL_SWITCH_TRIPPED"


def test_the_day_baseline_is_recorded_once_per_utc_day(db: Database) -> None:
    d = desk(db)
    for at in (NOW, NOW + timedelta(hours=11), NOW + timedelta(hours=12, minutes=1)):
        put_prices(db, at, btc=("99", "101", "100"))
        d.submit(OrderRequest("btc", "buy", D("0.5")), at)
    with db.read() as s:
        days = s.scalars(select(DayOpen.created_at).order_by(DayOpen.id)).all()
    assert [t.date() for t in days] == [NOW.date(), (NOW + timedelta(days=1)).date()]


def test_volatile_mode_is_audited_and_tightens_the_next_decision(db: Database) -> None:
    d = desk(
        db, volatility_window=5, volatile_enter=2.0, volatile_exit=1.0, max_order_notional=1000
    )
    price = D(100)
    for minute in range(8):  # +-5% a minute: wildly volatile
        price = price * (D("1.05") if minute % 2 else D("0.95"))
        p = str(price.quantize(D("0.01")))
        with db.write() as s:
            d.on_tick_in(s, tick(NOW + timedelta(minutes=minute), btc=(p, p, p)), "test")
    row = state(db)
    assert row.market_mode == "VOLATILE"
    change = next(r for r in records(db) if r.action == "MARKET_MODE_CHANGED")
    assert (change.actor, change.decision) == ("guard", "VOLATILE")
    assert json.loads(change.inputs)["limits_now"]["max_order_notional"] == "500"
    at = NOW + timedelta(minutes=7)
    decision = d.submit(OrderRequest("btc", "buy", D(7)), at).decision  # ~700: over 500
    assert decision.reason == "max_order_notional" and "volatile" in decision.detail
    for minute in range(8, 16):  # flat again: back to NORMAL
        with db.write() as s:
            d.on_tick_in(s, tick(NOW + timedelta(minutes=minute), btc=(p, p, p)), "test")
    assert state(db).market_mode == "NORMAL"
    assert [r.decision for r in records(db) if r.action == "MARKET_MODE_CHANGED"] == [
        "VOLATILE",
        "NORMAL",
    ]


def test_an_actor_name_must_be_sensible(db: Database) -> None:
    d = desk(db)
    with pytest.raises(UnusableInput, match="actor"):
        d.submit(OrderRequest("btc", "buy", D(1), actor=" "), NOW)
    with pytest.raises(UnusableInput, match="actor"):
        d.submit(OrderRequest("btc", "buy", D(1), actor="x" * 65), NOW)


def test_a_batch_is_one_transaction_judged_order_by_order(db: Database) -> None:
    d = desk(db, max_position_notional=3000, max_order_notional=3000)
    put_prices(db, NOW, btc=("99", "101", "100"))
    with db.read() as s:
        before = s.execute(select(func.count()).select_from(Order)).scalar_one()
    # Each 20-btc buy is 2,000 at the mark: the second would make 4,000, over the position limit.
    outcomes = d.submit_many(
        [OrderRequest("btc", "buy", D(20)), OrderRequest("btc", "buy", D(20))], NOW
    )
    assert [o.accepted for o in outcomes] == [True, False]
    assert outcomes[1].decision.reason == "max_position"
    with db.read() as s:  # committed by the time submit_many returned
        assert s.scalar(select(func.count()).select_from(Order)) == before + 1
        assert audit.verify(s).ok
    # A malformed actor refuses the whole batch before anything is written.
    with pytest.raises(UnusableInput, match="actor"):
        d.submit_many(
            [OrderRequest("eth", "buy", D(1)), OrderRequest("eth", "buy", D(1), actor="")]
        )
    assert len(records(db)) == 3


def test_concurrent_submitters_share_commits_and_each_gets_its_own_outcome(
    db: Database,
) -> None:
    d = desk(db, order_rate_limit=10**9)
    put_prices(db, NOW, btc=("99", "101", "100"), eth=("9", "11", "10"))
    commits = 0

    @event.listens_for(db.engine, "commit")
    def count(_conn: Any) -> None:
        nonlocal commits
        commits += 1

    outcomes: dict[int, list[Any]] = {}
    errors: list[BaseException] = []

    def trader(n: int) -> None:
        try:
            got = outcomes[n] = []
            for i in range(25):
                outcome = d.submit(
                    OrderRequest("btc" if i % 2 else "eth", "buy", D("0.01"), actor=f"t{n}"), NOW
                )
                # Acknowledged means committed: another connection already sees the order.
                with db.read() as s:
                    assert s.get(Order, outcome.result.order_id) is not None  # type: ignore[union-attr]
                got.append(outcome)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=trader, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    event.remove(db.engine, "commit", count)
    assert errors == [], [repr(e) for e in errors[:3]]
    ids = [o.result.order_id for got in outcomes.values() for o in got]
    assert len(ids) == len(set(ids)) == 200
    assert commits - 200 < 200  # some orders shared a commit (each check above is one commit too)
    with db.read() as s:
        assert audit.verify(s).ok
        actors = {o.id: o.actor for o in s.scalars(select(Order))}
    for n, got in outcomes.items():  # each caller got the outcome of its own order
        assert all(actors[o.result.order_id] == f"t{n}" for o in got)
