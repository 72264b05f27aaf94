from __future__ import annotations

import pytest

from tests.fixtures.kernel import db

__all__ = ["db"]


@pytest.fixture
def kernel_url(pg_url: str) -> str:
    return pg_url
