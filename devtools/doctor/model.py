"""The doctor's data model: the context its checks share. Checks, outcomes and results are the
report pipeline's (devtools.report.checks), re-exported here for the doctor's modules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from devtools.config import ProjectConfig
from devtools.report.checks import Check, CheckResult, Outcome, Status
from devtools.report.checks import run_checks as run_all
from devtools.tracks.identity import Track, project_name

if TYPE_CHECKING:
    from devtools.compose.model import ComposeProject
    from devtools.docker.compose import ComposeTarget

__all__ = ["CheckResult", "DoctorCheck", "DoctorContext", "Outcome", "Status", "run_checks"]


@dataclass
class DoctorContext:
    config: ProjectConfig
    track: Track
    # Filled by checks that establish them; later checks read them after declaring `needs`.
    facts: dict[str, object] = field(default_factory=dict)

    @cached_property
    def target(self) -> ComposeTarget:
        from devtools.docker.compose import targets_for

        return targets_for(self.config, project_name(self.config, self.track))

    @cached_property
    def project(self) -> ComposeProject:
        from devtools.docker.compose import load_project

        return load_project(self.target)


# A doctor step is the one Check shape, run on the doctor's context.
DoctorCheck = Check[DoctorContext]


def run_checks(checks: Sequence[DoctorCheck], ctx: DoctorContext) -> list[CheckResult]:
    from devtools.doctor.ignore import Ignores

    ignores = Ignores.from_config(ctx.config)  # a bad `ignore` list is unusable input: exit 2
    # Rules silenced project-wide, and `# omc-dev: ignore[...]` on a finding's line.
    return run_all(checks, ctx, keep=lambda finding: not ignores.silences(finding, ctx.config.root))
