"""Verify's output: a summary and tables for people, JSON for tools, annotations for GitHub."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

from devtools.findings import Finding, Severity, exit_code_for
from devtools.render import github_annotation, render_findings
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


def to_json(report: Report) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "remote": report.remote,
        "branch": report.branch,
        "findings": [f.to_dict("check") for f in report.findings],
        "diffstat": diffstat(report),
    }


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


def dumps(doc: dict[str, Any]) -> str:
    """Indented JSON with one line per file: readable, and fast for thousands of files (the C
    encoder only runs without `indent`)."""
    rows = {kind: bucket.pop("files") for kind, bucket in doc["diffstat"].items()}
    for kind in rows:
        doc["diffstat"][kind]["files"] = f"@files:{kind}@"
    text = json.dumps(doc, indent=2)
    for kind, files in rows.items():
        body = ",\n".join("        " + json.dumps(row) for row in files)
        text = text.replace(json.dumps(f"@files:{kind}@"), f"[\n{body}\n      ]" if files else "[]")
    return text


def render(report: Report, fmt: str, stream: IO[str] | None = None) -> int:
    out = stream or sys.stdout
    title = f"verify {report.remote}/{report.branch}"
    if fmt == "json":
        out.write(dumps(to_json(report)) + "\n")
        return exit_code_for(report.findings)
    if fmt == "github":
        code = render_findings(report.findings, "github", title=title, id_key="check", stream=out)
        if report.diff:
            # a notice titled like the table, escaped as GitHub needs (branch names may hold ",")
            summary = Finding(title, Severity.INFO, _summary(report))
            out.write(github_annotation(summary) + "\n")
        return code
    _print_text(report, out)
    clean = (
        "the work is on the remote branch and real"
        if report.deliverables
        else "the work is on the remote branch"
    )
    return render_findings(
        report.findings, "text", title=title, id_key="check", clean_message=clean, stream=out
    )


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
