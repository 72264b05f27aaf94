"""Who "the developer" is: the invoking user, or the user behind sudo."""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass


@dataclass(frozen=True)
class Developer:
    uid: int
    gid: int

    @property
    def owner(self) -> str:
        return f"{self.uid}:{self.gid}"


def _int_env(name: str) -> int | None:
    raw = os.environ.get(name, "")
    return int(raw) if raw.isdigit() else None


def _primary_gid(uid: int) -> int:
    try:
        return pwd.getpwuid(uid).pw_gid
    except KeyError:
        return uid


def current() -> Developer:
    """`SUDO_UID`/`SUDO_GID` when running as root under sudo, else the real uid and gid."""
    if os.geteuid() == 0:
        uid, gid = _int_env("SUDO_UID"), _int_env("SUDO_GID")
        if uid is not None:
            return Developer(uid, gid if gid is not None else _primary_gid(uid))
    return Developer(os.getuid(), os.getgid())


def can_chown_directly() -> bool:
    """Only root may give a file to another user; everyone else goes through a container."""
    return os.geteuid() == 0
