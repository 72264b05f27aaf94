"""One renderer for findings: rich text for people, JSON for tools, GitHub annotations for CI."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from typing import IO, Any, Literal

from devtools.findings import Finding, Severity, exit_code_for

OutputFormat = Literal["text", "json", "github"]
FORMATS: tuple[OutputFormat, ...] = ("text", "json", "github")


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


def render_findings(
    findings: Sequence[Finding],
    fmt: str,
    *,
    title: str,
    id_key: str = "id",
    extra: Mapping[str, Any] | None = None,
    clean_message: str = "no problems found",
    stream: IO[str] | None = None,
) -> int:
    """Print findings in `fmt` and return the exit code (1 if any error, else 0)."""
    out = stream or sys.stdout
    if fmt == "json":
        payload: dict[str, Any] = dict(extra or {})
        payload["findings"] = [f.to_dict(id_key) for f in findings]
        out.write(json.dumps(payload, indent=2, sort_keys=False) + "\n")
    elif fmt == "github":
        for finding in findings:
            out.write(github_annotation(finding) + "\n")
    else:
        _render_text(findings, title=title, clean_message=clean_message, stream=out)
    return exit_code_for(findings)


_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def _render_text(
    findings: Sequence[Finding], *, title: str, clean_message: str, stream: IO[str]
) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text
    except ModuleNotFoundError:  # the core install (hooks, migrations lint) has no rich
        _render_plain(findings, title=title, clean_message=clean_message, stream=stream)
        return

    console = Console(file=stream, highlight=False, soft_wrap=False)
    if not findings:
        console.print(f"[green]✓[/green] {title}: {clean_message}")
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
    errors = sum(f.severity is Severity.ERROR for f in findings)
    warnings = sum(f.severity is Severity.WARNING for f in findings)
    console.print(f"{errors} error(s), {warnings} warning(s)")


def _render_plain(
    findings: Sequence[Finding], *, title: str, clean_message: str, stream: IO[str]
) -> None:
    """Text without rich: one `path:line: severity id message` line per finding."""
    if not findings:
        stream.write(f"{title}: {clean_message}\n")
        return
    for f in findings:
        where = f"{f.path}:{f.line}: " if f.path and f.line else (f"{f.path}: " if f.path else "")
        fix = f" (fix: {f.fix})" if f.fix else ""
        stream.write(f"{where}{f.severity.value} {f.id} {f.message}{fix}\n")
    errors = sum(f.severity is Severity.ERROR for f in findings)
    warnings = sum(f.severity is Severity.WARNING for f in findings)
    stream.write(f"{errors} error(s), {warnings} warning(s)\n")
