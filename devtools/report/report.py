"""The one value every check command hands to the renderer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from devtools.report.findings import Finding, Severity, exit_code_for

# Bumped when a key is removed or changes meaning; adding keys keeps the version.
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Report:
    """What a command found. `data` holds the command's own results (heads, checks, diffstat),
    emitted at the top level of the JSON next to the common keys."""

    command: str  # "doctor", "verify", "migrations lint", ...
    findings: Sequence[Finding]
    data: Mapping[str, Any] = field(default_factory=dict)
    title: str = ""  # the text format's heading (default: the command)
    # The text format's line when nothing was found; None prints nothing (the command already
    # said what it checked).
    clean_message: str | None = "no problems found"

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def exit_code(self) -> int:
        return exit_code_for(self.findings)

    def summary(self) -> dict[str, int]:
        return {
            "errors": sum(f.severity is Severity.ERROR for f in self.findings),
            "warnings": sum(f.severity is Severity.WARNING for f in self.findings),
            "infos": sum(f.severity is Severity.INFO for f in self.findings),
        }

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "command": self.command,
            "ok": self.ok,
            "summary": self.summary(),
        }
        doc.update(self.data)
        doc["findings"] = [f.to_dict() for f in self.findings]
        return doc
