"""Moving-average crossover signals."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from kernel.models import Side
from kernel.strategy import MovingAverageCrossover


def feed(strategy: MovingAverageCrossover, prices: list[int]) -> list[tuple[int, Side]]:
    signals = []
    for i, p in enumerate(prices):
        signal = strategy.on_price("btc", D(p))
        if signal is not None:
            signals.append((i, signal.side))
    return signals


def test_buy_on_crossing_above_sell_on_crossing_below() -> None:
    strategy = MovingAverageCrossover(["btc"], fast=2, slow=4)
    prices = [10, 10, 10, 9, 8, 8, 12, 14, 14, 9, 7]
    # Index 3 sets the first side (fast below slow): not a crossing.
    assert feed(strategy, prices) == [(6, Side.BUY), (9, Side.SELL)]


def test_equal_averages_are_not_a_crossing() -> None:
    strategy = MovingAverageCrossover(["btc"], fast=1, slow=2)
    # fast-slow: (4 above) 0 (touch) above -> no signal; then below -> SELL.
    assert feed(strategy, [3, 4, 4, 5, 3]) == [(4, Side.SELL)]


def test_signal_carries_the_averages() -> None:
    strategy = MovingAverageCrossover(["btc"], fast=1, slow=2)
    feed(strategy, [5, 4])
    signal = strategy.on_price("btc", D(6))
    assert signal is not None
    assert (signal.side, signal.fast, signal.slow, signal.price) == (Side.BUY, D(6), D(5), D(6))


def test_warm_up_resumes_without_signalling() -> None:
    history = [10, 10, 10, 9, 8, 8]
    warm = MovingAverageCrossover(["btc"], fast=2, slow=4)
    warm.warm_up("btc", [D(p) for p in history])
    cold = MovingAverageCrossover(["btc"], fast=2, slow=4)
    feed(cold, history)
    assert feed(warm, [12, 14]) == feed(cold, [12, 14]) == [(0, Side.BUY)]


def test_windows_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="fast < slow"):
        MovingAverageCrossover(["btc"], fast=5, slow=5)
    assert MovingAverageCrossover(["btc"], fast=2, slow=3).params == {"fast": 2, "slow": 3}
