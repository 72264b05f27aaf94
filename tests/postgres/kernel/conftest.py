from __future__ import annotations

import pytest

from tests.fixtures.kernel import db

__all__ = ["db"]


@pytest.fixture
def kernel_url(pg_url: str) -> str:
    return pg_url


@pytest.fixture
def orders_per_thread() -> int:
    """The concurrency test's orders per thread (16 threads)."""
    return 1000
