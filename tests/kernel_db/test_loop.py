"""The strategy loop: a whole simulated day, restarts, replays, Ctrl-C, and bad input at the CLI."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from kernel import audit, killswitch
from kernel.alerts import Outbox, OutboxWorker
from kernel.db import Database, open_database
from kernel.desk import Desk, utc_midnight, utcnow
from kernel.exchange import OrderRequest
from kernel.loop import PaperLoop, RunStats, plan_synthetic
from kernel.models import Fill, Order, Price, Strategy, TradingStateRow
from kernel.settings import KernelSettings
from kernel.status import snapshot
from tests.fixtures.cli import cli_env, omc, omc_argv
from tests.fixtures.kernel import kernel_settings
from tests.fixtures.webhook import Reply, WebhookServer


def run(
    db: Database, settings: KernelSettings, ticks: int, seed: int = 7
) -> tuple[PaperLoop, RunStats]:
    plan = plan_synthetic(
        db, settings, seed=seed, symbols=None, ticks=ticks, duration=None, realtime=False
    )
    loop = PaperLoop(db, settings, plan.symbols, source=plan.source)
    loop.prepare()
    return loop, loop.run(plan.ticks)


def count(db: Database, model: type) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_a_whole_simulated_day(db: Database) -> None:
    settings = kernel_settings()
    loop, stats = run(db, settings, 1440)
    assert stats.ticks == 1440 and not stats.interrupted
    assert stats.first_ts == utc_midnight(utcnow()) and stats.last_ts is not None
    assert stats.last_ts - stats.first_ts == timedelta(hours=23, minutes=59)
    assert stats.signals > 50 and stats.orders > 50
    with db.read() as s:
        records = audit.query(s)
        chain = audit.verify(s)
        strategy = s.get(Strategy, "ma-crossover")
        account = loop.desk.exchange.account(s)
    assert chain.ok and chain.records == len(records)
    actions = Counter(r.action for r in records)
    assert actions["ALGORITHM_SIGNAL"] == stats.signals
    assert actions["ORDER_FILLED"] == count(db, Fill) == stats.fills
    assert count(db, Order) == stats.orders
    assert actions["ORDER_SUBMITTED"] + actions["ORDER_DENIED"] <= stats.signals
    # The day's spike pushed the market into volatile mode and out again.
    modes = [r.decision for r in records if r.action == "MARKET_MODE_CHANGED"]
    assert modes[:2] == ["VOLATILE", "NORMAL"]
    assert strategy is not None and strategy.ticks == 1440
    assert count(db, Price) == 1440 * 3
    identity = account.cash_free + account.cash_reserved + account.cost + account.fees_paid
    assert identity - account.realized_pnl == account.deposited == settings.initial_cash
    status = snapshot(db)
    assert status["strategies"][0]["ticks"] == 1440
    assert status["audit"]["records"] == len(records)


def test_a_restart_resumes_kill_switch_open_orders_and_balances(db: Database) -> None:
    settings = kernel_settings()
    _, first = run(db, settings, 120)
    last_ts = first.last_ts
    assert last_ts is not None
    desk = Desk(db, settings)
    resting = desk.submit(
        OrderRequest("btc", "buy", D("0.01"), "limit", D(1000), actor="alice"), last_ts
    )
    assert resting.result is not None and resting.result.status == "open"
    with db.write() as s:
        killswitch.trip(s, by="alice", reason="end of shift", now=last_ts)
        before = desk.exchange.account(s)
    db.dispose()

    reopened = open_database(db.url, sqlite_synchronous="NORMAL")
    try:
        second, stats = run(reopened, settings, 120)
        assert stats.first_ts == last_ts + timedelta(minutes=1)  # continues the same ledger
        assert stats.orders == 0 and set(stats.denied) <= {"halted"}
        with reopened.read() as s:
            row = s.get(TradingStateRow, 1)
            assert row is not None and (row.state, row.tripped_by) == ("HALTED", "alice")
            after = second.desk.exchange.account(s)
            assert [o.id for o in second.desk.exchange.open_orders(s)] == [resting.result.order_id]
        assert (after.cash_free, after.cash_reserved, after.holdings) == (
            before.cash_free,
            before.cash_reserved,
            before.holdings,
        )
        with reopened.write() as s:
            killswitch.reset(s, by="bob", reason="new shift", now=utcnow())
        _, third = run(reopened, settings, 240)
        assert third.orders > 0
    finally:
        reopened.dispose()


def test_a_trip_in_the_loop_does_not_wait_for_its_alert(
    db: Database, webhook_server: WebhookServer
) -> None:
    # The webhook answers only when the test says so and the client would wait 10 minutes: a loop
    # that waited for its alert could not finish. No wall-clock margin, so load cannot fake it.
    answer = threading.Event()
    webhook_server.default = Reply(200, hold=answer)
    settings = kernel_settings(
        daily_loss_limit="0.01", alerts__slack_webhook=webhook_server.url(), alerts__timeout=600
    )
    worker = OutboxWorker(Outbox(db, settings.alerts), idle_poll=0.1).start()
    try:
        plan = plan_synthetic(
            db, settings, seed=7, symbols=None, ticks=300, duration=None, realtime=False
        )
        loop = PaperLoop(db, settings, plan.symbols, source=plan.source, alerts=worker)
        loop.prepare()
        result: list[Any] = []
        runner = threading.Thread(target=lambda: result.append(loop.run(plan.ticks)), daemon=True)
        runner.start()
        runner.join(timeout=120)
        assert not runner.is_alive(), "the loop waited for its alert"
        (stats,) = result
        assert stats.trips == 1 and stats.state == "HALTED"
        deadline = time.monotonic() + 30
        while not webhook_server.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        (request,) = webhook_server.requests  # tried while the loop ran on, still unanswered
        assert "Kill switch TRIPPED by guard" in request.json()["text"]
    finally:
        answer.set()
    assert worker.stop(flush_seconds=30)


def write_csv(path: Path, minutes: int, start: str = "2025-03-01T00:00:00Z") -> Path:
    from datetime import datetime

    t0 = datetime.fromisoformat(start.replace("Z", "+00:00"))
    lines = ["timestamp,symbol,bid,ask,last"]
    price = D(100)
    for m in range(minutes):
        price = price * (D("1.01") if (m // 7) % 2 else D("0.99"))
        p = price.quantize(D("0.01"))
        ts = (t0 + timedelta(minutes=m)).isoformat()
        lines.append(f"{ts},btc,{p - D('0.05')},{p + D('0.05')},{p}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_the_cli_replays_a_csv_feed_then_shows_status(db: Database, tmp_path: Path) -> None:
    feed = write_csv(tmp_path / "feed.csv", 90)
    proc = omc("kernel", "run", "--db", db.url, "--feed", str(feed))
    assert proc.returncode == 0, proc.stderr
    assert "ticks        90 of 90 (2025-03-01 00:00 -> 2025-03-01 01:29 UTC)" in proc.stdout
    status = json.loads(omc("kernel", "status", "--db", db.url, "--format", "json").stdout)
    assert status["strategies"][0]["symbols"] == ["btc"]
    assert count(db, Price) == 90
    # The same file again would rewrite history: refused, nothing written.
    again = omc("kernel", "run", "--db", db.url, "--feed", str(feed))
    assert again.returncode == 2 and "replay it into a fresh --db" in again.stderr
    assert again.stderr.count("\n") == 1 and count(db, Price) == 90


def test_the_cli_takes_coinspots_latest_prices(db: Database, tmp_path: Path) -> None:
    feed = tmp_path / "latest.json"
    feed.write_text(
        json.dumps(
            {
                "status": "ok",
                "prices": {
                    "btc": {"bid": "1", "ask": "2", "last": "1.5"},
                    "xrp": {"bid": "1", "ask": "1", "last": "1"},
                },
            }
        )
    )
    proc = omc("kernel", "run", "--db", db.url, "--feed", str(feed))
    assert proc.returncode == 0, proc.stderr
    with db.read() as s:
        assert s.execute(select(Price.symbol, Price.last)).all() == [("btc", D("1.5"))]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--symbols", "btc,doge"], 2, "unknown symbol 'doge' (known: btc, eth, sol)"),
        (["--symbols", ","], 2, "--symbols needs at least one symbol"),
        (["--feed", "FEED", "--seed", "3"], 2, "--feed and --seed are alternatives"),
        (["--ticks", "5", "--duration", "1h"], 2, "--ticks and --duration are alternatives"),
        (["--duration", "5x"], 2, "expected something like 24h"),
        (["--duration", "0h"], 2, "longer than zero"),
        (["--ticks", "0"], 2, "--ticks"),
        (
            ["--feed", "BAD"],
            2,
            "malformed feed: line 3: last must be a positive finite number, got 'NaN'",
        ),
        (["--feed", "/no/such/file.csv"], 2, "does not exist"),
        (["--feed", "FEED", "--symbols", "eth"], 2, "the feed has no prices for 'eth'"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(
    db: Database, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    feed = write_csv(tmp_path / "feed.csv", 5)
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,symbol,bid,ask,last\n0,btc,1,2,1.5\n60,btc,1,2,NaN\n")
    args = [{"FEED": str(feed), "BAD": str(bad)}.get(a, a) for a in args]
    proc = omc("kernel", "run", "--db", db.url, *args)
    assert proc.returncode == code
    assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert count(db, Price) == 0
    status = json.loads(omc("kernel", "status", "--db", db.url, "--format", "json").stdout)
    assert (
        status["balances"] == [] and status["strategies"] == [] and status["audit"]["records"] == 0
    )


def test_a_nan_order_size_in_the_settings_is_refused(db: Database) -> None:
    proc = omc("kernel", "run", "--db", db.url, env={"OMC_KERNEL_STRATEGY_ORDER_NOTIONAL": "NaN"})
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert (
        "OMC_KERNEL_STRATEGY_ORDER_NOTIONAL: expected a finite number > 0, got 'NaN'" in proc.stderr
    )
    assert count(db, Price) == 0


def test_ctrl_c_stops_cleanly_with_every_finished_tick_committed(db: Database) -> None:
    env = cli_env({"OMC_KERNEL_BAR_SECONDS": "0.02"})
    proc = subprocess.Popen(
        omc_argv("kernel", "run", "--db", db.url, "--ticks", "100000", "--realtime"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while count(db, Price) < 60 and time.monotonic() < deadline:
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    last_line = err.strip().splitlines()[-1]
    assert (
        last_line.startswith("omc-dev: interrupted after ")
        and "every finished tick is committed" in last_line
    )
    assert "Traceback" not in err
    ticks = int(last_line.split("after ")[1].split(" of")[0])
    with db.read() as s:
        strategy = s.get(Strategy, "ma-crossover")
        assert strategy is not None and strategy.ticks == ticks
        assert count(db, Price) == ticks * 3
        assert audit.verify(s).ok
    assert f"ticks        {ticks} of 100000" in out
