"""`omc-dev --help` imports nothing of git: neither GitPython nor `devtools.git`."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.fixtures.cli import REPO_ROOT


def test_help_imports_nothing_of_git() -> None:
    probe = (
        "import sys, contextlib, io, json\n"
        "from devtools.entry import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['--help'])\n"
        "print(json.dumps(sorted(m for m in sys.modules\n"
        "    if m.partition('.')[0] in ('git', 'gitdb') or m.startswith('devtools.git'))))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(proc.stdout) == []
