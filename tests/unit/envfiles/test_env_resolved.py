"""The doctor's environment rules on stacks shaped like real projects: what each container
receives is judged, at the line that set it; browser URLs, CORS lists, listen addresses and
values every reader overrides are no errors; the real bugs still are, with the right fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devtools.compose.model import parse_config
from devtools.compose.source import read_source
from devtools.config import ProjectConfig
from devtools.doctor.ignore import Ignores, comment_rules
from devtools.envfiles.kinds import items, kind
from devtools.envfiles.load import declared_names
from devtools.envfiles.model import StackView, collect
from devtools.envfiles.origin import origin_of
from devtools.envfiles.rules import check, check_named
from devtools.envfiles.template import render
from devtools.errors import UnusableInput
from devtools.findings import Finding
from tests.fixtures.stacks import NEWER, OLDER, SHAPES, Shape, dotenv_line


def view_of(shape: Shape, folder: Path, doc: dict[str, Any] | None = None) -> StackView:
    files = shape.paths(folder)
    project = parse_config(doc or shape.config(folder), files=tuple(files))
    return collect(project, read_source(files), declared_names=declared_names(tuple(files)))


def env_findings(view: StackView) -> list[Finding]:
    return [f for f in check(view) if f.id.startswith("env-")]


def line_of(path: Path, text: str, occurrence: int = 1) -> int:
    found = [n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    return found[occurrence - 1]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_untouched_template_shapes_have_no_findings(tmp_path: Path, shape: Shape) -> None:
    folder = shape.write(tmp_path / shape.name)
    assert env_findings(view_of(shape, folder)) == []


def test_localhost_db_host_not_overridden_is_caught_at_the_dotenv_line(tmp_path: Path) -> None:
    compose = OLDER.files["docker-compose.yml"]
    backend_block = compose.index("  backend:")
    without = compose[:backend_block] + compose[backend_block:].replace(
        "      - POSTGRES_SERVER=db\n", "", 1
    )
    folder = OLDER.write(tmp_path / "s", **{"docker-compose.yml": without})
    doc = OLDER.config(folder, backend={"POSTGRES_SERVER": "localhost"})
    (finding,) = env_findings(view_of(OLDER, folder, doc))
    assert finding.id == "env-host-loopback"
    assert (finding.path, finding.line) == (".env", dotenv_line(folder, "POSTGRES_SERVER"))
    assert finding.fix == "POSTGRES_SERVER=db"
    # Only the backend reads it: prestart overrides it, db is the server itself, and playwright
    # (other code) only got it with the rest of the file.
    assert finding.message.endswith("(received by backend)")


def test_host_port_leaking_into_containers_through_interpolation(tmp_path: Path) -> None:
    dotenv = OLDER.files[".env"].replace("POSTGRES_PORT=5432", "POSTGRES_PORT=5433")
    override = OLDER.files["docker-compose.override.yml"].replace('"5432:5432"', '"5433:5432"')
    folder = OLDER.write(
        tmp_path / "s", **{".env": dotenv, "docker-compose.override.yml": override}
    )
    doc = OLDER.config(
        folder,
        **{s: {"POSTGRES_PORT": "5433"} for s in ("db", "prestart", "backend", "playwright")},
    )
    doc["services"]["db"]["ports"][0]["published"] = "5433"
    (finding,) = env_findings(view_of(OLDER, folder, doc))
    assert finding.id == "env-port-is-host-port"
    assert (finding.path, finding.line) == (".env", dotenv_line(folder, "POSTGRES_PORT"))
    assert finding.fix == "POSTGRES_PORT=5432"
    assert finding.message.endswith("(received by backend, prestart)")


def test_wrong_service_host_in_the_override(tmp_path: Path) -> None:
    override = NEWER.files["compose.override.yml"].replace('"mailpit"', '"mailhog"')
    folder = NEWER.write(tmp_path / "s", **{"compose.override.yml": override})
    doc = NEWER.config(folder, backend={"SMTP_HOST": "mailhog"})
    (finding,) = env_findings(view_of(NEWER, folder, doc))
    assert finding.id == "env-host-not-a-service"
    where = line_of(folder / "compose.override.yml", 'SMTP_HOST: "mailhog"')
    assert (finding.path, finding.line) == ("compose.override.yml", where)
    assert finding.fix == "SMTP_HOST=mailpit"


def test_wrong_database_host_in_a_url(tmp_path: Path) -> None:
    compose = NEWER.files["compose.yml"].replace("@db:5432/app", "@postgres:5432/app")
    folder = NEWER.write(tmp_path / "s", **{"compose.yml": compose})
    url = "postgresql://postgres:changethis@postgres:5432/app"
    (finding,) = env_findings(
        view_of(NEWER, folder, NEWER.config(folder, backend={"DATABASE_URL": url}))
    )
    assert finding.id == "env-host-not-a-service"
    assert (finding.path, finding.line) == (
        "compose.yml",
        line_of(folder / "compose.yml", "DATABASE_URL"),
    )
    assert finding.fix == "DATABASE_URL=postgresql://postgres:***@db:5432/app"
    assert "changethis" not in finding.message


def test_dotenv_value_that_reaches_a_container_is_judged_there(tmp_path: Path) -> None:
    # The backend now takes DATABASE_URL from .env, whose value is meant for the host.
    compose = NEWER.files["compose.yml"].replace(
        "DATABASE_URL: postgresql://postgres:${POSTGRES_PASSWORD:?Variable not set}@db:5432/app",
        "DATABASE_URL: ${DATABASE_URL}",
    )
    folder = NEWER.write(tmp_path / "s", **{"compose.yml": compose})
    url = "postgresql://postgres:changethis@localhost:5432/app"
    doc = NEWER.config(folder, backend={"DATABASE_URL": url})
    (finding,) = env_findings(view_of(NEWER, folder, doc))
    assert finding.id == "env-host-loopback"
    assert (finding.path, finding.line) == (".env", dotenv_line(folder, "DATABASE_URL"))
    assert finding.fix == "DATABASE_URL=postgresql://postgres:***@db:5432/app"


def test_override_that_no_longer_overrides_is_caught(tmp_path: Path) -> None:
    # Without the override's SMTP_HOST, .env's localhost is what the backend dials.
    override = NEWER.files["compose.override.yml"].replace('      SMTP_HOST: "mailpit"\n', "")
    folder = NEWER.write(tmp_path / "s", **{"compose.override.yml": override})
    doc = NEWER.config(folder, backend={"SMTP_HOST": "localhost"})
    (finding,) = env_findings(view_of(NEWER, folder, doc))
    assert (finding.id, finding.path) == ("env-host-loopback", ".env")
    assert finding.line == dotenv_line(folder, "SMTP_HOST") and finding.fix == "SMTP_HOST=mailpit"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("FRONTEND_HOST", "http://localhost:5173", "browser"),
        ("BACKEND_CORS_ORIGINS", "http://localhost,http://localhost:5173", "browser"),
        ("VITE_API_URL", "http://localhost:8000", "browser"),
        ("NEXT_PUBLIC_API_URL", "http://localhost:8000", "browser"),
        ("PLAYWRIGHT_BASE_URL", "http://backend:8000", "browser"),
        ("OAUTH_REDIRECT_URL", "http://localhost:8000/cb", "browser"),
        ("PLAYWRIGHT_HTML_HOST", "0.0.0.0", "listen"),
        ("APP_HOST", "0.0.0.0", "listen"),
        ("GUNICORN_BIND", "0.0.0.0:8000", "listen"),
        ("HOST", "localhost", "listen"),
        ("POSTGRES_SERVER", "localhost", "connection"),
        ("DATABASE_URL", "postgresql://u:p@localhost/app", "connection"),
        ("PGHOST", "localhost", "connection"),
        ("KAFKA_BROKERS", "kafka:9092,localhost:9092", "connection"),
        ("DOMAIN", "localhost", "browser"),
        ("PROJECT_NAME", "Orders, Inc.", "other"),
    ],
)
def test_what_a_value_is_for(name: str, value: str, expected: str) -> None:
    assert kind(name, value) == expected


def test_list_values_are_split_into_items() -> None:
    assert items("http://localhost,http://localhost:5173") == [
        "http://localhost",
        "http://localhost:5173",
    ]
    assert items('["http://a:1", "http://b:2"]') == ["http://a:1", "http://b:2"]
    assert items("redis:6379, localhost:6379") == ["redis:6379", "localhost:6379"]
    # A libpq multi-host URL is one value, and so is anything that is not a list of addresses.
    assert items("postgresql://a:5432,b:5432/app") == ["postgresql://a:5432,b:5432/app"]
    assert items("Orders, Inc.") == ["Orders, Inc."]


MINI_COMPOSE = """\
services:
  redis:
    image: redis:7
    ports:
      - "6380:6379"
  worker:
    image: worker:latest
    environment:
      REDIS_HOSTS: "redis:6379,localhost:6379"
      CELERY_BROKER_URL: redis://redis:6380/0
      LISTEN_ADDR: 127.0.0.1:9000
"""


def mini(folder: Path, env: dict[str, str]) -> StackView:
    folder.mkdir()
    (folder / "compose.yaml").write_text(MINI_COMPOSE)
    doc = {
        "services": {
            "redis": {
                "image": "redis:7",
                "ports": [{"target": 6379, "published": "6380"}],
            },
            "worker": {"image": "worker:latest", "environment": env},
        }
    }
    files = [folder / "compose.yaml"]
    return collect(parse_config(doc, files=tuple(files)), read_source(files))


def test_list_items_and_host_ports_are_judged_one_by_one(tmp_path: Path) -> None:
    env = {
        "REDIS_HOSTS": "redis:6379,localhost:6379",
        "CELERY_BROKER_URL": "redis://redis:6380/0",
        "LISTEN_ADDR": "127.0.0.1:9000",
    }
    found = {f.id: f for f in env_findings(mini(tmp_path / "s", env))}
    assert set(found) == {"env-host-loopback", "env-port-is-host-port"}
    assert found["env-host-loopback"].fix == "REDIS_HOSTS=redis:6379,redis:6379"
    assert found["env-host-loopback"].line == 9
    assert found["env-port-is-host-port"].fix == "CELERY_BROKER_URL=redis://redis:6379/0"


def test_ignore_comments_on_the_line_in_dotenv_and_compose(tmp_path: Path) -> None:
    dotenv = OLDER.files[".env"].replace(
        "POSTGRES_SERVER=localhost",
        "POSTGRES_SERVER=localhost  # omc-dev: ignore[env-host-loopback]",
    )
    override = NEWER.files["compose.override.yml"].replace(
        'SMTP_HOST: "mailpit"', 'SMTP_HOST: "mailhog"  # omc-dev: ignore[env-host-not-a-service]'
    )
    compose = OLDER.files["docker-compose.yml"]
    backend_block = compose.index("  backend:")
    without = compose[:backend_block] + compose[backend_block:].replace(
        "      - POSTGRES_SERVER=db\n", "", 1
    )
    older = OLDER.write(tmp_path / "o", **{".env": dotenv, "docker-compose.yml": without})
    newer = NEWER.write(tmp_path / "n", **{"compose.override.yml": override})
    cases = [
        (
            view_of(OLDER, older, OLDER.config(older, backend={"POSTGRES_SERVER": "localhost"})),
            older,
        ),
        (view_of(NEWER, newer, NEWER.config(newer, backend={"SMTP_HOST": "mailhog"})), newer),
    ]
    ignores = Ignores.from_config(ProjectConfig(root=tmp_path))
    for view, folder in cases:
        named = check_named(view)
        assert len(named) == 1  # found, then silenced by its own line
        assert [f for n, f in named if not ignores.silences(f, folder, n)] == []


def test_ignore_comment_names_rules_or_all() -> None:
    listed = comment_rules("X=1  # omc-dev: ignore[env-host-loopback, env-port-is-host-port]")
    assert listed == frozenset({"env-host-loopback", "env-port-is-host-port"})
    assert comment_rules("X=1 # omc-dev: ignore") == frozenset({"*"})
    assert comment_rules("X=1 # ignore[env-host-loopback]") is None


def test_ignore_config_per_rule_and_variable(tmp_path: Path) -> None:
    config = ProjectConfig(
        root=tmp_path,
        data={"doctor": {"ignore": ["env-host-loopback:POSTGRES_SERVER", "env-port-is-host-port"]}},
    )
    ignores = Ignores.from_config(config)
    loopback = Finding("env-host-loopback", "error", "m", ".env", 3)  # type: ignore[arg-type]
    port = Finding("env-port-is-host-port", "error", "m", ".env", 4)  # type: ignore[arg-type]
    assert ignores.silences(loopback, tmp_path, "POSTGRES_SERVER")
    assert not ignores.silences(loopback, tmp_path, "REDIS_HOST")
    assert ignores.silences(port, tmp_path, "ANYTHING")
    bad = ProjectConfig(root=tmp_path, data={"doctor": {"ignore": ["env host loopback"]}})
    with pytest.raises(UnusableInput, match='is not "rule-id" or "rule-id:VARIABLE"'):
        Ignores.from_config(bad)


def parse_template(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
def test_template_fixes_nothing_that_is_not_broken(tmp_path: Path, shape: Shape) -> None:
    folder = shape.write(tmp_path / shape.name)
    text = render(view_of(shape, folder))
    values = parse_template(text)
    if shape is OLDER:
        assert values["FRONTEND_HOST"] == "http://localhost:5173"
        cors = "http://localhost,http://localhost:5173,https://localhost,https://localhost:5173"
        assert values["BACKEND_CORS_ORIGINS"] == cors
        assert values["POSTGRES_SERVER"] == "localhost"  # overridden for every reader
    else:
        assert values["SMTP_HOST"] == "localhost"  # the override gives containers mailpit
        assert (
            values["DATABASE_URL"]
            == '"postgresql://postgres:${POSTGRES_PASSWORD}@localhost:5432/app"'
        )
    # The doctor accepts what it wrote.
    (folder / ".env.example").write_text(text)
    assert env_findings(view_of(shape, folder)) == []


def test_template_fixes_what_is_broken_and_the_doctor_accepts_it(tmp_path: Path) -> None:
    compose = OLDER.files["docker-compose.yml"]
    backend_block = compose.index("  backend:")
    without = compose[:backend_block] + compose[backend_block:].replace(
        "      - POSTGRES_SERVER=db\n", "", 1
    )
    folder = OLDER.write(tmp_path / "s", **{"docker-compose.yml": without})
    doc = OLDER.config(folder, backend={"POSTGRES_SERVER": "localhost"})
    text = render(view_of(OLDER, folder, doc))
    assert parse_template(text)["POSTGRES_SERVER"] == "db"
    (folder / ".env.example").write_text(text)
    assert [f for f in env_findings(view_of(OLDER, folder, doc)) if f.path == ".env.example"] == []


def test_template_leaves_empty_what_it_cannot_fix(tmp_path: Path) -> None:
    # SMTP on localhost in a container, and no mail service to point at.
    dotenv = OLDER.files[".env"].replace("SMTP_HOST=\n", "SMTP_HOST=localhost\n")
    override = OLDER.files["docker-compose.override.yml"].replace(
        'SMTP_HOST: "mailcatcher"', "SMTP_X: x"
    )
    folder = OLDER.write(
        tmp_path / "s", **{".env": dotenv, "docker-compose.override.yml": override}
    )
    edits = {"SMTP_HOST": "localhost"}
    doc = OLDER.config(
        folder, backend={**edits, "SMTP_X": "x"}, prestart=edits, playwright=edits, db=edits
    )
    del doc["services"]["mailcatcher"]
    found = [f for f in env_findings(view_of(OLDER, folder, doc)) if f.path == ".env"]
    assert [(f.id, f.line) for f in found] == [
        ("env-host-loopback", dotenv_line(folder, "SMTP_HOST"))
    ]
    text = render(view_of(OLDER, folder, doc))
    assert parse_template(text)["SMTP_HOST"] == ""
    assert "# SMTP_HOST: set the host" in text


def test_where_localhost_and_unknown_names_lead_depends_on_the_network(tmp_path: Path) -> None:
    env = {"REDIS_HOST": "localhost", "SEARCH_HOST": "elastic"}
    plain = {f.id: f.severity for f in env_findings(mini(tmp_path / "a", env))}
    assert plain == {"env-host-loopback": "error", "env-host-not-a-service": "error"}

    def variant(folder: Path, **worker: Any) -> list[Finding]:
        view = mini(folder, env)
        doc: dict[str, Any] = {
            "services": {
                "redis": {"image": "redis:7", "ports": [{"target": 6379, "published": "6380"}]},
                "worker": {"image": "worker:latest", "environment": env, **worker},
            },
            "networks": {"shared": {"name": "shared", "external": True}, "default": {}},
        }
        project = parse_config(doc, files=view.project.files)
        return env_findings(collect(project, view.source))

    # localhost is redis itself when the worker shares its network namespace; the host's own
    # network when it uses the host's.
    shared = variant(tmp_path / "b", network_mode="service:redis")
    assert [f.id for f in shared] == ["env-host-not-a-service"]
    assert variant(tmp_path / "c", network_mode="host") == []
    # On a network made outside the project, an unknown name may be another stack's container.
    (outside,) = [
        f
        for f in variant(tmp_path / "d", networks={"shared": None, "default": None})
        if f.id == "env-host-not-a-service"
    ]
    assert outside.severity == "warning" and "external network" in outside.message


def test_a_service_of_a_profile_not_enabled_is_a_known_name(tmp_path: Path) -> None:
    folder = NEWER.write(tmp_path / "s")
    view = view_of(NEWER, folder)
    assert "queue" not in view.project.services and "queue" in view.inactive_names
    assert env_findings(view) == []
    override = NEWER.files["compose.override.yml"].replace(
        'REDIS_HOST: "queue"', 'REDIS_HOST: "queu"'
    )
    typo = NEWER.write(tmp_path / "t", **{"compose.override.yml": override})
    doc = NEWER.config(typo, backend={"REDIS_HOST": "queu"})
    (finding,) = env_findings(view_of(NEWER, typo, doc))
    assert (finding.id, finding.path) == ("env-host-not-a-service", "compose.override.yml")


HOST_SIDE_COMPOSE = """\
services:
  db:
    image: postgres:17
    ports:
      - "${DB_HOST_PORT:-5433}:5432"
  backend:
    image: backend:latest
    env_file: [.env]
    environment:
      COMPOSE_PROFILES: dev
      LOG_HOST: ${LOG_HOST:-logs}
  logs:
    image: logs:latest
"""


def test_host_side_variables_and_defaults_are_located_where_they_act(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "compose.yaml").write_text(HOST_SIDE_COMPOSE)
    (folder / ".env").write_text("DB_HOST_PORT=5433\nLOG_HOST=\n")
    env = {"DB_HOST_PORT": "5433", "LOG_HOST": "logs", "COMPOSE_PROFILES": "dev"}
    doc = {
        "services": {
            "db": {"image": "postgres:17", "ports": [{"target": 5432, "published": "5433"}]},
            "backend": {"image": "backend:latest", "environment": env},
            "logs": {"image": "logs:latest"},
        }
    }
    files = [folder / "compose.yaml"]
    view = collect(parse_config(doc, files=tuple(files)), read_source(files))
    leaks = {f.path: f for f in env_findings(view) if f.id == "env-host-variable-in-service"}
    # Handed over with the whole .env: said, not failed for; named in `environment:`: an error.
    assert (leaks[".env"].line, leaks[".env"].severity) == (1, "warning")
    assert (leaks["compose.yaml"].line, leaks["compose.yaml"].severity) == (10, "error")
    # `${LOG_HOST:-logs}` with `LOG_HOST=` empty: the compose default is what arrives.
    where = origin_of(view, "backend", "LOG_HOST")
    assert (where.path.name, where.line) == ("compose.yaml", 11)


def test_template_keeps_what_the_user_silenced(tmp_path: Path) -> None:
    compose = OLDER.files["docker-compose.yml"]
    block = compose.index("  backend:")
    without = compose[:block] + compose[block:].replace("      - POSTGRES_SERVER=db\n", "", 1)
    dotenv = OLDER.files[".env"].replace(
        "POSTGRES_SERVER=localhost",
        "POSTGRES_SERVER=localhost # omc-dev: ignore[env-host-loopback]",
    )
    folder = OLDER.write(tmp_path / "s", **{"docker-compose.yml": without, ".env": dotenv})
    doc = OLDER.config(folder, backend={"POSTGRES_SERVER": "localhost"})
    assert parse_template(render(view_of(OLDER, folder, doc)))["POSTGRES_SERVER"] == "localhost"
    plain = OLDER.write(tmp_path / "p", **{"docker-compose.yml": without})
    config = ProjectConfig(
        root=plain, data={"doctor": {"ignore": ["env-host-loopback:POSTGRES_SERVER"]}}
    )
    text = render(view_of(OLDER, plain, doc), Ignores.from_config(config))
    assert parse_template(text)["POSTGRES_SERVER"] == "localhost"
    assert parse_template(render(view_of(OLDER, plain, doc)))["POSTGRES_SERVER"] == "db"


def test_words_that_are_no_host_names_are_not_judged(tmp_path: Path) -> None:
    env = {
        "JUPYTER_SERVER": "true",
        "WALLET_ADDRESS": "0xab12cd",
        "RETRY_SERVER": "3",
        "MINIO_ENDPOINT": "localhost:9000",
    }
    found = env_findings(mini(tmp_path / "s", env))
    # Only the endpoint that names a server (MinIO) on localhost is an address at all.
    assert [(f.id, f.message.split(":")[0]) for f in found] == [
        ("env-host-loopback", "MINIO_ENDPOINT=localhost")
    ]


def test_env_rules_registered_as_checks_find_the_same_and_set_silenced_ones_apart(
    tmp_path: Path,
) -> None:
    from devtools.envfiles.rules import CHECKS, EnvModel
    from devtools.report.checks import run_checks

    compose = OLDER.files["docker-compose.yml"]
    backend_block = compose.index("  backend:")
    without = compose[:backend_block] + compose[backend_block:].replace(
        "      - POSTGRES_SERVER=db\n", "", 1
    )
    folder = OLDER.write(tmp_path / "s", **{"docker-compose.yml": without})
    view = view_of(OLDER, folder, OLDER.config(folder, backend={"POSTGRES_SERVER": "localhost"}))
    results = run_checks(CHECKS, EnvModel(view))
    assert [f for r in results for f in r.findings] == check(view) != []
    assert {r.id: r.status for r in results}["env-addresses"] == "fail"
    quiet = EnvModel(view, lambda name, finding: name == "POSTGRES_SERVER")
    kept = [f for r in run_checks(CHECKS, quiet) for f in r.findings]
    assert [f.id for f in quiet.silenced] == ["env-host-loopback"]
    assert sorted(kept + quiet.silenced, key=repr) == sorted(check(view), key=repr)
