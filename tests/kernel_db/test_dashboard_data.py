"""The dashboard's data: the kill-switch timeline and the day's equity curve, and their SVG."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from kernel import audit, equity, killswitch, switchlog
from kernel.db import Database
from kernel.desk import Desk, utcnow
from kernel.exchange import OrderRequest
from kernel.loop import PaperLoop, plan_synthetic
from kernel.models import DayOpen
from kernel.prices import Quote, Tick
from kernel.status import snapshot
from kernel.web.charts import equity_svg, timeline_svg
from tests.fixtures.cli import omc
from tests.fixtures.kernel import kernel_settings, put_prices

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
SVG = "{http://www.w3.org/2000/svg}"


def _tick(db: Database, d: Desk, minutes: int, price: str) -> None:
    at = NOW + timedelta(minutes=minutes)
    with db.write() as s:
        d.on_tick_in(s, Tick(at, (Quote("btc", at, D(price), D(price), D(price)),)), "test")


def _day_with_every_kind_of_change(db: Database) -> Desk:
    """REDUCING and back, a Guard trip, a reset, REDUCING again, then an operator trip."""
    d = Desk(db, kernel_settings(symbols=["btc"], daily_loss_limit=100, reduce_only_at=0.5))
    with db.write() as s:
        d.exchange.ensure_funded(s, D(100000))
    put_prices(db, NOW, btc=("999", "1001", "1000"))
    assert d.submit(OrderRequest("btc", "buy", D(4)), NOW).accepted
    _tick(db, d, 1, "985")  # loss past half the limit: REDUCING
    _tick(db, d, 2, "1000")  # back: ACTIVE
    _tick(db, d, 3, "960")  # past the limit: the Guard trips
    with db.write() as s:
        killswitch.reset(s, by="bob", reason="checked the feed", now=NOW + timedelta(minutes=3))
    _tick(db, d, 4, "960")  # acknowledged loss: REDUCING, not another trip
    with db.write() as s:
        killswitch.trip(s, by="alice", reason=f"{SCRIPT} {IMG}", now=NOW + timedelta(minutes=5))
    return d


def test_the_timeline_names_every_change_and_the_spells_between(db: Database) -> None:
    _day_with_every_kind_of_change(db)
    with db.read() as s:
        t = switchlog.timeline(s, utcnow())
        changes = audit.query(s, actions=("TRADING_STATE_CHANGED",))
    # The Guard's moves between ACTIVE and REDUCING are audited now, with what it saw.
    assert [(r.actor, r.decision) for r in changes] == [
        ("guard", "REDUCING"),
        ("guard", "ACTIVE"),
        ("guard", "REDUCING"),
    ]
    assert json.loads(changes[0].inputs)["previous_state"] == "ACTIVE"
    assert [(e.event, e.by, e.before, e.after) for e in t.events] == [
        ("reduce", "guard", "ACTIVE", "REDUCING"),
        ("resume", "guard", "REDUCING", "ACTIVE"),
        ("trip", "guard", "ACTIVE", "HALTED"),
        ("reset", "bob", "HALTED", "ACTIVE"),
        ("reduce", "guard", "ACTIVE", "REDUCING"),
        ("trip", "alice", "REDUCING", "HALTED"),
    ]
    assert t.events[1].clock == NOW + timedelta(minutes=2)  # the kernel clock, kept apart
    spells = [(p.state, p.start.by, p.end.by if p.end else None) for p in t.periods]
    assert spells == [
        ("REDUCING", "guard", "guard"),
        ("HALTED", "guard", "bob"),
        ("REDUCING", "guard", "alice"),
        ("HALTED", "alice", None),
    ]
    assert t.state == "HALTED" and t.kill_switch["tripped_by"] == "alice"
    data = switchlog.timeline_json(t)
    assert [p["ongoing"] for p in data["periods"]] == [False, False, False, True]
    halted = data["periods"][1]
    assert (halted["start_sequence"], halted["end_sequence"]) == (
        t.events[2].sequence,
        t.events[3].sequence,
    )
    assert halted["seconds"] == round((t.events[3].at - t.events[2].at).total_seconds(), 3)
    assert data["events"][-1]["reason"] == f"{SCRIPT} {IMG}"
    # By the kernel clock the spells last what the simulated minutes say; the picture uses it.
    assert t.clock_now == NOW + timedelta(minutes=5) and switchlog.by_clock(t)
    assert [p["clock_seconds"] for p in data["periods"]] == [60.0, 0.0, 60.0, 0.0]


def test_a_kernel_clock_that_runs_backwards_leaves_the_axis_to_the_written_times(
    db: Database,
) -> None:
    ahead = NOW + timedelta(hours=6)  # a simulated day ahead of the operator's wall clock
    with db.write() as s:
        killswitch.trip(s, by="guard", reason="daily loss", now=ahead)
    with db.write() as s:
        killswitch.reset(s, by="bob", reason="checked", now=NOW)
    with db.read() as s:
        t = switchlog.timeline(s, utcnow())
    assert not switchlog.by_clock(t)
    ((halted),) = t.periods
    assert halted.clock_seconds(t.clock_now) is None and halted.seconds(t.as_of) >= 0
    assert "time written" in timeline_svg(t)


def test_the_cli_history_prints_the_same_json(db: Database) -> None:
    _day_with_every_kind_of_change(db)
    cli = json.loads(
        omc("kernel", "killswitch", "history", "--db", db.url, "--format", "json").stdout
    )
    with db.read() as s:
        ours = switchlog.timeline_json(switchlog.timeline(s, utcnow(), None))
    # Only the still-running spell's length depends on when it was asked.
    for doc in (cli, ours):
        del doc["as_of"]
        doc["periods"][-1]["seconds"] = None
    assert cli == ours
    last = json.loads(
        omc(
            "kernel", "killswitch", "history", "--db", db.url, "--limit", "2", "--format", "json"
        ).stdout
    )
    assert [e["event"] for e in last["events"]] == ["reduce", "trip"]


def test_the_timeline_svg_draws_reasons_as_text(db: Database) -> None:
    _day_with_every_kind_of_change(db)
    with db.read() as s:
        t = switchlog.timeline(s, utcnow())
    svg = timeline_svg(t)
    root = ET.fromstring(svg)  # well-formed: nothing in a reason broke out of its element
    tags = {el.tag.removeprefix(SVG) for el in root.iter()}
    assert not tags & {"script", "img", "foreignObject"}
    titles = [el.text or "" for el in root.iter(f"{SVG}title")]
    assert any(f"{SCRIPT} {IMG}" in title for title in titles)
    assert len(root.findall(f".//{SVG}g[@class='event event-trip']")) == 2
    assert len(root.findall(f".//{SVG}rect[@class='period period-halted']")) == 2
    assert len(root.findall(f".//{SVG}rect[@class='period period-reducing']")) == 2
    # Nobody can inject markup through an operator's name either.
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_an_empty_timeline_says_so(db: Database) -> None:
    with db.read() as s:
        t = switchlog.timeline(s, utcnow())
    assert (t.events, t.periods, t.state) == ([], [], "ACTIVE")
    assert "no trips or resets yet" in timeline_svg(t)


def test_the_equity_curve_of_a_simulated_day_ends_at_the_status_equity(db: Database) -> None:
    settings = kernel_settings()
    plan = plan_synthetic(
        db, settings, seed=7, symbols=None, ticks=240, duration=None, realtime=False
    )
    loop = PaperLoop(db, settings, plan.symbols, source=plan.source)
    loop.prepare()
    stats = loop.run(plan.ticks)
    assert stats.fills > 10 and stats.first_ts is not None
    with db.read() as s:
        day = equity.default_day(s, utcnow().date())
        c = equity.curve(s, settings, day, max_points=100)
        opening = s.query(DayOpen).one()
    assert day == stats.first_ts.date()
    # Rebuilt from fills and marks, it agrees with the live books at both ends of the day.
    assert c.points[-1].equity == D(snapshot(db, settings)["pnl"]["equity"])
    assert c.open_equity == opening.equity == c.points[0].equity
    assert c.total_points == 240 and len(c.points) <= 100
    with db.read() as s:
        everything = equity.curve(s, settings, day, max_points=10_000)
    values = [p.equity for p in everything.points]
    kept = [p.equity for p in c.points]
    assert min(kept) == min(values) and max(kept) == max(values)  # thinning keeps the extremes
    assert len(set(values)) > 10  # the marks moved the equity through the day
    data = equity.curve_json(c)
    assert data["points_total"] == 240 and data["last"] == snapshot(db, settings)["pnl"]["equity"]
    root = ET.fromstring(equity_svg(c))
    (line,) = root.findall(f".//{SVG}path[@class='equity-line']")
    assert line.get("d", "").count("L") == len(c.points) - 1


def test_a_day_without_trading_has_an_empty_curve(db: Database) -> None:
    settings = kernel_settings()
    with db.read() as s:
        c = equity.curve(s, settings, NOW.date())
    assert (c.points, c.open_equity) == ([], None)
    assert "no prices or fills" in equity_svg(c)


@pytest.mark.unit  # pure: no database, so no database parameter gives it a tier
def test_thinning_keeps_first_last_and_each_stretchs_extremes() -> None:
    start = NOW
    points = [
        equity.Point(start + timedelta(seconds=k), D(1 if k == 700 else 1000 + k % 97))
        for k in range(2000)
    ]
    kept = equity.thin(points, 50)
    assert len(kept) <= 50 and kept[0] == points[0] and kept[-1] == points[-1]
    assert min(p.equity for p in kept) == D(1)  # the one-second dip survives
    assert max(p.equity for p in kept) == D(1096)
    assert [p.at for p in kept] == sorted(p.at for p in kept)


def test_the_pages_and_their_json_over_this_database(db: Database) -> None:
    from starlette.testclient import TestClient

    from kernel.web.app import create_app

    _day_with_every_kind_of_change(db)
    with TestClient(create_app(db, kernel_settings())) as client:
        served = client.get("/api/killswitch").json()
        with db.read() as s:
            ours = switchlog.timeline_json(switchlog.timeline(s, utcnow()))
        for doc in (served, ours):
            del doc["as_of"]
            doc["periods"][-1]["seconds"] = None
        assert served == ours
        overview = client.get("/api/overview").json()
        assert overview["equity_curve"]["last"] == overview["pnl"]["equity"]
        assert overview["equity_curve"]["points_total"] == 5
        for path in ("/killswitch", "/"):
            page = client.get(path)
            assert page.status_code == 200 and "<svg" in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/killswitch").text
        # The equity chart shades the spells its day's kernel clock holds (the last trip, at
        # minute 5, is after the day's last price: off this chart).
        chart = client.get("/").text
        assert 'href="/?day=2025-02-28"' in chart and 'href="/?day=2025-03-02"' in chart
        assert chart.count('class="spell spell-reducing"') == 2
        assert chart.count('class="spell spell-halted"') == 1
