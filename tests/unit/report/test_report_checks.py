"""The one Check shape: ordered checks on a model, skipped when what they need did not pass."""

from __future__ import annotations

from devtools.report.checks import Check, Outcome, rule, run_checks
from devtools.report.findings import Finding, Severity


def test_a_check_runs_after_what_it_needs_and_is_skipped_when_that_failed() -> None:
    seen: list[str] = []

    def step(name: str, *found: Finding) -> Check[list[str]]:
        def run(model: list[str]) -> Outcome:
            model.append(name)
            return Outcome(f"{name} looked", found)

        return Check(name, name.title(), run)

    broken = Finding("engine-unreachable", Severity.ERROR, "no engine")
    slow = Finding("engine-slow", Severity.WARNING, "slow")
    checks = [
        step("engine", broken),
        Check("compose", "Compose", step("compose").run, needs=("engine",)),
        step("config", slow),
        Check("mounts", "Mounts", step("mounts").run, needs=("config",)),
    ]
    results = run_checks(checks, seen)
    assert [(r.id, r.status) for r in results] == [
        ("engine", "fail"),
        ("compose", "skip"),
        ("config", "warn"),
        ("mounts", "pass"),  # a warning is no reason to skip
    ]
    assert results[1].detail == "needs engine" and seen == ["engine", "config", "mounts"]


def test_silenced_findings_do_not_decide_the_status() -> None:
    loud = Finding("env-host-loopback", Severity.ERROR, "localhost")
    checks: list[Check[None]] = [rule("environment", "Env files", lambda model: [loud])]
    (kept,) = run_checks(checks, None)
    (silenced,) = run_checks(checks, None, keep=lambda f: f.id != "env-host-loopback")
    assert (kept.status, kept.findings) == ("fail", [loud])
    assert (silenced.status, silenced.findings, silenced.detail) == ("pass", [], "checked")
