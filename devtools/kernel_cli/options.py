"""Options shared by the kernel's commands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def db_option(func: F) -> F:
    return click.option(
        "--db",
        "db_url",
        metavar="URL",
        help="Database URL (default: OMC_DATABASE_URL, POSTGRES_* variables, else .omc/kernel.db).",
    )(func)
