"""Indexes as migrations really write them, judged against the schema the history builds."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from devtools.migrations.lint import LintSettings, lint, select_rules
from devtools.migrations.location import ScriptLocation
from tests.fixtures.migrations import revision_file as rf
from tests.fixtures.migrations import write_versions

ORDERS = """\
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("placed", sa.DateTime()),
        sa.Column("email", sa.String(200)),
        sa.Column("deleted_at", postgresql.TIMESTAMP(timezone=True)),
        sa.Column("mood", sa.Enum("happy", "sad", name="mood")),
        sa.Column("tags", postgresql.ARRAY(sa.Text())),
    )
"""


@pytest.fixture(autouse=True)
def no_user_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process lint runs must not write into the developer's ~/.cache."""
    monkeypatch.setenv("OMC_NO_CACHE", "1")


def body(text: str) -> str:
    return textwrap.indent(textwrap.dedent(text), "    ")


def run(
    tmp_path: Path, *revisions: tuple[str, str | tuple[str, ...] | None, str], pg: int = 15
) -> list[tuple[str, str, int | None, str, str | None]]:
    files = {
        f"{rid}.py": rf(rid, down, upgrade=upgrade).replace(
            "import sqlalchemy as sa",
            "import sqlalchemy as sa\nfrom sqlalchemy.dialects import postgresql",
        )
        for rid, down, upgrade in revisions
    }
    folder = write_versions(tmp_path / "m", files)
    settings = LintSettings(pg_version=pg, rules=select_rules(["index"]))
    result = lint(ScriptLocation((folder / "versions",)), settings, cwd=tmp_path)
    return [(f.id, Path(f.path or "").stem, f.line, f.message, f.fix) for f in result.findings]


def test_the_classic_timestamptz_to_date_unique_index(tmp_path: Path) -> None:
    upgrade = ORDERS + body(
        'op.create_index("uq_day", "orders", [sa.text("(created_at::date)")], unique=True)'
    )
    ((rule, rid, line, message, fix),) = run(tmp_path, ("a1", None, upgrade))
    assert (rule, rid) == ("non-immutable-index", "a1")
    assert "uq_day on orders" in message and "date(timestamp with time zone)" in message
    assert fix == "write `((created_at AT TIME ZONE 'UTC')::date)` instead"
    assert line == ORDERS.count("\n") + 20  # the line of the op.create_index call


def test_the_fixed_version_is_clean(tmp_path: Path) -> None:
    upgrade = ORDERS + body(
        'op.create_index("uq_day", "orders", [sa.text("((created_at AT TIME ZONE \'UTC\')::date)")], unique=True)'
    )
    assert run(tmp_path, ("a1", None, upgrade)) == []


def test_column_types_follow_the_history(tmp_path: Path) -> None:
    first = ORDERS + body('op.create_index("ix_placed", "orders", [sa.text("(placed::date)")])')
    altered = body(
        'op.alter_column("orders", "placed", type_=sa.DateTime(timezone=True))\nop.create_index("ix_placed2", "orders", [sa.text("(placed::date)")])'
    )
    found = run(tmp_path, ("a1", None, first), ("b2", "a1", altered))
    assert [(r, rid) for r, rid, *_ in found] == [("non-immutable-index", "b2")]


def test_sqlalchemy_expressions_and_predicates(tmp_path: Path) -> None:
    upgrade = ORDERS + body(
        """
        op.create_index("ix_email", "orders", [sa.func.lower(sa.column("email"))])
        op.create_index("ix_live", "orders", ["email"], postgresql_where=sa.column("deleted_at").is_(None))
        op.create_index("ix_recent", "orders", ["email"], postgresql_where=sa.column("created_at") > sa.func.now())
        op.create_index("ix_trunc", "orders", [sa.func.date_trunc("day", sa.column("created_at"))])
        op.create_index("ix_cast", "orders", [sa.cast(sa.column("created_at"), sa.Date)])
        op.create_index("ix_mood", "orders", [sa.text("(mood::text)")])
        """
    )
    found = run(tmp_path, ("a1", None, upgrade))
    flagged = {
        m.split(" on ")[0].removeprefix("index ")
        for r, _, _, m, _ in found
        if r == "non-immutable-index"
    }
    assert flagged == {"ix_recent", "ix_trunc", "ix_cast", "ix_mood"}


def test_sixteen_accepts_three_argument_date_trunc(tmp_path: Path) -> None:
    upgrade = ORDERS + body(
        'op.create_index("ix", "orders", [sa.text("date_trunc(\'day\', created_at, \'UTC\')")])'
    )
    assert [r for r, *_ in run(tmp_path, ("a1", None, upgrade), pg=15)] == ["non-immutable-index"]
    assert run(tmp_path / "16", ("a1", None, upgrade), pg=16) == []


def test_sa_index_in_create_table_and_batch_operations(tmp_path: Path) -> None:
    create = body(
        """
        op.create_table(
            "events",
            sa.Column("at", sa.TIMESTAMP(timezone=True)),
            sa.Index("ix_events_day", sa.text("(at::date)")),
        )
        with op.batch_alter_table("events") as batch_op:
            batch_op.add_column(sa.Column("local", sa.DateTime()))
            batch_op.create_index("ix_local_day", [sa.text("(local::date)")])
        """
    )
    found = run(tmp_path, ("a1", None, create))
    assert [(r, m.split(" on ")[0]) for r, _, _, m, _ in found] == [
        ("non-immutable-index", "index ix_events_day")
    ]


def test_sql_in_op_execute_with_line_numbers(tmp_path: Path) -> None:
    upgrade = body(
        '''
        op.execute("""
            CREATE TABLE logs (at timestamptz NOT NULL, msg text);
            CREATE INDEX ix_ok ON logs (lower(msg));

            CREATE INDEX ix_bad ON logs ((at::date));
        """)
        '''
    )
    (finding,) = run(tmp_path, ("a1", None, upgrade))
    source = (tmp_path / "m" / "versions" / "a1.py").read_text().splitlines()
    assert finding[0] == "non-immutable-index" and finding[2] is not None
    assert "CREATE INDEX ix_bad" in source[finding[2] - 1]


def test_an_immutable_wrapper_function_created_by_a_migration_is_trusted(tmp_path: Path) -> None:
    upgrade = ORDERS + body(
        """
        op.execute("CREATE FUNCTION utc_day(timestamptz) RETURNS date LANGUAGE sql IMMUTABLE AS $$ SELECT ($1 AT TIME ZONE 'UTC')::date $$")
        op.create_index("ix", "orders", [sa.text("utc_day(created_at)")])
        """
    )
    assert run(tmp_path, ("a1", None, upgrade)) == []


def test_branches_of_another_dialect_are_not_judged(tmp_path: Path) -> None:
    upgrade = ORDERS + body(
        """
        postgres = op.get_context().dialect.name == "postgresql"
        if postgres:
            op.create_index("uq", "orders", [sa.text("((created_at AT TIME ZONE 'UTC')::date)")], unique=True)
        else:
            op.create_index("uq", "orders", [sa.text("(date(created_at))")], unique=True)
        if op.get_bind().dialect.name != "postgresql":
            op.create_index("uq2", "orders", [sa.text("(date(created_at))")], unique=True)
        """
    )
    assert run(tmp_path, ("a1", None, upgrade)) == []


def test_a_branch_sees_only_its_ancestors_tables(tmp_path: Path) -> None:
    side = body('op.create_table("side", sa.Column("at", sa.DateTime(timezone=True)))')
    other = body('op.create_index("ix", "side", [sa.text("(at::date)")])')
    found = run(tmp_path, ("a1", None, "    pass"), ("b1", "a1", side), ("c1", "a1", other))
    assert [(r, rid) for r, rid, *_ in found] == [("unverified-index", "c1")]
    assert "not created by these migrations" in found[0][3]


def test_module_constants_and_unreadable_values(tmp_path: Path) -> None:
    upgrade = ORDERS + body(
        """
        op.create_index("ix_a", TABLE, [sa.text(EXPR)])
        op.create_index("ix_b", "orders", [make_expression()])
        """
    )
    files = {
        "a1.py": rf("a1", None, upgrade=upgrade).replace(
            "def upgrade", 'TABLE = "orders"\nEXPR = "(created_at::date)"\n\n\ndef upgrade'
        )
    }
    folder = write_versions(tmp_path / "m", files)
    result = lint(
        ScriptLocation((folder / "versions",)),
        LintSettings(rules=select_rules(["index"])),
        cwd=tmp_path,
    )
    assert [(f.id, f.message.split(" on ")[0]) for f in result.findings] == [
        ("non-immutable-index", "index ix_a"),
        ("unverified-index", "index ix_b"),
    ]


def test_sa_text_without_parentheses_is_a_syntax_error_in_postgres(tmp_path: Path) -> None:
    upgrade = ORDERS + body(
        'op.create_index("ix", "orders", [sa.text("(created_at AT TIME ZONE \'UTC\')::date")])'
    )
    found = run(tmp_path, ("a1", None, upgrade))
    assert [r for r, *_ in found] == ["invalid-index-expression"]
    assert found[0][4] == "write sa.text(\"((created_at AT TIME ZONE 'UTC')::date)\")"


@pytest.mark.parametrize(
    ("column", "sql", "ok"),
    [
        ('sa.Column("c", sa.DateTime(True))', "(c::date)", False),
        ('sa.Column("c", sa.TIMESTAMP())', "(c::date)", True),
        ('sa.Column("c", sa.Float(precision=10))', "(c::text)", True),
        (
            'sa.Column("c", sa.Numeric(12, 2).with_variant(sa.String(64), "sqlite"))',
            "(c::text)",
            True,
        ),
        ('sa.Column("c", postgresql.JSONB())', "((c->>'at')::date)", False),
        ('sa.Column("c", sa.Date())', "(c::text)", False),
        ('sa.Column("c", sa.Uuid())', "(c::text)", True),
        ('sa.Column(name="c", type_=sa.Interval())', "(c::text)", False),
    ],
)
def test_sqlalchemy_types(tmp_path: Path, column: str, sql: str, ok: bool) -> None:
    upgrade = body(
        f'op.create_table("t", {column})\nop.create_index("ix", "t", [sa.text("{sql}")])'
    )
    found = run(tmp_path, ("a1", None, upgrade))
    assert [r for r, *_ in found] == ([] if ok else ["non-immutable-index"])


def test_the_index_rules_run_as_a_registered_check(tmp_path: Path) -> None:
    """One walk of the history is one Check of the report pipeline; its findings keep their ids."""
    from devtools.migrations.catalog import load_catalog
    from devtools.migrations.graph.read import load_history
    from devtools.migrations.lint import INDEX_CHECKS, IndexModel, UpgradeReader
    from devtools.report.checks import run_checks

    upgrade = ORDERS + '    op.execute("CREATE INDEX ix ON orders ((created_at::date))")\n'
    folder = write_versions(tmp_path / "m", {"a1.py": rf("a1", None, upgrade=upgrade)})
    graph = load_history(ScriptLocation((folder / "versions",)), tmp_path)
    (result,) = run_checks(INDEX_CHECKS, IndexModel(graph, load_catalog(15), UpgradeReader()))
    assert (result.id, result.status) == ("index-immutability", "fail")
    assert [(f.id, f.line) for f in result.findings] == [("non-immutable-index", 29)]
