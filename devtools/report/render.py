"""One renderer for every report: rich text for people, one line per finding for logs and hooks,
JSON for tools (schema.json), GitHub annotations for CI. It returns the exit code."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import IO, Any, Literal

from devtools.report import verbosity
from devtools.report.findings import Finding, Severity
from devtools.report.report import Report

OutputFormat = Literal["text", "concise", "json", "github"]
# The vocabulary of every command that reports findings.
FORMATS: tuple[OutputFormat, ...] = ("text", "concise", "json", "github")
# Commands that print data rather than findings (ports, audit): a table for people.
DATA_FORMATS = ("table", "json")


def render(report: Report, fmt: str, stream: IO[str] | None = None) -> int:
    """Print `report` in `fmt` and return the exit code (1 if any error, else 0).

    Absolute paths under the repository are shown relative to its root, in every format."""
    out = stream or sys.stdout
    findings = relative_findings(report.findings)
    if findings is not report.findings:
        report = replace(report, findings=findings)
    if fmt == "json":
        out.write(dumps(report.to_json()) + "\n")
    elif fmt == "github":
        for finding in findings:
            out.write(github_annotation(finding) + "\n")
    elif fmt == "concise":
        with_fix = verbosity.verbose()
        for finding in findings:
            fix = f" (fix: {_one_line(finding.fix)})" if with_fix and finding.fix else ""
            out.write(concise_line(finding) + fix + "\n")
    else:
        _render_text(report, stream=out)
    return report.exit_code


def concise_line(finding: Finding) -> str:
    """`path:line: id message`, as compilers print: editors and log scanners jump to it."""
    where = ""
    if finding.path:
        where = f"{finding.path}:{finding.line}: " if finding.line else f"{finding.path}: "
    return f"{where}{finding.id} {_one_line(finding.message)}"


def _one_line(text: str) -> str:
    return " ".join(text.split())  # one line, whatever the text holds


def dumps(doc: Any, indent: int = 0) -> str:
    """Indented JSON, with a list of flat objects one object per line: readable, and fast for
    thousands of files (the C encoder only runs without `indent`)."""
    pad, inner = " " * indent, " " * (indent + 2)
    if isinstance(doc, dict) and doc:
        items = [f"{inner}{json.dumps(str(k))}: {dumps(v, indent + 2)}" for k, v in doc.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(doc, list) and doc:
        if all(isinstance(v, dict) and not _nested(v) for v in doc):
            return "[\n" + ",\n".join(inner + json.dumps(v) for v in doc) + f"\n{pad}]"
        return "[\n" + ",\n".join(inner + dumps(v, indent + 2) for v in doc) + f"\n{pad}]"
    return json.dumps(doc)


def _nested(value: dict[str, Any]) -> bool:
    return any(isinstance(v, dict | list) for v in value.values())


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotation(finding: Finding) -> str:
    """A GitHub Actions workflow command; notices for info, so CI logs stay quiet."""
    level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    props = []
    if finding.path:
        props.append(f"file={_escape_property(finding.path)}")
        if finding.line:
            props.append(f"line={finding.line}")
    props.append(f"title={_escape_property(finding.id)}")
    message = finding.message + (f" Fix: {finding.fix}" if finding.fix else "")
    return f"::{level[finding.severity]} {','.join(props)}::{_escape_data(message)}"


def relative_findings(findings: Sequence[Finding], root: Path | None = None) -> Sequence[Finding]:
    """Each finding with an absolute path inside the repository made relative to its root."""
    if not any(f.path and Path(f.path).is_absolute() for f in findings):
        return findings
    from devtools.config import repository_root

    top = root or repository_root()
    out = []
    for finding in findings:
        path = Path(finding.path) if finding.path else None
        if path is not None and path.is_absolute() and path.is_relative_to(top):
            out.append(replace(finding, path=path.relative_to(top).as_posix()))
        else:
            out.append(finding)
    return out


_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def _render_text(report: Report, *, stream: IO[str]) -> None:
    findings = report.findings
    title = report.title or report.command
    if not findings and (report.clean_message is None or verbosity.quiet()):
        return
    try:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text
    except ModuleNotFoundError:  # the light install (hooks, migrations lint) has no rich
        _render_plain(report, stream=stream)
        return

    console = Console(file=stream, highlight=False, soft_wrap=False)
    if not findings:
        console.print(f"[green]✓[/green] {title}: {report.clean_message}")
        return
    table = Table(title=title, title_justify="left", show_lines=False, expand=False)
    table.add_column("severity", no_wrap=True)
    table.add_column("id", no_wrap=True)
    table.add_column("where", overflow="fold")
    table.add_column("message", overflow="fold")
    for f in findings:
        where = f.path or ""
        if f.path and f.line:
            where += f":{f.line}"
        # Text, not markup: messages quote user content such as "[tool.omc-dev]".
        message = Text(f.message)
        if f.fix:
            message.append("\nfix: ", style="dim").append(f.fix)
        table.add_row(Text(f.severity.value, style=_STYLE[f.severity]), f.id, where, message)
    console.print(table)
    if verbosity.quiet():
        return
    counts = report.summary()
    console.print(f"{counts['errors']} error(s), {counts['warnings']} warning(s)")


def _render_plain(report: Report, *, stream: IO[str]) -> None:
    """Text without rich: the concise lines, with each fix, then the counts."""
    if not report.findings:
        if not verbosity.quiet():
            stream.write(f"{report.title or report.command}: {report.clean_message}\n")
        return
    for finding in report.findings:
        fix = f" (fix: {finding.fix})" if finding.fix else ""
        stream.write(f"{concise_line(finding)}{fix}\n")
    if verbosity.quiet():
        return
    counts = report.summary()
    stream.write(f"{counts['errors']} error(s), {counts['warnings']} warning(s)\n")
