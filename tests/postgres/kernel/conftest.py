from __future__ import annotations

import pytest


@pytest.fixture
def kernel_url(pg_url: str) -> str:
    return pg_url
