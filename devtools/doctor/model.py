"""The doctor's data model: a context shared by checks, checks with prerequisites, their results.

A check either passes (with a one-line detail), warns or fails with findings, or is skipped
because a check it needs did not pass: the report always says what was and was not checked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Literal

from devtools.config import ProjectConfig
from devtools.findings import Finding, Severity
from devtools.tracks.identity import Track, project_name

if TYPE_CHECKING:
    from devtools.compose.cli import ComposeTarget
    from devtools.compose.model import ComposeProject

Status = Literal["pass", "warn", "fail", "skip"]


@dataclass
class DoctorContext:
    config: ProjectConfig
    track: Track
    # Filled by checks that establish them; later checks read them after declaring `needs`.
    facts: dict[str, object] = field(default_factory=dict)

    @cached_property
    def target(self) -> ComposeTarget:
        from devtools.compose.cli import targets_for

        return targets_for(self.config, project_name(self.config, self.track))

    @cached_property
    def project(self) -> ComposeProject:
        from devtools.compose.cli import load_project

        return load_project(self.target)


@dataclass(frozen=True)
class Outcome:
    detail: str
    findings: Sequence[Finding] = ()


@dataclass(frozen=True)
class DoctorCheck:
    id: str
    title: str
    run: Callable[[DoctorContext], Outcome]
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    status: Status
    detail: str
    findings: Sequence[Finding] = ()


def run_checks(checks: Sequence[DoctorCheck], ctx: DoctorContext) -> list[CheckResult]:
    from devtools.doctor.ignore import Ignores

    ignores = Ignores.from_config(ctx.config)  # a bad `ignore` list is unusable input: exit 2
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
        outcome = check.run(ctx)
        # Rules silenced project-wide, and `# omc-dev: ignore[...]` on a finding's line.
        kept = [f for f in outcome.findings if not ignores.silences(f, ctx.config.root)]
        outcome = Outcome(outcome.detail, kept)
        severities = {f.severity for f in outcome.findings}
        status: Status = (
            "fail"
            if Severity.ERROR in severities
            else "warn"
            if Severity.WARNING in severities
            else "pass"
        )
        results[check.id] = CheckResult(
            check.id, check.title, status, outcome.detail, outcome.findings
        )
    return list(results.values())
