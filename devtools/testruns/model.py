"""One test's outcome, and a run's outcomes in the order pytest ran them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

OUTCOMES = ("passed", "failed", "error", "skipped", "xfailed", "xpassed")
# How good an outcome is, for "worse" and "better": a pass, a known non-pass, a failure.
RANK = {"passed": 2, "xpassed": 2, "skipped": 1, "xfailed": 1, "failed": 0, "error": 0}
BAD = frozenset({"failed", "error"})


@dataclass(slots=True)  # not frozen: a frozen dataclass is 4x slower to create, and runs hold 10^4s
class TestOutcome:
    """One test id's outcome; `message` is the first line of the failure, error or skip reason."""

    __test__ = False  # not a pytest test class

    id: str
    outcome: str
    duration: float = 0.0
    message: str = ""


@dataclass
class ResultSet:
    """A run's tests in run order (pytest's JUnit XML keeps it), plus where the run came from."""

    __test__ = False

    tests: list[TestOutcome]
    meta: dict[str, Any] = field(default_factory=dict)

    def by_id(self) -> dict[str, TestOutcome]:
        return {t.id: t for t in self.tests}

    def counts(self) -> dict[str, int]:
        return count_outcomes(t.outcome for t in self.tests)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": "omc-dev-test-results/1",
            "meta": self.meta,
            "counts": self.counts(),
            "tests": [[t.id, t.outcome, round(t.duration, 3), t.message] for t in self.tests],
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ResultSet:
        """Raises ValueError/KeyError/TypeError on a document of another shape."""
        if doc.get("format") != "omc-dev-test-results/1":
            raise ValueError("not an omc-dev test result file")
        tests = []
        for test_id, outcome, duration, message in doc["tests"]:
            if outcome not in RANK or not isinstance(test_id, str):
                raise ValueError(f"unknown outcome {outcome!r}")
            tests.append(TestOutcome(test_id, outcome, float(duration), str(message)))
        return cls(tests, dict(doc.get("meta") or {}))


def count_outcomes(outcomes: Iterable[str]) -> dict[str, int]:
    counts = dict.fromkeys(OUTCOMES, 0)
    for outcome in outcomes:
        counts[outcome] += 1
    return counts


def counts_line(counts: Mapping[str, int]) -> str:
    """`565 passed, 18 failed, 77 error, ...`: every outcome, in one fixed order."""
    total = sum(counts.values())
    return ", ".join(f"{counts.get(o, 0)} {o}" for o in OUTCOMES) + f" ({total} tests)"
