"""`omc-dev doctor`: parse, run the checks, render."""

from __future__ import annotations

import json
import sys

import click

from devtools import config as config_mod
from devtools.doctor.model import CheckResult, DoctorContext, run_checks
from devtools.doctor.registry import all_checks
from devtools.findings import exit_code_for
from devtools.options import format_option
from devtools.render import render_findings
from devtools.tracks.identity import resolve_track


@click.command()
@click.option("--track", help="Track to check (default: OMC_TRACK, else the branch).")
@format_option("text", "json", "github")
def doctor(track: str | None, fmt: str) -> int:
    """Check the engine, Compose and the stack's files; say what to fix.

    Every check is listed as passed, warned, failed or skipped (with the check it needs).
    Exit 0 when nothing is wrong, 1 when a check found an error.
    """
    cfg = config_mod.load()
    ctx = DoctorContext(config=cfg, track=resolve_track(cfg, track))
    results = run_checks(all_checks(), ctx)
    findings = [f for r in results for f in r.findings]
    if fmt == "json":
        payload = {
            "ok": exit_code_for(findings) == 0,
            "checks": [
                {"id": r.id, "title": r.title, "status": r.status, "detail": r.detail}
                for r in results
            ],
            "findings": [f.to_dict("check") for f in findings],
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return exit_code_for(findings)
    if fmt == "text":
        _print_checks(results)
        if not findings:
            return 0
    return render_findings(findings, fmt, title="doctor", id_key="check")


def _print_checks(results: list[CheckResult]) -> None:
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False)
    marks = {
        "pass": ("✓", "green"),
        "warn": ("!", "yellow"),
        "fail": ("✗", "bold red"),
        "skip": ("-", "dim"),
    }
    for r in results:
        mark, style = marks[r.status]
        line = Text(f"{mark} ", style=style).append(f"{r.title}: ").append(r.detail, style="dim")
        console.print(line)
