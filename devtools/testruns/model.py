"""One test's outcome, and a run's outcomes in the order pytest ran them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import compress
from operator import itemgetter
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


class ResultSet:
    """A run's tests in run order (pytest's JUnit XML keeps it), plus where the run came from.

    Built from TestOutcome objects, or from columns (ids, outcomes, durations, messages) by the
    fast readers: comparing 20,000 tests then creates no object per test. `tests` makes the
    objects on first use; from then on that list is the result set."""

    __test__ = False

    def __init__(self, tests: list[TestOutcome] | None = None, meta: Any = None) -> None:
        self._tests: list[TestOutcome] | None = [] if tests is None else tests
        self._columns: tuple[list[str], list[str], list[float], dict[str, str]] | None = None
        self.meta: dict[str, Any] = dict(meta or {})
        self._by_id: dict[str, str] | None = None  # outcomes(), kept while columns are the truth

    @classmethod
    def from_columns(
        cls,
        ids: list[str],
        outcomes: list[str],
        durations: list[float],
        messages: dict[str, str],
        meta: Any = None,
        *,
        by_id: dict[str, str] | None = None,
    ) -> ResultSet:
        """`messages`: test id -> message, for the tests that have one; `by_id`: test id ->
        outcome when the reader built it already."""
        results = cls(None, meta)
        results._tests, results._columns = None, (ids, outcomes, durations, messages)
        results._by_id = by_id
        return results

    @property
    def tests(self) -> list[TestOutcome]:
        if self._tests is None:
            assert self._columns is not None
            ids, outcomes, durations, messages = self._columns
            self._tests = [
                TestOutcome(test_id, outcome, duration, messages.get(test_id, ""))
                for test_id, outcome, duration in zip(ids, outcomes, durations, strict=True)
            ]
            self._columns = None
        return self._tests

    def by_id(self) -> dict[str, TestOutcome]:
        return {t.id: t for t in self.tests}

    def outcomes(self) -> dict[str, str]:
        """Test id -> outcome."""
        if self._columns is not None:
            if self._by_id is None:
                self._by_id = dict(zip(self._columns[0], self._columns[1], strict=True))
            return dict(self._by_id)  # a copy: the caller may change it
        return {t.id: t.outcome for t in self.tests}

    def messages(self) -> dict[str, str]:
        """Test id -> the first line of its failure, error or skip reason (those that have one)."""
        if self._columns is not None:
            return self._columns[3]
        return {t.id: t.message for t in self.tests if t.message}

    def counts(self) -> dict[str, int]:
        if self._columns is not None:
            return count_outcomes(self._columns[1])
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
        rows = doc["tests"]
        # Column by column with map and zip (C speed): a stored run holds tens of thousands.
        if not set(map(len, rows)) <= {4}:
            raise ValueError("not an omc-dev test result file")
        ids = list(map(itemgetter(0), rows))
        outcomes = list(map(itemgetter(1), rows))
        if not RANK.keys() >= set(outcomes) or not set(map(type, ids)) <= {str}:
            raise ValueError("not an omc-dev test result file")
        durations = list(map(float, map(itemgetter(2), rows)))
        texts = list(map(itemgetter(3), rows))
        messages = dict(zip(compress(ids, texts), map(str, filter(None, texts)), strict=True))
        return cls.from_columns(ids, outcomes, durations, messages, doc.get("meta"))


def count_outcomes(outcomes: Iterable[str]) -> dict[str, int]:
    counted = Counter(outcomes)  # counts in C
    return {outcome: counted[outcome] for outcome in OUTCOMES}


def counts_line(counts: Mapping[str, int]) -> str:
    """`565 passed, 18 failed, 77 error, ...`: every outcome, in one fixed order."""
    total = sum(counts.values())
    return ", ".join(f"{counts.get(o, 0)} {o}" for o in OUTCOMES) + f" ({total} tests)"
