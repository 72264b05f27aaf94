"""The developer as a value the ownership code passes around."""

from __future__ import annotations

import os
from dataclasses import dataclass

from devtools.developer import developer_ids


@dataclass(frozen=True)
class Developer:
    uid: int
    gid: int

    @property
    def owner(self) -> str:
        return f"{self.uid}:{self.gid}"


def current() -> Developer:
    """The developer (see `devtools.developer`), as the ownership code wants it."""
    return Developer(*developer_ids())


def can_chown_directly() -> bool:
    """Only root may give a file to another user; everyone else goes through a container."""
    return os.geteuid() == 0
