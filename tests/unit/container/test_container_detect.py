from __future__ import annotations

import pytest

from devtools.container.detect import inside_container


def exists_only(*present: str):
    return lambda path: path in present


@pytest.mark.parametrize(
    ("environ", "files", "expected"),
    [
        ({}, (), None),
        ({"container": "podman"}, ("/run/.containerenv", "/.dockerenv"), "container=podman"),
        ({}, ("/run/.containerenv", "/.dockerenv"), "/run/.containerenv"),
        ({}, ("/.dockerenv",), "/.dockerenv"),
        ({"OMC_IN_CONTAINER": "1"}, ("/.dockerenv",), "/.dockerenv"),
        ({"OMC_IN_CONTAINER": "1"}, (), "OMC_IN_CONTAINER=1"),
        ({"container": ""}, (), None),
        ({"OMC_IN_CONTAINER": "yes"}, (), None),
    ],
)
def test_signals_are_checked_in_order(environ, files, expected) -> None:
    assert inside_container(environ, exists_only(*files)) == expected


def test_marker_zero_says_host_whatever_the_files_say() -> None:
    # e.g. a VM or CI runner whose root file system carries a stray /.dockerenv
    environ = {"OMC_IN_CONTAINER": "0", "container": "docker"}
    assert inside_container(environ, exists_only("/run/.containerenv", "/.dockerenv")) is None
