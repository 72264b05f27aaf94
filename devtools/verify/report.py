"""Verify's output through the report pipeline: a summary and tables for people before the
findings, its diffstat in the JSON, a summary notice among GitHub's annotations."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

from devtools.findings import Finding, Severity
from devtools.report import report as pipeline
from devtools.report.render import github_annotation
from devtools.report.render import render as render_report
from devtools.verify.model import DiffEntry, Report

if TYPE_CHECKING:
    from rich.text import Text

SHOWN_FILES = {"hand-written": 15, "generated": 8}


def _bucket(entries: Sequence[DiffEntry], *, generated: bool) -> dict[str, Any]:
    files = []
    for entry in entries:
        row: dict[str, Any] = {
            "path": entry.change.path,
            "insertions": entry.change.insertions,
            "deletions": entry.change.deletions,
        }
        if generated:
            row["reason"] = entry.verdict.reason
        files.append(row)
    return {
        "insertions": sum(e.change.insertions for e in entries),
        "deletions": sum(e.change.deletions for e in entries),
        "files": files,
    }


def diffstat(report: Report) -> dict[str, dict[str, Any]]:
    hand = [e for e in report.diff if not e.verdict.generated]
    made = [e for e in report.diff if e.verdict.generated]
    return {
        "handwritten": _bucket(hand, generated=False),
        "generated": _bucket(made, generated=True),
    }


def to_report(report: Report) -> pipeline.Report:
    clean = (
        "the work is on the remote branch and real"
        if report.deliverables
        else "the work is on the remote branch"
    )
    return pipeline.Report(
        "verify",
        report.findings,
        data={"remote": report.remote, "branch": report.branch, "diffstat": diffstat(report)},
        title=f"verify {report.remote}/{report.branch}",
        clean_message=clean,
    )


def _files(count: int) -> str:
    return f"{count:,} file{'' if count == 1 else 's'}"


def _summary(report: Report) -> str:
    stat = diffstat(report)
    hand, made = stat["handwritten"], stat["generated"]
    return (
        f"hand-written +{hand['insertions']:,} -{hand['deletions']:,} in "
        f"{_files(len(hand['files']))}; generated +{made['insertions']:,} "
        f"-{made['deletions']:,} in {_files(len(made['files']))}"
    )


def render(report: Report, fmt: str, stream: IO[str] | None = None) -> int:
    out = stream or sys.stdout
    doc = to_report(report)
    if fmt == "text":
        _print_text(report, out)
    code = render_report(doc, fmt, out)
    if fmt == "github" and report.diff:
        # a notice titled like the table, escaped as GitHub needs (branch names may hold ",")
        summary = Finding(doc.title, Severity.INFO, _summary(report))
        out.write(github_annotation(summary) + "\n")
    return code


def _reasons(entries: Sequence[DiffEntry]) -> Text:
    """Why the files of a folded row count as generated: each reason with its file count."""
    from rich.text import Text

    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry.verdict.reason] = counts.get(entry.verdict.reason, 0) + 1
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    return Text("; ".join(f"{reason} ({n:,})" for reason, n in ranked), style="dim")


def _print_text(report: Report, out: IO[str]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=out, highlight=False, soft_wrap=False)
    where = f"{report.remote}/{report.branch}"
    if report.tip:
        where += f" at {report.tip[:10]}"
    line = Text(f"{where}", style="bold")
    if report.base and report.base_tip:
        line.append(f"  vs {report.remote}/{report.base} at {report.base_tip[:10]}")
    if report.tip is None and report.mode != "pre-push":
        # Not on the server: how fresh this clone's refs are says nothing about it.
        state = f"not on {report.remote}, checked with the server"
        how = ", ".join(filter(None, [report.branch_source, state]))
    else:
        how = ", ".join(filter(None, [report.branch_source, report.mode]))
    line.append(f"  ({how})", style="dim")
    console.print(line)
    for note in report.notes:
        console.print(Text(note, style="dim"))
    if report.tip and not report.deliverables and report.branch != report.base:
        console.print(
            Text(
                "no deliverables declared for this branch ([tool.omc-dev.verify]): checked "
                "where the work is, that the branch has some, and the code it added for stubs",
                style="dim",
            )
        )
    if not report.diff:
        return
    table = Table(title=f"{report.base}...{report.branch}", title_justify="left")
    table.add_column("file", overflow="fold")
    table.add_column("kind")
    table.add_column("+", justify="right", style="green")
    table.add_column("-", justify="right", style="red")
    for kind, generated in (("hand-written", False), ("generated", True)):
        entries = sorted(
            (e for e in report.diff if e.verdict.generated is generated),
            key=lambda e: -(e.change.insertions + e.change.deletions),
        )
        limit = SHOWN_FILES[kind]
        for entry in entries[:limit]:
            table.add_row(
                entry.change.path,
                f"generated: {entry.verdict.reason}" if generated else kind,
                f"{entry.change.insertions:,}",
                f"{entry.change.deletions:,}",
            )
        if len(entries) > limit:
            rest = entries[limit:]
            table.add_row(
                Text(f"... {len(rest):,} more {kind} files", style="dim"),
                _reasons(rest) if generated else "",
                f"{sum(e.change.insertions for e in rest):,}",
                f"{sum(e.change.deletions for e in rest):,}",
            )
    console.print(table)
    console.print(_summary(report))
