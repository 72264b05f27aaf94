from __future__ import annotations

from pathlib import Path

import pytest

from devtools.compose.source import input_problem, read_source, variables_in
from devtools.errors import UnusableInput

COMPOSE = """\
x-app: &app
  image: debian:bookworm-slim
  env_file: [common.env]
  environment:
    POSTGRES_SERVER: db
    SHARED: "1"

services:
  web:
    <<: *app
    environment:
      - POSTGRES_PORT=5432
      - PASSTHROUGH
    ports:
      - "${WEB_PORT:-8080}:80"
      - target: 443
        published: ${TLS_PORT}
    volumes:
      - ${SRC_DIR:-.}:/src
      - type: bind
        source: ${DATA}
        target: /data
  worker:
    <<: *app
    env_file:
      - path: ./worker.env
        required: false
    command: ["run", "$${LITERAL}", "${COMMAND_ARG}"]
"""


def test_entries_carry_file_line_and_service(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    source = read_source([tmp_path / "compose.yaml"])
    env = {(e.service, e.name): (e.value, e.line) for e in source.environment}
    # An explicit `environment:` replaces the anchor's; a merged one keeps the anchor's lines.
    assert env == {
        ("web", "POSTGRES_PORT"): ("5432", 12),
        ("web", "PASSTHROUGH"): (None, 13),
        ("worker", "POSTGRES_SERVER"): ("db", 5),
        ("worker", "SHARED"): ("1", 6),
    }
    files = {(r.service, r.path.name, r.required, r.line) for r in source.env_files}
    assert files == {("web", "common.env", True, 3), ("worker", "worker.env", False, 26)}
    host_side = source.host_side_variables()
    assert set(host_side) == {"WEB_PORT", "TLS_PORT", "SRC_DIR", "DATA"}
    assert (host_side["WEB_PORT"].line, host_side["WEB_PORT"].default) == (15, "8080")
    assert (host_side["TLS_PORT"].line, host_side["DATA"].line) == (17, 21)
    others = {v.name for v in source.variables if not v.host_side}
    assert others == {"COMMAND_ARG"}  # "$${LITERAL}" is an escaped dollar, not a variable


def test_variables_in_text() -> None:
    assert list(variables_in("${A}-${B:-x}-${C-y}-${D:?err}-$E-$$F")) == [
        ("A", None),
        ("B", "x"),
        ("C", "y"),
        ("D", None),
        ("E", None),
    ]


def test_invalid_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text("services:\n  db:\n    image: x\n   ports: [1]\n")
    with pytest.raises(UnusableInput, match=r"compose\.yaml:4: invalid YAML"):
        read_source([path])
    assert input_problem([path]) is not None and ":4: invalid YAML" in str(input_problem([path]))


def test_input_problem_names_a_malformed_env_file(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    (tmp_path / "common.env").write_text("A=1\nNOT VALID=2\n")
    problem = input_problem([tmp_path / "compose.yaml"])
    assert problem == f"{tmp_path / 'common.env'}:2: variable name 'NOT VALID' contains a space"
