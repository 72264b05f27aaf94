"""Replay files (CSV, JSON, CoinSpot's shape) and the seeded synthetic feed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from itertools import islice
from pathlib import Path

import pytest

from kernel.market_mode import realised_volatility
from kernel.prices import PROFILES, FeedError, SyntheticFeed, Tick, parse_time, read_replay

START = datetime(2025, 3, 1, tzinfo=UTC)
COINSPOT = {
    "status": "ok",
    "message": "ok",
    "prices": {
        "btc": {"bid": "150000.1", "ask": "150100.2", "last": "150050"},
        "eth": {"bid": 5000, "ask": 5010, "last": 5005.5},
    },
}


def replay(tmp_path: Path, name: str, text: str) -> list[Tick]:
    path = tmp_path / name
    path.write_text(text)
    return read_replay(path, start=START, bar_seconds=60)


def test_csv_rows_group_into_ticks_by_timestamp(tmp_path: Path) -> None:
    ticks = replay(
        tmp_path,
        "feed.csv",
        "timestamp,symbol,bid,ask,last\n"
        "2025-03-01T00:00:00Z,BTC,99,101,100\n"
        "2025-03-01T00:00:00Z,eth,9,11,10\n"
        "1740787260,btc,100,102,101\n",
    )
    assert [t.ts for t in ticks] == [START, START + timedelta(minutes=1)]
    assert [q.symbol for q in ticks[0].quotes] == ["btc", "eth"]
    assert ticks[1].quotes[0].last == D(101)


def test_coinspot_latest_prices_is_one_tick_at_the_start(tmp_path: Path) -> None:
    (tick,) = replay(tmp_path, "latest.json", json.dumps(COINSPOT))
    assert tick.ts == START
    btc = tick.quotes[0]
    assert (btc.symbol, btc.bid, btc.ask, btc.last) == (
        "btc",
        D("150000.1"),
        D("150100.2"),
        D(150050),
    )
    assert tick.quotes[1].last == D("5005.5")


def test_a_list_of_snapshots_untimed_ones_one_bar_apart(tmp_path: Path) -> None:
    snapshots = [{"prices": COINSPOT["prices"]}, {"prices": COINSPOT["prices"]}]
    ticks = replay(tmp_path, "snaps.json", json.dumps(snapshots))
    assert [t.ts for t in ticks] == [START, START + timedelta(minutes=1)]
    timed = [{"timestamp": "2025-03-02T10:00:00+10:00", "prices": COINSPOT["prices"]}]
    (tick,) = replay(tmp_path, "timed.json", json.dumps(timed))
    assert tick.ts == datetime(2025, 3, 2, tzinfo=UTC)


def test_json_records(tmp_path: Path) -> None:
    rows = [
        {"timestamp": "2025-03-01T00:00:00", "symbol": "sol", "bid": 1, "ask": 2, "last": 1.5},
        {"timestamp": 1740787260, "symbol": "sol", "bid": "1", "ask": "2", "last": "1.25"},
    ]
    ticks = replay(tmp_path, "rows.json", json.dumps(rows))
    assert [t.quotes[0].last for t in ticks] == [D("1.5"), D("1.25")]
    assert ticks[0].ts == START  # naive means UTC


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.csv", "", "the header lacks timestamp, symbol, bid, ask, last"),
        ("a.csv", "timestamp,symbol,bid\n", "the header lacks ask, last"),
        ("a.csv", "timestamp,symbol,bid,ask,last\n", "no prices in the file"),
        ("a.csv", "timestamp,symbol,bid,ask,last\nx,btc,1,2,1\n", "line 2: .*Invalid isoformat"),
        ("a.csv", "timestamp,symbol,bid,ask,last\n0,btc,1,2\n", "line 2: too few columns"),
        (
            "a.csv",
            "timestamp,symbol,bid,ask,last\n0,btc,1,2,abc\n",
            "line 2: last must be a positive finite number",
        ),
        (
            "a.csv",
            "timestamp,symbol,bid,ask,last\n0,btc,NaN,2,1\n",
            "line 2: bid must be a positive finite",
        ),
        ("a.csv", "timestamp,symbol,bid,ask,last\n0,btc,-1,2,1\n", "bid must be a positive finite"),
        (
            "a.csv",
            "timestamp,symbol,bid,ask,last\n0,btc,3,2,1\n",
            "line 2: bid 3.00000000 is above ask",
        ),
        (
            "a.csv",
            "timestamp,symbol,bid,ask,last\n60,btc,1,2,1\n0,btc,1,2,1\n",
            "line 3: time .* goes backwards",
        ),
        (
            "a.csv",
            "timestamp,symbol,bid,ask,last\n0,btc,1,2,1\n0,btc,1,2,1\n",
            "line 3: btc appears twice",
        ),
        ("a.csv", "timestamp,symbol,bid,ask,last\n0,,1,2,1\n", "symbol must be a non-empty string"),
        ("a.json", "{", "invalid JSON at line 1"),
        ("a.json", "[]", "non-empty list"),
        ("a.json", '{"status": "error", "message": "rate limited"}', "status 'error'"),
        ("a.json", '{"data": 1}', "CoinSpot"),
        ("a.json", '{"prices": {}}', "'prices' must be an object"),
        ("a.json", '{"prices": {"btc": 5}}', "prices.btc must be an object"),
        ("a.json", '{"prices": {"btc": {"bid": 1, "ask": 2}}}', "prices.btc: missing last"),
        ("a.json", "[3]", "item 1: expected an object"),
        (
            "a.json",
            '[{"symbol": "btc", "bid": 1, "ask": 2, "last": 1}]',
            "item 1: missing timestamp",
        ),
        (
            "a.json",
            '[{"timestamp": true, "symbol": "btc", "bid": 1, "ask": 2, "last": 1}]',
            "item 1: expected an ISO",
        ),
        (
            "a.json",
            '[{"timestamp": 0, "symbol": 7, "bid": 1, "ask": 2, "last": 1}]',
            "item 1: symbol must be",
        ),
    ],
)
def test_malformed_feeds_are_one_line_naming_the_place(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    with pytest.raises(FeedError, match=message) as info:
        replay(tmp_path, name, text)
    assert "\n" not in str(info.value) and name in str(info.value)


def test_unreadable_feeds(tmp_path: Path) -> None:
    with pytest.raises(FeedError, match="cannot read the feed"):
        read_replay(tmp_path / "missing.csv", start=START, bar_seconds=60)
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(FeedError, match="not a UTF-8 text file"):
        read_replay(binary, start=START, bar_seconds=60)


def test_parse_time_rejects_non_finite_numbers() -> None:
    with pytest.raises(ValueError, match="finite"):
        parse_time(float("inf"))


def test_synthetic_feed_is_seeded_and_well_formed() -> None:
    one = list(islice(SyntheticFeed(7, ["btc", "eth"], START, 60), 300))
    two = list(islice(SyntheticFeed(7, ["btc", "eth"], START, 60), 300))
    other = list(islice(SyntheticFeed(8, ["btc", "eth"], START, 60), 300))
    assert one == two and one != other
    assert [t.ts for t in one[:2]] == [START, START + timedelta(minutes=1)]
    for tick in one:
        for q in tick.quotes:
            assert 0 < q.bid < q.last < q.ask
    assert one[0].quotes[0].last == pytest.approx(D(PROFILES["btc"][1]), rel=D("0.01"))


def test_synthetic_feed_continues_from_given_prices() -> None:
    first = next(iter(SyntheticFeed(1, ["btc"], START, 60, start_prices={"btc": D(42)})))
    assert first.quotes[0].last == pytest.approx(D(42), rel=D("0.01"))


def test_each_day_has_a_market_wide_spike_that_lifts_realised_volatility() -> None:
    feed = SyntheticFeed(7, ["btc", "eth", "sol"], START, 60)
    begin, end = feed.spike_window(START + timedelta(hours=3))
    assert START + timedelta(hours=6) <= begin < START + timedelta(hours=18)
    assert end - begin == timedelta(minutes=45)
    day = list(islice(feed, 1440))
    by_time = {t.ts: t for t in day}
    window = [by_time[begin + timedelta(minutes=m)].quotes[0] for m in range(1, 31)]
    calm = [by_time[begin - timedelta(minutes=60 - m)].quotes[0] for m in range(30)]
    spike_vol, calm_vol = realised_volatility(window), realised_volatility(calm)
    assert spike_vol is not None and calm_vol is not None
    assert spike_vol > 1.5 > calm_vol  # above the default volatile-enter threshold
    before, at = by_time[begin - timedelta(minutes=1)], by_time[begin]
    assert at.quotes[0].last < before.quotes[0].last * D("0.99")  # the shock opens it
    assert feed.spike_window(START + timedelta(days=1)) != (
        begin + timedelta(days=1),
        end + timedelta(days=1),
    )
