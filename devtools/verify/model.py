"""Verify's data model: what was asked, what was verified, what was found."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from devtools.findings import Finding, has_errors
from devtools.git.history import FileChange
from devtools.report.checks import CheckResult
from devtools.verify.generated import Verdict
from devtools.verify.spec import Spec

# The check ids, exactly as users filter on them.
UNPUSHED = "unpushed-commits"
BRANCH_MISSING = "branch-missing"
BRANCH_DRIFT = "branch-drift"
MISSING_PATH = "missing-path"
MISSING_SYMBOL = "missing-symbol"
STUB = "stub"
GENERATED_ONLY = "generated-only"
EMPTY_BRANCH = "empty-branch"
# Warnings about how far the answer can be trusted.
SHALLOW = "shallow-clone"
STALE = "stale-remote-ref"


@dataclass(frozen=True)
class Request:
    start: Path
    spec: Spec
    remote: str | None = None
    branch: str | None = None
    base: str | None = None
    fetch: bool = True
    pre_push: bool = False
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


LocalKind = Literal["branch", "detached", "push", "none"]


@dataclass(frozen=True)
class Target:
    """The branch to verify and where the local work for it lives."""

    remote: str
    branch: str
    branch_source: str  # "--branch", "GITHUB_HEAD_REF", ..., "current branch", "pre-push"
    local_kind: LocalKind
    local_tip: str | None  # the local commit that should be on the remote branch

    @property
    def label(self) -> str:
        return f"{self.remote}/{self.branch}"


@dataclass(frozen=True)
class DiffEntry:
    change: FileChange
    verdict: Verdict


@dataclass
class Report:
    remote: str
    branch: str
    branch_source: str = ""  # where the branch name came from
    findings: list[Finding] = field(default_factory=list)
    diff: list[DiffEntry] = field(default_factory=list)
    tip: str | None = None  # the commit whose content was verified
    base: str | None = None  # the base branch's name
    base_tip: str | None = None
    mode: str = ""  # how the remote was read: fetched, refs match origin, --no-fetch, pre-push
    deliverables: list[str] = field(default_factory=list)  # the ones checked on this branch
    notes: list[str] = field(default_factory=list)  # for people: what else is worth knowing
    checks: list[CheckResult] = field(default_factory=list)  # what was (and was not) checked
    git_processes: int = 0

    @property
    def ok(self) -> bool:
        return not has_errors(self.findings)
