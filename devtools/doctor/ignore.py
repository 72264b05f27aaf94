"""Silencing doctor findings the way linters do.

On the line a finding points at (in `.env`, an env file or a compose file), or alone on the line
just above it:

    FRONTEND_HOST=http://localhost:5173  # omc-dev: ignore[env-host-loopback]
    # omc-dev: ignore                      (every rule, on the next line)

and for the whole project, per rule or per rule and variable:

    [tool.omc-dev.doctor]
    ignore = ["env-host-loopback:FRONTEND_HOST", "env-host-not-a-service"]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from devtools.config import ProjectConfig
from devtools.errors import UnusableInput
from devtools.findings import Finding

_COMMENT = re.compile(r"#\s*omc-dev:\s*ignore\b(?:\[(?P<rules>[^\]]*)\])?", re.IGNORECASE)
_ENTRY = re.compile(r"^(?P<rule>[a-z0-9][a-z0-9-]*)(?::(?P<variable>[A-Za-z_][A-Za-z0-9_.-]*))?$")
ALL = "*"


def comment_rules(text: str) -> frozenset[str] | None:
    """The rules a line's `# omc-dev: ignore[...]` names (`*` for all), or None without one."""
    match = _COMMENT.search(text)
    if match is None:
        return None
    listed = match.group("rules")
    if listed is None or not listed.strip():
        return frozenset({ALL})
    return frozenset(r.strip() for r in listed.split(",") if r.strip())


@dataclass
class Ignores:
    rules: frozenset[str] = frozenset()  # silenced everywhere
    variables: frozenset[tuple[str, str]] = frozenset()  # (rule, VARIABLE)
    _lines: dict[Path, list[str]] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: ProjectConfig) -> Ignores:
        entries = config.section("doctor").get("ignore", [])
        where = f"{config.pyproject}: [tool.omc-dev.doctor] ignore"
        if not isinstance(entries, list):
            raise UnusableInput(
                f'{where} must be a list such as ["env-host-loopback:FRONTEND_HOST"]'
            )
        rules: set[str] = set()
        variables: set[tuple[str, str]] = set()
        for entry in entries:
            match = _ENTRY.match(entry) if isinstance(entry, str) else None
            if match is None:
                raise UnusableInput(
                    f'{where}: {entry!r} is not "rule-id" or "rule-id:VARIABLE" '
                    '(e.g. "env-host-loopback:FRONTEND_HOST")'
                )
            if match.group("variable"):
                variables.add((match.group("rule"), match.group("variable")))
            else:
                rules.add(match.group("rule"))
        return cls(frozenset(rules), frozenset(variables))

    def silences(self, finding: Finding, root: Path, variable: str | None = None) -> bool:
        if finding.id in self.rules:
            return True
        if variable is not None and (finding.id, variable) in self.variables:
            return True
        return self._commented(finding, root)

    def _commented(self, finding: Finding, root: Path) -> bool:
        if not finding.path or not finding.line:
            return False
        lines = self._read(root / finding.path)
        index = finding.line - 1
        if not 0 <= index < len(lines):
            return False
        candidates = [lines[index]]
        if index > 0 and lines[index - 1].lstrip().startswith("#"):
            candidates.append(lines[index - 1])
        for text in candidates:
            rules = comment_rules(text)
            if rules is not None and (ALL in rules or finding.id in rules):
                return True
        return False

    def _read(self, path: Path) -> list[str]:
        if path not in self._lines:
            try:
                self._lines[path] = path.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError):
                self._lines[path] = []
        return self._lines[path]
