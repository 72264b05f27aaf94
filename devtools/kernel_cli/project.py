"""The kernel as omc-dev's project sees it: settings from `[tool.omc-dev.kernel]` of the project
omc-dev found, and the database under that project's root."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kernel.db import Database
    from kernel.settings import KernelSettings


def kernel_settings() -> KernelSettings:
    from devtools.config import load
    from kernel.settings import load_settings

    cfg = load()
    return load_settings(cfg.section("kernel"), where=str(cfg.pyproject or "pyproject.toml"))


def kernel_database(url: str | None, *, create: bool = True, owner: bool = False) -> Database:
    from devtools.config import load
    from kernel.db import open_database

    return open_database(url, create=create, root=load().root, owner=owner)
