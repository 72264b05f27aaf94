"""`omc-dev doctor`: parse, run the checks, render."""

from __future__ import annotations

import click

from devtools import config as config_mod
from devtools.doctor.model import CheckResult, DoctorContext, run_checks
from devtools.doctor.registry import all_checks
from devtools.options import format_option
from devtools.report import verbosity
from devtools.report.render import FORMATS, render
from devtools.report.report import Report
from devtools.tracks.identity import resolve_track


@click.command()
@click.option("--track", help="Track to check (default: OMC_TRACK, else the branch).")
@format_option(*FORMATS)
def doctor(track: str | None, fmt: str) -> int:
    """Check the engine, Compose and the stack's files; say what to fix.

    Every check is listed as passed, warned, failed or skipped (with the check it needs).
    Exit 0 when nothing is wrong, 1 when a check found an error.
    """
    cfg = config_mod.load()
    ctx = DoctorContext(config=cfg, track=resolve_track(cfg, track))
    results = run_checks(all_checks(), ctx)
    checks = [
        {"id": r.id, "title": r.title, "status": r.status, "detail": r.detail} for r in results
    ]
    report = Report(
        "doctor",
        [f for r in results for f in r.findings],
        data={"checks": checks},
        clean_message=None,  # the list of checks already says all passed
    )
    if fmt == "text" and not verbosity.quiet():
        _print_checks(results)  # quiet: only the findings below
    return render(report, fmt)


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
