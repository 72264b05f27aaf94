"""Inside or outside: where `omc-dev run` runs a command, and how it gets there.

`reexec_if_host(service)` gives a Python script the same behaviour: started on the host, it runs
again inside the service's container (and this process exits with that run's exit code); started
inside, it returns and the script goes on.
"""

from __future__ import annotations

import sys


def reexec_if_host(service: str | None = None) -> None:
    """Re-launch the running script (`python3 SCRIPT ARGS...`) in SERVICE's container when on the host."""
    from devtools.container.detect import inside_container

    if inside_container():
        return
    from pathlib import Path

    from devtools.container.fast import fast_exec
    from devtools.container.request import RunRequest

    script = str(Path(sys.argv[0]).absolute())
    request = RunRequest(["python3", script, *sys.argv[1:]], service=service)
    code = fast_exec(request)
    if code is None:
        from devtools.cli import guarded
        from devtools.container.run import run_command

        code = guarded(lambda: run_command(request))
    raise SystemExit(code)
