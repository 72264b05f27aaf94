"""Whatever bytes the files omc-dev reads hold, each reader answers or refuses in one line.

Over the readers of `[tool.omc-dev]` (pyproject.toml), compose files, `.env` files, the port
registry (ports.jsonl), price feeds and migrations: a result or a `UserError` (what the CLI turns
into one line and exit 2 or 125), never another exception (what would be "internal error",
exit 70), and never longer than `LIMIT_SECONDS` (an alarm turns a hang into a failure). The
strategies mix arbitrary text and bytes with the shapes that broke the readers before: deep
nesting, alias bombs, numbers past what a Decimal or a datetime holds, a byte order mark.
"""

from __future__ import annotations

import json
import signal
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools.compose.aliases import check_expansion
from devtools.compose.dotenv import parse_file
from devtools.compose.source import read_source
from devtools.config import read_tool_table
from devtools.errors import UserError
from devtools.migrations.catalog import load_catalog
from devtools.migrations.graph.alembic import build_graph
from devtools.migrations.graph.read import read_revision
from devtools.migrations.graph.rules import graph_findings
from devtools.migrations.lint import index_findings
from devtools.tracks import registry
from kernel.errors import KernelError
from kernel.prices import read_replay

LIMIT_SECONDS = 5
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class Hung(Exception):
    pass


@contextmanager
def time_limit(seconds: int = LIMIT_SECONDS) -> Iterator[None]:
    def _alarm(_signum: int, _frame: FrameType | None) -> None:
        raise Hung(f"a reader took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def answers_or_refuses(read: Callable[[Path], Any], name: str, content: str | bytes) -> None:
    """`read(path)` for a file holding `content`: a result or a UserError, in time."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(
            content.encode("utf-8", "surrogatepass") if isinstance(content, str) else content
        )
        with time_limit():
            try:
                read(path)
            except (UserError, KernelError) as exc:  # the kernel's own errors, for the feed
                message = str(exc)
                assert message and "\n" not in message.strip(), message


def nest(depth: int, open_: str = "[", close: str = "]") -> str:
    return open_ * depth + close * depth


depths = st.sampled_from([1, 5, 50, 99, 101, 300, 999, 1001, 3000, 20_000])
any_text = st.text(max_size=400)
any_bytes = st.binary(max_size=400)


# --- pyproject.toml -------------------------------------------------------------------------------

toml_values = st.one_of(
    depths.map(nest),
    depths.map(lambda d: nest(d, "{a=", "}")),
    st.sampled_from(
        ['"x"', "1", "1e400", "inf", "nan", "[1, 'a']", "{ a = 1 }", "'''\n'''", '"\\ud800"']
    ),
)
toml_docs = st.one_of(
    st.builds(lambda v: f"[tool.omc-dev]\nx = {v}\n", toml_values),
    st.builds(lambda v: f"[tool]\nomc-dev = {v}\n", toml_values),
    st.builds(lambda t: f"[tool.omc-dev]\n{t}", any_text),
    any_bytes,
)


@FUZZ
@given(toml_docs)
def test_any_pyproject_is_read_or_refused(doc: str | bytes) -> None:
    answers_or_refuses(read_tool_table, "pyproject.toml", doc)


# --- compose files ----------------------------------------------------------------------------------


@st.composite
def alias_soup(draw: st.DrawFn) -> str:
    """Anchors built on earlier anchors (a bomb when wide and deep), maybe one that holds itself."""
    levels = draw(st.integers(1, 10))
    width = draw(st.integers(1, 12))
    lines = ["x-a0: &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"x-a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    if draw(st.booleans()):
        lines.append("x-loop: &loop [1, {k: *loop}]")
    lines += [
        "services:",
        "  web:",
        "    image: debian:bookworm-slim",
        "    environment:",
        f"      X: ${{{draw(st.sampled_from(['A', 'B:-1', 'C?err']))}}}",
        f"    x-b: *a{levels - 1}",
        "    <<: *a0" if draw(st.booleans()) else "    ports: ['${P:-80}:80']",
    ]
    return "\n".join(lines) + "\n"


compose_docs = st.one_of(
    alias_soup(),
    depths.map(lambda d: f"services:\n  web:\n    image: x\n    x-deep: {nest(d)}\n"),
    depths.map(
        lambda d: "services:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(min(d, 400)))
    ),
    st.builds(
        lambda t: f"services:\n  web:\n    image: x\n    command: {json.dumps(t)}\n", any_text
    ),
    any_text,
    any_bytes,
)


def read_compose(path: Path) -> None:
    check_expansion(path)
    read_source([path])


@FUZZ
@given(compose_docs)
def test_any_compose_file_is_read_or_refused(doc: str | bytes) -> None:
    answers_or_refuses(read_compose, "compose.yaml", doc)


# --- .env ---------------------------------------------------------------------------------------------

env_lines = st.one_of(
    st.sampled_from(
        [
            "KEY=value",
            "export KEY=value",
            'KEY="a\\nb',
            "KEY='x",
            "KEY='",
            '"',
            "=x",
            "BAD KEY=1",
            "KEY: v # c",
            "\ufeffKEY=1",
            "KEY",
            "KEY=${OTHER:-x}",
        ]
    ),
    any_text,
)
env_docs = st.one_of(st.lists(env_lines, max_size=12).map("\n".join), any_bytes)


@FUZZ
@given(env_docs)
def test_any_env_file_is_read_or_refused(doc: str | bytes) -> None:
    answers_or_refuses(parse_file, ".env", doc)


# --- the port registry --------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
entry_like = st.fixed_dictionaries(
    {
        "repo": st.sampled_from(["/r/.git", "", 1]),
        "repo_name": st.just("shop"),
        "track": st.sampled_from(["main", "", None]),
        "project": st.just("shop-main"),
        "worktrees": st.sampled_from([["/nowhere"], "x", [1]]),
        "ports": st.lists(
            st.fixed_dictionaries(
                {
                    "service": st.just("db"),
                    "target": st.sampled_from([5432, 0, 10**30, True, "5432"]),
                    "protocol": st.just("tcp"),
                    "host_ip": st.sampled_from([None, "127.0.0.1", 7]),
                    "published": st.sampled_from([21000, 21000, 65536, -1, 1e400]),
                }
            ),
            max_size=3,
        ),
        "updated": st.sampled_from([1.0, "x", 10**400, float("nan")]),
    }
)
registry_lines = st.one_of(
    json_values.map(json.dumps), entry_like.map(json.dumps), depths.map(nest), any_text
)
registry_docs = st.one_of(
    st.lists(registry_lines, max_size=5).map(
        lambda lines: "\n".join([json.dumps(registry.HEADER), *lines]) + "\n"
    ),
    any_bytes,
)


@FUZZ
@given(registry_docs)
def test_any_port_registry_is_read_or_refused(doc: str | bytes) -> None:
    answers_or_refuses(registry.read, registry.REGISTRY_FILE, doc)


# --- price feeds ----------------------------------------------------------------------------------------

numbers = st.sampled_from(
    ["1", "0.5", "0", "-1", "1e400", "1e-400", "1e-9", "1e12", "1e13", "nan", "inf", "-inf", "sNaN",
     "1e999999999999999999", "99999999999999999999999999999", "", "x", "1_000", "0x10"]
)  # fmt: skip
times = st.sampled_from(
    ["2024-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00", "1700000000",
     "1700000000000", "1e300", "-1e300", "nan", "2024-13-01", "", "x", "253402300800"]
)  # fmt: skip
csv_rows = st.lists(
    st.tuples(times, st.sampled_from(["btc", "eth", "", " "]), numbers, numbers, numbers).map(
        ",".join
    ),
    min_size=1,
    max_size=5,
)
csv_feeds = csv_rows.map(lambda rows: "timestamp,symbol,bid,ask,last\n" + "\n".join(rows) + "\n")
json_feeds = st.one_of(
    st.lists(
        st.fixed_dictionaries(
            {
                "timestamp": st.one_of(times, st.integers(), st.floats()),
                "symbol": st.sampled_from(["btc", "", 1]),
                "bid": st.one_of(numbers, st.floats(), st.integers()),
                "ask": numbers,
                "last": numbers,
            }
        ),
        min_size=1,
        max_size=4,
    ).map(json.dumps),
    st.builds(lambda b: json.dumps({"prices": {"btc": {"bid": b, "ask": b, "last": b}}}), numbers),
    depths.map(nest),
    json_values.map(json.dumps),
)
feeds = st.one_of(
    st.tuples(st.just("feed.csv"), st.one_of(csv_feeds, any_text, any_bytes)),
    st.tuples(st.just("feed.json"), st.one_of(json_feeds, any_bytes)),
)


def read_feed(path: Path) -> None:
    read_replay(path, start=datetime(2024, 1, 1, tzinfo=UTC), bar_seconds=60)


@FUZZ
@given(feeds)
def test_any_price_feed_is_read_or_refused(feed: tuple[str, str | bytes]) -> None:
    name, content = feed
    answers_or_refuses(read_feed, name, content)


# --- migrations -----------------------------------------------------------------------------------------

chains = st.builds(
    lambda op, n, wrap: (f" {op} ".join(["b"] * n)).join(("(", ")") if wrap else ("", "")),
    st.sampled_from(["||", "+", "*", "AND", "OR", "=", "->>"]),
    st.sampled_from([1, 2, 50, 150, 299, 300, 301, 600, 1200]),
    st.booleans(),
)


def migration(expression: str, how: str) -> str:
    table = "    op.create_table('t', sa.Column('a', sa.DateTime(timezone=True)), sa.Column('b', sa.Text()))\n"
    if how == "text":
        call = f"    op.create_index('ix', 't', [sa.text({expression!r})])\n"
    elif how == "where":
        call = f"    op.create_index('ix', 't', ['b'], postgresql_where=sa.text({expression!r}))\n"
    else:
        call = f"    op.execute({f'CREATE INDEX ix ON t (({expression}))'!r})\n"
    return (
        '"""r1"""\nfrom alembic import op\nimport sqlalchemy as sa\n\nrevision = "r1"\n'
        f"down_revision = None\n\n\ndef upgrade():\n{table}{call}"
    )


def lint_one(path: Path) -> None:
    graph = build_graph([read_revision(str(path), path.name)])
    for finding in graph_findings(graph) + index_findings(graph, load_catalog(15)):
        assert finding.message


@FUZZ
@given(
    st.one_of(
        st.builds(migration, chains, st.sampled_from(["text", "where", "execute"])),
        depths.map(lambda d: f"def upgrade():\n    x = {nest(d, '(', ')')}\n"),
        any_text,
    )
)
def test_any_migration_is_linted_or_refused(source: str) -> None:
    answers_or_refuses(lint_one, "r1.py", source)
