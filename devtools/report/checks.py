"""The one shape of an ordered check: an id, the checks it needs, `run(model) -> Outcome`.

A check passes (with a one-line detail), warns or fails with findings, or is skipped because a
check it needs did not pass: a report always says what was and was not checked. Doctor steps
register as `Check[DoctorContext]`, the env rules as `Check[EnvModel]`; another family of rules
registers the same way with its own model (the value its rules read)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, Protocol, TypeVar

from devtools.report.findings import Finding, Severity

Status = Literal["pass", "warn", "fail", "skip"]

M = TypeVar("M")
M_contra = TypeVar("M_contra", contravariant=True)


@dataclass(frozen=True)
class Outcome:
    """What a check found, and a one-line detail of what it looked at."""

    detail: str
    findings: Sequence[Finding] = ()


class CheckLike(Protocol[M_contra]):
    """What the runner needs of a check; `Check` is the ready-made one."""

    @property
    def id(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def needs(self) -> tuple[str, ...]: ...

    def run(self, model: M_contra, /) -> Outcome: ...


@dataclass(frozen=True)
class Check(Generic[M]):
    id: str
    title: str
    run: Callable[[M], Outcome]
    needs: tuple[str, ...] = ()


def rule(id: str, title: str, find: Callable[[M], Iterable[Finding]]) -> Check[M]:
    """A check from a function that only returns findings; its status says how it went."""

    def run(model: M) -> Outcome:
        return Outcome("checked", list(find(model)))

    return Check(id, title, run)


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    status: Status
    detail: str
    findings: Sequence[Finding] = ()


def status_of(findings: Iterable[Finding]) -> Status:
    severities = {f.severity for f in findings}
    if Severity.ERROR in severities:
        return "fail"
    return "warn" if Severity.WARNING in severities else "pass"


def run_checks(
    checks: Sequence[CheckLike[M]],
    model: M,
    *,
    keep: Callable[[Finding], bool] = lambda finding: True,
) -> list[CheckResult]:
    """Run `checks` in order on `model`; a check whose `needs` did not pass or warn is skipped.

    `keep` drops findings the user silenced before they decide a check's status."""
    results: dict[str, CheckResult] = {}
    for check in checks:
        blocked = [
            n for n in check.needs if n in results and results[n].status not in ("pass", "warn")
        ]
        if blocked:
            results[check.id] = CheckResult(
                check.id, check.title, "skip", f"needs {', '.join(blocked)}"
            )
            continue
        outcome = check.run(model)
        kept = [f for f in outcome.findings if keep(f)]
        results[check.id] = CheckResult(
            check.id, check.title, status_of(kept), outcome.detail, kept
        )
    return list(results.values())
