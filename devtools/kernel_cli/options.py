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


# The largest row count a database takes in LIMIT (a signed 64-bit integer on SQLite and
# PostgreSQL alike): beyond it, a one-line usage error instead of the driver's overflow.
MAX_ROWS = 2**63 - 1


def row_limit(minimum: int) -> click.IntRange:
    return click.IntRange(minimum, MAX_ROWS)
