"""Per test id: what got worse and what got better between a baseline and a result."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from devtools.findings import Finding, Severity
from devtools.testruns.model import BAD, RANK, ResultSet, count_outcomes, counts_line


@dataclass(frozen=True)
class Change:
    id: str
    before: str | None  # None: the test is new
    after: str | None  # None: the test is gone
    kind: str  # new failure, new error, now skipped, removed, fixed, new passing test, ...
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "before": self.before, "after": self.after, "kind": self.kind}


@dataclass
class Comparison:
    before: dict[str, int]
    after: dict[str, int]
    worse: list[Change] = field(default_factory=list)
    better: list[Change] = field(default_factory=list)


def compare(baseline: ResultSet | Mapping[str, str], result: ResultSet) -> Comparison:
    """`baseline`: a result set, or test id -> outcome as `read_outcomes` gives it."""
    before = baseline.outcomes() if isinstance(baseline, ResultSet) else baseline
    after = result.outcomes()
    messages = result.messages()
    out = Comparison(count_outcomes(before.values()), count_outcomes(after.values()))
    # Only the ids whose outcome differs need a look: the symmetric difference of the
    # (id, outcome) pairs finds them in C, where a walk over every test in Python took long.
    changed = before.items() ^ after.items()
    for test_id in sorted({test_id for test_id, _ in changed}):
        old, new = before.get(test_id), after.get(test_id)
        if new is None:
            assert old is not None
            out.worse.append(Change(test_id, old, None, "removed"))
            continue
        message = messages.get(test_id, "")
        if old is None:
            if new in BAD:
                out.worse.append(Change(test_id, None, new, f"new {new}", message))
            elif RANK[new] == 2:
                out.better.append(Change(test_id, None, new, "new passing test"))
            continue
        if RANK[new] < RANK[old]:
            kind = f"new {'failure' if new == 'failed' else new}"
            if new not in BAD:
                kind = f"now {new}"
            out.worse.append(Change(test_id, old, new, kind, message))
        elif RANK[new] > RANK[old]:
            kind = "fixed" if old in BAD else f"now {new}"
            out.better.append(Change(test_id, old, new, kind))
    return out


def findings(
    comparison: Comparison, *, max_failed: int | None, max_errors: int | None
) -> list[Finding]:
    """One finding per test that got worse: errors for the ratchet, warnings under gates.

    With --max-failed/--max-errors the team is not at a strict ratchet yet: regressions are
    reported as warnings and only counts beyond the gates fail."""
    gated = max_failed is not None or max_errors is not None
    severity = Severity.WARNING if gated else Severity.ERROR
    out = []
    for change in comparison.worse:
        if change.after is None:
            out.append(
                Finding(
                    "test-removed",
                    severity,
                    f"{change.id}: {change.before} in the baseline, not run now",
                    fix="if it was renamed or removed on purpose, save a new baseline",
                )
            )
        else:
            was = change.before or "not in the baseline"
            detail = f" ({change.message})" if change.message else ""
            out.append(
                Finding(
                    "test-regressed",
                    severity,
                    f"{change.id}: {change.kind}: {was} -> {change.after}{detail}",
                )
            )
    for outcome, limit in (("failed", max_failed), ("error", max_errors)):
        count = comparison.after[outcome]
        if limit is not None and count > limit:
            flag = "--max-failed" if outcome == "failed" else "--max-errors"
            out.append(
                Finding(
                    "tests-over-gate",
                    Severity.ERROR,
                    f"{count} tests {outcome}, more than {flag} {limit}",
                )
            )
    return out


def summary_text(comparison: Comparison, *, every: bool = False) -> list[str]:
    """The counts, then the tests that got better (the first 50, or `every` one)."""
    lines = [
        f"before: {counts_line(comparison.before)}",
        f"after:  {counts_line(comparison.after)}",
        f"{len(comparison.worse)} worse, {len(comparison.better)} better",
    ]
    shown = comparison.better if every else comparison.better[:50]
    lines += [f"  better: {c.id}: {c.kind} ({c.before or 'new'} -> {c.after})" for c in shown]
    if len(comparison.better) > len(shown):
        lines.append(f"  ... and {len(comparison.better) - len(shown)} more better (-v: all)")
    return lines


def markdown_summary(comparison: Comparison, found: Sequence[Finding], baseline: str) -> str:
    """A short summary for $GITHUB_STEP_SUMMARY: counts, then the worst few tests."""
    bad = any(f.severity is Severity.ERROR for f in found)
    head = "### Tests: " + ("worse than the baseline" if bad else "no worse than the baseline")
    rows = ["| outcome | baseline | now |", "|---|---:|---:|"]
    for outcome in comparison.before:
        b, a = comparison.before[outcome], comparison.after[outcome]
        if a or b:
            rows.append(f"| {outcome} | {b} | {a} |")
    lines = [head, "", f"Baseline: `{baseline}`", "", *rows, ""]
    lines.append(f"{len(comparison.worse)} worse, {len(comparison.better)} better.")
    for change in comparison.worse[:20]:
        lines.append(
            f"- `{_md_code(change.id)}`: {change.kind} ({change.before or 'new'} → {change.after or 'gone'})"
        )
    if len(comparison.worse) > 20:
        lines.append(f"- … and {len(comparison.worse) - 20} more")
    return "\n".join(lines) + "\n"


def _md_code(text: str) -> str:
    return text.replace("`", "'").replace("\n", " ")
