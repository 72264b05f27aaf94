"""The findings type lives in devtools.report.findings; kept here so checks' imports stay short."""

from devtools.report.findings import Finding, Severity, exit_code_for, has_errors

__all__ = ["Finding", "Severity", "exit_code_for", "has_errors"]
