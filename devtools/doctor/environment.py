"""Environment checks: `.env`, `.env.example` and `env_file` against the compose project."""

from __future__ import annotations

from devtools.doctor.model import DoctorCheck, DoctorContext, Outcome
from devtools.errors import UserError
from devtools.findings import Finding, Severity


def check_environment(ctx: DoctorContext) -> Outcome:
    from devtools.envfiles.load import load_view
    from devtools.envfiles.rules import check

    try:
        view = load_view(ctx.config, ctx.target, ctx.project)
    except UserError as exc:
        # A compose file compose accepts but we cannot read, or a damaged port registry.
        return Outcome("not checked", [Finding("env-check-failed", Severity.ERROR, str(exc))])
    findings = check(view)
    files = ", ".join(view.relative(f.path) for f in view.files) or "no env files"
    return Outcome(f"{files}: {len(view.settings)} settings", findings)


CHECKS = [
    DoctorCheck(
        "environment",
        "Env files use service names and container ports",
        check_environment,
        needs=("compose-file",),
    ),
]
