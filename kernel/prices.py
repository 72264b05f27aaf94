"""The Glass ledger (every price the kernel saw) and the feeds that fill it.

Two feeds: a replay file (CSV, or JSON including CoinSpot's latest-prices shape
`{"prices": {"btc": {"bid": ..., "ask": ..., "last": ...}}}`), validated in full before anything
is written; and a seeded synthetic feed: geometric Brownian motion per symbol, correlated through
a market factor, with calm and active volatility regimes and one market-wide spike per UTC day, so
volatile-market mode gets exercised.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import CompoundSelect, Connection, Integer, bindparam, insert, select, union_all
from sqlalchemy.orm import Session

from kernel.errors import UnusableInput
from kernel.models import Price
from kernel.money import is_positive_finite, parse_decimal, plain, q8


@dataclass(frozen=True)
class Quote:
    symbol: str
    ts: datetime
    bid: Decimal
    ask: Decimal
    last: Decimal
    # Bid, ask and last all positive and finite: judged once per quote, not once per decision.
    usable: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        usable = all(v.is_finite() and v > 0 for v in (self.bid, self.ask, self.last))
        object.__setattr__(self, "usable", usable)


@dataclass(frozen=True)
class Tick:
    """Every symbol's quote at one instant: the unit the loop works in."""

    ts: datetime
    quotes: tuple[Quote, ...]


# --- the ledger -------------------------------------------------------------------------------


# Built once: constructing a statement costs more than running it on SQLite.
_INSERT = insert(Price.metadata.tables["prices"])
_QUOTE_COLUMNS = (Price.symbol, Price.ts, Price.bid, Price.ask, Price.last)
_RECENT = (
    select(*_QUOTE_COLUMNS)
    .where(Price.symbol == bindparam("symbol"))
    .order_by(Price.ts.desc(), Price.id.desc())
    .limit(bindparam("count", type_=Integer))
)
_LAST_TS = select(Price.ts).order_by(Price.ts.desc()).limit(1)


class QuoteObserver(Protocol):
    def saw(self, quotes: Iterable[Quote]) -> None: ...


# Where a transaction's observer of recorded quotes (the Book) sits in `session.info`. Defined
# here, below the Book, so that prices need not import the book that imports prices.
OBSERVER_KEY = "kernel.book"


def record(session: Session, tick: Tick, source: str) -> None:
    observer: QuoteObserver | None = session.info.get(OBSERVER_KEY)
    if observer is not None:
        observer.saw(tick.quotes)  # the transaction's latest quotes now include these
    # A Core INSERT: nothing for the unit of work to track, and nothing read, so no flush first.
    with session.no_autoflush:
        session.execute(
            _INSERT,
            [
                {
                    "symbol": q.symbol,
                    "ts": q.ts,
                    "bid": q.bid,
                    "ask": q.ask,
                    "last": q.last,
                    "source": source,
                }
                for q in tick.quotes
            ],
        )


def recent(session: Session, symbol: str, count: int) -> list[Quote]:
    """The last `count` quotes of `symbol` (by time, then by arrival), oldest first."""
    rows = session.execute(_RECENT, {"symbol": symbol, "count": count}).all()
    return [Quote(*row) for row in reversed(rows)]


@lru_cache(maxsize=64)
def _latest_statement(symbols: tuple[str, ...]) -> CompoundSelect[Any]:
    """One statement for every symbol's latest quote (a UNION ALL of index lookups)."""
    parts = [
        select(*_QUOTE_COLUMNS)
        .where(Price.symbol == symbol)
        .order_by(Price.ts.desc(), Price.id.desc())
        .limit(1)
        .subquery()
        for symbol in symbols
    ]
    return union_all(*(select(part) for part in parts))


def latest(session: Session | Connection, symbols: Iterable[str]) -> dict[str, Quote]:
    """The most recent quote per symbol; symbols never priced are absent."""
    wanted = tuple(sorted(set(symbols)))
    if not wanted:
        return {}
    return {row[0]: Quote(*row) for row in session.execute(_latest_statement(wanted))}


def last_timestamp(session: Session) -> datetime | None:
    return session.scalars(_LAST_TS).first()


# --- replay files -----------------------------------------------------------------------------


class FeedError(UnusableInput):
    """A feed file the kernel cannot use; the message names the file and the place."""


# The times a feed may carry. Before 1970 is no market data; the upper bound keeps a millennium
# between the feed and the calendar's end (year 9999), so no day or bar arithmetic overflows.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
# Prices the ledger keeps exactly (8 decimal places, numeric(38, 18)) with room left for notional
# arithmetic: below one unit of the 8th place a price rounds to zero.
MIN_PRICE = Decimal("0.00000001")
MAX_PRICE = Decimal("1000000000000")


def parse_time(value: Any) -> datetime:
    """ISO 8601 (a zone, or naive meaning UTC) or Unix seconds, as aware UTC, within
    [EARLIEST, LATEST)."""
    try:
        ts = _parse_time(value)
    except (OverflowError, OSError):
        ts = None
    if ts is None or not EARLIEST <= ts < LATEST:
        numeric = parse_decimal(value) is not None
        raise ValueError(
            f"time {value!r} is not between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}"
            + (" (Unix seconds expected, not milliseconds)" if numeric else "")
        )
    return ts


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ValueError("not a finite timestamp")
        return _from_unix(value)
    if isinstance(value, str):
        text = value.strip()
        number = parse_decimal(text)
        if number is not None and number.is_finite():
            if abs(number) > 10**12:  # float() of it would be inexact or infinite anyway
                return None
            return _from_unix(float(number))
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    raise ValueError("expected an ISO 8601 time or Unix seconds")


def _from_unix(seconds: float) -> datetime | None:
    """None past what the platform's calendar holds (ValueError, OverflowError or OSError)."""
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _price(value: Any, field: str) -> Decimal:
    number = parse_decimal(value)
    if not is_positive_finite(number):
        raise ValueError(f"{field} must be a positive finite number, got {value!r}")
    assert number is not None
    if not MIN_PRICE <= number <= MAX_PRICE:
        raise ValueError(
            f"{field} {value!r} is outside the prices the kernel keeps ({plain(MIN_PRICE)} to {plain(MAX_PRICE)})"
        )
    return q8(number)


def _quote(symbol: Any, ts: datetime, fields: Mapping[str, Any]) -> Quote:
    if not isinstance(symbol, str) or not symbol.strip():
        raise ValueError(f"symbol must be a non-empty string, got {symbol!r}")
    missing = [f for f in ("bid", "ask", "last") if f not in fields]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    bid, ask, last = (_price(fields[f], f) for f in ("bid", "ask", "last"))
    if bid > ask:
        raise ValueError(f"bid {bid} is above ask {ask}")
    return Quote(symbol.strip().lower(), ts, bid, ask, last)


@dataclass(frozen=True)
class _Row:
    where: str  # "line 7", "item 3"
    ts: datetime | None  # None: an untimed snapshot (CoinSpot's latest prices)
    quotes: tuple[Quote, ...]


def _csv_rows(text: str) -> list[_Row]:
    reader = csv.DictReader(io.StringIO(text))
    columns = {c.strip().lower() for c in reader.fieldnames or []}
    missing = [c for c in ("timestamp", "symbol", "bid", "ask", "last") if c not in columns]
    if missing:
        raise ValueError(f"line 1: the header lacks {', '.join(missing)}")
    rows = []
    for line in reader:
        where = f"line {reader.line_num}"
        fields = {(k or "").strip().lower(): v for k, v in line.items()}
        if None in line.values():
            raise ValueError(f"{where}: too few columns")
        try:
            ts = parse_time(fields["timestamp"])
            rows.append(_Row(where, ts, (_quote(fields["symbol"], ts, fields),)))
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
    return rows


def _snapshot(item: Mapping[str, Any], where: str) -> _Row:
    prices = item["prices"]
    if not isinstance(prices, Mapping) or not prices:
        raise ValueError(f"{where}: 'prices' must be an object of symbol -> bid/ask/last")
    ts = parse_time(item["timestamp"]) if "timestamp" in item else None
    placeholder = ts or datetime.fromtimestamp(0, UTC)
    quotes = []
    for symbol, fields in prices.items():
        if not isinstance(fields, Mapping):
            raise ValueError(f"{where}: prices.{symbol} must be an object with bid, ask, last")
        try:
            quotes.append(_quote(symbol, placeholder, fields))
        except ValueError as exc:
            raise ValueError(f"{where}: prices.{symbol}: {exc}") from None
    return _Row(where, ts, tuple(quotes))


def _json_rows(text: str) -> list[_Row]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise ValueError("JSON nested too deeply (no feed nests more than a few levels)") from None
    if isinstance(doc, Mapping):
        if doc.get("status", "ok") != "ok":
            raise ValueError(f"the response says status {doc.get('status')!r}, not 'ok'")
        if "prices" not in doc:
            raise ValueError('expected CoinSpot\'s {"prices": {...}} or a list of records')
        return [_snapshot(doc, "the snapshot")]
    if not isinstance(doc, list) or not doc:
        raise ValueError("expected a non-empty list of records or price snapshots")
    rows = []
    for index, item in enumerate(doc, start=1):
        where = f"item {index}"
        if not isinstance(item, Mapping):
            raise ValueError(f"{where}: expected an object")
        if "prices" in item:
            rows.append(_snapshot(item, where))
            continue
        try:
            ts = parse_time(item["timestamp"])
            rows.append(_Row(where, ts, (_quote(item.get("symbol"), ts, item),)))
        except KeyError as exc:
            raise ValueError(f"{where}: missing {exc.args[0]}") from None
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
    return rows


def _group(rows: Sequence[_Row], start: datetime, bar: timedelta) -> list[Tick]:
    """Rows into ticks by time; untimed snapshots are spaced one bar apart from `start`."""
    ticks: list[Tick] = []
    by_symbol: dict[str, Quote] = {}
    current: datetime | None = None
    for index, row in enumerate(rows):
        ts = row.ts if row.ts is not None else start + index * bar
        if current is not None and ts < current:
            raise ValueError(f"{row.where}: time {ts.isoformat()} goes backwards")
        if current is not None and ts != current:
            ticks.append(Tick(current, tuple(by_symbol.values())))
            by_symbol = {}
        current = ts
        for q in row.quotes:
            if q.symbol in by_symbol:
                raise ValueError(f"{row.where}: {q.symbol} appears twice at {ts.isoformat()}")
            by_symbol[q.symbol] = Quote(q.symbol, ts, q.bid, q.ask, q.last)
    if current is not None:
        ticks.append(Tick(current, tuple(by_symbol.values())))
    return ticks


def read_replay(path: Path, *, start: datetime, bar_seconds: float) -> list[Tick]:
    """Every tick in a replay file, validated as a whole: a bad file raises before any write."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FeedError(f"{path}: cannot read the feed: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise FeedError(f"{path}: not a UTF-8 text file") from None
    is_json = path.suffix.lower() == ".json" or text.lstrip()[:1] in ("{", "[")
    try:
        rows = _json_rows(text) if is_json else _csv_rows(text)
        if not rows:
            raise ValueError("no prices in the file")
        return _group(rows, start, timedelta(seconds=bar_seconds))
    except ValueError as exc:
        raise FeedError(f"{path}: malformed feed: {exc}") from None


# --- the synthetic feed -----------------------------------------------------------------------

MINUTES_PER_YEAR = 365 * 24 * 60
# Annualised volatility and a starting price (AUD) for the symbols the kernel knows by default.
PROFILES: dict[str, tuple[float, float]] = {
    "btc": (0.50, 150_000.0),
    "eth": (0.65, 5_000.0),
    "sol": (0.80, 250.0),
}
DEFAULT_PROFILE = (0.70, 100.0)
MARKET_CORRELATION = 0.6
ACTIVE_MULTIPLIER = 1.6  # the active regime's volatility, relative to calm
REGIME_SWITCH = 1 / 240  # chance per bar of switching regime (about every four hours)
SPIKE_MULTIPLIER = 5.0
SPIKE_BARS = 45
SPIKE_JUMP = -0.03  # the market-wide shock that opens the spike
HALF_SPREAD = 0.0005


@dataclass
class _Path:
    symbol: str
    sigma: float
    price: float


class SyntheticFeed:
    """Seeded GBM ticks, one bar apart from `start`; the same seed gives the same prices."""

    def __init__(
        self,
        seed: int,
        symbols: Sequence[str],
        start: datetime,
        bar_seconds: float,
        start_prices: Mapping[str, Decimal] | None = None,
    ) -> None:
        self.seed = seed
        self.start = start
        self.bar = timedelta(seconds=bar_seconds)
        self._dt = bar_seconds / 60 / MINUTES_PER_YEAR
        self._rng = random.Random(seed)
        self._active = False
        self._paths = []
        for symbol in symbols:
            sigma, price = PROFILES.get(symbol, DEFAULT_PROFILE)
            if start_prices and symbol in start_prices:
                price = float(start_prices[symbol])
            self._paths.append(_Path(symbol, sigma, price))

    def spike_window(self, day: datetime) -> tuple[datetime, datetime]:
        """When the day's spike happens: a seeded minute between 06:00 and 18:00 UTC."""
        midnight = day.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        minute = random.Random(f"{self.seed}:{midnight.date()}").randrange(6 * 60, 18 * 60)
        begin = midnight + timedelta(minutes=minute)
        return begin, begin + SPIKE_BARS * self.bar

    def __iter__(self) -> Iterator[Tick]:
        ts = self.start
        while True:
            yield self._step(ts)
            ts += self.bar

    def _step(self, ts: datetime) -> Tick:
        if self._rng.random() < REGIME_SWITCH:
            self._active = not self._active
        begin, end = self.spike_window(ts)
        in_spike = begin <= ts < end
        multiplier = SPIKE_MULTIPLIER if in_spike else (ACTIVE_MULTIPLIER if self._active else 1.0)
        jump = SPIKE_JUMP if ts == begin else 0.0
        market = self._rng.gauss(0.0, 1.0)
        quotes = []
        for path in self._paths:
            z = MARKET_CORRELATION * market + math.sqrt(
                1 - MARKET_CORRELATION**2
            ) * self._rng.gauss(0.0, 1.0)
            sigma = path.sigma * multiplier
            path.price *= math.exp(-0.5 * sigma**2 * self._dt + sigma * math.sqrt(self._dt) * z)
            path.price *= 1 + jump
            half = HALF_SPREAD * math.sqrt(multiplier)
            last = q8(Decimal(f"{path.price:.8f}"))
            quotes.append(
                Quote(
                    path.symbol,
                    ts,
                    bid=q8(Decimal(f"{path.price * (1 - half):.8f}")),
                    ask=q8(Decimal(f"{path.price * (1 + half):.8f}")),
                    last=last,
                )
            )
        return Tick(ts, tuple(quotes))
