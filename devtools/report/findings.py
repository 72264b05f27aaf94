"""The one result type every check produces: doctor, env rules, migration lint and verify alike."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from devtools.report.exitcodes import EXIT_FINDINGS, EXIT_OK


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """One thing a check found. `id` is the stable rule/check id users filter and allow-list on."""

    id: str
    severity: Severity
    message: str
    path: str | None = None
    line: int | None = None
    fix: str | None = None

    def to_dict(self) -> dict[str, Any]:
        # One key for the id in every command's JSON (see schema.json).
        return {
            "id": self.id,
            "severity": self.severity.value,
            "path": self.path,
            "line": self.line,
            "message": self.message,
            "fix": self.fix,
        }


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)


def exit_code_for(findings: Iterable[Finding]) -> int:
    return EXIT_FINDINGS if has_errors(findings) else EXIT_OK
