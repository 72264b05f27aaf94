from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.kernel import db

__all__ = ["db"]


@pytest.fixture
def kernel_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'kernel.db'}"
