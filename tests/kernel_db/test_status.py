"""`omc-dev kernel status`: state, mode and limits in force, strategies, balances, positions and PnL."""

from __future__ import annotations

import json
from decimal import Decimal as D

from sqlalchemy import text

from kernel.db import Database
from kernel.loop import PaperLoop, plan_synthetic
from tests.fixtures.cli import omc
from tests.fixtures.kernel import kernel_settings


def test_status_after_some_paper_trading(db: Database) -> None:
    settings = kernel_settings()
    plan = plan_synthetic(
        db, settings, seed=7, symbols=None, ticks=300, duration=None, realtime=False
    )
    loop = PaperLoop(db, settings, plan.symbols, source=plan.source)
    loop.prepare()
    loop.run(plan.ticks)

    proc = omc("kernel", "status", "--db", db.url, "--format", "json", "--limit", "3")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert (data["trading"]["state"], data["market"]["mode"]) == ("ACTIVE", "NORMAL")
    assert data["limits"]["in_force"] == data["limits"]["configured"]
    assert data["strategies"][0]["params"] == {"fast": 5, "order_notional": "3000", "slow": 20}
    assert len(data["audit"]["last"]) == 3
    pnl = data["pnl"]
    (cash,) = data["balances"]
    held = sum((D(p["value"]) for p in data["positions"]), D(0))
    assert D(pnl["equity"]) == D(cash["free"]) + D(cash["reserved"]) + held
    assert D(pnl["total"]) == D(pnl["equity"]) - D("100000")
    assert D(pnl["unrealized"]) == sum((D(p["unrealized_pnl"]) for p in data["positions"]), D(0))
    assert pnl["day"]["open_equity"] == "100000"

    table = omc("kernel", "status", "--db", db.url, env={"COLUMNS": "160"})
    assert table.returncode == 0, table.stderr
    for heading in (
        "trading ACTIVE",
        "market NORMAL",
        "equity",
        "strategies",
        "positions",
        "last audit records",
    ):
        assert heading in table.stdout

    with db.write() as s:
        s.execute(text("UPDATE trading_state SET market_mode = 'VOLATILE'"))
    volatile = json.loads(omc("kernel", "status", "--db", db.url, "--format", "json").stdout)
    assert volatile["limits"]["in_force"]["max_order_notional"] == "2500"
    assert "tightened: volatile market" in omc("kernel", "status", "--db", db.url).stdout
