"""The trading kernel: Guard latency, paper orders per second, a simulated day.

Three measurements, each with an anchor measured in the same run (interleaved, medians):

1. Guard decision latency, state in memory (target p99 <= 50 us). Anchor: one bare notional
   check (quantity x price <= limit) timed the same way; the ratio is how many of those the
   whole ten-check pipeline costs.
2. End-to-end paper orders per second on SQLite with durable commits (WAL, synchronous=FULL;
   target >= 1,000/s): Guard, exchange and two audit records per order, and no order acknowledged
   (`Desk.submit` returning) before the commit holding it has returned. Measured two ways: 16
   threads submitting at once through one desk, whose orders share commits (group commit: the
   target's figure), and one thread alone, a commit per order. Anchor: a bare sqlite3 loop
   inserting one row and committing, with the same pragmas.
3. Wall time of a simulated 24-hour day of one-minute bars for 3 symbols (target <= 10 s), on
   the same durable SQLite. Anchor: only storing the day's prices, one commit per tick.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

# Run as `python benchmarks/kernel.py`, this file's folder comes first on sys.path and its name
# would shadow the `kernel` package it measures.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from sqlalchemy import event  # noqa: E402

from kernel import prices  # noqa: E402
from kernel.db import open_database  # noqa: E402
from kernel.desk import Desk  # noqa: E402
from kernel.exchange import OrderRequest  # noqa: E402
from kernel.guard import Guard, GuardContext, OrderIntent  # noqa: E402
from kernel.loop import PaperLoop, plan_synthetic  # noqa: E402
from kernel.models import MarketMode, TradingState  # noqa: E402
from kernel.prices import Quote, Tick  # noqa: E402
from kernel.schema_version import upgrade  # noqa: E402
from kernel.settings import load_settings  # noqa: E402

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)


def verdict(ok: bool) -> str:
    return "OK" if ok else "OVER"


# --- 1. Guard latency ---------------------------------------------------------------------------


QUOTES = {
    "btc": Quote("btc", NOW, D("150000.10"), D("150010.30"), D("150005.00")),
    "eth": Quote("eth", NOW, D("4999.90"), D("5000.40"), D("5000.10")),
    "sol": Quote("sol", NOW, D("249.95"), D("250.05"), D("250.00")),
}


def guard_latency(samples: int) -> None:
    settings = load_settings({}, environ={})
    quotes = QUOTES
    ctx = GuardContext(
        now=NOW,
        state=TradingState.ACTIVE,
        mode=MarketMode.NORMAL,
        limits=settings.limits,
        volatile_factor=settings.volatility.factor,
        symbols=frozenset(quotes),
        quotes=quotes,
        positions={"btc": D("0.05"), "eth": D("1.2")},
        open_buys={"sol": D("10")},
        equity=D("99500"),
        day_open_equity=D("100000"),
        recent_orders=3,
    )
    rng = random.Random(1)
    orders = [
        OrderIntent(
            rng.choice(list(quotes)), rng.choice(["buy", "sell"]), D(rng.randint(1, 40)) / 100
        )
        for _ in range(1000)
    ]
    guard = Guard()
    limit = settings.limits.max_order_notional
    clock = time.perf_counter_ns
    subject: list[int] = []
    anchor: list[int] = []
    for i in range(samples):  # interleaved: drift hits both alike
        order = orders[i % len(orders)]
        fresh = replace(ctx)  # as the desk does: a new snapshot per decision, nothing cached
        t0 = clock()
        guard.check(order, fresh)
        t1 = clock()
        _ = order.quantity * quotes[order.symbol].ask <= limit
        t2 = clock()
        subject.append(t1 - t0)
        anchor.append(t2 - t1)
    subject.sort()
    p50, p99 = subject[len(subject) // 2] / 1000, subject[int(len(subject) * 0.99)] / 1000
    a50 = statistics.median(anchor) / 1000
    print(
        f"guard decision, state in memory: p50 {p50:.1f} us, p99 {p99:.1f} us over {samples} decisions"
    )
    print(
        f"  anchor (one bare notional check): p50 {a50:.2f} us; ratio p50 guard / anchor {p50 / a50:.0f}x"
    )
    print(f"  target p99 <= 50 us: {verdict(p99 <= 50)}")


# --- 2. orders per second ---------------------------------------------------------------------


def bare_commits(path: Path, n: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = FULL", "foreign_keys = ON"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, symbol TEXT, qty TEXT, at TEXT)"
    )
    start = time.perf_counter()
    for i in range(n):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO t (symbol, qty, at) VALUES (?, ?, ?)", ("btc", str(i), NOW.isoformat())
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed


def orders_per_second(folder: Path, rounds: int, per_round: int, threads: int) -> None:
    settings = load_settings(
        {"max-price-age": 10**9, "order-rate-limit": 10**9, "daily-loss-limit": 10**9},
        environ={},
    )
    db = open_database(f"sqlite:///{folder / 'orders.db'}", sqlite_synchronous="FULL")
    upgrade(db)
    desk = Desk(db, settings)
    with db.write() as s:
        desk.exchange.ensure_funded(s, D(10**7))
    with db.write() as s:
        prices.record(s, Tick(NOW, tuple(QUOTES.values())), "bench")
    commits = 0

    @event.listens_for(db.engine, "commit")
    def count(_conn: object) -> None:
        nonlocal commits
        commits += 1

    rng = random.Random(2)

    def requests(n: int) -> list[OrderRequest]:
        return [
            OrderRequest(rng.choice(["btc", "eth", "sol"]), "buy", D(rng.randint(1, 9)) / 1000)
            for _ in range(n)
        ]

    def submit_all(batch: list[OrderRequest]) -> None:
        for request in batch:
            desk.submit(request)  # the real clock; returns once its commit has returned

    single, grouped, anchor, sizes = [], [], [], []
    for _ in range(rounds):  # interleaved: drift hits all three alike
        anchor.append(bare_commits(folder / "anchor.db", per_round))
        batch = requests(per_round)
        start = time.perf_counter()
        submit_all(batch)
        single.append(per_round / (time.perf_counter() - start))
        shares = [requests(per_round // threads) for _ in range(threads)]
        workers = [threading.Thread(target=submit_all, args=(share,)) for share in shares]
        commits_before = commits
        start = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        elapsed = time.perf_counter() - start
        done = sum(map(len, shares))
        grouped.append(done / elapsed)
        sizes.append(done / (commits - commits_before))
    db.dispose()
    g, o, a = statistics.median(grouped), statistics.median(single), statistics.median(anchor)
    print(
        f"paper orders on SQLite, durable commits (WAL, synchronous=FULL), each order "
        f"acknowledged only after the commit holding it returned (median of {rounds} rounds):"
    )
    print(
        f"  {threads} submitter threads, group commit: {g:.0f} orders/s "
        f"({statistics.median(sizes):.1f} orders per commit); ratio orders / anchor {g / a:.2f}"
    )
    print(
        f"  one submitter, a commit per order: {o:.0f} orders/s; ratio orders / anchor {o / a:.2f}"
    )
    print(f"  anchor (bare sqlite3 insert + commit, same pragmas): {a:.0f} commits/s")
    print(f"  target >= 1000 orders/s (group commit): {verdict(g >= 1000)}")


# --- 3. a simulated day -----------------------------------------------------------------------


def bare_day(path: Path, ticks: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = FULL"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute(
        "CREATE TABLE p (id INTEGER PRIMARY KEY, symbol TEXT, ts TEXT, bid TEXT, ask TEXT, last TEXT)"
    )
    start = time.perf_counter()
    for i in range(ticks):
        ts = (NOW + timedelta(minutes=i)).isoformat()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO p (symbol, ts, bid, ask, last) VALUES (?, ?, ?, ?, ?)",
            [(s, ts, "99.5", "100.5", "100") for s in ("btc", "eth", "sol")],
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def simulated_day(folder: Path, runs: int) -> None:
    settings = load_settings({}, environ={})
    days, anchors = [], []
    for run in range(runs):
        anchors.append(bare_day(folder / f"bare-{run}.db", 1440))
        db = open_database(f"sqlite:///{folder / f'day-{run}.db'}", sqlite_synchronous="FULL")
        upgrade(db)
        plan = plan_synthetic(
            db, settings, seed=7, symbols=None, ticks=1440, duration=None, realtime=False
        )
        loop = PaperLoop(db, settings, plan.symbols, source=plan.source)
        loop.prepare()
        start = time.perf_counter()
        stats = loop.run(plan.ticks)
        days.append(time.perf_counter() - start)
        db.dispose()
        assert stats.ticks == 1440
    d, a = statistics.median(days), statistics.median(anchors)
    print(
        f"simulated 24 h day, 1-minute bars, 3 symbols (1440 ticks, {stats.signals} signals, "
        f"{stats.orders} orders): {d:.2f} s wall (median of {runs})"
    )
    print(
        f"  anchor (storing the day's prices only, a commit per tick): {a:.2f} s; ratio day / anchor {d / a:.1f}x"
    )
    print(f"  target <= 10 s: {verdict(d <= 10)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--guard-samples", type=int, default=20000)
    parser.add_argument("--order-rounds", type=int, default=5)
    parser.add_argument("--orders-per-round", type=int, default=400)
    parser.add_argument("--submitters", type=int, default=16)
    parser.add_argument("--day-runs", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="omc-bench-") as tmp:
        folder = Path(tmp)
        guard_latency(args.guard_samples)
        orders_per_second(folder, args.order_rounds, args.orders_per_round, args.submitters)
        simulated_day(folder, args.day_runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
