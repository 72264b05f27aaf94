"""Who "the developer" is: the invoking user, or the user behind sudo.

One definition for everything that gives files to the developer (`run --user host`, `chown`,
`clean`, `run --fix-ownership`), so a file one of them creates is "mine" to the others.
Kept to `os` and `pwd`: `run`'s fast path imports it.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping


def _primary_gid(uid: int) -> int:
    try:
        return pwd.getpwuid(uid).pw_gid
    except KeyError:
        return uid


def developer_ids(environ: Mapping[str, str] | None = None) -> tuple[int, int]:
    """(uid, gid): `SUDO_UID`/`SUDO_GID` when root runs us under sudo, else our real ids.

    Without `SUDO_GID`, the sudo user's primary group.
    """
    env = os.environ if environ is None else environ
    if os.geteuid() == 0 and env.get("SUDO_UID", "").isdigit():
        uid = int(env["SUDO_UID"])
        gid_raw = env.get("SUDO_GID", "")
        return uid, int(gid_raw) if gid_raw.isdigit() else _primary_gid(uid)
    return os.getuid(), os.getgid()
