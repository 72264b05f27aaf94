"""Rich tables for the kernel's operator commands (imported only when text output is asked for)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

STATE_STYLE = {"ACTIVE": "bold green", "REDUCING": "bold yellow", "HALTED": "bold red"}
MODE_STYLE = {"NORMAL": "green", "VOLATILE": "bold yellow"}


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", expand=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def audit_table(records: Sequence[Mapping[str, Any]], title: str = "audit") -> Table:
    table = _table(title, "seq", "time (UTC)", "actor", "action", "symbol", "decision", "reason")
    for r in records:
        table.add_row(
            str(r["sequence"]),
            (r["created_at"] or "")[:19].replace("T", " "),
            r["actor"],
            r["action"],
            r["symbol"] or "",
            r["decision"] or "",
            Text(r["reason"] or r["outcome"] or ""),
        )
    return table


def print_status(data: Mapping[str, Any], console: Console | None = None) -> None:
    console = console or Console(highlight=False)
    trading, market = data["trading"], data["market"]
    switch = trading["kill_switch"]
    line = Text("trading ").append(trading["state"], style=STATE_STYLE.get(trading["state"], ""))
    line.append("   market ").append(market["mode"], style=MODE_STYLE.get(market["mode"], ""))
    if switch["tripped"]:
        line.append(
            f"   kill switch tripped {switch['tripped_at']} by {switch['tripped_by']}: "
            f"{switch['trip_reason']}",
            style="red",
        )
    elif switch["reset_at"]:
        line.append(
            f"   kill switch reset {switch['reset_at']} by {switch['reset_by']}", style="dim"
        )
    console.print(line)
    console.print(Text(f"database {data['database']}", style="dim"))

    if data["strategies"]:
        table = _table("strategies", "id", "kind", "symbols", "params", "ticks", "last tick")
        for s in data["strategies"]:
            params = " ".join(f"{k}={v}" for k, v in s["params"].items())
            table.add_row(
                s["id"],
                s["kind"],
                ",".join(s["symbols"]),
                params,
                str(s["ticks"]),
                s["last_tick_at"] or "",
            )
        console.print(table)

    table = _table("balances", "asset", "free", "reserved", "deposited", "fees paid")
    for b in data["balances"]:
        table.add_row(b["asset"], b["free"], b["reserved"], b["deposited"], b["fees_paid"])
    console.print(table)

    table = _table("positions", "symbol", "quantity", "reserved", "cost", "realized PnL")
    for p in data["positions"]:
        table.add_row(p["symbol"], p["quantity"], p["reserved"], p["cost"], p["realized_pnl"])
    console.print(table)

    orders, alerts = data["orders"], data["alerts"]
    console.print(
        f"orders: {orders['open']} open, {orders['filled']} filled, {orders['cancelled']} cancelled"
        f"   alerts: {alerts['pending']} pending, {alerts['delivered']} delivered, "
        f"{alerts['failed']} failed"
    )
    audit = data["audit"]
    if audit["last"]:
        console.print(audit_table(audit["last"], f"last audit records ({audit['records']} in all)"))
