"""The dashboard's /audit over a million audit records: server time of the first page and of a
filtered page, and what the chain status costs per view.

Server time is the application's own (Starlette in-process through its TestClient: routing, the
header with the trading state and the chain status, the keyset query, the template), no network.
Anchors measured in the same run, interleaved, medians:

1. the same page over a 100-record audit (the claim: a page of a million is as fast as of a
   hundred, because paging is by sequence, never OFFSET);
2. the bare SQL of the page (`SELECT ... ORDER BY sequence DESC LIMIT 50`) through SQLAlchemy:
   the ratio is what the page adds over its query.

The chain status: the first view hands the whole chain's replay to a background thread (its
time printed once); later views replay only the records added since, printed with none and with
100 added. Target: each page <= 50 ms.

    python benchmarks/dashboard.py [--records 1000000] [--runs 30] [--db URL]

`--db` takes an empty PostgreSQL database URL (`postgresql://...`); default a SQLite file in a
temporary folder. Filling a million records takes a minute or two.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Run as `python benchmarks/dashboard.py`, this folder comes first on sys.path, and its
# kernel.py would shadow the `kernel` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from sqlalchemy import select, update  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from kernel.audit import GENESIS, canonical, record_hash  # noqa: E402
from kernel.db import Database, open_database  # noqa: E402
from kernel.models import AuditHead, AuditRecord  # noqa: E402
from kernel.schema_version import upgrade  # noqa: E402
from kernel.settings import load_settings  # noqa: E402
from kernel.web.app import create_app  # noqa: E402

START = datetime(2026, 1, 5, tzinfo=UTC)
ACTIONS = ("ALGORITHM_SIGNAL", "ORDER_SUBMITTED", "ORDER_FILLED")
FILTERED = "/audit?actor=guard&action=ORDER_DENIED&symbol=btc"
TARGET_MS = 50.0


COLUMNS = (
    "sequence",
    "created_at",
    "actor",
    "action",
    "symbol",
    "decision",
    "reason",
    "outcome",
    "inputs",
    "prev_hash",
    "hash",
)


def fill(db: Database, n: int, batch: int = 50_000) -> None:
    """`n` chained records shaped like a trading day's: mostly the strategy's signals, orders
    and fills; one in 20 a guard denial; one in 5,000 an operator's kill switch. Inserted with
    the driver's executemany (the ORM would take many minutes for a million)."""
    sqlite = db.dialect == "sqlite"
    marks = ", ".join("?" if sqlite else "%s" for _ in COLUMNS)
    statement = f"INSERT INTO audit_records ({', '.join(COLUMNS)}) VALUES ({marks})"
    prev, sequence = GENESIS, 0
    while sequence < n:
        rows = []
        for _ in range(min(batch, n - sequence)):
            sequence += 1
            at = START + timedelta(milliseconds=sequence * 50)
            symbol = ("btc", "eth", "sol")[sequence % 3]
            if sequence % 5000 == 0:
                actor, action, decision, reason = "ops", "KILL_SWITCH_TRIPPED", "trip", "drill"
            elif sequence % 20 == 0:
                actor, action, decision = "guard", "ORDER_DENIED", "deny"
                reason = "max_order_notional"
            else:
                actor, action, decision = "ma-crossover", ACTIONS[sequence % 3], "buy"
                reason = "fast MA crossed above slow MA"
            fields: dict[str, Any] = {
                "sequence": sequence,
                "created_at": at,
                "actor": actor,
                "action": action,
                "symbol": symbol,
                "decision": decision,
                "reason": reason,
                "outcome": f"order {sequence}",
                "inputs": canonical({"price": {"last": "100.5"}, "mode": "NORMAL", "clock": at}),
                "prev_hash": prev,
            }
            fields["hash"] = prev = record_hash(**fields)
            # As the kernel's UTCDateTime stores it: naive UTC text on SQLite.
            fields["created_at"] = at.replace(tzinfo=None).isoformat(sep=" ") if sqlite else at
            rows.append(tuple(fields[c] for c in COLUMNS))
        with db.write() as session:
            session.connection().exec_driver_sql(statement, rows)
            session.execute(update(AuditHead).values(sequence=sequence, hash=prev))


def server_ms(client: TestClient, url: str) -> float:
    """The application's own time for `url` (its Server-Timing header), no transport."""
    answer = client.get(url)
    assert answer.status_code == 200, answer.text
    return float(answer.headers["server-timing"].partition("dur=")[2])


def bare_query_ms(db: Database) -> float:
    t0 = time.perf_counter()
    with db.read() as session:
        stmt = select(AuditRecord).order_by(AuditRecord.sequence.desc()).limit(50)
        assert len(session.scalars(stmt).all()) == 50
    return (time.perf_counter() - t0) * 1000


def prepared(url: str, n: int) -> tuple[Database, TestClient, float]:
    db = open_database(url)
    upgrade(db)
    t0 = time.perf_counter()
    fill(db, n)
    filled = time.perf_counter() - t0
    client = TestClient(create_app(db, load_settings({}, environ={})))
    client.__enter__()  # one event loop for every request (closed in main)
    return db, client, filled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--db", help="an empty database URL (default: SQLite in a temp folder)")
    parser.add_argument("--small-db", help="an empty database for the 100-record anchor")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="omc-dashboard-bench-") as tmp:
        big_url = args.db or f"sqlite:///{Path(tmp) / 'big.db'}"
        small_url = args.small_db or f"sqlite:///{Path(tmp) / 'small.db'}"
        db, client, filled = prepared(big_url, args.records)
        small_db, small, _ = prepared(small_url, 100)
        print(f"database: {db.dialect}; {args.records:,} records filled in {filled:.0f} s")

        t0 = time.perf_counter()
        first_view = server_ms(client, "/audit")  # a long replay goes to the background
        chain = client.app.state.web.chain  # type: ignore[attr-defined]
        where = "in the background" if chain._background is not None else "in the view"
        chain.wait()
        print(
            f"chain status: the first page view took {first_view:.1f} ms; the replay of "
            f"{args.records:,} records ran {where} and took {time.perf_counter() - t0:.1f} s"
        )
        small.get("/api/chain").raise_for_status()

        first, anchor_small, filtered, anchor_sql = [], [], [], []
        for _ in range(args.runs):  # interleaved: drift hits every measurement alike
            first.append(server_ms(client, "/audit"))
            anchor_small.append(server_ms(small, "/audit"))
            filtered.append(server_ms(client, FILTERED))
            anchor_sql.append(bare_query_ms(db))
        f, s, g, q = (statistics.median(x) for x in (first, anchor_small, filtered, anchor_sql))
        print(f"/audit, first page of {args.records:,}: {f:.1f} ms (median of {args.runs})")
        print(f"  anchor: the same page of 100 records: {s:.1f} ms; ratio {f / s:.2f}x")
        print(f"  anchor: its bare query (50 rows via SQLAlchemy): {q:.1f} ms; ratio {f / q:.1f}x")
        print(f"{FILTERED}: {g:.1f} ms; ratio to the 100-record page {g / s:.2f}x")

        chain_none = statistics.median(server_ms(client, "/api/chain") for _ in range(args.runs))
        samples = []
        for _ in range(5):
            fill_more(db, 100)
            samples.append(server_ms(client, "/api/chain"))
        print(
            f"chain status per view: {chain_none:.1f} ms with no new records, "
            f"{statistics.median(samples):.1f} ms with 100 new (full replays: "
            f"{client.app.state.web.chain.full_replays})"  # type: ignore[attr-defined]
        )
        ok = f <= TARGET_MS and g <= TARGET_MS
        print(f"  target first and filtered page <= {TARGET_MS:.0f} ms: {'OK' if ok else 'OVER'}")
        client.__exit__(None, None, None)
        small.__exit__(None, None, None)
        db.dispose()
        small_db.dispose()
    return 0


def fill_more(db: Database, n: int) -> None:
    """Append `n` records through the kernel's own append (what a running loop does)."""
    from kernel import audit
    from kernel.audit import Entry
    from kernel.models import AuditAction

    with db.write() as session:
        for i in range(n):
            audit.append(
                session,
                Entry(actor="ma-crossover", action=AuditAction.ALGORITHM_SIGNAL, reason=str(i)),
            )


if __name__ == "__main__":
    raise SystemExit(main())
