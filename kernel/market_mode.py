"""Volatile-market mode: realised volatility of recent Glass prices, with hysteresis.

The market turns VOLATILE when any symbol's annualised realised volatility (standard deviation of
log returns of the last price over the window, scaled by the bar length) rises above `enter`, and
NORMAL again only once every symbol is below `exit` (< `enter`), so a reading that hovers around
one threshold cannot make the mode flap.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from kernel.models import MarketMode
from kernel.prices import Quote

SECONDS_PER_YEAR = 365 * 24 * 3600


def realised_volatility(quotes: Sequence[Quote]) -> float | None:
    """Annualised volatility of `quotes` (oldest first); None without enough usable data."""
    points = [(q.ts, float(q.last)) for q in quotes if q.last.is_finite() and q.last > 0]
    if len(points) < 3:
        return None
    returns = [math.log(b[1] / a[1]) for a, b in itertools.pairwise(points)]
    gaps = [(b[0] - a[0]).total_seconds() for a, b in itertools.pairwise(points)]
    bar = statistics.median(gaps)
    if bar <= 0:
        return None
    # Sample standard deviation in floats (statistics.stdev is exact, via Fractions: too slow
    # to run for every symbol on every tick).
    mean = sum(returns) / len(returns)
    variance = sum((r - mean) ** 2 for r in returns) / (len(returns) - 1)
    return math.sqrt(variance) * math.sqrt(SECONDS_PER_YEAR / bar)


class VolatilityWindow:
    """The last `window + 1` Glass quotes per symbol (`window` returns), kept as ticks arrive.

    Warmed from the ledger when a loop starts, so a restart measures the same window.
    """

    def __init__(self, window: int) -> None:
        self.window = window
        self._quotes: dict[str, deque[Quote]] = {}

    def observe(self, quotes: Iterable[Quote]) -> None:
        for quote in quotes:
            self._quotes.setdefault(quote.symbol, deque(maxlen=self.window + 1)).append(quote)

    def readings(self, symbols: Iterable[str]) -> dict[str, float | None]:
        return {s: realised_volatility(self._quotes.get(s, ())) for s in symbols}


@dataclass(frozen=True)
class ModeChange:
    mode: MarketMode
    changed: bool
    peak: float | None  # the highest reading, the one that decided
    readings: Mapping[str, float | None]


def next_mode(
    current: MarketMode, readings: Mapping[str, float | None], *, enter: float, exit: float
) -> ModeChange:
    measured = [v for v in readings.values() if v is not None]
    peak = max(measured) if measured else None
    mode = current
    if peak is not None:
        if current == MarketMode.NORMAL and peak > enter:
            mode = MarketMode.VOLATILE
        elif current == MarketMode.VOLATILE and peak < exit:
            mode = MarketMode.NORMAL
    return ModeChange(mode, mode != current, peak, dict(readings))
