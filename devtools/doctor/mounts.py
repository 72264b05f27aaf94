"""The missing-mount check: a source folder left out while its siblings are bind-mounted.

A service that bind-mounts `kernel/` and `tests/` but not `scripts/` runs stale or missing
scripts, and people fall back to `docker cp`. For each service with a build context, every
folder that sits beside a bind-mounted folder (under the context) and is covered by no mount is
reported with the exact volume line to add. Hidden folders, build artifacts, git-ignored folders
and those listed in `mount-ignore` under [tool.omc-dev.doctor] are not source folders.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from devtools.compose.model import ComposeProject, Mount, Service
from devtools.doctor.model import DoctorCheck, DoctorContext, Outcome
from devtools.errors import UnusableInput, UserError
from devtools.findings import Finding, Severity
from devtools.git.runner import Git

ARTIFACTS = (
    "__pycache__",
    "node_modules",
    "build",
    "dist",
    "htmlcov",
    "venv",
    "env",
    "*.egg-info",
)


@dataclass(frozen=True)
class MissingMount:
    service: str
    folder: Path  # the host folder left out
    siblings: tuple[Path, ...]  # mounted folders beside it
    volume_line: str  # "./scripts:/app/scripts"


def _covers(source: Path, folder: Path) -> bool:
    """Does mounting `source` make `folder` (or part of it) visible in the container?"""
    return source == folder or source in folder.parents or folder in source.parents


def missing_mounts(
    service: Service,
    compose_dir: Path,
    *,
    ignored: Callable[[Sequence[Path]], set[Path]] = lambda paths: set(),
    ignore_globs: Sequence[str] = (),
) -> list[MissingMount]:
    """Folders beside a bind-mounted folder, under the build context, that no mount covers."""
    context = service.build_context
    if context is None:
        return []
    binds = [m for m in service.bind_mounts if m.source]
    sources = [Path(str(m.source)) for m in binds]
    if any(s == context or s in context.parents for s in sources):
        return []  # the whole context is mounted
    folder_mounts = [
        (Path(str(m.source)), m) for m in binds if context in Path(str(m.source)).parents
    ]
    folder_mounts = [(s, m) for s, m in folder_mounts if s.is_dir()]
    by_parent: dict[Path, list[tuple[Path, Mount]]] = {}
    for source, mount in folder_mounts:
        by_parent.setdefault(source.parent, []).append((source, mount))

    found = []
    for parent, siblings in sorted(by_parent.items()):
        candidates = [
            child
            for child in sorted(parent.iterdir())
            if child.is_dir()
            and not child.is_symlink()
            and not child.name.startswith(".")
            and not any(fnmatch.fnmatch(child.name, g) for g in ARTIFACTS)
            and not any(
                fnmatch.fnmatch(child.relative_to(context).as_posix(), g) for g in ignore_globs
            )
            and not any(_covers(s, child) for s in sources)
        ]
        skipped = ignored(candidates) if candidates else set()
        for child in candidates:
            if child in skipped:
                continue
            found.append(
                MissingMount(
                    service.name,
                    child,
                    tuple(s for s, _ in siblings),
                    _volume_line(child, siblings, compose_dir),
                )
            )
    return found


def _volume_line(folder: Path, siblings: Sequence[tuple[Path, Mount]], compose_dir: Path) -> str:
    """The short-syntax volume entry that mounts `folder` the way its siblings are mounted."""
    parents = Counter(posixpath.dirname(m.target.rstrip("/")) for _, m in siblings)
    target = posixpath.join(parents.most_common(1)[0][0], folder.name)
    try:
        source = "./" + folder.relative_to(compose_dir).as_posix()
    except ValueError:
        source = str(folder)
    read_only = all(m.read_only for _, m in siblings)
    return f"{source}:{target}{':ro' if read_only else ''}"


def git_ignored(root: Path) -> Callable[[Sequence[Path]], set[Path]]:
    """Which of some paths git ignores (none when `root` is not in a git work tree)."""

    def ignored(paths: Sequence[Path]) -> set[Path]:
        request = "\0".join(str(p) for p in paths).encode("utf-8", "surrogateescape")
        try:
            proc = Git(root).run(
                "check-ignore", "-z", "--stdin", input=request, timeout=30, check=False
            )
        except UserError:  # no git, no folder, or a timeout: nothing is known to be ignored
            return set()
        if proc.returncode != 0:
            return set()
        return {Path(os.fsdecode(p)) for p in proc.stdout.split(b"\0") if p}

    return ignored


def volumes_line(compose_file: Path, service: str) -> int | None:
    """The line of `volumes:` in the service's block (else the service's own line), 1-based."""
    try:
        lines = compose_file.read_text(errors="replace").splitlines()
    except OSError:
        return None
    header = re.compile(rf"^(\s+){re.escape(service)}:\s*(#.*)?$")
    for number, line in enumerate(lines, 1):
        match = header.match(line)
        if not match:
            continue
        indent = len(match.group(1))
        for offset, inner in enumerate(lines[number:], number + 1):
            stripped = inner.strip()
            if (
                stripped
                and not stripped.startswith("#")
                and len(inner) - len(inner.lstrip()) <= indent
            ):
                break
            if stripped.startswith("volumes:"):
                return offset
        return number
    return None


def _ignore_globs(ctx: DoctorContext) -> list[str]:
    value = ctx.config.section("doctor").get("mount-ignore", [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UnusableInput(
            f"{ctx.config.pyproject}: mount-ignore in [tool.omc-dev.doctor] must be a list of folder globs"
        )
    return [v.strip("/") for v in value]


def findings_for(project: ComposeProject, gaps: Iterable[MissingMount]) -> list[Finding]:
    compose_file = project.files[0] if project.files else None
    out = []
    for gap in gaps:
        rel = os.path.relpath(gap.folder, project.working_dir)
        siblings = ", ".join(f"{os.path.relpath(s, project.working_dir)}/" for s in gap.siblings)
        out.append(
            Finding(
                "mount-missing",
                Severity.WARNING,
                f"service {gap.service}: {rel}/ is not bind-mounted while {siblings} are: "
                "edits there do not reach the container",
                path=str(compose_file) if compose_file else None,
                line=volumes_line(compose_file, gap.service) if compose_file else None,
                fix=f"add `- {gap.volume_line}` to services.{gap.service}.volumes",
            )
        )
    return out


def check_mounts(ctx: DoctorContext) -> Outcome:
    project = ctx.project
    services = project.buildable
    if not services:
        return Outcome("no service has a build context")
    globs = _ignore_globs(ctx)
    gaps = [
        gap
        for service in services
        for gap in missing_mounts(
            service,
            project.working_dir,
            ignored=git_ignored(service.build_context or project.working_dir),
            ignore_globs=globs,
        )
    ]
    names = ", ".join(s.name for s in services)
    if not gaps:
        return Outcome(f"source folders mounted consistently ({names})")
    return Outcome(f"{len(gaps)} folder(s) not mounted ({names})", findings_for(project, gaps))


CHECKS = [
    DoctorCheck("mounts", "Source folders bind-mounted", check_mounts, needs=("compose-file",)),
]
