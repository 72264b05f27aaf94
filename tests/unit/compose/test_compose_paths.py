from __future__ import annotations

import pytest

from devtools.compose.paths import container_path

MOUNTS = [("/src/shop", "/app"), ("/src/shop/kernel", "/opt/kernel"), ("/", "/host")]


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("/src/shop", "/app"),
        ("/src/shop/", "/app"),
        ("/src/shop/tests/x.py", "/app/tests/x.py"),
        ("/src/shop/kernel", "/opt/kernel"),
        ("/src/shop/kernel/a/../guard.py", "/opt/kernel/guard.py"),
        ("/src/shopping/x", "/host/src/shopping/x"),  # a sibling with a common prefix
        ("/etc/hosts", "/host/etc/hosts"),
    ],
)
def test_most_specific_mount_wins(host: str, expected: str) -> None:
    assert container_path(host, MOUNTS) == expected


def test_unmounted_path_has_no_container_path() -> None:
    assert container_path("/src/shopping/x", MOUNTS[:2]) is None
    assert container_path("/src/shop/x", []) is None
