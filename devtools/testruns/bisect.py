"""Find the one earlier test that changes a test's outcome, by halving: pure logic.

`probe(subset)` runs `subset` (in the given order) and then the target, and answers whether the
target showed the effect being hunted (failed, for a polluter; passed, for a test it needs).
With one such test among n candidates this takes ceil(log2(n)) probes plus at most one to
confirm the pair alone; the caller adds the run of the target alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Culprit:
    test: str | None  # None: no single earlier test explains it
    probes: int


def find_culprit(candidates: Sequence[str], probe: Callable[[list[str]], bool]) -> Culprit:
    pool = list(candidates)
    probes = 0
    confirmed = False
    while len(pool) > 1:
        first = pool[: len(pool) // 2]
        probes += 1
        if probe(first):
            pool, confirmed = first, len(first) == 1
        else:
            pool, confirmed = pool[len(pool) // 2 :], False
    if not pool:
        return Culprit(None, probes)
    if not confirmed:
        probes += 1
        confirmed = probe(pool)
    return Culprit(pool[0] if confirmed else None, probes)


def run_budget(candidates: int) -> int:
    """The most pytest runs `polluter` makes after learning the order: alone, halving, confirm."""
    return (math.ceil(math.log2(candidates)) if candidates > 1 else 0) + 2
