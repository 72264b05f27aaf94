from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from devtools.compose.model import parse_config
from devtools.errors import UnusableInput

# Shape as printed by `docker compose config --format json` (v2.40).
DOC = {
    "name": "shop-main",
    "services": {
        "backend": {
            "build": {"context": "/src/shop", "dockerfile": "Dockerfile", "network": "host"},
            "environment": {"POSTGRES_SERVER": "db", "EMPTY": None},
            "ports": [{"mode": "ingress", "target": 8000, "protocol": "tcp"}],
            "volumes": [
                {"type": "bind", "source": "/src/shop", "target": "/app"},
                {
                    "type": "bind",
                    "source": "/src/shop/kernel",
                    "target": "/opt/kernel",
                    "read_only": True,
                },
            ],
            "working_dir": "/app",
        },
        "db": {
            "image": "debian:bookworm-slim",
            "healthcheck": {"test": ["CMD", "true"]},
            "ports": [
                {
                    "mode": "ingress",
                    "target": 5432,
                    "published": "5433",
                    "protocol": "tcp",
                    "host_ip": "127.0.0.1",
                }
            ],
            "volumes": [
                {
                    "type": "volume",
                    "source": "dbdata",
                    "target": "/var/lib/postgresql",
                    "volume": {},
                }
            ],
        },
    },
    "volumes": {"dbdata": {"name": "shop-main_dbdata"}},
    "networks": {"default": {"name": "shop-main_default"}},
}


def test_parses_services_ports_mounts_and_environment() -> None:
    project = parse_config(DOC, files=(Path("/src/shop/compose.yaml"),))
    assert project.name == "shop-main"
    backend, db = project.service("backend"), project.service("db")
    assert backend.build_context == Path("/src/shop") and backend.build_network == "host"
    assert [s.name for s in project.buildable] == ["backend"]
    assert backend.environment == {"POSTGRES_SERVER": "db", "EMPTY": None}
    assert backend.ports[0].published is None and backend.ports[0].target == 8000
    assert (db.ports[0].published, db.ports[0].target, db.ports[0].host_ip) == (
        5433,
        5432,
        "127.0.0.1",
    )
    assert db.has_healthcheck and not backend.has_healthcheck
    assert db.bind_mounts == () and len(backend.bind_mounts) == 2
    assert project.volumes == {"dbdata": "shop-main_dbdata"}


def test_container_path_uses_the_most_specific_bind_mount() -> None:
    backend = parse_config(DOC).service("backend")
    assert backend.container_path(Path("/src/shop/tests/x.py")) == PurePosixPath("/app/tests/x.py")
    assert backend.container_path(Path("/src/shop/kernel/guard.py")) == PurePosixPath(
        "/opt/kernel/guard.py"
    )
    assert backend.container_path(Path("/elsewhere/x.py")) is None


def test_unknown_service_names_the_known_ones() -> None:
    with pytest.raises(UnusableInput, match=r"no service 'api' .*services: backend, db"):
        parse_config(DOC).service("api")
