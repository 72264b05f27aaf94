"""Are we inside a container already? Then `omc-dev run` runs the command directly.

The signals, checked in this order, and the first one present wins:
  1. the `container` environment variable (podman, systemd-nspawn, LXC set it);
  2. `/run/.containerenv` (podman);
  3. `/.dockerenv` (docker);
  4. `OMC_IN_CONTAINER=1`, the marker our compose.yaml sets on its services.
`OMC_IN_CONTAINER=0` is the one override: it says "this is the host" and wins over the file
checks, for VMs and CI runners whose root file system carries a stray `/.dockerenv`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

MARKER = "OMC_IN_CONTAINER"


def inside_container(
    environ: Mapping[str, str] | None = None,
    exists: Callable[[str], bool] = os.path.exists,
) -> str | None:
    """Why we are inside a container (the first signal found), or None on the host."""
    env = os.environ if environ is None else environ
    if env.get(MARKER) == "0":
        return None
    if env.get("container"):
        return f"container={env['container']}"
    for path in ("/run/.containerenv", "/.dockerenv"):
        if exists(path):
            return path
    if env.get(MARKER) == "1":
        return f"{MARKER}=1"
    return None
