"""What the GitHub Action (action.yml) runs around the command: fork detection and the report.

`python -m devtools.ci_action fork`: for a pull request from a fork, prints the fork's
`full_name`, clone URL and head branch (tab-separated); nothing otherwise.

`python -m devtools.ci_action report COMMAND JSON STDERR EXIT FORMAT`: the command ran with
`--format json` into JSON (its stderr in STDERR, its exit code EXIT). Prints the findings in
FORMAT (github annotations, text or json), writes the step outputs (`ok`, `exit-code`,
`findings`, `errors`, `warnings`) to GITHUB_OUTPUT and a markdown job summary to
GITHUB_STEP_SUMMARY, and exits with the command's code.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from devtools.findings import Finding, Severity
from devtools.render import render_findings


def fork_pull_request(event_name: str, event_path: str) -> tuple[str, str, str] | None:
    """(full_name, clone_url, head branch) of a pull request's fork; None for anything else."""
    if event_name not in {"pull_request", "pull_request_target"} or not event_path:
        return None
    try:
        event = json.loads(Path(event_path).read_text(encoding="utf-8"))
        head = event["pull_request"]["head"]
        base = event["pull_request"]["base"]
        head_repo, base_repo = head["repo"], base["repo"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not head_repo or head_repo.get("full_name") == base_repo.get("full_name"):
        return None
    return str(head_repo["full_name"]), str(head_repo["clone_url"]), str(head["ref"])


def read_findings(payload: dict[str, Any]) -> list[Finding]:
    findings = []
    for item in payload.get("findings", []):
        findings.append(
            Finding(
                id=str(item.get("id", "")),  # every command's JSON names a finding by "id"
                severity=Severity(item.get("severity", "error")),
                message=str(item.get("message", "")),
                path=item.get("path"),
                line=item.get("line"),
                fix=item.get("fix"),
            )
        )
    return findings


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def summary_markdown(command: str, code: int, findings: Sequence[Finding], stderr: str) -> str:
    errors = sum(f.severity is Severity.ERROR for f in findings)
    warnings = sum(f.severity is Severity.WARNING for f in findings)
    if code == 0:
        head = f"### omc-dev {command}: passed"
    elif code == 1:
        head = f"### omc-dev {command}: failed"
    else:
        head = f"### omc-dev {command}: could not run (exit {code})"
    lines = [head, "", f"{errors} error(s), {warnings} warning(s)", ""]
    if code not in (0, 1) and stderr.strip():
        lines += ["```", stderr.strip(), "```", ""]
    if findings:
        lines += ["| severity | id | where | message |", "| --- | --- | --- | --- |"]
        for f in findings:
            where = f"{f.path}:{f.line}" if f.path and f.line else (f.path or "")
            message = f.message + (f" Fix: {f.fix}" if f.fix else "")
            lines.append(f"| {f.severity.value} | `{f.id}` | {_cell(where)} | {_cell(message)} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def _append(env_name: str, text: str) -> None:
    target = os.environ.get(env_name)
    if target:
        with Path(target).open("a", encoding="utf-8") as out:
            out.write(text)


def report(command: str, json_path: str, stderr_path: str, code: int, fmt: str) -> int:
    stderr = Path(stderr_path).read_text(encoding="utf-8", errors="replace")
    sys.stderr.write(stderr)
    raw = Path(json_path).read_text(encoding="utf-8", errors="replace")
    try:
        payload = json.loads(raw) if raw.strip() else {}
    except ValueError:
        payload = {}
    findings = read_findings(payload) if isinstance(payload, dict) else []
    if fmt == "json":
        sys.stdout.write(raw)
    elif findings or code in (0, 1):
        render_findings(findings, fmt, title=f"omc-dev {command}")
    if code not in (0, 1) and fmt == "github":
        line = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit {code}"
        sys.stdout.write(f"::error title=omc-dev {command}::{line}\n")
    errors = sum(f.severity is Severity.ERROR for f in findings)
    warnings = sum(f.severity is Severity.WARNING for f in findings)
    _append(
        "GITHUB_OUTPUT",
        f"ok={'true' if code == 0 else 'false'}\nexit-code={code}\nskipped=false\n"
        f"findings={len(findings)}\nerrors={errors}\nwarnings={warnings}\n",
    )
    _append("GITHUB_STEP_SUMMARY", summary_markdown(command, code, findings, stderr))
    return code


def skip(command: str, reason: str) -> int:
    sys.stdout.write(f"::notice title=omc-dev {command} skipped::{reason}\n")
    _append(
        "GITHUB_OUTPUT",
        "ok=true\nexit-code=0\nskipped=true\nfindings=0\nerrors=0\nwarnings=0\n",
    )
    _append("GITHUB_STEP_SUMMARY", f"### omc-dev {command}: skipped\n\n{reason}\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["fork"]:
        found = fork_pull_request(
            os.environ.get("GITHUB_EVENT_NAME", ""), os.environ.get("GITHUB_EVENT_PATH", "")
        )
        if found:
            sys.stdout.write("\t".join(found) + "\n")
        return 0
    if args[:1] == ["report"] and len(args) == 6:
        return report(args[1], args[2], args[3], int(args[4]), args[5])
    if args[:1] == ["skip"] and len(args) == 3:
        return skip(args[1], args[2])
    sys.stderr.write("usage: python -m devtools.ci_action fork | report ... | skip ...\n")
    return 2


if __name__ == "__main__":
    sys.exit(main())
