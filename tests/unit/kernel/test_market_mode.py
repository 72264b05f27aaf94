"""Realised volatility and volatile-market mode with hysteresis."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from kernel.market_mode import SECONDS_PER_YEAR, VolatilityWindow, next_mode, realised_volatility
from kernel.models import MarketMode
from kernel.prices import Quote

T0 = datetime(2025, 3, 1, tzinfo=UTC)


def series(*lasts: str, bar: float = 60) -> list[Quote]:
    return [
        Quote("btc", T0 + timedelta(seconds=i * bar), D(p), D(p), D(p)) for i, p in enumerate(lasts)
    ]


def test_constant_prices_have_no_volatility() -> None:
    assert realised_volatility(series("100", "100", "100", "100")) == 0.0


def test_annualised_from_the_bar_length() -> None:
    quotes = series("100", "101", "100", "101")
    returns = [math.log(101 / 100), math.log(100 / 101), math.log(101 / 100)]
    mean = sum(returns) / 3
    per_bar = math.sqrt(sum((r - mean) ** 2 for r in returns) / 2)
    expected = per_bar * math.sqrt(SECONDS_PER_YEAR / 60)
    assert realised_volatility(quotes) == pytest.approx(expected)
    # The same moves over hourly bars are a calmer market.
    hourly = realised_volatility(series("100", "101", "100", "101", bar=3600))
    assert hourly == pytest.approx(expected / math.sqrt(60))


def test_too_little_or_unusable_data_gives_no_reading() -> None:
    assert realised_volatility(series("100", "101")) is None
    assert realised_volatility(series("100", "NaN", "0", "101")) is None
    same_instant = [Quote("btc", T0, D(p), D(p), D(p)) for p in ("100", "101", "102")]
    assert realised_volatility(same_instant) is None


@pytest.mark.parametrize(
    ("current", "peak", "expected"),
    [
        (MarketMode.NORMAL, 1.6, MarketMode.VOLATILE),  # above enter
        (MarketMode.NORMAL, 1.2, MarketMode.NORMAL),  # between: stays
        (MarketMode.VOLATILE, 1.2, MarketMode.VOLATILE),  # between: stays (hysteresis)
        (MarketMode.VOLATILE, 0.9, MarketMode.NORMAL),  # below exit
        (MarketMode.NORMAL, 1.5, MarketMode.NORMAL),  # at enter is not above
        (MarketMode.VOLATILE, 1.0, MarketMode.VOLATILE),  # at exit is not below
    ],
)
def test_mode_changes_with_hysteresis(
    current: MarketMode, peak: float, expected: MarketMode
) -> None:
    change = next_mode(current, {"btc": 0.2, "eth": peak, "sol": None}, enter=1.5, exit=1.0)
    assert change.mode == expected
    assert change.changed == (expected != current)
    assert change.peak == peak


def test_no_readings_keep_the_mode() -> None:
    change = next_mode(MarketMode.VOLATILE, {"btc": None}, enter=1.5, exit=1.0)
    assert (change.mode, change.changed, change.peak) == (MarketMode.VOLATILE, False, None)


def test_a_reading_that_hovers_around_one_threshold_does_not_flap() -> None:
    mode, changes = MarketMode.NORMAL, 0
    for peak in (1.49, 1.51, 1.49, 1.51, 1.2, 1.49, 1.1, 0.99, 1.49, 1.51):
        change = next_mode(mode, {"btc": peak}, enter=1.5, exit=1.0)
        mode, changes = change.mode, changes + change.changed
    assert changes == 3  # up at 1.51, down at 0.99, up at 1.51


def test_the_window_keeps_window_plus_one_quotes_per_symbol() -> None:
    window = VolatilityWindow(3)
    window.observe(series("100", "101", "102", "103", "104"))
    assert window.readings(["btc", "eth"])["eth"] is None
    kept = realised_volatility(series("101", "102", "103", "104"))
    assert window.readings(["btc"])["btc"] == pytest.approx(kept)
