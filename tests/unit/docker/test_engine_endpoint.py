from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from devtools.docker.engine_api import DEFAULT_HOST, Engine, _dechunk, _quote, endpoint
from devtools.errors import EnvironmentMissing


def test_docker_host_wins(tmp_path: Path) -> None:
    assert (
        endpoint({"DOCKER_HOST": "unix:///x.sock", "DOCKER_CONFIG": str(tmp_path)})
        == "unix:///x.sock"
    )
    assert endpoint({"DOCKER_CONFIG": str(tmp_path)}) == DEFAULT_HOST


def test_the_current_context_is_followed(tmp_path: Path) -> None:
    meta = tmp_path / "contexts" / "meta" / hashlib.sha256(b"desk").hexdigest()
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(
        json.dumps({"Name": "desk", "Endpoints": {"docker": {"Host": "unix:///desk.sock"}}})
    )
    (tmp_path / "config.json").write_text(json.dumps({"currentContext": "desk"}))
    assert endpoint({"DOCKER_CONFIG": str(tmp_path)}) == "unix:///desk.sock"
    assert endpoint({"DOCKER_CONFIG": str(tmp_path), "DOCKER_CONTEXT": "default"}) == DEFAULT_HOST


def test_unreachable_and_unsupported_endpoints_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(
        EnvironmentMissing, match=r"cannot reach the Docker engine at unix://.*start Docker"
    ):
        Engine(f"unix://{tmp_path}/none.sock").connect()
    with pytest.raises(EnvironmentMissing, match="point DOCKER_HOST at the engine's socket"):
        Engine("ssh://me@box").connect()


def test_wire_helpers() -> None:
    assert _dechunk(b"4\r\nabcd\r\n3;x=y\r\nefg\r\n0\r\n\r\n") == b"abcdefg"
    assert _quote('{"label":["a=b c"]}') == "%7B%22label%22%3A%5B%22a%3Db%20c%22%5D%7D"


def test_the_sdk_client_follows_the_current_context_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from devtools.docker.sdk import client

    meta = tmp_path / "contexts" / "meta" / hashlib.sha256(b"desk").hexdigest()
    meta.mkdir(parents=True)
    socket = f"unix://{tmp_path}/desk.sock"
    (meta / "meta.json").write_text(json.dumps({"Endpoints": {"docker": {"Host": socket}}}))
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    monkeypatch.setenv("DOCKER_CONTEXT", "desk")
    client.cache_clear()
    try:
        with pytest.raises(
            EnvironmentMissing, match=f"cannot reach the Docker engine at {socket} "
        ):
            client()
    finally:
        client.cache_clear()
