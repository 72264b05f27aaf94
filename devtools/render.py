"""The renderer lives in devtools.report.render; kept here for existing imports."""

from devtools.report.render import (
    DATA_FORMATS,
    FORMATS,
    OutputFormat,
    concise_line,
    github_annotation,
    relative_findings,
    render,
)

__all__ = [
    "DATA_FORMATS",
    "FORMATS",
    "OutputFormat",
    "concise_line",
    "github_annotation",
    "relative_findings",
    "render",
]
