"""`omc-dev run`'s fast path stays lean: what it imports is what it costs on every call."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.fixtures.cli import REPO_ROOT

# Each of these costs milliseconds per `omc-dev run`; the full path may use them, the fast one not.
HEAVY = (
    "click",
    "pathlib",
    "dataclasses",
    "tomllib",
    "typing",
    "threading",
    "docker",
    "rich",
    "urllib.request",
    "devtools.config",
    "devtools.docker.compose",
    "devtools.compose.model",
    "devtools.cli",
)


def test_the_fast_path_imports_nothing_heavy() -> None:
    probe = (
        "import sys\n"
        "import devtools.entry, devtools.container.fast\n"
        f"print(__import__('json').dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-S", "-c", probe],  # -S: without site, which may import some itself
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(proc.stdout) == []
