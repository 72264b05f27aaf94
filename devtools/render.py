"""The renderer lives in devtools.report.render; this keeps the older entry point for commands
written against it (branches in flight). New code builds a `Report` and calls `render`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import IO, Any

from devtools.report.findings import Finding
from devtools.report.render import FORMATS, github_annotation, relative_findings, render
from devtools.report.report import Report

__all__ = ["FORMATS", "github_annotation", "relative_findings", "render", "render_findings"]


def render_findings(
    findings: Sequence[Finding],
    fmt: str,
    *,
    title: str,
    extra: Mapping[str, Any] | None = None,
    clean_message: str = "no problems found",
    stream: IO[str] | None = None,
) -> int:
    """`render(Report(title, findings, extra), fmt)`: the id key is `id` in every format."""
    report = Report(title, findings, data=dict(extra or {}), clean_message=clean_message)
    return render(report, fmt, stream)
