from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.kernel import db

__all__ = ["db"]

# One parameter per database, each marked with the tier it needs.
DATABASES = [
    pytest.param("sqlite", marks=pytest.mark.unit),
    pytest.param("postgresql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=DATABASES)
def kernel_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'kernel.db'}"
    url: str = request.getfixturevalue("pg_url")  # only now: SQLite needs no cluster
    return url


@pytest.fixture
def orders_per_thread() -> int:
    """The concurrency test's orders per thread (16 threads)."""
    return 1000
