"""The readers of compose files, `.env` files and deliverables on input that broke them: alias
bombs, self-containing anchors, deep nesting, bytes that are not UTF-8, a byte order mark,
binary data where source belongs. Each answers in one line, at once; real files still pass."""

from __future__ import annotations

import random
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import pytest

from devtools.compose.aliases import MAX_DEPTH, MAX_EXPANDED_NODES, check_expansion
from devtools.compose.dotenv import parse_file
from devtools.compose.source import input_problem, read_source
from devtools.errors import UnusableInput
from devtools.verify.binary import binary_problem


def bomb(levels: int = 9, width: int = 9) -> str:
    lines = ["x-a0: &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"x-a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    lines += ["services:", "  web:", "    image: debian:bookworm-slim", f"    x-b: *a{levels - 1}"]
    return "\n".join(lines) + "\n"


# The older FastAPI template's shape: anchors merged into several services, labels with
# interpolation, an override-style `!reset` tag.
ANCHORED = """\
x-common: &common
  restart: always
  env_file: [.env]
  networks: [default]
  labels: &labels
    - traefik.enable=true
    - traefik.constraint-label=traefik-public
x-backend-env: &backend-env
  POSTGRES_SERVER: db
  SMTP_HOST: ${SMTP_HOST}
services:
  db:
    <<: *common
    image: postgres:15
    volumes: [app-db-data:/var/lib/postgresql/data/pgdata]
  prestart:
    <<: *common
    image: "${DOCKER_IMAGE_BACKEND?Variable not set}:${TAG-latest}"
    command: bash scripts/prestart.sh
    environment: *backend-env
  backend:
    <<: *common
    image: "${DOCKER_IMAGE_BACKEND?Variable not set}:${TAG-latest}"
    environment:
      <<: *backend-env
      FRONTEND_HOST: ${FRONTEND_HOST?Variable not set}
    labels: *labels
    ports: !reset []
volumes:
  app-db-data:
"""


def write(tmp_path: Path, text: str | bytes, name: str = "compose.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


@contextmanager
def within(seconds: int) -> Iterator[None]:
    """Fail (not hang) when the block takes longer than `seconds`."""

    def _alarm(_signum: int, _frame: FrameType | None) -> None:
        raise AssertionError(f"still reading after {seconds} s")

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_an_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, bomb())
    with within(5), pytest.raises(UnusableInput, match="alias bomb"):
        read_source([path])  # its walks visit every copy: they would never finish
    with pytest.raises(UnusableInput, match=f"expand to more than {MAX_EXPANDED_NODES:,}"):
        check_expansion(path)


def test_an_anchor_containing_itself_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "services:\n  web:\n    image: x\nx-loop: &loop [1, *loop]\n")
    with pytest.raises(UnusableInput, match=r"compose.yaml:4: a YAML anchor contains an alias"):
        check_expansion(path)
    with within(5), pytest.raises(UnusableInput, match="contains an alias of itself"):
        read_source([path])  # its walks would go round for ever


@pytest.mark.parametrize("depth", [MAX_DEPTH + 5, 3000])
def test_deep_nesting_is_refused(tmp_path: Path, depth: int) -> None:
    deep = "[" * depth + "]" * depth
    path = write(tmp_path, f"services:\n  web:\n    image: x\nx-deep: {deep}\n")
    with within(5):
        assert "levels deep" in (input_problem([path]) or "")
    with pytest.raises(UnusableInput, match="levels deep"):
        check_expansion(path)


def test_real_anchors_and_merges_pass(tmp_path: Path) -> None:
    path = write(tmp_path, ANCHORED)
    check_expansion(path)
    source = read_source([path])
    assert {e.service for e in source.environment} == {"prestart", "backend"}
    # Just below the limits passes too.
    wide = write(tmp_path, bomb(levels=4, width=10), "wide.yaml")  # ~11,000 nodes
    check_expansion(wide)


def test_non_utf8_compose_file_names_the_line(tmp_path: Path) -> None:
    path = write(
        tmp_path, b'services:\n  a:\n    image: x\n    environment:\n      X: "\xff\xfe"\n'
    )
    with pytest.raises(UnusableInput, match=r"compose.yaml:5: not UTF-8 text"):
        read_source([path])
    assert input_problem([path]) == f"{path}:5: not UTF-8 text: save the file as UTF-8"


def test_a_byte_order_mark_is_not_part_of_the_first_name(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeffPOSTGRES_SERVER=localhost\nBAD KEY=1\n".encode(), ".env")
    # The first line is read (Compose reads it too); the real problem on line 2 is the one named.
    with pytest.raises(UnusableInput, match=r"\.env:2: variable name 'BAD KEY' contains a space"):
        parse_file(path)
    path.write_bytes("\ufeffPOSTGRES_SERVER=localhost\nSMTP_HOST=\n".encode())
    assert [(v.name, v.value, v.line) for v in parse_file(path)] == [
        ("POSTGRES_SERVER", "localhost", 1),
        ("SMTP_HOST", "", 2),
    ]


def test_binary_data_where_source_belongs_is_named() -> None:
    noise = random.Random(7).randbytes(4096)
    assert binary_problem("backend/app/orders.py", noise)
    assert binary_problem("web/src/pages/Orders.tsx", b"\x89PNG\r\n\x1a\n\0\0\0")
    # Short noise without a NUL byte is still noise.
    short = bytes(b for b in random.Random(8).randbytes(300) if b)[:200]
    assert binary_problem("Dockerfile", short)
    # Not judged: real text in any encoding, and kinds that may be binary by design.
    assert binary_problem("app/legacy.py", "# café, naïve\nx = 1\n".encode("latin-1")) is None
    assert binary_problem("app/main.py", "print('héllo')\n".encode()) is None
    assert binary_problem("assets/logo.png", noise) is None
    assert binary_problem("models/weights.bin", noise) is None
    assert binary_problem("app/empty.py", b"") is None
