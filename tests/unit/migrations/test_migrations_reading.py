"""Reading `upgrade()` fast never changes what is read.

A cold lint skips files that name no schema method, walks only the expressions whose text names
one, and parses each file once for both the graph and the operations. Each shortcut is checked
here against the full walk it replaces.
"""

from __future__ import annotations

import ast
import gc
import textwrap
from dataclasses import astuple
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools.migrations.cache import FileCache
from devtools.migrations.graph import read as graph_read
from devtools.migrations.graph.model import Problem
from devtools.migrations.lint import LintSettings, lint
from devtools.migrations.location import ScriptLocation
from devtools.migrations.ops import SCHEMA_METHODS, may_have_operations, read_operations
from tests.fixtures.migrations import revision_file as rf
from tests.fixtures.migrations import write_versions

# Statements as migrations write them, including schema calls nested where a whole-tree walk
# finds them: inside another op call's arguments, a comprehension, a lambda, a nested def, a
# `with` or `try` block, a dialect branch, and method names that only occur inside strings.
STATEMENTS = [
    'op.create_table("t", sa.Column("a", sa.DateTime(timezone=True)), sa.Column("b", sa.Text()))',
    'op.create_table(\n    "w",\n    sa.Column("a", sa.DateTime(timezone=True)),\n    sa.Column("e", sa.Enum("x", name="mood")),\n)',
    'op.bulk_insert(op.create_table("u", sa.Column("a", sa.DateTime(timezone=True))), [])',
    'op.bulk_insert(\n    op.create_table(\n        "v",\n        sa.Column("a", sa.DateTime(timezone=True)),\n    ),\n    [],\n)',
    '[op.create_index(n, "t", [sa.text("(a::date)")]) for n in ("ix_x", "ix_y")]',
    'with op.batch_alter_table("t") as batch_op:\n    batch_op.create_index("ix_b", [sa.text("lower(b)")])',
    'if op.get_context().dialect.name == "postgresql":\n    op.create_index("ix_pg", "t", [sa.text("(a::date)")])\nelse:\n    op.create_index("ix_lite", "t", [sa.text("(a::date)")])',
    'op.execute("CREATE INDEX ix_e ON t ((a::date))")',
    'op.execute(\n    "ALTER TABLE t ALTER COLUMN a TYPE timestamp"\n)',
    'op.execute(sa.text("CREATE INDEX ix_txt ON t (lower(b))"))',
    'name = "ix_named"',
    'op.create_index(name, "t", ["b"])',
    'result = op.execute("SELECT 1")',
    'print("create_index and execute, only in a string")',
    'op.alter_column("t", "a", type_=sa.DateTime())',
    'op.add_column("t", sa.Column("c", sa.Text()))',
    'op.drop_column("t", "c")',
    'op.rename_table("t", "t2")',
    'op.drop_table("t2")',
    "op.\uff43reate_index('ix_wide', 't', [sa.text('(a::date)')])",  # fullwidth c: the same name
    'helper = lambda: op.drop_table("t")',
    'for table in ("t",):\n    op.add_column(table, sa.Column("d", sa.Text()))',
    'try:\n    op.drop_column("t", "b")\nexcept Exception:\n    pass',
    'def inner():\n    op.create_index("ix_inner", "t", ["b"])',
    'op.create_index(\n    "ix_multi",\n    "t",\n    [sa.func.date(sa.column("a"))],\n    postgresql_where=sa.text("b IS NOT NULL"),\n)',
    'op.create_foreign_key("fk", "t", "u", ["a"], ["a"])',
    "pass",
]


def source_of(statements: list[str]) -> bytes:
    body = textwrap.indent("\n".join(statements) or "pass", "    ")
    return rf("r1", upgrade=body).encode()


Read = tuple[list[tuple[str, tuple[object, ...]]], list[tuple[int, str]]]


def canonical(source: bytes, *, shortcuts: bool) -> Read:
    operations, problems = read_operations(ast.parse(source), source if shortcuts else None)
    return [(type(op).__name__, astuple(op)) for op in operations], problems


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(STATEMENTS), max_size=8))
def test_the_targeted_walk_reads_what_the_whole_tree_walk_reads(statements: list[str]) -> None:
    source = source_of(statements)
    assert canonical(source, shortcuts=True) == canonical(source, shortcuts=False)


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (STATEMENTS[2], ["CreateTable"]),  # in another op call's arguments
        (STATEMENTS[3], ["CreateTable"]),  # the same, over several lines
        (STATEMENTS[4], ["CreateIndex"]),  # in a comprehension
        (STATEMENTS[5], ["CreateIndex"]),  # batch_op in a with block
        (STATEMENTS[6], ["CreateIndex"]),  # the PostgreSQL branch only
        (STATEMENTS[19], ["CreateIndex"]),  # a fullwidth letter in the name
        (STATEMENTS[20], ["DropTable"]),  # in a lambda
        (STATEMENTS[22], ["DropColumn"]),  # in a try block
        (STATEMENTS[23], ["CreateIndex"]),  # in a nested function
        (STATEMENTS[24], ["CreateIndex"]),  # over several lines
        (STATEMENTS[13], []),  # only named inside a string
    ],
)
def test_schema_calls_are_found_wherever_they_are_nested(
    statement: str, expected: list[str]
) -> None:
    operations, _ = canonical(source_of([statement]), shortcuts=True)
    assert [name for name, _ in operations] == expected


@pytest.mark.parametrize("method", sorted(SCHEMA_METHODS))
def test_a_file_naming_any_schema_method_is_read(method: str) -> None:
    calls = {
        "create_table": 'op.create_table("t", sa.Column("a", sa.Text()))',
        "add_column": 'op.add_column("t", sa.Column("a", sa.Text()))',
        "alter_column": 'op.alter_column("t", "a", type_=sa.Text())',
        "drop_column": 'op.drop_column("t", "a")',
        "drop_table": 'op.drop_table("t")',
        "rename_table": 'op.rename_table("t", "u")',
        "create_index": 'op.create_index("ix", "t", ["a"])',
        "execute": 'op.execute("CREATE TABLE t (a text)")',
    }
    source = source_of([calls[method]])
    assert may_have_operations(source)
    operations, _ = read_operations(ast.parse(source), source)
    assert operations


def test_a_file_naming_no_schema_method_is_skipped() -> None:
    source = source_of(['op.create_foreign_key("fk", "t", "u", ["a"], ["a"])', "pass"])
    assert not may_have_operations(source)
    assert read_operations(ast.parse(source)) == ([], [])
    wide = source_of(["op.\uff43reate_index('ix', 't', ['a'])"])  # not ASCII: never skipped
    assert may_have_operations(wide) and read_operations(ast.parse(wide), wide)[0]


def test_lint_parses_each_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMC_NO_CACHE", "1")
    upgrade = textwrap.indent(
        'op.create_table("t", sa.Column("a", sa.DateTime(timezone=True)))\n'
        'op.create_index("ix", "t", [sa.text("(a::date)")])',
        "    ",
    )
    files = {"a1.py": rf("a1", upgrade=upgrade), "b2.py": rf("b2", "a1"), "c3.py": rf("c3", "b2")}
    folder = write_versions(tmp_path / "m", files)
    parsed: list[bytes] = []
    real_parse = graph_read.parse_source

    def counting_parse(data: bytes) -> tuple[ast.Module | None, Problem | None]:
        parsed.append(data)
        return real_parse(data)

    monkeypatch.setattr(graph_read, "parse_source", counting_parse)
    monkeypatch.setattr("devtools.migrations.lint.parse_source", counting_parse)
    result = lint(ScriptLocation((folder / "versions",)), LintSettings(), cwd=tmp_path)
    assert [f.id for f in result.findings] == ["non-immutable-index"]
    assert sorted(parsed) == sorted(text.encode() for text in files.values())
    assert gc.isenabled()


def test_a_graph_cached_by_heads_still_gives_lint_every_operation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`heads` caches declarations only; lint then parses the files for their operations."""
    upgrade = textwrap.indent(
        'op.create_table("t", sa.Column("a", sa.DateTime(timezone=True)))\n'
        'op.create_index("ix", "t", [sa.text("(a::date)")])',
        "    ",
    )
    folder = write_versions(tmp_path / "m", {"a1.py": rf("a1", upgrade=upgrade)})
    location = ScriptLocation((folder / "versions",))
    monkeypatch.setenv("OMC_NO_CACHE", "1")
    cold = lint(location, LintSettings(), cwd=tmp_path).findings
    monkeypatch.delenv("OMC_NO_CACHE")
    monkeypatch.setenv("OMC_CACHE_DIR", str(tmp_path / "cache"))
    graph_cache = FileCache(location.describe(), "graph")
    graph_read.load_history(location, tmp_path, cache=graph_cache)
    graph_cache.save()
    assert list((tmp_path / "cache").glob("migrations-*-graph.pickle"))
    for _ in range(2):  # the ops cache is filled by the first run, read by the second
        assert lint(location, LintSettings(), cwd=tmp_path).findings == cold
    assert [f.id for f in cold] == ["non-immutable-index"]


def test_both_front_ends_emit_the_one_ddl_model() -> None:
    """An index written as an op call and as SQL is the same value, but for where it came from."""
    from dataclasses import replace

    from devtools.migrations.ddl import CreateIndex
    from devtools.migrations.expr import to_sql

    source = textwrap.dedent(
        """\
        def upgrade():
            op.create_index("ix", "orders", ["email"], unique=True, postgresql_where=sa.text("qty > 0"))
            op.execute("CREATE UNIQUE INDEX ix ON orders (email) WHERE qty > 0")
        """
    )
    operations, problems = read_operations(ast.parse(source), source.encode())
    assert problems == []
    by_call, by_sql = operations
    assert isinstance(by_call, CreateIndex) and isinstance(by_sql, CreateIndex)
    assert (by_call.how, by_sql.how, by_call.line, by_sql.line) == (
        "op.create_index",
        "CREATE INDEX in op.execute",
        2,
        3,
    )

    def shape(index: CreateIndex) -> tuple[object, ...]:
        parts = [(p.text, p.node and to_sql(p.node), p.is_predicate) for p in index.parts]
        return (*astuple(replace(index, parts=())), parts)

    assert by_call.unique and shape(replace(by_sql, line=2, how="op.create_index")) == shape(
        by_call
    )
