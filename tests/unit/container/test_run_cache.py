from __future__ import annotations

import os
from pathlib import Path

from devtools.container.cache import Resolution, RunCache
from devtools.container.spec import ServiceInfo


def make(tmp_path: Path, **env: str) -> RunCache:
    return RunCache({"XDG_CACHE_HOME": str(tmp_path / "cache"), **env})


def resolution(container: str = "c1", service: str = "backend") -> Resolution:
    info = ServiceInfo(service, container, [("/repo/tests", "/app/tests")], "/app", "host")
    return Resolution("omc-main", "backend", {service: info})


def test_round_trip_and_services_accumulate(tmp_path: Path) -> None:
    watched = tmp_path / "compose.yaml"
    watched.write_text("services: {}\n")
    cache = make(tmp_path)
    cache.store("/repo/tests", None, resolution(), [str(watched)])
    cache.store("/repo/tests", None, resolution("d1", "db"), [str(watched)])
    found = cache.lookup("/repo/tests", None)
    assert found is not None and found.project == "omc-main" and found.default_service == "backend"
    assert sorted(found.services) == ["backend", "db"]
    backend = found.services["backend"]
    assert (backend.container, backend.mounts, backend.working_dir, backend.default_user) == (
        "c1",
        (("/repo/tests", "/app/tests"),),
        "/app",
        "host",
    )
    assert cache.lookup("/repo", None) is None  # another folder
    assert cache.lookup("/repo/tests", "other") is None  # another --track


def test_a_changed_input_invalidates(tmp_path: Path) -> None:
    watched, absent = tmp_path / "pyproject.toml", tmp_path / ".env"
    watched.write_text("[tool.omc-dev]\n")
    cache = make(tmp_path)
    cache.store("/w", None, resolution(), [str(watched), str(absent)])
    assert cache.lookup("/w", None) is not None
    absent.write_text("X=1\n")  # a file that appears counts as a change
    assert cache.lookup("/w", None) is None
    cache.store("/w", None, resolution(), [str(watched), str(absent)])
    watched.write_text("[tool.omc-dev]\nproject = 'x'\n")
    os.utime(watched, ns=(1, 1))
    assert cache.lookup("/w", None) is None


def test_a_changed_environment_invalidates(tmp_path: Path) -> None:
    make(tmp_path, OMC_TRACK="a").store("/w", None, resolution(), [])
    assert make(tmp_path, OMC_TRACK="a").lookup("/w", None) is not None
    assert make(tmp_path, OMC_TRACK="b").lookup("/w", None) is None
    assert make(tmp_path, OMC_TRACK="a", DOCKER_HOST="tcp://x:1").lookup("/w", None) is None


def test_a_damaged_cache_file_is_a_miss_and_is_replaced(tmp_path: Path) -> None:
    cache = make(tmp_path)
    Path(cache.path).parent.mkdir(parents=True)
    Path(cache.path).write_text("{not json")
    assert cache.lookup("/w", None) is None
    cache.store("/w", None, resolution(), [])
    assert cache.lookup("/w", None) is not None
