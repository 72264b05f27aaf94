"""`omc-dev urls`: which published ports of a track are web pages (never PostgreSQL or SMTP)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devtools import config
from devtools.compose.model import parse_config
from devtools.errors import UnusableInput
from devtools.tracks.registry import PortAssignment
from devtools.tracks.urls import track_urls
from tests.fixtures.tracks import project_dir


def port(target: int, published: str = "") -> dict[str, Any]:
    return {"target": target, "published": published, "protocol": "tcp"}


# The FastAPI full-stack template's services, as compose resolves them (ports from the override).
STACK: dict[str, Any] = {
    "name": "x",
    "services": {
        "db": {"image": "postgres:15", "ports": [port(5432, "5432")]},
        "adminer": {"image": "adminer", "ports": [port(8080, "8080")]},
        "backend": {
            "image": "backend",
            "ports": [port(8000, "8000")],
            "healthcheck": {"test": ["CMD", "curl", "-f", "http://localhost:8000/api/health"]},
        },
        "frontend": {"image": "frontend", "ports": [port(80, "5173")]},
        "mailcatcher": {"image": "schickling/mailcatcher", "ports": [port(1080), port(1025)]},
        "playwright": {"image": "playwright", "ports": [port(9323, "9323")]},
        "proxy": {
            "image": "traefik:3",
            "ports": [port(443, "443"), port(7777)],
            "labels": {"traefik.http.services.proxy.loadbalancer.server.port": "7777"},
        },
        "api2": {
            "image": "x",
            "ports": [port(7001)],
            "healthcheck": {"test": "CMD-SHELL wget -qO- http://127.0.0.1:7001/health || exit 1"},
        },
        "grpc": {"image": "x", "ports": [port(50051)]},
        "dns": {"image": "x", "ports": [{"target": 53, "published": "", "protocol": "udp"}]},
    },
}

HOST = {
    ("db", 5432): 21000,
    ("adminer", 8080): 21001,
    ("backend", 8000): 21002,
    ("frontend", 80): 21003,
    ("mailcatcher", 1080): 21004,
    ("mailcatcher", 1025): 21005,
    ("playwright", 9323): 21006,
    ("proxy", 443): 21007,
    ("proxy", 7777): 21008,
    ("api2", 7001): 21009,
    ("grpc", 50051): 21010,
    ("dns", 53): 21011,
}


def assignments(host_ip: str | None = None) -> list[PortAssignment]:
    return [
        PortAssignment(s, t, "udp" if s == "dns" else "tcp", host_ip, published)
        for (s, t), published in HOST.items()
    ]


def urls_of(folder: Path, extra: str = "", host_ip: str | None = None) -> dict[str, str | None]:
    (folder / "pyproject.toml").write_text(f"[tool.omc-dev]\n\n[tool.omc-dev.tracks]\n{extra}\n")
    cfg = config.load(folder)
    judged = track_urls(cfg, parse_config(STACK), assignments(host_ip))
    return {f"{j.port.service}:{j.port.target}": j.url for j in judged}


def test_web_ports_are_urls_and_databases_and_mail_are_not(tmp_path: Path) -> None:
    got = urls_of(project_dir(tmp_path))
    assert got == {
        "db:5432": None,
        "adminer:8080": "http://localhost:21001",
        "backend:8000": "http://localhost:21002",
        "frontend:80": "http://localhost:21003",
        "mailcatcher:1080": "http://localhost:21004",
        "mailcatcher:1025": None,
        "playwright:9323": "http://localhost:21006",
        "proxy:443": "https://localhost:21007",
        "proxy:7777": "http://localhost:21008",  # the Traefik label routes HTTP there
        "api2:7001": "http://localhost:21009",  # its healthcheck fetches it
        "grpc:50051": None,  # not known as HTTP: not guessed
        "dns:53": None,
    }


def test_settings_add_paths_schemes_and_remove_ports(tmp_path: Path) -> None:
    extra = 'http = ["backend:8000/docs", "https://grpc:50051"]\nnot-http = ["adminer"]'
    got = urls_of(project_dir(tmp_path), extra)
    assert got["backend:8000"] == "http://localhost:21002/docs"
    assert got["grpc:50051"] == "https://localhost:21010"
    assert got["adminer:8080"] is None


def test_a_port_bound_to_one_address_is_reached_there(tmp_path: Path) -> None:
    assert urls_of(project_dir(tmp_path), host_ip="127.0.0.1")["frontend:80"] == (
        "http://127.0.0.1:21003"
    )
    assert urls_of(project_dir(tmp_path, "v6"), host_ip="::1")["frontend:80"] == (
        "http://[::1]:21003"
    )


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ('http = "backend"', "[tool.omc-dev.tracks] http must be a list"),
        ('http = ["back end"]', "'back end' is not [http[s]://]SERVICE[:PORT][/PATH]"),
        ('not-http = ["ftp://db"]', "'ftp://db' is not [http[s]://]SERVICE[:PORT][/PATH]"),
        ('http = ["frontnd"]', "no service 'frontnd' in the compose project"),
    ],
)
def test_bad_settings_are_one_line(tmp_path: Path, extra: str, said: str) -> None:
    with pytest.raises(UnusableInput) as raised:
        urls_of(project_dir(tmp_path), extra)
    assert said in str(raised.value) and "\n" not in str(raised.value)
