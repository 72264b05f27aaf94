"""Moving-average crossover, per symbol: long while the fast average is above the slow one.

A BUY signal when the fast simple moving average crosses above the slow one, a SELL when it
crosses below. Equal averages are not a crossing: the last side taken is kept, so a touch and a
return never signal. `warm_up` replays history without signalling, so a restart resumes.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from kernel.models import Side

KIND = "ma-crossover"


@dataclass(frozen=True)
class Signal:
    symbol: str
    side: Side
    price: Decimal
    fast: Decimal  # the fast moving average after this price
    slow: Decimal


class MovingAverageCrossover:
    def __init__(self, symbols: Sequence[str], *, fast: int, slow: int, id: str = KIND) -> None:
        if not 0 < fast < slow:
            raise ValueError(f"need 0 < fast < slow, got fast={fast} slow={slow}")
        self.id = id
        self.fast_window, self.slow_window = fast, slow
        self._prices = {s: deque[Decimal](maxlen=slow) for s in symbols}
        self._side: dict[str, int] = {s: 0 for s in symbols}  # +1 fast above, -1 below, 0 unknown

    @property
    def params(self) -> dict[str, int]:
        return {"fast": self.fast_window, "slow": self.slow_window}

    def averages(self, symbol: str) -> tuple[Decimal, Decimal] | None:
        window = self._prices[symbol]
        if len(window) < self.slow_window:
            return None
        recent = list(window)[-self.fast_window :]
        return sum(recent, Decimal(0)) / len(recent), sum(window, Decimal(0)) / len(window)

    def warm_up(self, symbol: str, prices: Iterable[Decimal]) -> None:
        for price in prices:
            self.on_price(symbol, price)

    def on_price(self, symbol: str, price: Decimal) -> Signal | None:
        self._prices[symbol].append(price)
        averages = self.averages(symbol)
        if averages is None:
            return None
        fast, slow = averages
        side = (fast > slow) - (fast < slow)
        previous = self._side[symbol]
        if side in (0, previous):
            return None
        self._side[symbol] = side
        if previous == 0:
            return None  # the first reading sets a side; only a change of side is a crossing
        return Signal(symbol, Side.BUY if side > 0 else Side.SELL, price, fast, slow)
