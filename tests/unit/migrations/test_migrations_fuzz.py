"""Arbitrary Python and SQL never crash the linter: it reports, it does not raise."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devtools.migrations.catalog import load_catalog
from devtools.migrations.expr import TypeName, to_sql
from devtools.migrations.graph.alembic import build_graph
from devtools.migrations.graph.read import read_revision
from devtools.migrations.graph.rules import graph_findings
from devtools.migrations.lint import index_findings
from devtools.migrations.sql import SqlError, is_index_element, parse_expression, parse_statements
from devtools.migrations.volatility import judge

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
COLUMNS = {
    "a": TypeName("timestamptz"),
    "b": TypeName("text"),
    "c": TypeName("int4"),
    "d": TypeName("date"),
}

SQL_TOKENS = st.sampled_from(
    [
        "a",
        "b",
        "c",
        "d",
        "lower",
        "date_trunc",
        "now",
        "(",
        ")",
        ",",
        "::",
        "date",
        "text",
        "timestamptz",
        "AT",
        "TIME",
        "ZONE",
        "'UTC'",
        "'x'",
        "1",
        "2.5",
        "||",
        "+",
        "-",
        "*",
        "/",
        "=",
        "<",
        ">",
        "<>",
        "AND",
        "OR",
        "NOT",
        "IS",
        "NULL",
        "IN",
        "BETWEEN",
        "LIKE",
        "CASE",
        "WHEN",
        "THEN",
        "ELSE",
        "END",
        "CAST",
        "AS",
        "ARRAY",
        "[",
        "]",
        "->>",
        "COALESCE",
        "extract",
        "FROM",
        "$1",
        "E'q\\''",
        "$$d$$",
        '"Q"',
        "CURRENT_DATE",
        "DISTINCT",
        "ANY",
        "CREATE",
        "INDEX",
        "ON",
        "t",
        "WHERE",
        "TABLE",
        "ALTER",
        "ADD",
        "COLUMN",
        "TYPE",
        ";",
        "FUNCTION",
        "RETURNS",
        "IMMUTABLE",
        "ENUM",
        "/*",
        "*/",
        "--",
        "\n",
        "OPERATOR",
        ".",
    ]
)
sql_soup = st.lists(SQL_TOKENS, max_size=30).map(" ".join)
any_text = st.text(max_size=300)


def safe_judge(text: str, predicate: bool) -> None:
    try:
        node = parse_expression(text)
    except SqlError:
        return
    to_sql(node)
    verdict = judge(node, load_catalog(15), COLUMNS, table="t", predicate=predicate)
    assert verdict.immutable in (True, False, None)


@FUZZ
@given(st.one_of(any_text, sql_soup), st.booleans())
def test_any_sql_expression_is_parsed_or_refused_never_crashes(text: str, predicate: bool) -> None:
    safe_judge(text, predicate)
    assert is_index_element(text) in (True, False)


@FUZZ
@given(st.one_of(any_text, sql_soup))
def test_any_sql_statement_text_is_parsed_or_reported(text: str) -> None:
    for parsed in parse_statements(text):
        assert 0 <= parsed.offset <= len(text)
        assert not parsed.operations or parsed.error is None


PY_PIECES = st.sampled_from(
    [
        'revision = "a1"\n',
        "down_revision = None\n",
        'down_revision = ("a1", "b2")\n',
        'revision: str = "b2"\n',
        'down_revision = "a1"\n',
        'branch_labels = ("x",)\n',
        'depends_on = "a1"\n',
        "import sqlalchemy as sa\nfrom alembic import op\n",
        "def upgrade():\n",
        "    op.create_table('t', sa.Column('a', sa.DateTime(timezone=True)))\n",
        "    op.create_index('ix', 't', [sa.text('(a::date)')])\n",
        "    op.create_index('ix', 't', [sa.func.lower(sa.column('b'))], postgresql_where=sa.column('a') > sa.func.now())\n",
        '    op.execute("CREATE INDEX i ON t ((a::date)) WHERE a > now()")\n',
        "    op.add_column('t', sa.Column('b', sa.Text()))\n",
        "    op.alter_column('t', 'a', type_=sa.Date())\n",
        "    with op.batch_alter_table('t') as batch_op:\n        batch_op.create_index('i', [sa.text('lower(b)')])\n",
        "    op.execute(SQL)\n",
        "SQL = f'CREATE INDEX {x}'\n",
        "    pass\n",
        "if x:\n    revision = 'z'\n",
        '"""Revision ID: fake\nRevises: nope\n"""\n',
        "# down_revision = 'zz'\n",
        "    op.create_index(*args)\n",
        "    op.create_index('i', 't', [sa.cast(sa.column('a'), sa.Date)])\n",
        "(\n",
        "    sa.text(\n",
    ]
)
python_soup = st.lists(PY_PIECES, max_size=12).map("".join)


@FUZZ
@given(
    st.lists(
        st.one_of(
            python_soup,
            any_text,
            sql_soup.map(lambda s: f"def upgrade():\n    op.execute({s!r})\n"),
        ),
        max_size=4,
    )
)
def test_any_python_in_a_versions_folder_is_linted_never_crashes(sources: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        revisions = []
        for number, source in enumerate(sources):
            path = Path(tmp) / f"r{number}.py"
            path.write_text(source)
            revisions.append(read_revision(str(path), path.name))
        graph = build_graph(revisions)
        for finding in graph_findings(graph) + index_findings(graph, load_catalog(15)):
            assert finding.message and finding.id


def test_deep_nesting_is_refused_not_a_recursion_error() -> None:
    for depth in (50, 119, 400):
        text = "(" * depth + "a" + ")" * depth
        try:
            node = parse_expression(text)
        except SqlError:
            continue
        assert judge(node, load_catalog(15), COLUMNS, table="t").immutable is True
    assert (
        judge(
            parse_expression(" || ".join(["b"] * 300)), load_catalog(15), COLUMNS, table="t"
        ).immutable
        is True
    )
