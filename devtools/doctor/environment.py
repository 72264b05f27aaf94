"""Environment checks: `.env`, `.env.example` and `env_file` against the compose project."""

from __future__ import annotations

from devtools.doctor.model import DoctorCheck, DoctorContext, Outcome
from devtools.errors import UserError
from devtools.findings import Finding, Severity


def check_environment(ctx: DoctorContext) -> Outcome:
    from devtools.doctor.ignore import Ignores
    from devtools.envfiles.load import load_view
    from devtools.envfiles.rules import CHECKS, EnvModel
    from devtools.report.checks import run_checks

    try:
        view = load_view(ctx.config, ctx.target, ctx.project)
    except UserError as exc:
        # A compose file compose accepts but we cannot read, or a damaged port registry.
        return Outcome("not checked", [Finding("env-check-failed", Severity.ERROR, str(exc))])
    ignores = Ignores.from_config(ctx.config)
    model = EnvModel(view, lambda name, finding: ignores.silences(finding, view.root, name))
    findings = [f for result in run_checks(CHECKS, model) for f in result.findings]
    files = ", ".join(view.relative(f.path) for f in view.files) or "no env files"
    silenced = len(model.silenced)
    note = f", {silenced} silenced" if silenced else ""
    return Outcome(f"{files}: {len(view.settings)} settings{note}", findings)


CHECKS = [
    DoctorCheck(
        "environment",
        "Env files use service names and container ports",
        check_environment,
        needs=("compose-file",),
    ),
]
