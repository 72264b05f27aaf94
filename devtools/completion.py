"""Names the shell completes: services, tracks, git revisions and remotes.

A completion must never fail or hang the shell: each lookup returns what it could read, an empty
list otherwise, and git gets two seconds.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from devtools.errors import UserError

GIT_TIMEOUT = 2.0


def service_names() -> list[str]:
    """Services of the project's compose files (all profiles; read as YAML, no compose run)."""
    import yaml

    from devtools import config
    from devtools.docker.compose import compose_files

    try:
        files = compose_files(config.load())
    except UserError:
        return []
    names: list[str] = []
    for file in files:
        try:
            doc: Any = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        services = doc.get("services") if isinstance(doc, dict) else None
        if isinstance(services, dict):
            names += [str(name) for name in services]
    return names


def track_names() -> list[str]:
    """Tracks the port registry knows (any repository's: names are what is typed)."""
    from devtools.tracks import registry

    try:
        return [entry.track for entry in registry.snapshot().entries.values()]
    except (UserError, OSError):
        return []


def _git_lines(*args: str) -> list[str]:
    try:
        proc = subprocess.run(
            ["git", *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"},
            cwd=Path.cwd(),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    return proc.stdout.split() if proc.returncode == 0 else []


def branch_names() -> list[str]:
    return _git_lines("for-each-ref", "--format=%(refname:short)", "refs/heads")


def revision_names() -> list[str]:
    """Local and remote-tracking branches and tags (`origin/HEAD` left out)."""
    names = []
    for ref in _git_lines(
        "for-each-ref", "--format=%(refname)", "refs/heads", "refs/remotes", "refs/tags"
    ):
        kind, _, name = ref.removeprefix("refs/").partition("/")
        if kind in {"heads", "tags"} or (kind == "remotes" and not name.endswith("/HEAD")):
            names.append(name)
    return names


def remote_names() -> list[str]:
    return _git_lines("remote")
