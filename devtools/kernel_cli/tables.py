"""Rich tables for the kernel's operator commands (imported only when text output is asked for)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

STATE_STYLE = {"ACTIVE": "bold green", "REDUCING": "bold yellow", "HALTED": "bold red"}
MODE_STYLE = {"NORMAL": "green", "VOLATILE": "bold yellow"}


def money(value: str | None, *, signed: bool = False) -> str:
    """An exact decimal string as money: thousands separators, two places."""
    if value is None:
        return "-"
    amount = Decimal(value)
    return f"{amount:+,.2f}" if signed else f"{amount:,.2f}"


def price(value: str | None) -> str:
    if value is None:
        return "-"
    amount = Decimal(value)
    return f"{amount:,.2f}" if abs(amount) >= 1 else value


def _table(title: str, *columns: str, right: Sequence[str] = ()) -> Table:
    table = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        expand=False,
        pad_edge=False,
        collapse_padding=True,
    )
    for column in columns:
        table.add_column(column, justify="right" if column in right else "left")
    return table


def _keep_whole(
    table: Table, rows: Sequence[Sequence[str]], *, flexible: int | None = None
) -> None:
    """Size every column but `flexible` to its widest cell, so only that one wraps or is cut."""
    for index, column in enumerate(table.columns):
        if index == flexible:
            continue
        widest = max([len(str(column.header)), *(len(row[index]) for row in rows)])
        column.no_wrap, column.min_width = True, widest


def _time(value: str | None) -> str:
    return (value or "")[:19].replace("T", " ")


def audit_table(
    records: Sequence[Mapping[str, Any]], title: str = "audit", *, fit: int | None = None
) -> Table:
    """The audit records; with `fit` (a console width) one line each, the detail cut to fit."""
    compact = fit is not None
    table = _table(
        title, "seq", "time (UTC)", "actor", "action", "symbol", "decision: detail", right=("seq",)
    )
    rows = []
    for r in records:
        when = _time(r["created_at"])
        detail = " · ".join(x for x in (r["reason"], r["outcome"]) if x)
        rows.append(
            [
                str(r["sequence"]),
                when[5:] if compact else when,
                r["actor"],
                r["action"],
                r["symbol"] or "",
                f"{r['decision']}: {detail}" if r["decision"] else detail,
            ]
        )
    _keep_whole(table, rows, flexible=5)
    if fit is not None:
        # Columns are two spaces apart, with a space at either edge.
        fixed = sum(column.min_width or 0 for column in table.columns[:5]) + 2 * len(table.columns)
        room = max(fit - fixed, 12)
        rows = [
            [*row[:5], row[5] if len(row[5]) <= room else row[5][: room - 1] + "…"] for row in rows
        ]
        table.columns[5].no_wrap, table.columns[5].overflow = True, "ellipsis"
    for row in rows:
        table.add_row(*row[:5], Text(row[5]))
    return table


def print_status(data: Mapping[str, Any], console: Console | None = None) -> None:
    console = console or Console(highlight=False)
    trading, market, pnl, limits = data["trading"], data["market"], data["pnl"], data["limits"]
    switch = trading["kill_switch"]
    line = Text("trading ").append(trading["state"], style=STATE_STYLE.get(trading["state"], ""))
    line.append(" · market ").append(market["mode"], style=MODE_STYLE.get(market["mode"], ""))
    if switch["tripped"]:
        line.append(
            f" · kill switch tripped {_time(switch['tripped_at'])} by {switch['tripped_by']}: "
            f"{switch['trip_reason']}",
            style="red",
        )
    elif switch["reset_at"]:
        line.append(
            f" · kill switch reset {_time(switch['reset_at'])} by {switch['reset_by']}", style="dim"
        )
    else:
        line.append(" · kill switch not tripped", style="dim")
    console.print(line)

    day = pnl["day"]
    console.print(
        f"equity {money(pnl['equity'])} {pnl['currency']}  "
        f"(total {money(pnl['total'], signed=True)}"
        + (f" · today {money(day['pnl'], signed=True)}" if day else "")
        + f" · realized {money(pnl['realized'], signed=True)}"
        f" · unrealized {money(pnl['unrealized'], signed=True)} · fees {money(pnl['fees'])})"
    )
    in_force = limits["in_force"]
    tightened = " (tightened: volatile market)" if market["mode"] == "VOLATILE" else ""
    console.print(
        Text(
            f"limits in force{tightened}: order {money(in_force['max_order_notional'])} · "
            f"position {money(in_force['max_position_notional'])} · "
            f"gross {money(in_force['max_gross_exposure'])} · "
            f"net {money(in_force['max_net_exposure'])} · "
            f"daily loss {money(limits['daily_loss_limit'])} · {limits['order_rate']}",
            style="dim",
        )
    )

    if data["strategies"]:
        table = _table(
            "strategies", "id", "symbols", "params", "ticks", "last tick (UTC)", right=("ticks",)
        )
        for s in data["strategies"]:
            params = " · ".join(f"{k} {v}" for k, v in s["params"].items())
            table.add_row(
                s["id"], ",".join(s["symbols"]), params, str(s["ticks"]), _time(s["last_tick_at"])
            )
        console.print(table)

    if data["positions"]:
        numbers = ("quantity", "mark", "value", "cost", "unrealized", "realized")
        table = _table("positions", "symbol", *numbers, right=numbers)
        rows = [
            [
                p["symbol"],
                p["quantity"],
                price(p["mark"]),
                money(p["value"]),
                money(p["cost"]),
                money(p["unrealized_pnl"], signed=True),
                money(p["realized_pnl"], signed=True),
            ]
            for p in data["positions"]
        ]
        _keep_whole(table, rows)
        for row in rows:
            table.add_row(*row)
        console.print(table)

    for b in data["balances"]:
        console.print(
            f"{b['asset']}: free {money(b['free'])} · reserved {money(b['reserved'])} · "
            f"deposited {money(b['deposited'])} · fees paid {money(b['fees_paid'])}"
        )
    orders, alerts = data["orders"], data["alerts"]
    console.print(
        f"orders: {orders['open']} open · {orders['filled']} filled · {orders['cancelled']} cancelled"
        f"   alerts: {alerts['pending']} pending · {alerts['delivered']} delivered · "
        f"{alerts['failed']} failed"
    )
    audit = data["audit"]
    if audit["last"]:
        title = f"last audit records ({audit['records']} in all; `omc-dev kernel audit` for detail)"
        console.print(audit_table(audit["last"], title, fit=console.width))
