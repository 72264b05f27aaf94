"""The kill switch: latching, persisted, reset only by a named operator with a reason; its CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from kernel import killswitch
from kernel.db import Database, open_database
from kernel.desk import Desk
from kernel.errors import KernelError, UnusableInput
from kernel.exchange import OrderRequest
from kernel.models import TradingStateRow
from tests.fixtures.cli import omc
from tests.fixtures.kernel import kernel_settings, put_prices

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)


def row(db: Database) -> TradingStateRow:
    with db.read() as s:
        found = s.get(TradingStateRow, 1)
        assert found is not None
        return found


def test_trip_latches_and_survives_a_restart(db: Database) -> None:
    with db.write() as s:
        change = killswitch.trip(s, by=" alice ", reason="fat  finger\non btc", now=NOW)
    assert change.changed and change.record is not None
    assert (change.record.actor, change.record.reason) == ("alice", "fat finger on btc")
    db.dispose()
    reopened = open_database(db.url)
    try:
        state = row(reopened)
        assert (state.state, state.tripped_by, state.trip_reason) == (
            "HALTED",
            "alice",
            "fat finger on btc",
        )
        with reopened.write() as s:
            again = killswitch.trip(s, by="bob", reason="me too", now=NOW)
        assert not again.changed and row(reopened).tripped_by == "alice"
    finally:
        reopened.dispose()


def test_reset_needs_a_named_operator_and_a_reason(db: Database) -> None:
    with db.write() as s:
        killswitch.trip(s, by="alice", reason="drill", now=NOW)
    for by, reason, message in (
        ("", "ok", "operator name"),
        ("bob", "  ", "reason"),
        ("guard", "ok", "cannot reset"),
        ("x" * 65, "ok", "longer than 64"),
    ):
        with pytest.raises(UnusableInput, match=message), db.write() as s:
            killswitch.reset(s, by=by, reason=reason, now=NOW)
    assert row(db).state == "HALTED"
    with db.write() as s:
        change = killswitch.reset(s, by="bob", reason="drill over", now=NOW)
    assert change.changed and row(db).state == "ACTIVE"
    with pytest.raises(KernelError, match="not tripped"), db.write() as s:
        killswitch.reset(s, by="bob", reason="again", now=NOW)


def test_history_is_the_timeline_from_the_audit(db: Database) -> None:
    with db.write() as s:
        killswitch.trip(s, by="alice", reason="one", now=NOW)
        killswitch.reset(s, by="bob", reason="two", now=NOW)
        killswitch.trip(s, by="guard", reason="three", now=NOW)
    with db.read() as s:
        events = [(r.action, r.actor, r.reason) for r in killswitch.history(s)]
        last = [r.reason for r in killswitch.history(s, limit=1)]
    assert events == [
        ("KILL_SWITCH_TRIPPED", "alice", "one"),
        ("KILL_SWITCH_RESET", "bob", "two"),
        ("KILL_SWITCH_TRIPPED", "guard", "three"),
    ]
    assert last == ["three"]


def test_after_a_reset_a_standing_breach_reduces_instead_of_tripping_again(db: Database) -> None:
    desk = Desk(db, kernel_settings(symbols=["btc"], daily_loss_limit=100))
    with db.write() as s:
        desk.exchange.ensure_funded(s, D(10000))
    put_prices(db, NOW, btc=("999", "1001", "1000"))
    desk.submit(OrderRequest("btc", "buy", D(4)), NOW)
    later = NOW + timedelta(minutes=5)
    put_prices(db, later, btc=("959", "961", "960"))
    assert desk.submit(OrderRequest("btc", "sell", D(1)), later).tripped
    with db.write() as s:
        killswitch.reset(s, by="alice", reason="reviewed the loss", now=later)
    outcome = desk.submit(OrderRequest("btc", "buy", D(1)), later)
    assert (outcome.decision.reason, outcome.tripped) == ("reduce_only", False)
    assert desk.submit(OrderRequest("btc", "sell", D(1)), later).accepted
    # The next UTC day starts from a new baseline.
    tomorrow = NOW + timedelta(days=1)
    put_prices(db, tomorrow, btc=("959", "961", "960"))
    assert desk.submit(OrderRequest("btc", "buy", D(1)), tomorrow).accepted


def test_the_cli_trips_resets_and_shows_history(db: Database) -> None:
    proc = omc("kernel", "killswitch", "trip", "--db", db.url, "--by", "alice", "--reason", "drill")
    assert proc.returncode == 0, proc.stderr
    assert "kill switch TRIPPED by alice" in proc.stdout and "HALTED" in proc.stdout
    again = omc(
        "kernel",
        "killswitch",
        "trip",
        "--db",
        db.url,
        "--by",
        "alice",
        "--reason",
        "drill",
        "--format",
        "json",
    )
    assert json.loads(again.stdout)["changed"] is False
    status = json.loads(omc("kernel", "status", "--db", db.url, "--format", "json").stdout)
    assert status["trading"]["state"] == "HALTED"
    assert status["trading"]["kill_switch"]["tripped_by"] == "alice"
    reset = omc(
        "kernel",
        "killswitch",
        "reset",
        "--db",
        db.url,
        "--by",
        "bob",
        "--reason",
        "ok",
        "--format",
        "json",
    )
    assert reset.returncode == 0, reset.stderr
    body = json.loads(reset.stdout)
    assert (body["changed"], body["state"], body["alert_id"]) == (True, "ACTIVE", None)
    history = json.loads(
        omc("kernel", "killswitch", "history", "--db", db.url, "--format", "json").stdout
    )
    assert [(e["event"], e["by"]) for e in history["events"]] == [
        ("trip", "alice"),
        ("reset", "bob"),
    ]
    table = omc("kernel", "killswitch", "history", "--db", db.url)
    assert table.returncode == 0 and "alice" in table.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["kernel", "killswitch", "frobnicate"], "No such command 'frobnicate'"),
        (["kernel", "killswitch", "trip", "--reason", "x"], "Missing option '--by'"),
        (["kernel", "killswitch", "reset", "--by", "bob"], "Missing option '--reason'"),
        (["kernel", "killswitch", "trip", "--by", " ", "--reason", "x"], "non-empty operator name"),
        (["kernel", "killswitch", "reset", "--by", "bob", "--reason", "x"], "not tripped"),
    ],
)
def test_bad_operator_commands_are_one_line_and_change_nothing(
    db: Database, args: list[str], message: str
) -> None:
    proc = omc(*args, "--db", db.url)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr
    assert row(db).state == "ACTIVE"
    empty = json.loads(
        omc("kernel", "killswitch", "history", "--db", db.url, "--format", "json").stdout
    )
    assert (empty["events"], empty["periods"], empty["state"]) == ([], [], "ACTIVE")
