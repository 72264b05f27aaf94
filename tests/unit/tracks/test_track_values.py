"""Per-track values (`[tool.omc-dev.tracks.env]`): templates, errors, and the track's override."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from devtools import config
from devtools.compose.model import parse_config
from devtools.errors import UnusableInput
from devtools.tracks.identity import Track
from devtools.tracks.ports import ensure_ports, track_env
from devtools.tracks.registry import PortAssignment
from devtools.tracks.values import Template, TrackNames, render, templates
from tests.fixtures.tracks import project_dir

PORTS = (
    PortAssignment("frontend", 80, "tcp", None, 23001),
    PortAssignment("backend", 8000, "tcp", None, 23002),
    PortAssignment("backend", 9000, "tcp", None, 23003),
    PortAssignment("dns", 53, "udp", None, 23004),
)
NAMES = TrackNames("shop-feature-x-1a2b3c4d", "feature-x", "shop", PORTS)


@pytest.fixture(autouse=True)
def no_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    from devtools.docker.sdk import client

    client.cache_clear()


def rendered(text: str) -> str:
    return render(Template("X", text, None), NAMES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://localhost:{port:frontend:80}", "http://localhost:23001"),
        ("{project}", "shop-feature-x-1a2b3c4d"),
        ("{repo}-{track}", "shop-feature-x"),
        ("{port:frontend}", "23001"),  # its only published port
        ("{port:dns:53/udp}", "23004"),
        ("{port:backend:9000/tcp}", "23003"),
        ('{{"origin": "{ port:frontend:80 }"}}', '{"origin": "23001"}'),
        ("a}}b{{c", "a}b{c"),
        ("no placeholders: $HOME stays", "no placeholders: $HOME stays"),
        (
            "http://localhost,http://localhost:{port:frontend:80},https://localhost",
            "http://localhost,http://localhost:23001,https://localhost",
        ),
    ],
)
def test_templates_render_with_the_tracks_names_and_ports(text: str, expected: str) -> None:
    assert rendered(text) == expected


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("{host}", "unknown placeholder {host} (known: {project}, {track}, {repo}"),
        ("{port:nosuch:80}", "service 'nosuch' publishes no port (services that do: backend"),
        ("{port:frontend:8080}", "frontend does not publish container port 8080 (it publishes"),
        ("{port:backend}", "backend publishes several ports ({port:backend:8000}"),
        (
            "{port:dns:53}",
            "dns does not publish container port 53 (it publishes {port:dns:53/udp})",
        ),
        ("{port:frontend:http}", "must be {port:SERVICE} or {port:SERVICE:CONTAINER_PORT}"),
        ("{port}", "unknown placeholder {port}"),
        ("http://localhost:{port:frontend:80", "lone '{' (write {{ for a literal brace)"),
        ("}", "lone '}' (write }} for a literal brace)"),
    ],
)
def test_a_bad_template_is_one_line_naming_variable_and_fix(text: str, said: str) -> None:
    with pytest.raises(UnusableInput) as raised:
        rendered(text)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"[tool.omc-dev.tracks.env] X = {text!r}: ")
    assert said in message


def test_a_port_placeholder_before_the_track_holds_ports_says_what_to_run() -> None:
    names = TrackNames("p", "t", "r", None)
    with pytest.raises(UnusableInput, match="holds no host ports yet: run omc-dev ports"):
        render(Template("X", "{port:frontend:80}", None), names)
    assert render(Template("X", "{project}", None), names) == "p"


def write_config(folder: Path, table: str) -> config.ProjectConfig:
    (folder / "pyproject.toml").write_text(
        f'[tool.omc-dev]\nproject = "{folder.name}"\n\n[tool.omc-dev.tracks.env]\n{table}\n'
    )
    return config.load(folder)


@pytest.mark.parametrize(
    ("table", "said"),
    [
        ('"BAD-NAME" = "x"', "BAD-NAME: not a variable name"),
        ("X = 5", 'X: must be a string ("http://localhost:{port:frontend:80}") or a table'),
        ('X = { services = ["backend"] }', 'X: needs value = "..." (a string)'),
        ('X = { value = "v", service = ["backend"] }', "X: unknown key 'service'"),
        ('X = { value = "v", services = "backend" }', "X: services must be a list"),
        ('X = "{nope}"', "unknown placeholder {nope}"),
        ('COMPOSE_PROFILES = "{track}"', "compose, docker and omc-dev read COMPOSE_PROFILES"),
        ('DOCKER_HOST = "x"', "DOCKER_HOST themselves"),
    ],
)
def test_bad_settings_are_one_line(tmp_path: Path, table: str, said: str) -> None:
    cfg = write_config(project_dir(tmp_path), table)
    with pytest.raises(UnusableInput, match=r"tracks\.env") as raised:
        templates(cfg)
    assert said in str(raised.value) and "\n" not in str(raised.value)


# The backend reads FRONTEND_HOST and BACKEND_CORS_ORIGINS (env_file .env and environment:),
# the frontend publishes 5173:80: the FastAPI full-stack template's shape, resolved.
FULLSTACK: dict[str, Any] = {
    "name": "x",
    "services": {
        "db": {
            "image": "postgres:15",
            "environment": {"POSTGRES_DB": "app"},
            "ports": [{"target": 5432, "published": "5432", "protocol": "tcp"}],
        },
        "prestart": {"image": "backend", "environment": {"POSTGRES_SERVER": "db"}},
        "backend": {
            "image": "backend",
            "environment": {
                "FRONTEND_HOST": "http://localhost:5173",
                "BACKEND_CORS_ORIGINS": "http://localhost,http://localhost:5173",
                "STACK_NAME": "full-stack",
            },
            "ports": [{"target": 8000, "published": "8000", "protocol": "tcp"}],
        },
        "frontend": {
            "image": "frontend",
            "ports": [{"target": 80, "published": "5173", "protocol": "tcp"}],
        },
    },
}

TABLE = """\
FRONTEND_HOST = "http://localhost:{port:frontend:80}"
BACKEND_CORS_ORIGINS = "http://localhost,http://localhost:{port:frontend:80}"
STACK_NAME = "{project}"
VITE_API_URL = { value = "http://localhost:{port:backend:8000}", services = ["frontend"] }
COST = "$5"
"""


def override_doc(text: str) -> dict[str, Any]:
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("!override", lambda ld, node: ld.construct_sequence(node))  # type: ignore[arg-type]
    doc: dict[str, Any] = yaml.load(text, Loader=Loader)
    return doc


def test_the_override_gives_each_value_to_the_services_that_read_it(
    tmp_path: Path, state_dir: Path
) -> None:
    cfg = write_config(project_dir(tmp_path), TABLE)
    track = Track("feature-x", "--track")
    result = ensure_ports(cfg, track, parse_config(FULLSTACK))
    ports = {(p.service, p.target): p.published for p in result.allocation.entry.ports}
    frontend, backend = ports[("frontend", 80)], ports[("backend", 8000)]
    assert result.override is not None
    services = override_doc(result.override.read_text())["services"]
    assert services["backend"]["environment"] == {
        "FRONTEND_HOST": f"http://localhost:{frontend}",
        "BACKEND_CORS_ORIGINS": f"http://localhost,http://localhost:{frontend}",
        "STACK_NAME": result.ref.project,
    }
    # Listed explicitly; COST is read by nobody (compose's environment only).
    assert services["frontend"]["environment"] == {"VITE_API_URL": f"http://localhost:{backend}"}
    assert "environment" not in services["db"] and "prestart" not in services
    assert result.values["COST"] == "$5"
    assert '"COST"' not in result.override.read_text()
    # Compose's own environment for interpolation: the same values, from the registry.
    assert track_env(cfg, track) == result.values


def test_a_dollar_in_a_value_reaches_the_container_as_written(
    tmp_path: Path, state_dir: Path
) -> None:
    cfg = write_config(project_dir(tmp_path), 'STACK_NAME = "a$b-{track}"')
    result = ensure_ports(cfg, Track("main", "--track"), parse_config(FULLSTACK))
    assert result.override is not None
    assert '"STACK_NAME": "a$$b-main"' in result.override.read_text()  # compose reads `$$` as `$`


def test_a_service_listed_for_a_value_must_exist(tmp_path: Path, state_dir: Path) -> None:
    cfg = write_config(project_dir(tmp_path), 'X = { value = "1", services = ["frontnd"] }')
    with pytest.raises(UnusableInput, match=r"no service 'frontnd' in the compose project"):
        ensure_ports(cfg, Track("main", "--track"), parse_config(FULLSTACK))


def test_a_port_the_stack_does_not_publish_is_refused(tmp_path: Path, state_dir: Path) -> None:
    cfg = write_config(project_dir(tmp_path), 'X = "http://localhost:{port:frontend:3000}"')
    with pytest.raises(UnusableInput, match=r"frontend does not publish container port 3000"):
        ensure_ports(cfg, Track("main", "--track"), parse_config(FULLSTACK))


def test_before_the_first_up_compose_gets_only_the_values_without_ports(
    tmp_path: Path, state_dir: Path
) -> None:
    cfg = write_config(project_dir(tmp_path), TABLE)
    env = track_env(cfg, Track("never-up", "--track"))
    assert set(env) == {"STACK_NAME", "COST"}


def test_without_the_table_nothing_changes(tmp_path: Path, state_dir: Path) -> None:
    cfg = config.load(project_dir(tmp_path))
    result = ensure_ports(cfg, Track("main", "--track"), parse_config(FULLSTACK))
    assert result.values == {}
    assert result.override is not None and "environment" not in result.override.read_text()
    assert track_env(cfg, Track("main", "--track")) == {}


def test_a_broken_template_does_not_keep_down_from_working(tmp_path: Path, state_dir: Path) -> None:
    """`up` and `ports` refuse it (exit 2); commands on a running stack leave it out."""
    cfg = write_config(project_dir(tmp_path), 'A = "{project}"\nB = "{port:gone:80}"')
    track = Track("main", "--track")
    with pytest.raises(UnusableInput, match="service 'gone' publishes no port"):
        ensure_ports(cfg, track, parse_config(FULLSTACK))
    assert set(track_env(cfg, track)) == {"A"}
    broken = write_config(project_dir(tmp_path, "other"), 'A = "{nope}"')
    assert track_env(broken, track) == {}


@pytest.mark.parametrize(
    ("value", "word"),
    [
        ("http://localhost:23001", "http://localhost:23001"),
        ("http://localhost,http://localhost:23001", "http://localhost,http://localhost:23001"),
        ("Full Stack main", "'Full Stack main'"),
        ("a$b", "'a$b'"),
        ("", ""),
    ],
)
def test_ports_env_prints_each_value_as_one_shell_word(value: str, word: str) -> None:
    from devtools.tracks.command import _shell_word

    assert _shell_word(value) == word
