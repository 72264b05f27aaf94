"""The paper exchange has no network code path: a whole paper day with sockets forbidden.

The day runs in a fresh interpreter whose audit hook refuses every `socket.*` event (creating a
socket, resolving a name, connecting, binding) and records it, from before the kernel is imported
until the day is done. The control at the end shows the hook really does refuse sockets.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.fixtures.cli import REPO_ROOT, cli_env

PAPER_DAY = """
import json, socket, sys

attempts = []

def refuse_network(event, args):
    if event.startswith("socket."):
        attempts.append(event)
        raise PermissionError(f"network forbidden in a paper day: {event}")

sys.addaudithook(refuse_network)

from devtools.cli import main

url = sys.argv[1]
codes = [
    main(["kernel", "migrate", "--db", url]),
    main(["kernel", "run", "--db", url, "--seed", "11", "--duration", "24h"]),
    main(["kernel", "status", "--db", url, "--format", "json"]),
]
during = list(attempts)
try:
    socket.socket()
    control = "socket created"
except PermissionError:
    control = "refused"
print(json.dumps({"codes": codes, "attempts": during, "control": control}), file=sys.stderr)
"""


def test_a_whole_paper_day_attempts_no_connection(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kernel.db'}"
    env = cli_env()
    env.pop("OMC_DATABASE_URL", None)
    proc = subprocess.run(
        [sys.executable, "-c", PAPER_DAY, url],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    assert report == {"codes": [0, 0, 0], "attempts": [], "control": "refused"}, proc.stderr[-2000:]
    assert "ticks        1440 of 1440" in proc.stdout
